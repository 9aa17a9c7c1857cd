//! Shared by the property tests (issue #12): a runner with a fixed case count and a pinned
//! seed, arbitrary JSON, and structured mutations of the sample events in `events/`.
//!
//! The runner is built from an explicit config (not `proptest!`'s, which reads `PROPTEST_*`
//! variables), so CI and a laptop run exactly the same cases.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::fmt::Debug;
use std::path::PathBuf;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed, TestCaseError, TestRng, TestRunner};
use serde_json::{Map, Value, json};

/// The pinned seed (ChaCha): change it only on purpose, and say so in the commit.
pub const SEED: [u8; 32] = *b"rollout-guardian/issue-12/seed-1";
/// Cases per input type.
pub const CASES: u32 = 1_000;
/// A "huge" string: past SNS's 256 KB and the 64 KB operator limit.
pub const HUGE_BYTES: usize = 300 * 1024;

/// A runner that ignores `PROPTEST_*` variables: same cases everywhere.
pub fn runner(cases: u32) -> TestRunner {
    let config = Config {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(u64::from_le_bytes([
            SEED[0], SEED[1], SEED[2], SEED[3], SEED[4], SEED[5], SEED[6], SEED[7],
        ])),
        failure_persistence: None,
        max_shrink_iters: 1_024,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &SEED))
}

/// Runs `test` on `cases` generated values; a failure (or a panic, which the runner catches)
/// fails the calling test with the shrunk input.
pub fn check<S>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S: Strategy,
    S::Value: Debug,
{
    if let Err(e) = runner(cases).run(&strategy, test) {
        let text = e.to_string();
        let shown: String = text.chars().take(6_000).collect();
        panic!("property {name} failed (seed {SEED:?}, {cases} cases): {shown}");
    }
}

/// Field names and values the parsers look for, so generated JSON reaches deep paths.
pub const KEYWORDS: &[&str] = &[
    "action",
    "stop",
    "resume",
    "status",
    "reason",
    "requested_by",
    "function",
    "trading-bot",
    "source",
    "aws.cloudwatch",
    "aws.scheduler",
    "detail-type",
    "CloudWatch Alarm State Change",
    "CodeDeploy Deployment State-change Notification",
    "detail",
    "alarmData",
    "state",
    "value",
    "ALARM",
    "OK",
    "Records",
    "Sns",
    "Message",
    "AlarmName",
    "NewStateValue",
    "Trigger",
    "Metrics",
    "configuration",
    "metrics",
    "reasonData",
    "triggeringAlarms",
    "inspect",
    "redrive",
    "purge",
    "max_messages",
    "body_pointer",
    "body_equals",
    "error_code",
    "rate_per_second",
    "dry_run",
    "to",
    "queue",
    "confirm",
    "max_age_seconds",
    "Resources",
    "Properties",
    "Name",
    "TargetVersion",
    "Type",
    "AWS::Lambda::Function",
    "probes",
    "name",
    "payload",
    "expect",
    "json",
    "pointer",
    "equals",
    "matches",
    "exists",
    "retries",
    "backoff_ms",
    "DeploymentId",
    "LifecycleEventHookExecutionId",
    "/",
    "/status",
    "",
];

/// Control characters, bidi overrides, non-ASCII letters, emoji, the replacement char.
const HOSTILE: &str =
    "[\\x00-\\x1f\\x7f\u{80}-\u{9f}\u{200b}\u{202e}\u{2028}\u{fffd}\u{feff}éßЖ中✓🚀\"\\\\ a]{1,40}";

pub fn text() -> BoxedStrategy<String> {
    prop_oneof![
        4 => "[a-zA-Z0-9 _./:-]{0,12}",
        3 => proptest::sample::select(KEYWORDS).prop_map(str::to_string),
        1 => any::<String>(),
        1 => HOSTILE,
    ]
    .boxed()
}

fn key() -> BoxedStrategy<String> {
    prop_oneof![
        3 => proptest::sample::select(KEYWORDS).prop_map(str::to_string),
        1 => "[a-zA-Z_]{1,8}",
        1 => HOSTILE,
    ]
    .boxed()
}

