//! Deploying `template.yaml` into the emulator, as `sam build && sam deploy` would: the
//! functions are built, `tests/moto_ext/sam_deploy.py` packages them and calls the emulator's
//! CloudFormation (`CreateStack` / `UpdateStack` with the SAM transform), and waits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::{TestAccount, build_functions, code_dir, emulator_python, workspace_root};

/// One resource of the deployed stack.
#[derive(Debug, Clone, Deserialize)]
pub struct StackResource {
    pub logical_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub physical_id: Option<String>,
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// What a deploy ended with, as `sam deploy` reports it.
#[derive(Debug, Clone, Deserialize)]
pub struct Stack {
    #[serde(skip)]
    pub name: String,
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub outputs: BTreeMap<String, String>,
    #[serde(default)]
    pub resources: Vec<StackResource>,
    #[serde(default)]
    pub failed_events: Vec<serde_json::Value>,
}

impl Stack {
    /// CREATE_COMPLETE or UPDATE_COMPLETE.
    pub fn succeeded(&self) -> bool {
        matches!(self.status.as_str(), "CREATE_COMPLETE" | "UPDATE_COMPLETE")
    }

    pub fn output(&self, key: &str) -> String {
        self.outputs
            .get(key)
            .cloned()
            .unwrap_or_else(|| panic!("stack {} has no output {key}", self.name))
    }

    /// The physical id of a resource by its logical id (e.g. a function's name).
    pub fn physical(&self, logical_id: &str) -> String {
        self.resources
            .iter()
            .find(|r| r.logical_id == logical_id)
            .and_then(|r| r.physical_id.clone())
            .unwrap_or_else(|| panic!("stack {} has no resource {logical_id}", self.name))
    }

    /// Resources by CloudFormation type, for the drill's summary.
    pub fn count_by_type(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for r in &self.resources {
            *counts.entry(r.kind.clone()).or_default() += 1;
        }
        counts
    }

    /// Why the deploy failed: the stack's reason and each failed resource's.
    pub fn failure(&self) -> String {
        let mut parts = vec![format!(
            "{}: {}",
            self.status,
            self.reason.clone().unwrap_or_default()
        )];
        for e in &self.failed_events {
            parts.push(format!(
                "{} ({}): {}",
                e["logical_id"].as_str().unwrap_or("?"),
                e["type"].as_str().unwrap_or("?"),
                e["reason"].as_str().unwrap_or("?")
            ));
        }
        parts.join("\n")
    }
}

/// The template a deploy uses: the repository's, or a variant written to a file.
pub enum Template {
    Repository,
    Text(String),
}

impl Template {
    /// The repository's `template.yaml` with `from` replaced by `to` (exactly once): the
    /// mutations the stack tests deploy.
    pub fn mutated(from: &str, to: &str) -> Template {
        let text = std::fs::read_to_string(workspace_root().join("template.yaml"))
            .expect("template.yaml is readable");
        assert_eq!(
            text.matches(from).count(),
            1,
            "the mutation's text must occur exactly once in template.yaml: {from:?}"
        );
        Template::Text(text.replacen(from, to, 1))
    }

    /// Like [`Template::mutated`], within one resource's section of template.yaml only (from
    /// its `  LogicalId:` line to the next resource), for text that recurs across resources.
    pub fn mutated_in(logical_id: &str, from: &str, to: &str) -> Template {
        let text = std::fs::read_to_string(workspace_root().join("template.yaml"))
            .expect("template.yaml is readable");
        let header = format!("\n  {logical_id}:\n");
        let start = text
            .find(&header)
            .unwrap_or_else(|| panic!("no resource {logical_id} in template.yaml"))
            + 1;
        let end = text[start + header.len()..]
            .match_indices('\n')
            .map(|(i, _)| start + header.len() + i + 1)
            .find(|&i| {
                let line = &text[i..];
                let indent = line.len() - line.trim_start_matches(' ').len();
                (indent == 2 || indent == 0)
                    && line
                        .chars()
                        .nth(indent)
                        .is_some_and(|c| c.is_ascii_alphabetic())
            })
            .unwrap_or(text.len());
        let section = &text[start..end];
        assert_eq!(
            section.matches(from).count(),
            1,
            "the mutation's text must occur exactly once in {logical_id}: {from:?}"
        );
        Template::Text(format!(
            "{}{}{}",
            &text[..start],
            section.replacen(from, to, 1),
            &text[end..]
        ))
    }

    fn path(&self, stack: &str) -> PathBuf {
        match self {
            Template::Repository => workspace_root().join("template.yaml"),
            Template::Text(text) => {
                let dir = workspace_root().join("target/stack-templates");
                std::fs::create_dir_all(&dir).expect("can create target/stack-templates");
                // One file per deploy: tests in one process deploy variants concurrently.
                static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
                let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let path = dir.join(format!("{stack}-{}-{n}.yaml", std::process::id()));
                std::fs::write(&path, text).expect("can write the template variant");
                path
            }
        }
    }
}

impl TestAccount {
    /// `sam deploy` of `template` as stack `name` with parameter overrides, into this
    /// account: creates the stack, or updates it when it exists. Returns how it ended
    /// (a failed deploy is a `Stack` whose `succeeded()` is false, with its reasons).
    pub async fn deploy(&self, name: &str, template: &Template, params: &[(&str, &str)]) -> Stack {
        self.deploy_build(name, template, params, None).await
    }

    /// [`TestAccount::deploy`] of build `build`: a different build id stands for rebuilt
    /// function code (a new package key, so SAM publishes a new version of the guarded
    /// function and CodeDeploy shifts `live` to it, as after a code change on AWS).
    pub async fn deploy_build(
        &self,
        name: &str,
        template: &Template,
        params: &[(&str, &str)],
        build: Option<&str>,
    ) -> Stack {
        build_functions(false).unwrap_or_else(|e| panic!("{e}"));
        let path = template.path(name);
        let (endpoint, account) = (self.endpoint.clone(), self.id.clone());
        let params: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let (name_owned, build) = (name.to_string(), build.map(str::to_string));
        tokio::task::spawn_blocking(move || {
            run_sam_deploy(
                &endpoint,
                &account,
                &name_owned,
                &path,
                &params,
                build.as_deref(),
            )
        })
        .await
        .expect("sam_deploy.py runs")
    }
}

fn run_sam_deploy(
    endpoint: &str,
    account: &str,
    name: &str,
    template: &Path,
    params: &[String],
    build: Option<&str>,
) -> Stack {
    let root = workspace_root();
    let mut cmd = Command::new(emulator_python());
    cmd.arg(root.join("tests/moto_ext/sam_deploy.py"))
        .args([
            "--endpoint",
            endpoint,
            "--account",
            account,
            "--region",
            crate::REGION,
        ])
        .args(["--stack-name", name])
        .arg("--template")
        .arg(template)
        .arg("--code-dir")
        .arg(code_dir());
    if let Some(build) = build {
        cmd.args(["--build-id", build]);
    }
    if !params.is_empty() {
        cmd.arg("--parameter-overrides").args(params);
    }
    let out = cmd
        .current_dir(&root)
        .output()
        .expect("can run sam_deploy.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut stack: Stack = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "sam_deploy.py did not print its JSON outcome ({e}); exit {}:\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    stack.name = name.to_string();
    stack
}
