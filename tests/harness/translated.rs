//! `template.yaml` as CloudFormation runs it: translated by aws-sam-translator
//! (tests/template/translate.py in `.venv/sam`, installed here when missing), and read as
//! CloudFormation JSON: resources by id and type, the references a value makes (`Ref`,
//! `Fn::GetAtt`, `Fn::Sub`), every identity-policy statement with the condition it is granted
//! under, and who may invoke a function (IAM action and resource matching). No emulator: the
//! template test asserts on the translation alone.
//!
//! It is the all-in-one variant (the default, `ExistingFunctionArns` blank): every `Fn::If`
//! on the guardian-only conditions takes its all-in-one branch. The guardian-only variant is
//! checked deployed (tests/tests/existing.rs reads its grants back from IAM).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::workspace_root;

/// template.yaml as CloudFormation receives it after the SAM transform, unresolved
/// (translated once per process).
fn raw_translation() -> &'static Value {
    static TRANSLATED: OnceLock<Value> = OnceLock::new();
    TRANSLATED.get_or_init(|| {
        let root = workspace_root();
        let python = ensure_translator(&root);
        let out = Command::new(&python)
            .arg(root.join("tests/template/translate.py"))
            .arg(root.join("template.yaml"))
            .current_dir(&root)
            .output()
            .expect("can run tests/template/translate.py");
        assert!(
            out.status.success(),
            "aws-sam-translator rejected template.yaml:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("the translator prints JSON")
    })
}

/// The translated template as the all-in-one stack runs it (the default parameters).
pub fn translated() -> &'static Value {
    static ALL_IN_ONE: OnceLock<Value> = OnceLock::new();
    ALL_IN_ONE.get_or_init(|| variant(false))
}

/// The translated template as a guardian-only stack runs it (`ExistingFunctionArns` and
/// every other Existing* parameter set): without the sample's resources.
pub fn guardian_only() -> &'static Value {
    static GUARDIAN_ONLY: OnceLock<Value> = OnceLock::new();
    GUARDIAN_ONLY.get_or_init(|| variant(true))
}

/// Template.yaml's guardian-only conditions, by whether functions of other stacks are guarded
/// (then each Existing* list is taken as given).
fn guardian_only_conditions(existing: bool) -> [(&'static str, bool); 8] {
    [
        ("GuardsExisting", existing),
        ("GuardsSample", !existing),
        ("HasExistingDeployments", existing),
        ("HasExistingSchedules", existing),
        ("HasExistingRollbackAlarms", existing),
        ("GuardsDeployments", true),
        ("GuardsSchedules", true),
        ("ChecksRollbackAlarms", true),
    ]
}

fn variant(existing: bool) -> Value {
    let conditions = guardian_only_conditions(existing);
    let mut template = raw_translation().clone();
    for section in ["Resources", "Outputs"] {
        if let Some(entries) = template[section].as_object_mut() {
            entries.retain(|_, r| {
                let condition = r["Condition"].as_str().unwrap_or_default();
                !conditions.contains(&(condition, false))
            });
        }
    }
    resolve_ifs(&mut template, &conditions);
    template
}

/// Replaces each `Fn::If` on one of `conditions` by its branch, dropping `AWS::NoValue` as
/// CloudFormation does; other conditions stay as they are.
fn resolve_ifs(v: &mut Value, conditions: &[(&str, bool)]) {
    let branch = |v: &Value| -> Option<Value> {
        let args = v.get("Fn::If")?.as_array()?;
        let (_, holds) = conditions
            .iter()
            .find(|(c, _)| args.first() == Some(&Value::from(*c)))?;
        args.get(if *holds { 1 } else { 2 }).cloned()
    };
    let no_value = |v: &Value| v.get("Ref").is_some_and(|r| r == "AWS::NoValue");
    while let Some(chosen) = branch(v) {
        *v = chosen;
    }
    match v {
        Value::Array(items) => {
            items.iter_mut().for_each(|i| resolve_ifs(i, conditions));
            items.retain(|i| !no_value(i));
        }
        Value::Object(fields) => {
            fields.values_mut().for_each(|f| resolve_ifs(f, conditions));
            fields.retain(|_, f| !no_value(f));
        }
        _ => {}
    }
}

/// `.venv/sam` with the pins of `.ci/requirements-template.txt` (the stamp is a copy of the
/// file, as in `.ci/template-checks.sh`), installed when missing or outdated.
fn ensure_translator(root: &Path) -> PathBuf {
    crate::python_venv(root, "sam", &root.join(".ci/requirements-template.txt"))
}

pub fn resources() -> &'static serde_json::Map<String, Value> {
    translated()["Resources"]
        .as_object()
        .expect("Resources is an object")
}

