//! What can go wrong outside the functions' own answers, each with what to do next. Nothing
//! here prints a stack trace or a Debug dump: every message is a sentence.

use crate::exit::Exit;
use crate::locate::{OPERATOR_POLICY_OUTPUT, StackSource, shell_word};
use crate::style::Style;

/// The kind of trouble an AWS call ran into, read from its error code and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trouble {
    NotPermitted,
    NotFound,
    Throttled,
    TimedOut,
    Unreachable,
    Credentials,
    Other,
}

/// `code` is the AWS error code when the service answered; `None` for timeouts, connection
/// and credential failures (then the message says which).
pub fn classify(code: Option<&str>, message: &str) -> Trouble {
    match code {
        Some(
            "AccessDenied"
            | "AccessDeniedException"
            | "AuthorizationError"
            | "UnauthorizedOperation"
            | "UnauthorizedException",
        ) => Trouble::NotPermitted,
        Some(
            "ExpiredToken"
            | "ExpiredTokenException"
            | "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "SignatureDoesNotMatch"
            | "MissingAuthenticationToken",
        ) => Trouble::Credentials,
        Some(
            "Throttling"
            | "ThrottlingException"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "Throttled",
        ) => Trouble::Throttled,
        Some("ResourceNotFoundException" | "NotFoundException") => Trouble::NotFound,
        Some(_) => Trouble::Other,
        None => {
            let m = message.to_ascii_lowercase();
            if m.contains("timeout") || m.contains("timed out") {
                Trouble::TimedOut
            } else if m.contains("credential") {
                Trouble::Credentials
            } else if m.contains("dispatch failure")
                || m.contains("connect")
                || m.contains("dns")
                || m.contains("io error")
            {
                Trouble::Unreachable
            } else {
                Trouble::Other
            }
        }
    }
}

/// Who was refused, as the AccessDenied message names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Role(String),
    User(String),
    Unknown,
}

/// `... User: arn:aws:sts::1:assumed-role/on-call/alice is not authorized ...` -> the role.
pub fn principal_in(message: &str) -> Principal {
    let word_after = |marker: &str| {
        message.find(marker).map(|i| {
            message[i + marker.len()..]
                .split(|c: char| c == '/' || c.is_whitespace())
                .next()
                .unwrap_or_default()
                .to_string()
        })
    };
    if let Some(role) = word_after(":assumed-role/").filter(|r| !r.is_empty()) {
        return Principal::Role(role);
    }
    if let Some(i) = message.find(":user/") {
        let arn_rest = message[i + ":user/".len()..]
            .split(|c: char| c.is_whitespace())
            .next()
            .unwrap_or_default();
        if let Some(name) = arn_rest.rsplit('/').next().filter(|n| !n.is_empty()) {
            return Principal::User(name.to_string());
        }
    }
    Principal::Unknown
}

/// What the caller lacks and how to get it: the stack's operator policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyHint {
    pub stack: Option<String>,
    /// The `OperatorPolicyArn` output, when the stack could be read.
    pub policy_arn: Option<String>,
    pub principal: Principal,
}

