//! `status`: read record and concurrency back, change nothing.

use guardian::killswitch::outcome::Outcome;
use guardian::killswitch::request::Action;

use crate::error::KillSwitchError;
use crate::guarded::Guarded;
use crate::ports::FunctionSettings;

pub async fn status(f: &Guarded<'_, impl FunctionSettings>) -> Result<Outcome, KillSwitchError> {
    let mut outcome = Outcome::new(Action::Status, f.name);
    outcome.seen = Some(f.snapshot().await?);
    Ok(outcome)
}
