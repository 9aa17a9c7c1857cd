//! Which guardian to talk to: the stack name (flag, environment, samconfig.toml, default)
//! and the function names read from its outputs, or named explicitly.

use std::collections::BTreeMap;
use std::fmt;

/// The stack name when nothing else names one (samconfig.toml's).
pub const DEFAULT_STACK: &str = "rollout-guardian";
pub const STACK_ENV: &str = "ROLLOUT_GUARDIAN_STACK";

/// Stack outputs the CLI reads (template.yaml `Outputs`).
pub const KILL_SWITCH_OUTPUT: &str = "KillSwitchFunctionName";
pub const DLQ_INSPECTOR_OUTPUT: &str = "DlqInspectorFunctionName";
pub const GUARDED_FUNCTION_OUTPUT: &str = "GuardedFunctionName";
pub const DLQ_URL_OUTPUT: &str = "DeadLetterQueueUrl";
pub const APPLICATION_OUTPUT: &str = "ApplicationName";
pub const DEPLOYMENT_GROUP_OUTPUT: &str = "DeploymentGroup";
pub const OPERATOR_POLICY_OUTPUT: &str = "OperatorPolicyArn";

/// Where the stack name came from: error messages say so, since a wrong name is often an
/// old `ROLLOUT_GUARDIAN_STACK` or a samconfig.toml from another checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackSource {
    Flag,
    Env,
    Samconfig,
    Default,
}

impl fmt::Display for StackSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StackSource::Flag => "from --stack",
            StackSource::Env => "from ROLLOUT_GUARDIAN_STACK",
            StackSource::Samconfig => "from samconfig.toml in this directory",
            StackSource::Default => "the default",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackChoice {
    pub name: String,
    pub source: StackSource,
}

/// How to find the function a command invokes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Read the stack's outputs.
    Stack(StackChoice),
    /// The function was named with `--kill-switch` / `--dlq-inspector`: no stack read.
    Explicit,
}

fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// `--stack`, else `ROLLOUT_GUARDIAN_STACK`, else a named function (no stack needed), else
/// samconfig.toml's `stack_name`, else [`DEFAULT_STACK`].
pub fn plan(
    flag: Option<&str>,
    env: Option<&str>,
    samconfig: Option<&str>,
    function_named: bool,
) -> Lookup {
    let choice = |name: &str, source| {
        Lookup::Stack(StackChoice {
            name: name.to_string(),
            source,
        })
    };
    if let Some(name) = given(flag) {
        return choice(name, StackSource::Flag);
    }
    if let Some(name) = given(env) {
        return choice(name, StackSource::Env);
    }
    if function_named {
        return Lookup::Explicit;
    }
    match samconfig.and_then(samconfig_stack_name) {
        Some(name) => choice(&name, StackSource::Samconfig),
        None => choice(DEFAULT_STACK, StackSource::Default),
    }
}

/// `stack_name` from a samconfig.toml, for the `default` environment: the deploy command's
/// section wins over the global one, as `sam deploy` reads it.
pub fn samconfig_stack_name(text: &str) -> Option<String> {
    let mut section = String::new();
    let (mut deploy, mut global) = (None, None);
    for raw in text.lines() {
        let line = raw.trim();
        if let Some(header) = line.strip_prefix('[') {
            section = header
                .trim_end_matches(']')
                .split('.')
                .map(|part| part.trim().trim_matches('"'))
                .collect::<Vec<_>>()
                .join(".");
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim().trim_matches('"') != "stack_name" {
            continue;
        }
        let Some(value) = toml_string(value.trim()) else {
            continue;
        };
        match section.as_str() {
            "default.deploy.parameters" => deploy = Some(value),
            "default.global.parameters" => global = Some(value),
            _ => {}
        }
    }
    deploy.or(global).filter(|v| !v.is_empty())
}

/// A TOML basic ("...") or literal ('...') string on one line, with a trailing comment.
fn toml_string(value: &str) -> Option<String> {
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &value[1..];
    let end = rest.find(quote)?;
    let tail = rest[end + 1..].trim();
    if !(tail.is_empty() || tail.starts_with('#')) {
        return None;
    }
    Some(rest[..end].to_string())
}

/// The guardian's parts, as far as known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Guardian {
    /// The stack they came from (`None` when named explicitly).
    pub stack: Option<String>,
    pub kill_switch: Option<String>,
    pub dlq_inspector: Option<String>,
    pub guarded_function: Option<String>,
    pub dlq_url: Option<String>,
    pub application: Option<String>,
    pub deployment_group: Option<String>,
    pub operator_policy_arn: Option<String>,
}

