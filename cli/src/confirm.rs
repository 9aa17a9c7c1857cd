//! When to ask before acting: a stop on a terminal (unless `--yes`), a purge always (typing
//! the queue name, or `--confirm <queue name>`).

/// What to do before sending the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Go ahead; for a purge, with this `confirm` value.
    Go(Option<String>),
    /// Ask on the terminal, then check the answer.
    Ask { question: String, expect: Expect },
    /// Do nothing and say why.
    Refuse(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    Yes,
    /// The queue name, typed exactly.
    Name(String),
    /// The queue name is not known here: the inspector checks what was typed.
    AnyName,
}

/// `interactive`: standard input is a terminal, so someone can answer.
pub fn stop(
    yes: bool,
    interactive: bool,
    function: Option<&str>,
    stack: Option<&str>,
    reason: &str,
) -> Gate {
    if yes || !interactive {
        return Gate::Go(None);
    }
    let function = function.unwrap_or("the guarded function");
    let stack = stack.map(|s| format!(" (stack {s})")).unwrap_or_default();
    Gate::Ask {
        question: format!(
            "Stop trading: set {function}{stack} to reserved concurrency 0, reason \"{reason}\"? [y/N] "
        ),
        expect: Expect::Yes,
    }
}

pub fn purge(confirm: Option<&str>, interactive: bool, queue: Option<&str>, dry_run: bool) -> Gate {
    let confirm = confirm.map(str::trim).filter(|c| !c.is_empty());
    match (confirm, queue) {
        (Some(given), Some(queue)) if given != queue => Gate::Refuse(format!(
            "--confirm {given:?} is not the DLQ's name {queue:?}"
        )),
        (Some(given), _) => Gate::Go(Some(given.to_string())),
        // A dry run deletes nothing: no need to type the name.
        (None, Some(queue)) if dry_run => Gate::Go(Some(queue.to_string())),
        (None, queue) if interactive => Gate::Ask {
            question: format!(
                "Purge deletes the selected messages from {} for good. Type the queue name to confirm: ",
                queue.unwrap_or("the DLQ")
            ),
            expect: queue.map_or(Expect::AnyName, |q| Expect::Name(q.to_string())),
        },
        (None, queue) => Gate::Refuse(format!(
            "purge deletes messages for good: pass --confirm {}",
            queue.unwrap_or("<queue name>")
        )),
    }
}

/// The answer typed at the prompt: Ok(value to send as `confirm`, for a purge), or Err(why
/// nothing happens).
pub fn check(expect: &Expect, typed: &str) -> Result<Option<String>, String> {
    let typed = typed.trim();
    match expect {
        Expect::Yes if matches!(typed.to_ascii_lowercase().as_str(), "y" | "yes") => Ok(None),
        Expect::Yes => Err("the answer was not yes".to_string()),
        Expect::Name(name) if typed == name => Ok(Some(typed.to_string())),
        Expect::Name(name) => Err(format!("{typed:?} is not the queue name {name:?}")),
        Expect::AnyName if !typed.is_empty() => Ok(Some(typed.to_string())),
        Expect::AnyName => Err("no queue name was typed".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_asks_only_a_person_at_a_terminal_without_yes() {
        assert_eq!(stop(true, true, None, None, "r"), Gate::Go(None));
        assert_eq!(stop(false, false, None, None, "r"), Gate::Go(None));
        let Gate::Ask { question, expect } =
            stop(false, true, Some("bot"), Some("rg"), "bad fills")
        else {
            panic!("expected a question");
        };
        assert_eq!(
            question,
            "Stop trading: set bot (stack rg) to reserved concurrency 0, reason \"bad fills\"? [y/N] "
        );
        assert_eq!(expect, Expect::Yes);
    }

    #[test]
    fn purge_needs_the_queue_name() {
        assert_eq!(
            purge(Some("q"), false, Some("q"), false),
            Gate::Go(Some("q".into()))
        );
        assert!(
            matches!(purge(Some("x"), true, Some("q"), false), Gate::Refuse(m) if m.contains("\"q\""))
        );
        assert_eq!(
            purge(Some("x"), false, None, false),
            Gate::Go(Some("x".into()))
        );
        assert_eq!(
            purge(None, false, Some("q"), true),
            Gate::Go(Some("q".into()))
        );
        assert_eq!(
            purge(None, false, Some("q"), false),
            Gate::Refuse("purge deletes messages for good: pass --confirm q".into())
        );
        assert!(matches!(
            purge(None, true, Some("q"), false),
            Gate::Ask { expect: Expect::Name(n), .. } if n == "q"
        ));
        assert!(matches!(
            purge(None, true, None, true),
            Gate::Ask {
                expect: Expect::AnyName,
                ..
            }
        ));
    }

    #[test]
    fn answers_are_checked() {
        assert_eq!(check(&Expect::Yes, " Y\n"), Ok(None));
        assert_eq!(check(&Expect::Yes, "yes"), Ok(None));
        assert!(check(&Expect::Yes, "").is_err());
        assert!(check(&Expect::Yes, "no").is_err());
        assert_eq!(
            check(&Expect::Name("q".into()), "q\n"),
            Ok(Some("q".into()))
        );
        assert!(check(&Expect::Name("q".into()), "Q").is_err());
        assert_eq!(check(&Expect::AnyName, "dlq"), Ok(Some("dlq".into())));
        assert!(check(&Expect::AnyName, " ").is_err());
    }
}
