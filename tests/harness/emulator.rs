//! Installing and starting the emulator.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A running emulator. Started once per test binary; it watches its parent and exits with it.
#[derive(Debug)]
pub struct Emulator {
    pub url: String,
    /// Where the function processes it runs write their logs (`<account>/<function>/...`).
    pub log_dir: PathBuf,
    _process: Child,
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// moto serves requests from one Python process, so one server is CPU-bound on a single
/// core; tests spread their accounts over one server per core instead.
fn pool_size() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4)
}

/// The emulator for this test binary (the first of the pool), installing and starting it
/// on first use.
pub fn emulator() -> &'static Emulator {
    emulator_for(0)
}

/// Emulator `n` of this test binary's pool (`n` modulo the pool size), started on first use.
pub fn emulator_for(n: usize) -> &'static Emulator {
    static POOL: OnceLock<Vec<OnceLock<Emulator>>> = OnceLock::new();
    let pool = POOL.get_or_init(|| (0..pool_size()).map(|_| OnceLock::new()).collect());
    pool[n % pool.len()].get_or_init(|| {
        let root = workspace_root();
        start(&root, emulator_python(), n % pool.len())
    })
}

/// The python of `.venv/moto` (the emulator's pinned requirements), installed on first use;
/// it also runs `tests/moto_ext/sam_deploy.py`.
pub fn emulator_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let root = workspace_root();
        python_venv(&root, "moto", &root.join("tests/moto_ext/requirements.txt"))
    })
}

/// `.venv/<name>` with the pinned `requirements` installed, (re)installed when missing or
/// when the requirements changed (the stamp `.installed-requirements` is shared with the
/// `.ci/*.sh` scripts). Returns its python. Panics with the installer's output: a test
/// cannot run without its tools.
pub fn python_venv(root: &Path, name: &str, requirements: &Path) -> PathBuf {
    let venv = root.join(".venv").join(name);
    let python = venv.join("bin/python");
    let wanted = std::fs::read_to_string(requirements)
        .unwrap_or_else(|e| panic!("{} is readable: {e}", requirements.display()));
    let stamp = venv.join(".installed-requirements");
    let installed =
        || python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&wanted);
    if installed() {
        return python;
    }
    // Test binaries may start together (nextest): one installs, the others wait.
    let lock = root.join(format!(".venv/.{name}-install.lock"));
    std::fs::create_dir_all(root.join(".venv")).expect("can create .venv");
    let deadline = Instant::now() + Duration::from_secs(900);
    while std::fs::create_dir(&lock).is_err() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {}",
            lock.display()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let result = (|| {
        if installed() {
            return Ok(());
        }
        eprintln!(
            "installing {} into {} ...",
            requirements.display(),
            venv.display()
        );
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        run(Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(requirements))?;
        std::fs::write(&stamp, &wanted).map_err(|e| e.to_string())
    })();
    let _ = std::fs::remove_dir(&lock);
    if let Err(e) = result {
        panic!("could not install {}: {e}", venv.display());
    }
    python
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} exited with {}:\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Where emulator `n` of this process keeps the logs of the function processes it runs.
pub fn emulator_log_dir(n: usize) -> PathBuf {
    workspace_root()
        .join("target/emulator")
        .join(format!("{}-{n}", std::process::id()))
}

fn start(root: &Path, python: &Path, n: usize) -> Emulator {
    let log_dir = emulator_log_dir(n);
    let _ = std::fs::create_dir_all(&log_dir);
    let mut child = Command::new(python)
        .arg(root.join("tests/moto_ext/server.py"))
        .args(["--port", "0", "--exit-with-parent", "--log-dir"])
        .arg(&log_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("can start the emulator (python in .venv/moto)");
    let stdout = child.stdout.take().expect("emulator stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("READY ") {
                let _ = tx.send(url.trim().to_string());
                break;
            }
        }
        // Keep draining so the emulator never blocks on a full pipe.
        for _ in lines {}
    });
    let url = rx
        .recv_timeout(Duration::from_secs(90))
        .expect("the emulator printed READY within 90 s");
    Emulator {
        url,
        log_dir,
        _process: child,
    }
}