impl Guardian {
    pub fn from_outputs(stack: &str, outputs: &BTreeMap<String, String>) -> Self {
        let get = |key: &str| {
            outputs
                .get(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        Guardian {
            stack: Some(stack.to_string()),
            kill_switch: get(KILL_SWITCH_OUTPUT),
            dlq_inspector: get(DLQ_INSPECTOR_OUTPUT),
            guarded_function: get(GUARDED_FUNCTION_OUTPUT),
            dlq_url: get(DLQ_URL_OUTPUT),
            application: get(APPLICATION_OUTPUT),
            deployment_group: get(DEPLOYMENT_GROUP_OUTPUT),
            operator_policy_arn: get(OPERATOR_POLICY_OUTPUT),
        }
    }

    /// Explicitly named functions win over the stack's outputs.
    pub fn with_named(mut self, kill_switch: Option<&str>, dlq_inspector: Option<&str>) -> Self {
        if let Some(k) = given(kill_switch) {
            self.kill_switch = Some(k.to_string());
        }
        if let Some(d) = given(dlq_inspector) {
            self.dlq_inspector = Some(d.to_string());
        }
        self
    }

    /// The DLQ's name: the last path segment of its URL.
    pub fn dlq_name(&self) -> Option<&str> {
        self.dlq_url
            .as_deref()
            .and_then(|u| u.trim_end_matches('/').rsplit('/').next())
            .filter(|n| !n.is_empty())
    }

    /// The CodeDeploy application and deployment group, when both are known.
    pub fn deployment(&self) -> Option<(&str, &str)> {
        Some((
            self.application.as_deref()?,
            self.deployment_group.as_deref()?,
        ))
    }
}

/// Which of the guardian's functions a command invokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    KillSwitch,
    DlqInspector,
}

impl Role {
    pub fn output(self) -> &'static str {
        match self {
            Role::KillSwitch => KILL_SWITCH_OUTPUT,
            Role::DlqInspector => DLQ_INSPECTOR_OUTPUT,
        }
    }

    pub fn flag(self) -> &'static str {
        match self {
            Role::KillSwitch => "--kill-switch",
            Role::DlqInspector => "--dlq-inspector",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::KillSwitch => "kill switch",
            Role::DlqInspector => "DLQ inspector",
        }
    }

    pub fn function(self, g: &Guardian) -> Option<&str> {
        match self {
            Role::KillSwitch => g.kill_switch.as_deref(),
            Role::DlqInspector => g.dlq_inspector.as_deref(),
        }
    }
}

/// How to run this CLI again against the same guardian, for the "next" hints.
pub fn invocation(lookup: &Lookup, g: &Guardian) -> String {
    let mut out = String::from("rollout-guardian");
    match lookup {
        Lookup::Stack(choice) if choice.source != StackSource::Default => {
            out.push_str(&format!(" --stack {}", shell_word(&choice.name)));
        }
        Lookup::Stack(_) => {}
        Lookup::Explicit => {
            for (flag, name) in [
                ("--kill-switch", &g.kill_switch),
                ("--dlq-inspector", &g.dlq_inspector),
            ] {
                if let Some(name) = name {
                    out.push_str(&format!(" {flag} {}", shell_word(name)));
                }
            }
        }
    }
    out
}

