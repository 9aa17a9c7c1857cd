//! The exit codes scripts can trust (also in `--help` and README.md).

use std::process::ExitCode;

/// What a command ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done: everything asked for happened.
    Done,
    /// Failed: what was asked for did not happen (or its outcome is unknown).
    Failed,
    /// Done partly: the main step happened, a side step did not (e.g. stopped, but the alert
    /// was not sent).
    Partly,
    /// Refused: a bad request, not permitted, or not confirmed; nothing was changed.
    Refused,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Done => 0,
            Exit::Failed => 1,
            Exit::Partly => 2,
            Exit::Refused => 3,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e.code())
    }
}

/// The exit-code table, as `--help` prints it (a macro, so help texts can `concat!` it).
#[macro_export]
macro_rules! exit_codes {
    () => {
        "Exit codes:
  0  done
  1  failed: what was asked for did not happen, or its outcome is unknown
  2  done partly: e.g. stopped, but the alert was not sent (see the failed steps)
  3  refused: bad request, not permitted, or not confirmed; nothing was changed"
    };
}

pub const EXIT_CODES: &str = exit_codes!();

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_ones() {
        let codes: Vec<u8> = [Exit::Done, Exit::Failed, Exit::Partly, Exit::Refused]
            .iter()
            .map(|e| e.code())
            .collect();
        assert_eq!(codes, vec![0, 1, 2, 3]);
        for (code, word) in [
            (0, "done"),
            (1, "failed"),
            (2, "done partly"),
            (3, "refused"),
        ] {
            assert!(
                EXIT_CODES.contains(&format!("  {code}  {word}")),
                "{code} {word}"
            );
        }
    }
}
