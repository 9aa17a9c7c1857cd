//! EventBridge Scheduler: pausing and resuming a schedule.

use aws_sdk_scheduler::Client;
use aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput;
use aws_sdk_scheduler::types::ScheduleState;

use guardian::guarded::invokes;

use crate::error::AwsCallError;
use crate::on_first_use::OnFirstUse;

/// What setting a schedule's state did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateChange {
    Changed,
    /// It was already in the wanted state: nothing was written.
    AlreadySo,
    /// It invokes another target than the function asked about: left as it was.
    OtherTarget,
}

#[derive(Debug, Clone)]
pub struct Scheduler {
    client: OnFirstUse<Client>,
}

impl Scheduler {
    pub fn new(client: Client) -> Self {
        Scheduler {
            client: OnFirstUse::ready(client),
        }
    }

    /// The adapter over a client built from the function's shared SDK configuration.
    pub fn from_sdk(sdk: &aws_config::SdkConfig) -> Self {
        Scheduler {
            client: OnFirstUse::from_sdk(sdk, "scheduler", Client::new),
        }
    }

    /// Enables or disables the schedule `name` in `group` (`None`: the default group), only
    /// if it invokes `for_function` when one is given.
    /// `UpdateSchedule` replaces the whole definition, so the current one is read and
    /// written back with only the state changed.
    pub async fn set_enabled(
        &self,
        group: Option<&str>,
        name: &str,
        enabled: bool,
        for_function: Option<&str>,
    ) -> Result<StateChange, AwsCallError> {
        let current = self.get(group, name).await?;
        if let Some(function) = for_function {
            let target = current.target.as_ref().map(|t| t.arn()).unwrap_or_default();
            if !invokes(target, function) {
                return Ok(StateChange::OtherTarget);
            }
        }
        let wanted = if enabled {
            ScheduleState::Enabled
        } else {
            ScheduleState::Disabled
        };
        if current.state.as_ref() == Some(&wanted) {
            return Ok(StateChange::AlreadySo);
        }
        self.client
            .get()
            .update_schedule()
            .name(name)
            .set_group_name(current.group_name.or(group.map(str::to_string)))
            .set_schedule_expression(current.schedule_expression)
            .set_schedule_expression_timezone(current.schedule_expression_timezone)
            .set_start_date(current.start_date)
            .set_end_date(current.end_date)
            .set_description(current.description)
            .set_kms_key_arn(current.kms_key_arn)
            .set_target(current.target)
            .set_flexible_time_window(current.flexible_time_window)
            .set_action_after_completion(current.action_after_completion)
            .state(wanted)
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("UpdateSchedule", e))?;
        Ok(StateChange::Changed)
    }

    async fn get(
        &self,
        group: Option<&str>,
        name: &str,
    ) -> Result<GetScheduleOutput, AwsCallError> {
        self.client
            .get()
            .get_schedule()
            .name(name)
            .set_group_name(group.map(str::to_string))
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("GetSchedule", e))
    }

    /// Whether the schedule is enabled.
    pub async fn is_enabled(&self, group: Option<&str>, name: &str) -> Result<bool, AwsCallError> {
        let current = self.get(group, name).await?;
        Ok(current.state != Some(ScheduleState::Disabled))
    }
}