pub fn resource(id: &str) -> &'static Value {
    resources()
        .get(id)
        .unwrap_or_else(|| panic!("no resource {id} in the translated template"))
}

pub fn of_type(kind: &str) -> Vec<(&'static str, &'static Value)> {
    resources()
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .map(|(id, r)| (id.as_str(), r))
        .collect()
}

pub fn as_list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        Value::Null => vec![],
        one => vec![one],
    }
}

/// The logical ids (and parameters) a value refers to: `Ref`, `Fn::GetAtt`, and the
/// `${Name}` / `${Name.Attr}` variables of `Fn::Sub` that its own map does not define.
pub fn references(v: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    collect_references(v, &mut found);
    found
}

fn collect_references(v: &Value, found: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (key, inner) in map {
                match key.as_str() {
                    "Ref" => {
                        if let Some(name) = inner.as_str() {
                            found.insert(name.to_string());
                        }
                    }
                    "Fn::GetAtt" => {
                        if let Some(name) = inner.get(0).and_then(Value::as_str) {
                            found.insert(name.to_string());
                        } else if let Some(dotted) = inner.as_str() {
                            found.insert(dotted.split('.').next().unwrap_or("").to_string());
                        }
                    }
                    "Fn::Sub" => {
                        let (text, vars) = match inner {
                            Value::String(s) => (s.as_str(), None),
                            Value::Array(parts) => (
                                parts.first().and_then(Value::as_str).unwrap_or(""),
                                parts.get(1),
                            ),
                            _ => ("", None),
                        };
                        for name in sub_variables(text) {
                            if vars.and_then(|m| m.get(&name)).is_none() {
                                found.insert(name);
                            }
                        }
                        if let Some(vars) = vars {
                            collect_references(vars, found);
                        }
                    }
                    _ => collect_references(inner, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_references(i, found)),
        _ => {}
    }
}

/// `${Name}` and `${Name.Attr}` in a `Fn::Sub` string, as logical ids (`${!Literal}` skipped).
pub fn sub_variables(text: &str) -> Vec<String> {
    let mut names = vec![];
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let var = &after[..end];
        if !var.starts_with('!') {
            names.push(var.split('.').next().unwrap_or(var).to_string());
        }
        rest = &after[end + 1..];
    }
    names
}

pub fn is_pseudo(name: &str) -> bool {
    name.starts_with("AWS::")
}

pub fn defined(name: &str) -> bool {
    is_pseudo(name)
        || resources().contains_key(name)
        || translated()["Parameters"].get(name).is_some()
}

/// The single logical id a value refers to (pseudo parameters aside).
pub fn target_of(v: &Value) -> String {
    let refs: Vec<String> = references(v)
        .into_iter()
        .filter(|r| !is_pseudo(r))
        .collect();
    assert_eq!(refs.len(), 1, "expected one reference in {v}");
    refs[0].clone()
}

/// One statement of an identity policy, with the condition it is granted under (`Fn::If`).
#[derive(Debug)]
pub struct Grant {
    /// The logical id of the role or policy holding it.
    pub holder: String,
    /// The template condition it is granted under, if any.
    pub condition: Option<String>,
    pub statement: &'static Value,
}

/// Every statement of every identity policy in the stack (role inline policies, IAM
/// policies, managed policies), with both branches of an `Fn::If`.
pub fn grants() -> Vec<Grant> {
    grants_in(translated())
}