/// Numbers at and past every edge the parsers have (JSON has no NaN; "NaN" comes as text).
pub fn number() -> BoxedStrategy<Value> {
    prop_oneof![
        2 => any::<i64>().prop_map(|n| json!(n)),
        1 => any::<u64>().prop_map(|n| json!(n)),
        1 => any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        2 => proptest::sample::select(vec![
            json!(0), json!(-1), json!(1), json!(u64::MAX), json!(i64::MIN), json!(-0.0),
            json!(0.5), json!(1e-300), json!(5e-324), json!(1e308), json!(-1e308),
            json!(4_294_967_296u64), json!(10_001), json!("NaN"), json!("Infinity"),
            json!("-1e999"), json!("1e999"), json!("0x10"), json!(""),
        ]),
    ]
    .boxed()
}

/// Any JSON value, at most 4 levels deep and about 64 nodes.
pub fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
    .boxed()
}

/// What a mutation does to the node it hits.
#[derive(Debug, Clone)]
pub enum Edit {
    Remove,
    Null,
    /// Replaced by a value of another type (or any value).
    Retype(Value),
    /// Replaced by a string of [`HUGE_BYTES`] built from this unit.
    Huge(String),
    /// Replaced by control / non-ASCII text.
    Hostile(String),
    /// Replaced by an out-of-range or odd number.
    Number(Value),
    /// A string cut at a point (JSON inside a string — SNS `Message`, `reasonData` — breaks).
    Truncate(Index),
    /// A string holding JSON (a nested body) gets a mutation inside, re-serialised.
    Nested(Box<Mutation>),
    /// An object gets an extra field.
    AddField(String, Value),
}

#[derive(Debug, Clone)]
pub struct Mutation {
    pub target: Index,
    pub edit: Edit,
}

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    At(usize),
}

fn flat_edit() -> BoxedStrategy<Edit> {
    // Huge strings are rare (about 1 case in 12): they are the slow ones to render.
    prop_oneof![
        4 => Just(Edit::Remove),
        3 => Just(Edit::Null),
        3 => prop_oneof![
            Just(json!(true)), Just(json!(7)), Just(json!([])), Just(json!({})), Just(json!(["x"])),
            Just(json!({"x": 1})), Just(json!("7")),
        ].prop_map(Edit::Retype),
        1 => prop_oneof![Just("x".to_string()), Just("é".to_string()), Just("\u{0}\"\\".to_string())]
            .prop_map(Edit::Huge),
        3 => HOSTILE.prop_map(Edit::Hostile),
        3 => number().prop_map(Edit::Number),
        3 => any::<Index>().prop_map(Edit::Truncate),
        2 => (key(), any_json()).prop_map(|(k, v)| Edit::AddField(k, v)),
        2 => any_json().prop_map(Edit::Retype),
    ]
    .boxed()
}

pub fn mutation() -> BoxedStrategy<Mutation> {
    let flat = (any::<Index>(), flat_edit()).prop_map(|(target, edit)| Mutation { target, edit });
    prop_oneof![
        6 => flat.clone(),
        1 => (any::<Index>(), flat).prop_map(|(target, inner)| Mutation {
            target,
            edit: Edit::Nested(Box::new(inner)),
        }),
    ]
    .boxed()
}

/// A sample from `events/` with 1 to 3 mutations applied.
#[derive(Debug, Clone)]
pub struct Mutated {
    pub sample: &'static str,
    pub value: Value,
    /// The path each mutation hit.
    pub paths: Vec<Vec<Seg>>,
}

impl Mutated {
    /// The top-level field a single mutation hit, if that is what happened.
    pub fn single_top_field(&self) -> Option<&str> {
        match self.paths.as_slice() {
            [path] => match path.first() {
                Some(Seg::Key(k)) => Some(k),
                _ => None,
            },
            _ => None,
        }
    }

    /// The innermost object key of a single mutation's path.
    pub fn single_leaf_key(&self) -> Option<&str> {
        match self.paths.as_slice() {
            [path] => path.iter().rev().find_map(|s| match s {
                Seg::Key(k) => Some(k.as_str()),
                Seg::At(_) => None,
            }),
            _ => None,
        }
    }
}

/// Samples named `prefix*.json` in `events/`, each mutated 1 to 3 times.
pub fn mutated_samples(prefix: &str) -> BoxedStrategy<Mutated> {
    let samples = samples(prefix);
    assert!(!samples.is_empty(), "no events/{prefix}*.json");
    (
        proptest::sample::select(samples),
        prop::collection::vec(mutation(), 1..=3),
    )
        .prop_map(|((name, value), mutations)| {
            let mut value = value;
            let paths = mutations.iter().map(|m| apply(&mut value, m)).collect();
            Mutated {
                sample: name,
                value,
                paths,
            }
        })
        .boxed()
}

