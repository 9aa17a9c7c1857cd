//! `rollout-guardian drill`: the local rollout drill (`make drill`), run from the checkout
//! this command is started in.

use std::path::{Path, PathBuf};

/// The command `make drill` runs.
pub const DRILL_ARGS: [&str; 6] = ["run", "--quiet", "-p", "e2e", "--bin", "drill"];

/// The checkout holding `start`: the nearest directory at or above it with the workspace
/// manifest and the drill's source.
pub fn checkout_root(start: &Path, exists: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| exists(&dir.join("Cargo.toml")) && exists(&dir.join("tests/drill/main.rs")))
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_checkout_above_is_found() {
        let files = [
            "/src/rg/Cargo.toml",
            "/src/rg/tests/drill/main.rs",
            "/src/rg/cli/Cargo.toml",
        ];
        let exists = |p: &Path| files.iter().any(|f| Path::new(f) == p);
        assert_eq!(
            checkout_root(Path::new("/src/rg/cli/src"), exists),
            Some(PathBuf::from("/src/rg"))
        );
        assert_eq!(checkout_root(Path::new("/tmp"), exists), None);
    }

    #[test]
    fn it_runs_what_make_drill_runs() {
        let makefile = include_str!("../../Makefile");
        assert!(
            makefile.contains(&format!("cargo {}", DRILL_ARGS.join(" "))),
            "{makefile}"
        );
    }
}
