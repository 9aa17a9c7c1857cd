//! Colour for a terminal, plain text for everything else (pipes, files, `NO_COLOR`).

/// How to render emphasis: ANSI colours, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub const PLAIN: Style = Style { color: false };

    /// Colour only on a terminal, and never when `NO_COLOR` is set (https://no-color.org)
    /// or the terminal is `dumb`.
    pub fn for_output(is_terminal: bool, no_color: Option<&str>, term: Option<&str>) -> Style {
        let asked_off = no_color.is_some_and(|v| !v.is_empty());
        Style {
            color: is_terminal && !asked_off && term != Some("dumb"),
        }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn red(self, text: &str) -> String {
        self.paint("1;31", text)
    }

    pub fn green(self, text: &str) -> String {
        self.paint("1;32", text)
    }

    pub fn yellow(self, text: &str) -> String {
        self.paint("1;33", text)
    }

    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_that_wants_it() {
        assert!(Style::for_output(true, None, Some("xterm-256color")).color);
        assert!(!Style::for_output(false, None, Some("xterm")).color);
        assert!(!Style::for_output(true, Some("1"), None).color);
        assert!(Style::for_output(true, Some(""), None).color);
        assert!(!Style::for_output(true, None, Some("dumb")).color);
    }

    #[test]
    fn plain_is_untouched_and_colour_is_ansi() {
        assert_eq!(Style::PLAIN.red("STOPPED"), "STOPPED");
        assert_eq!(
            Style { color: true }.red("STOPPED"),
            "\x1b[1;31mSTOPPED\x1b[0m"
        );
    }
}