/// `word` quoted for a POSIX shell when it needs to be.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMCONFIG: &str = include_str!("../../samconfig.toml");

    fn stack(name: &str, source: StackSource) -> Lookup {
        Lookup::Stack(StackChoice {
            name: name.into(),
            source,
        })
    }

    #[test]
    fn flag_then_env_then_named_function_then_samconfig_then_default() {
        let sam = Some("[default.global.parameters]\nstack_name = \"from-sam\"\n");
        assert_eq!(
            plan(Some("a"), Some("b"), sam, true),
            stack("a", StackSource::Flag)
        );
        assert_eq!(
            plan(None, Some("b"), sam, true),
            stack("b", StackSource::Env)
        );
        assert_eq!(plan(None, Some(" "), sam, true), Lookup::Explicit);
        assert_eq!(
            plan(None, None, sam, false),
            stack("from-sam", StackSource::Samconfig)
        );
        assert_eq!(
            plan(None, None, None, false),
            stack(DEFAULT_STACK, StackSource::Default)
        );
        assert_eq!(
            plan(Some(""), None, Some("nothing here"), false),
            stack(DEFAULT_STACK, StackSource::Default)
        );
    }

    #[test]
    fn samconfig_of_this_repository() {
        assert_eq!(
            samconfig_stack_name(SAMCONFIG).as_deref(),
            Some("rollout-guardian")
        );
    }

    #[test]
    fn samconfig_deploy_section_wins_and_other_environments_do_not_count() {
        let text = "version = 0.1\n\
            [default.global.parameters]\nstack_name = \"global\"\n\
            [prod.deploy.parameters]\nstack_name = \"prod\"\n\
            [default.deploy.parameters]\nstack_name = 'deploy' # the one sam deploy uses\n";
        assert_eq!(samconfig_stack_name(text).as_deref(), Some("deploy"));
        let only_prod = "[prod.deploy.parameters]\nstack_name = \"prod\"\n";
        assert_eq!(samconfig_stack_name(only_prod), None);
        let quoted = "[ default . \"global\" . parameters ]\n  stack_name=\"q\"\n";
        assert_eq!(samconfig_stack_name(quoted).as_deref(), Some("q"));
        let junk = "[default.global.parameters]\nstack_name = unquoted\nstack_name = \"x\" y\n";
        assert_eq!(samconfig_stack_name(junk), None);
    }

    fn outputs() -> BTreeMap<String, String> {
        [
            (KILL_SWITCH_OUTPUT, "rg-KillSwitch-1"),
            (DLQ_INSPECTOR_OUTPUT, "rg-DlqInspector-1"),
            (GUARDED_FUNCTION_OUTPUT, "rg-Guarded-1"),
            (
                DLQ_URL_OUTPUT,
                "https://sqs.us-east-1.amazonaws.com/123456789012/rg-dlq",
            ),
            (APPLICATION_OUTPUT, "rg-app"),
            (DEPLOYMENT_GROUP_OUTPUT, "rg-group"),
            (
                OPERATOR_POLICY_OUTPUT,
                "arn:aws:iam::123456789012:policy/rg-Operator",
            ),
            ("DashboardUrl", "https://example.com"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn outputs_name_the_parts() {
        let g = Guardian::from_outputs("rg", &outputs());
        assert_eq!(g.kill_switch.as_deref(), Some("rg-KillSwitch-1"));
        assert_eq!(g.dlq_name(), Some("rg-dlq"));
        assert_eq!(g.deployment(), Some(("rg-app", "rg-group")));
        assert_eq!(Role::DlqInspector.function(&g), Some("rg-DlqInspector-1"));
        let named = g.with_named(Some("other-ks"), Some(" "));
        assert_eq!(named.kill_switch.as_deref(), Some("other-ks"));
        assert_eq!(named.dlq_inspector.as_deref(), Some("rg-DlqInspector-1"));
        let empty = Guardian::from_outputs("rg", &BTreeMap::new());
        assert_eq!((empty.dlq_name(), empty.deployment()), (None, None));
        assert_eq!(Role::KillSwitch.function(&empty), None);
    }

    #[test]
    fn invocation_repeats_what_found_the_guardian() {
        let g = Guardian::from_outputs("rg", &outputs());
        assert_eq!(
            invocation(&stack("rg", StackSource::Flag), &g),
            "rollout-guardian --stack rg"
        );
        assert_eq!(
            invocation(&stack(DEFAULT_STACK, StackSource::Default), &g),
            "rollout-guardian"
        );
        let named = Guardian::default().with_named(Some("ks fn"), None);
        assert_eq!(
            invocation(&Lookup::Explicit, &named),
            "rollout-guardian --kill-switch 'ks fn'"
        );
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("rollout-guardian"), "rollout-guardian");
        assert_eq!(shell_word("bad fills"), "'bad fills'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
