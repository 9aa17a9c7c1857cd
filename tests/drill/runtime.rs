//! The guardian's functions as real Lambda runtime processes: `cargo lambda watch` serves
//! the Runtime API to each binary and the Invoke API to us.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `cargo lambda watch` process; killed (with its functions) when dropped.
pub struct LocalLambda {
    pub url: String,
    child: Child,
}

impl LocalLambda {
    /// Starts `cargo lambda watch` on a free port with `env` for every function it runs.
    pub fn start(
        root: &Path,
        cargo_lambda: &Path,
        name: &str,
        env: &[(String, String)],
    ) -> Result<Self, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let env_file = root.join(format!("target/drill/{name}.env"));
        std::fs::create_dir_all(env_file.parent().unwrap_or(root)).map_err(|e| e.to_string())?;
        let text: String = env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        std::fs::write(&env_file, text).map_err(|e| e.to_string())?;
        let log = std::fs::File::create(root.join(format!("target/drill/{name}.log")))
            .map_err(|e| e.to_string())?;
        let mut child = Command::new(cargo_lambda)
            .args([
                "lambda",
                "watch",
                "--ignore-changes",
                "--quiet",
                "-A",
                "127.0.0.1",
                "-P",
            ])
            .arg(port.to_string())
            .arg("--env-file")
            .arg(&env_file)
            .args(["--timeout", "120"])
            .current_dir(root)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().map_err(|e| e.to_string())?))
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| format!("cannot start cargo lambda watch: {e}"))?;
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "cargo lambda watch exited ({status}); see target/drill/{name}.log"
                ));
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err(format!(
                    "cargo lambda watch did not listen within 60 s; see target/drill/{name}.log"
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(LocalLambda {
            url: format!("http://127.0.0.1:{port}"),
            child,
        })
    }

    pub fn invoke_url(&self, function: &str) -> String {
        format!("{}/2015-03-31/functions/{function}/invocations", self.url)
    }
}

impl Drop for LocalLambda {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cargo-lambda` from `.venv/lambda` (pinned in .ci/requirements-build.txt), installed when missing.
pub fn ensure_cargo_lambda(root: &Path) -> Result<std::path::PathBuf, String> {
    let venv = root.join(".venv/lambda");
    let bin = venv.join("bin/cargo-lambda");
    if bin.exists() {
        return Ok(bin);
    }
    println!("installing cargo-lambda into .venv/lambda ...");
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(venv.join("bin/pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--require-hashes",
            "-r",
        ])
        .arg(root.join(".ci/requirements-build.txt")))?;
    Ok(bin)
}

/// Builds every function binary (debug), streaming cargo's progress.
pub fn build_functions(root: &Path) -> Result<(), String> {
    let mut child = Command::new("cargo")
        .args([
            "build",
            "--bins",
            "-p",
            "pre-traffic-hook",
            "-p",
            "alarm-fanout",
            "-p",
            "dlq-inspector",
        ])
        .args(["-p", "kill-switch", "-p", "sample-target"])
        .current_dir(root)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    if let Some(err) = child.stderr.take() {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if line.trim_start().starts_with("Compiling")
                || line.contains("error")
                || line.contains("Finished")
            {
                println!("  | {}", line.trim());
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| "cargo build of the functions failed".into())
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    out.status
        .success()
        .then_some(())
        .ok_or_else(|| format!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr)))
}