impl PolicyHint {
    pub fn advice(&self) -> String {
        let arn = match (&self.policy_arn, &self.stack) {
            (Some(arn), _) => arn.clone(),
            (None, Some(stack)) => format!(
                "\"$(aws cloudformation describe-stacks --stack-name {} --query \"Stacks[0].Outputs[?OutputKey=='{OPERATOR_POLICY_OUTPUT}'].OutputValue\" --output text)\"",
                shell_word(stack)
            ),
            (None, None) => "<the stack's OperatorPolicyArn output>".to_string(),
        };
        let attach = match &self.principal {
            Principal::Role(role) => format!(
                "aws iam attach-role-policy --role-name {} --policy-arn {arn}",
                shell_word(role)
            ),
            Principal::User(user) => format!(
                "aws iam attach-user-policy --user-name {} --policy-arn {arn}",
                shell_word(user)
            ),
            Principal::Unknown => format!(
                "aws iam attach-role-policy --role-name <your on-call role> --policy-arn {arn}"
            ),
        };
        format!(
            "this needs the guardian's operator policy (stack output {OPERATOR_POLICY_OUTPUT}{}). \
             Ask an administrator to attach it to you:\n  {attach}",
            self.policy_arn
                .as_deref()
                .map(|a| format!(": {a}"))
                .unwrap_or_default()
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("there is no stack {stack:?} ({found}) in region {region}")]
    StackNotFound {
        stack: String,
        /// Where the name came from.
        found: StackSource,
        region: String,
    },
    #[error("stack {stack:?} has no output {output} (stack status {status})")]
    MissingOutput {
        stack: String,
        output: &'static str,
        status: String,
        flag: &'static str,
    },
    #[error("{doing}: not permitted: {detail}")]
    NotPermitted {
        doing: String,
        detail: String,
        hint: Box<PolicyHint>,
        /// The stack read was refused: the name may be wrong too.
        stack_read: bool,
    },
    #[error("{doing}: {detail}")]
    Aws {
        doing: String,
        trouble: Trouble,
        detail: String,
    },
    #[error("no AWS region is set")]
    NoRegion,
    #[error("not confirmed: {0}; nothing was changed")]
    NotConfirmed(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("the {function} answered something that is not JSON: {detail}")]
    BadAnswer { function: String, detail: String },
    #[error("the drill runs from a rollout-guardian checkout, and {0} is not inside one")]
    NoCheckout(String),
    #[error("could not start the drill ({command}): {detail}")]
    DrillNotStarted { command: String, detail: String },
}

impl CliError {
    /// A failed AWS call, classified: AccessDenied becomes [`CliError::NotPermitted`].
    pub fn aws(
        doing: impl Into<String>,
        code: Option<&str>,
        detail: &str,
        hint: PolicyHint,
    ) -> Self {
        let doing = doing.into();
        let detail = readable(detail);
        match classify(code, &detail) {
            Trouble::NotPermitted => CliError::NotPermitted {
                doing,
                hint: Box::new(PolicyHint {
                    principal: principal_in(&detail),
                    ..hint
                }),
                detail,
                stack_read: false,
            },
            trouble => CliError::Aws {
                doing,
                trouble,
                detail,
            },
        }
    }

    pub fn exit(&self) -> Exit {
        match self {
            CliError::NotPermitted { .. }
            | CliError::NoRegion
            | CliError::NotConfirmed(_)
            | CliError::BadRequest(_)
            | CliError::NoCheckout(_) => Exit::Refused,
            CliError::Aws {
                trouble: Trouble::Credentials,
                ..
            } => Exit::Refused,
            CliError::StackNotFound { .. }
            | CliError::MissingOutput { .. }
            | CliError::Aws { .. }
            | CliError::BadAnswer { .. }
            | CliError::DrillNotStarted { .. } => Exit::Failed,
        }
    }