/// `(file name, parsed JSON)` of every `events/<prefix>*.json`.
pub fn samples(prefix: &str) -> Vec<(&'static str, Value)> {
    let dir = events_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix) && n.ends_with(".json"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let value = serde_json::from_str(&std::fs::read_to_string(dir.join(&n)).unwrap())
                .unwrap_or_else(|e| panic!("events/{n}: {e}"));
            (&*Box::leak(n.into_boxed_str()), value)
        })
        .collect()
}

pub fn events_dir() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !dir.join("events").is_dir() {
        assert!(dir.pop(), "no events/ above {}", env!("CARGO_MANIFEST_DIR"));
    }
    dir.join("events")
}

/// Every node's path, root first, in a fixed order.
fn paths(value: &Value) -> Vec<Vec<Seg>> {
    let mut out = vec![vec![]];
    fn walk(v: &Value, at: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    at.push(Seg::Key(k.clone()));
                    out.push(at.clone());
                    walk(child, at, out);
                    at.pop();
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    at.push(Seg::At(i));
                    out.push(at.clone());
                    walk(child, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }
    walk(value, &mut vec![], &mut out);
    out
}

fn node<'a>(root: &'a mut Value, path: &[Seg]) -> &'a mut Value {
    path.iter().fold(root, |v, seg| match seg {
        Seg::Key(k) => &mut v[k.as_str()],
        Seg::At(i) => &mut v[*i],
    })
}

/// Applies `m` and returns the path it hit. Mutations prefer non-root nodes: the root is
/// hit only when it is the only node.
pub fn apply(root: &mut Value, m: &Mutation) -> Vec<Seg> {
    let all = paths(root);
    let path = if all.len() > 1 {
        all[1 + m.target.index(all.len() - 1)].clone()
    } else {
        vec![]
    };
    match &m.edit {
        Edit::Remove => match path.split_last() {
            Some((last, parent)) => match (node(root, parent), last) {
                (Value::Object(map), Seg::Key(k)) => {
                    map.remove(k);
                }
                (Value::Array(items), Seg::At(i)) => {
                    items.remove(*i);
                }
                _ => {}
            },
            None => *root = Value::Null,
        },
        Edit::Null => *node(root, &path) = Value::Null,
        Edit::Retype(v) | Edit::Number(v) => *node(root, &path) = v.clone(),
        Edit::Huge(unit) => {
            *node(root, &path) = Value::String(unit.repeat(HUGE_BYTES / unit.len()))
        }
        Edit::Hostile(s) => *node(root, &path) = Value::String(s.clone()),
        Edit::Truncate(at) => {
            let target = node(root, &path);
            if let Value::String(s) = target {
                let mut cut = at.index(s.len() + 1);
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                s.truncate(cut);
            } else {
                // Not a string: cut its JSON text instead, leaving a broken body as text.
                let text = target.to_string();
                let mut cut = at.index(text.len() + 1);
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                *target = Value::String(text[..cut].to_string());
            }
        }
        Edit::Nested(inner) => {
            let target = node(root, &path);
            let parsed = target
                .as_str()
                .and_then(|s| serde_json::from_str::<Value>(s).ok());
            if let Some(mut doc) = parsed {
                apply(&mut doc, inner);
                *target = Value::String(doc.to_string());
            } else {
                apply(target, inner);
            }
        }
        Edit::AddField(k, v) => {
            // The path reported is the new field's, so checks look for its name.
            if let Value::Object(map) = node(root, &path) {
                map.insert(k.clone(), v.clone());
                return [path, vec![Seg::Key(k.clone())]].concat();
            } else if let Value::Object(map) = root {
                map.insert(k.clone(), v.clone());
                return vec![Seg::Key(k.clone())];
            }
        }
    }
    path
}

/// A short view of a generated value for failure messages.
pub fn preview(v: &Value) -> String {
    let text = v.to_string();
    if text.len() <= 400 {
        text
    } else {
        let cut: String = text.chars().take(400).collect();
        format!("{cut}... ({} bytes)", text.len())
    }
}
