//! `--help` of every command, compared exactly with the plain-text snapshots in
//! cli/tests/snapshots. After an intended change: `UPDATE_SNAPSHOTS=1 cargo test -p
//! rollout-guardian --test help`, then review the diff.

use std::path::Path;
use std::process::Command;

const CLI: &str = env!("CARGO_BIN_EXE_rollout-guardian");

const HELP: [(&str, &[&str]); 9] = [
    ("help", &["--help"]),
    ("status", &["status", "--help"]),
    ("stop", &["stop", "--help"]),
    ("resume", &["resume", "--help"]),
    ("dlq", &["dlq", "--help"]),
    ("dlq-inspect", &["dlq", "inspect", "--help"]),
    ("dlq-redrive", &["dlq", "redrive", "--help"]),
    ("dlq-purge", &["dlq", "purge", "--help"]),
    ("drill", &["drill", "--help"]),
];

fn help(args: &[&str]) -> String {
    // No environment: help must not depend on the terminal or on set variables.
    let out = Command::new(CLI)
        .args(args)
        .env_clear()
        .output()
        .expect("the CLI runs");
    assert!(out.status.success(), "{args:?} exits 0: {out:?}");
    assert!(out.stderr.is_empty(), "{args:?} writes nothing to stderr");
    String::from_utf8(out.stdout).expect("help is UTF-8")
}

#[test]
fn help_texts_match_their_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let update = std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1");
    let mut stale = Vec::new();
    for (name, args) in HELP {
        let path = dir.join(format!("{name}.txt"));
        let now = help(args);
        if update {
            std::fs::create_dir_all(&dir).expect("can create the snapshot folder");
            std::fs::write(&path, &now).expect("can write the snapshot");
            continue;
        }
        let snapshot = std::fs::read_to_string(&path).unwrap_or_default();
        if snapshot != now {
            stale.push(format!(
                "{} ({})\n--- snapshot\n{snapshot}--- now\n{now}",
                path.display(),
                args.join(" ")
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "help changed; if intended, run UPDATE_SNAPSHOTS=1 cargo test -p rollout-guardian --test help\n\n{}",
        stale.join("\n")
    );
}

#[test]
fn every_help_names_the_exit_codes_and_the_readme_has_the_same_table() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README.md");
    for (code, meaning) in [
        (0, "done"),
        (1, "failed"),
        (2, "done partly"),
        (3, "refused"),
    ] {
        assert!(
            readme.contains(&format!("| {code} | {meaning}")),
            "README.md's exit-code table lists {code} ({meaning})"
        );
    }
    for (name, args) in HELP {
        if name != "drill" {
            assert!(
                help(args).contains("  3  refused"),
                "{name} --help lists the exit codes"
            );
        }
    }
}

#[test]
fn a_usage_mistake_exits_3_and_says_what_is_missing() {
    let out = Command::new(CLI)
        .args(["stop"])
        .env_clear()
        .output()
        .expect("the CLI runs");
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--reason <TEXT>"));
    assert!(out.stdout.is_empty());
}