    /// What to do next; `me` is how to run this CLI again against the same guardian.
    pub fn next(&self, me: &str) -> Option<String> {
        Some(match self {
            CliError::StackNotFound { found, .. } => format!(
                "check the name (it is {found}) and the region (AWS_REGION, AWS_PROFILE or \
                 --region); list stacks with: aws cloudformation list-stacks --stack-status-filter \
                 CREATE_COMPLETE UPDATE_COMPLETE --query 'StackSummaries[].StackName'"
            ),
            CliError::MissingOutput { flag, output, .. } => format!(
                "is it a rollout-guardian stack, fully deployed? Or name the function directly: \
                 rollout-guardian {flag} <function name> (the {output} output of the stack)"
            ),
            CliError::NotPermitted {
                hint, stack_read, ..
            } => {
                let name_check = if *stack_read {
                    "check the stack name and region first: the operator policy lets you read \
                     only its own stack. If they are right, "
                } else {
                    ""
                };
                format!("{name_check}{}", hint.advice())
            }
            CliError::Aws { trouble, .. } => match trouble {
                Trouble::Throttled => format!(
                    "AWS is throttling this call: wait a few seconds and run the same command \
                     again (stop and resume are safe to repeat); check with: {me} status"
                ),
                Trouble::TimedOut => format!(
                    "no answer in time: check your network or VPN, then see where things stand \
                     with: {me} status"
                ),
                Trouble::Unreachable => "could not reach AWS: check your network, proxy and \
                     AWS_ENDPOINT_URL"
                    .to_string(),
                Trouble::Credentials => "no valid AWS credentials: log in again (for SSO: aws \
                     sso login, then eval \"$(aws configure export-credentials --format env)\"), \
                     or set AWS_PROFILE"
                    .to_string(),
                Trouble::NotFound => "the function is not there: check the region (AWS_REGION \
                     or --region) and that the stack's outputs are current"
                    .to_string(),
                Trouble::NotPermitted | Trouble::Other => return None,
            },
            CliError::NoRegion => {
                "set AWS_REGION, pass --region, or use a profile that has one (AWS_PROFILE)"
                    .to_string()
            }
            CliError::NotConfirmed(_) | CliError::BadRequest(_) => return None,
            CliError::BadAnswer { .. } => {
                format!("see where things stand with: {me} status")
            }
            CliError::NoCheckout(_) => "cd into a clone of the rollout-guardian repository \
                 (the drill builds the functions and runs them against a local AWS emulator), \
                 or run make drill there"
                .to_string(),
            CliError::DrillNotStarted { .. } => {
                "install Rust (cargo) and Python 3, then run it again".to_string()
            }
        })
    }

    /// The two lines a person reads.
    pub fn render(&self, me: &str, style: Style) -> String {
        let mut out = format!("{} {self}\n", style.red("error:"));
        if let Some(next) = self.next(me) {
            out.push_str(&format!("{} {next}\n", style.bold("next:")));
        }
        out
    }
}

/// CloudFormation's answer for a stack name it does not know: `ValidationError` "Stack with
/// id <name> does not exist" (DescribeStacks API reference, Errors).
pub fn stack_missing(code: Option<&str>, message: &str) -> bool {
    code == Some("ValidationError") && message.contains("does not exist")
}

/// An SDK error as a sentence: one line, without the Debug form the SDK appends to
/// connection and timeout errors (` (DispatchFailure(DispatchFailure { ... }))`).
pub fn readable(message: &str) -> String {
    let line = one_line(message);
    let debug_starts = line.match_indices(" (").map(|(i, _)| i).find(|&i| {
        let rest = &line[i + 2..];
        let name_len = rest
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .unwrap_or(rest.len());
        rest.starts_with(|c: char| c.is_ascii_uppercase())
            && (rest[name_len..].starts_with('(') || rest[name_len..].starts_with(" {"))
    });
    match debug_starts {
        Some(i) => line[..i].to_string(),
        None => line,
    }
}

/// AWS messages can span lines; a person reads one.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DENIED: &str = "User: arn:aws:sts::123456789012:assumed-role/on-call/alice is not \
        authorized to perform: lambda:InvokeFunction on resource: \
        arn:aws:lambda:us-east-1:123456789012:function:ks";

    fn hint() -> PolicyHint {
        PolicyHint {
            stack: Some("rg".into()),
            policy_arn: None,
            principal: Principal::Unknown,
        }
    }

    #[test]
    fn codes_and_messages_are_classified() {
        for (code, message, trouble) in [
            (Some("AccessDeniedException"), "", Trouble::NotPermitted),
            (Some("AccessDenied"), "", Trouble::NotPermitted),
            (Some("AuthorizationError"), "", Trouble::NotPermitted),
            (Some("TooManyRequestsException"), "", Trouble::Throttled),
            (Some("Throttling"), "", Trouble::Throttled),
            (Some("ResourceNotFoundException"), "", Trouble::NotFound),
            (Some("ExpiredToken"), "", Trouble::Credentials),
            (Some("ValidationError"), "", Trouble::Other),
            (None, "timeout: operation timed out", Trouble::TimedOut),
            (
                None,
                "dispatch failure: io error: error trying to connect: Connection refused",
                Trouble::Unreachable,
            ),
            (
                None,
                "failed to construct request: no credentials in the property bag",
                Trouble::Credentials,
            ),
            (None, "something else", Trouble::Other),
        ] {
            assert_eq!(classify(code, message), trouble, "{code:?} {message}");
        }
    }

