//! The deployment target from a Lambda AppSpec (JSON or YAML): the function CodeDeploy shifts
//! and the numbered version it shifts to.

use serde_json::Value;

/// What a deployment shifts: `function` (name or ARN, as the AppSpec says) to `version`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeploymentTarget {
    pub function: String,
    /// The numbered version traffic moves to: the one the probes must invoke.
    pub version: String,
    pub alias: Option<String>,
    pub current_version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppSpecError {
    #[error("the AppSpec is neither JSON nor YAML: {0}")]
    Unparsable(String),
    #[error(
        "the AppSpec has no Lambda resource under Resources[] (expected Resources: [{{<name>: {{Type: AWS::Lambda::Function, Properties: {{Name, Alias, CurrentVersion, TargetVersion}}}}}}])"
    )]
    NoLambdaResource,
    #[error("the AppSpec lists {0} Lambda resources; a Lambda deployment shifts exactly one")]
    SeveralResources(usize),
    #[error("the AppSpec resource {resource:?} has no usable Properties.{field}")]
    MissingProperty {
        resource: String,
        field: &'static str,
    },
    #[error(
        "the AppSpec resource {resource:?} has TargetVersion {version:?}; the hook invokes a numbered version, never an alias or $LATEST"
    )]
    NotNumbered { resource: String, version: String },
}

/// Reads the target from AppSpec text. JSON is tried first (exact errors for JSON input),
/// then YAML (CodeDeploy accepts both).
pub fn target_from_appspec(content: &str) -> Result<DeploymentTarget, AppSpecError> {
    let doc: Value = match serde_json::from_str(content) {
        Ok(v) => v,
        Err(json_err) => serde_norway::from_str(content).map_err(|yaml_err| {
            AppSpecError::Unparsable(format!("as JSON: {json_err}; as YAML: {yaml_err}"))
        })?,
    };
    let resources: Vec<(&String, &Value)> = doc
        .get("Resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|entry| entry.iter())
        .filter(|(_, r)| {
            // A missing Type is tolerated: Lambda AppSpecs hold nothing else.
            r.get("Type")
                .and_then(Value::as_str)
                .is_none_or(|t| t == "AWS::Lambda::Function")
        })
        .collect();
    let (name, resource) = match resources.as_slice() {
        [] => return Err(AppSpecError::NoLambdaResource),
        [one] => *one,
        many => return Err(AppSpecError::SeveralResources(many.len())),
    };
    let props = resource.get("Properties");
    let text = |field: &'static str| props.and_then(|p| p.get(field)).and_then(scalar_text);
    let missing = |field| AppSpecError::MissingProperty {
        resource: name.clone(),
        field,
    };
    let function = text("Name").ok_or_else(|| missing("Name"))?;
    let raw_version = text("TargetVersion").ok_or_else(|| missing("TargetVersion"))?;
    let version = numbered_version(&raw_version).ok_or_else(|| AppSpecError::NotNumbered {
        resource: name.clone(),
        version: raw_version.clone(),
    })?;
    Ok(DeploymentTarget {
        function,
        version,
        alias: text("Alias"),
        current_version: text("CurrentVersion"),
    })
}

/// `"2"`, `2` (YAML/JSON number) or a version ARN `...:function:name:2` -> `"2"`.
pub fn numbered_version(raw: &str) -> Option<String> {
    let last = raw.rsplit(':').next().unwrap_or(raw).trim();
    (!last.is_empty() && last.chars().all(|c| c.is_ascii_digit())).then(|| last.to_string())
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = r#"{"version": 0.0, "Resources": [{"tradingBot": {"Type": "AWS::Lambda::Function",
        "Properties": {"Name": "trading-bot", "Alias": "live", "CurrentVersion": "1", "TargetVersion": "2"}}}],
        "Hooks": [{"BeforeAllowTraffic": "CodeDeployHook_pre"}]}"#;

    const YAML: &str = "version: 0.0\nResources:\n  - tradingBot:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: trading-bot\n        Alias: live\n        CurrentVersion: 1\n        TargetVersion: 2\nHooks:\n  - BeforeAllowTraffic: CodeDeployHook_pre\n";

    fn expected() -> DeploymentTarget {
        DeploymentTarget {
            function: "trading-bot".into(),
            version: "2".into(),
            alias: Some("live".into()),
            current_version: Some("1".into()),
        }
    }

    #[test]
    fn json_and_yaml_appspecs_resolve_to_the_same_target() {
        assert_eq!(target_from_appspec(JSON).unwrap(), expected());
        assert_eq!(target_from_appspec(YAML).unwrap(), expected());
    }

    #[test]
    fn a_version_arn_is_reduced_to_its_number() {
        let spec = JSON.replace(
            r#""TargetVersion": "2""#,
            r#""TargetVersion": "arn:aws:lambda:us-east-1:123456789012:function:trading-bot:2""#,
        );
        assert_eq!(target_from_appspec(&spec).unwrap().version, "2");
    }

    #[test]
    fn an_alias_or_latest_as_target_is_refused() {
        for v in ["live", "$LATEST"] {
            let spec = JSON.replace(
                r#""TargetVersion": "2""#,
                &format!(r#""TargetVersion": "{v}""#),
            );
            assert!(matches!(
                target_from_appspec(&spec),
                Err(AppSpecError::NotNumbered { .. })
            ));
        }
    }

    #[test]
    fn missing_pieces_are_named() {
        let no_target = JSON.replace(r#", "TargetVersion": "2""#, "");
        let err = target_from_appspec(&no_target).unwrap_err().to_string();
        assert!(
            err.contains("TargetVersion") && err.contains("tradingBot"),
            "{err}"
        );
        assert_eq!(
            target_from_appspec(r#"{"version": 0.0}"#),
            Err(AppSpecError::NoLambdaResource)
        );
        assert!(matches!(
            target_from_appspec(": : [ not yaml"),
            Err(AppSpecError::Unparsable(_))
        ));
    }

    #[test]
    fn several_lambda_resources_are_ambiguous() {
        let two = r#"{"Resources": [{"a": {"Properties": {"Name": "x", "TargetVersion": "2"}}},
                                   {"b": {"Properties": {"Name": "y", "TargetVersion": "3"}}}]}"#;
        assert_eq!(
            target_from_appspec(two),
            Err(AppSpecError::SeveralResources(2))
        );
    }
}
