//! The normalised alert every input shape is turned into.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// How urgent an alert is; each severity has its own topic.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "critical" => Ok(Severity::Critical),
            "warning" => Ok(Severity::Warning),
            "info" => Ok(Severity::Info),
            other => Err(format!(
                "{other:?} is not a severity (use critical, warning or info)"
            )),
        }
    }
}

/// Where an alert came from; also the `source` message attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Cloudwatch,
    Codedeploy,
    /// A payload no parser recognised, forwarded raw rather than dropped.
    #[default]
    Unparsed,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Cloudwatch => "cloudwatch",
            Source::Codedeploy => "codedeploy",
            Source::Unparsed => "unparsed",
        }
    }
}

/// CloudWatch's alarm states, as the payloads spell them.
pub const ALARM: &str = "ALARM";
pub const OK: &str = "OK";

/// One alarm state change, deployment event or unrecognised payload.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Alert {
    pub source: Source,
    /// The alarm name; for deployments `codedeploy:<application>/<deployment group>`; for
    /// unparsed payloads `unparsed`. Severity rules match this name.
    pub name: String,
    /// `ALARM` / `OK` / `INSUFFICIENT_DATA`; a deployment's state (`FAILURE`, `SUCCESS`,
    /// `STOP`, ...); `UNKNOWN` when unparsed.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_state: Option<String>,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// When the state changed, as the payload wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// What the alarm watches, in one line (metric, metric-math expression or composite rule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    /// Composite alarms: the children that tripped it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub triggering_alarms: Vec<String>,
    /// Composite alarms whose actions a suppressor held back (e.g. `WaitPeriod`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions_suppressed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// The Lambda function the alarm's metric names (dimension `FunctionName`), if any: the
    /// one an auto-halt stops when several are guarded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// What rollout-guardian did about it (e.g. "auto-halt requested"), for the reader.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions_taken: Vec<String>,
    /// Unparsed alerts: the payload as received (capped when rendered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// Unparsed alerts: the subject the payload came with (a plain-text SNS message's), kept
    /// so the reader sees what the sender said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_subject: Option<String>,
}

impl Alert {
    /// A CloudWatch alarm that has just entered ALARM (not one that stays there).
    pub fn entered_alarm(&self) -> bool {
        self.source == Source::Cloudwatch
            && self.state == ALARM
            && self.previous_state.as_deref() != Some(ALARM)
    }

    /// A deployment that failed, was stopped or rolled back.
    pub fn is_deployment_failure(&self) -> bool {
        self.source == Source::Codedeploy && matches!(self.state.as_str(), "FAILURE" | "STOP")
    }
}