    #[test]
    fn the_refused_principal_is_read_from_the_message() {
        assert_eq!(principal_in(DENIED), Principal::Role("on-call".into()));
        assert_eq!(
            principal_in("User: arn:aws:iam::123456789012:user/ops/bob is not authorized"),
            Principal::User("bob".into())
        );
        assert_eq!(principal_in("Access denied"), Principal::Unknown);
    }

    #[test]
    fn access_denied_names_the_operator_policy_and_how_to_attach_it() {
        let e = CliError::aws(
            "invoking the kill switch",
            Some("AccessDeniedException"),
            DENIED,
            hint(),
        );
        assert_eq!(e.exit(), Exit::Refused);
        let next = e.next("rollout-guardian").unwrap();
        assert!(next.contains("OperatorPolicyArn"), "{next}");
        assert!(
            next.contains("aws iam attach-role-policy --role-name on-call --policy-arn \"$(aws cloudformation describe-stacks --stack-name rg"),
            "{next}"
        );
        let known = PolicyHint {
            policy_arn: Some("arn:aws:iam::1:policy/op".into()),
            principal: Principal::User("bob".into()),
            stack: None,
        };
        assert!(known.advice().ends_with(
            "aws iam attach-user-policy --user-name bob --policy-arn arn:aws:iam::1:policy/op"
        ));
    }

    #[test]
    fn exits_follow_the_table() {
        let aws = |code: &str| CliError::aws("x", Some(code), "m", hint()).exit();
        assert_eq!(aws("TooManyRequestsException"), Exit::Failed);
        assert_eq!(aws("ExpiredToken"), Exit::Refused);
        assert_eq!(aws("InternalFailure"), Exit::Failed);
        let missing = CliError::StackNotFound {
            stack: "nope".into(),
            found: StackSource::Flag,
            region: "us-east-1".into(),
        };
        assert_eq!(missing.exit(), Exit::Failed);
        assert_eq!(
            missing.to_string(),
            "there is no stack \"nope\" (from --stack) in region us-east-1"
        );
        assert_eq!(CliError::NoRegion.exit(), Exit::Refused);
        assert_eq!(CliError::NotConfirmed("x".into()).exit(), Exit::Refused);
    }

    #[test]
    fn debug_dumps_are_cut_off() {
        let sdk = "dispatch failure: io error: client error (Connect): tcp connect error: \
            Connection refused (os error 111) (DispatchFailure(DispatchFailure { source: \
            ConnectorError { kind: Io, source: hyper_util::client::legacy::Error(Connect, \
            ConnectError(\"tcp connect error\")) } }))";
        assert_eq!(
            readable(sdk),
            "dispatch failure: io error: client error (Connect): tcp connect error: Connection \
             refused (os error 111)"
        );
        assert_eq!(
            readable("timeout: operation timed out (TimeoutError { source: x })"),
            "timeout: operation timed out"
        );
        let plain = "User: x is not authorized to perform: lambda:InvokeFunction (on resource y)";
        assert_eq!(readable(plain), plain);
    }

    #[test]
    fn an_unknown_stack_is_told_from_other_validation_errors() {
        assert!(stack_missing(
            Some("ValidationError"),
            "Stack with id nope does not exist"
        ));
        assert!(!stack_missing(
            Some("ValidationError"),
            "1 validation error detected"
        ));
        assert!(!stack_missing(Some("AccessDenied"), "does not exist"));
    }

    #[test]
    fn rendering_is_two_plain_lines() {
        let e = CliError::aws(
            "invoking the kill switch",
            Some("TooManyRequestsException"),
            "Rate\n  exceeded",
            hint(),
        );
        let text = e.render("rollout-guardian --stack rg", Style::PLAIN);
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.starts_with("error: invoking the kill switch: Rate exceeded\nnext: "));
        assert!(
            text.contains("rollout-guardian --stack rg status"),
            "{text}"
        );
    }
}