/// [`grants`] of a variant of the template (e.g. [`guardian_only`]).
pub fn grants_in(template: &'static Value) -> Vec<Grant> {
    let mut all = vec![];
    let resources = template["Resources"].as_object().into_iter().flatten();
    for (id, r) in resources {
        let props = &r["Properties"];
        let documents: Vec<&Value> = match r["Type"].as_str() {
            Some("AWS::IAM::Role") => as_list(&props["Policies"])
                .into_iter()
                .map(|p| &p["PolicyDocument"])
                .collect(),
            Some("AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy") => vec![&props["PolicyDocument"]],
            _ => continue,
        };
        for doc in documents {
            for statement in as_list(&doc["Statement"]) {
                flatten_if(id, None, statement, &mut all);
            }
        }
    }
    all
}

fn flatten_if(holder: &str, condition: Option<String>, v: &'static Value, out: &mut Vec<Grant>) {
    if let Some(branches) = v.get("Fn::If").and_then(Value::as_array) {
        let name = branches[0].as_str().map(str::to_string);
        for branch in &branches[1..] {
            if branch.get("Ref").and_then(Value::as_str) != Some("AWS::NoValue") {
                flatten_if(holder, name.clone(), branch, out);
            }
        }
    } else {
        out.push(Grant {
            holder: holder.to_string(),
            condition,
            statement: v,
        });
    }
}

pub fn actions(statement: &Value) -> Vec<&str> {
    as_list(&statement["Action"])
        .into_iter()
        .filter_map(Value::as_str)
        .collect()
}

/// IAM action matching: `*` and `?` wildcards, case-insensitive.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    fn go(p: &[u8], a: &[u8]) -> bool {
        match (p.first(), a.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], a) || (!a.is_empty() && go(p, &a[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &a[1..]),
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => go(&p[1..], &a[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), action.as_bytes())
}

/// Whether a statement's resources could cover the function with this logical id: it names
/// it, or it is `*`, or it is a wildcard function ARN that names no particular function.
pub fn could_cover_function(statement: &Value, function: &str) -> bool {
    as_list(&statement["Resource"]).into_iter().any(|r| {
        let named = references(r);
        if named.contains(function) {
            return true;
        }
        let text = r.to_string();
        r == "*"
            || (text.contains(":function:")
                && text.contains('*')
                && named.iter().all(|n| is_pseudo(n)))
    })
}

/// Who may invoke the function with this logical id: identity statements granting
/// lambda:InvokeFunction on it, and resource-based permissions and URLs naming it.
pub fn invokers(function: &str) -> (Vec<Grant>, Vec<String>) {
    let identity = grants()
        .into_iter()
        .filter(|g| g.statement["Effect"] == "Allow")
        .filter(|g| {
            actions(g.statement)
                .iter()
                .any(|a| action_matches(a, "lambda:InvokeFunction"))
        })
        .filter(|g| could_cover_function(g.statement, function))
        .collect();
    let resource_based = resources()
        .iter()
        .filter(|(_, r)| {
            matches!(
                r["Type"].as_str(),
                Some("AWS::Lambda::Permission" | "AWS::Lambda::Url")
            )
        })
        .filter(|(_, r)| {
            let props = &r["Properties"];
            references(&props["FunctionName"]).contains(function)
                || references(&props["TargetFunctionArn"]).contains(function)
        })
        .map(|(id, _)| id.clone())
        .collect();
    (identity, resource_based)
}

pub fn environment(function: &str) -> &'static serde_json::Map<String, Value> {
    resource(function)["Properties"]["Environment"]["Variables"]
        .as_object()
        .unwrap_or_else(|| panic!("{function} has no environment"))
}

pub fn function_name_text(function: &str) -> String {
    let name = &resource(function)["Properties"]["FunctionName"];
    name.get("Fn::Sub")
        .and_then(Value::as_str)
        .or(name.as_str())
        .unwrap_or_else(|| panic!("{function} has no literal or Sub FunctionName"))
        .to_string()
}
