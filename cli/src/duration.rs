//! Durations as people type them: `90s`, `30m`, `2h`, `1h30m`, `1d`.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a duration: {problem}; write it like 90s, 30m, 2h or 1h30m")]
pub struct DurationError {
    pub input: String,
    pub problem: &'static str,
}

/// Parses a sum of `<number><unit>` parts, units `s`, `m`, `h`, `d`, each at most once and
/// largest first. A bare number is refused: `30` could mean seconds or minutes.
pub fn parse(input: &str) -> Result<Duration, DurationError> {
    let err = |problem| DurationError {
        input: input.to_string(),
        problem,
    };
    let text = input.trim();
    if text.is_empty() {
        return Err(err("it is empty"));
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    let mut last_unit = u64::MAX;
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            _ => return Err(err("units are s, m, h and d")),
        };
        if digits.is_empty() {
            return Err(err("each unit needs a number before it"));
        }
        if unit >= last_unit {
            return Err(err("give each unit once, largest first"));
        }
        let n: u64 = digits.parse().map_err(|_| err("the number is too large"))?;
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(|| err("the number is too large"))?;
        digits.clear();
        last_unit = unit;
    }
    if !digits.is_empty() {
        return Err(err("the last number has no unit (s, m, h or d)"));
    }
    if total == 0 {
        return Err(err("it is zero"));
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_forms() {
        for (text, secs) in [
            ("90s", 90),
            ("30m", 1_800),
            ("2h", 7_200),
            ("1h30m", 5_400),
            ("1d", 86_400),
            (" 2H ", 7_200),
            ("1d2h3m4s", 93_784),
        ] {
            assert_eq!(parse(text), Ok(Duration::from_secs(secs)), "{text}");
        }
    }

    #[test]
    fn mistakes_are_named() {
        for (text, problem) in [
            ("", "it is empty"),
            ("30", "the last number has no unit (s, m, h or d)"),
            ("30x", "units are s, m, h and d"),
            ("m", "each unit needs a number before it"),
            ("30m2h", "give each unit once, largest first"),
            ("1m1m", "give each unit once, largest first"),
            ("0m", "it is zero"),
            ("-5m", "units are s, m, h and d"),
            ("99999999999999999999s", "the number is too large"),
            ("999999999999999999d", "the number is too large"),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.problem, problem, "{text}");
        }
        assert_eq!(
            parse("30").unwrap_err().to_string(),
            "\"30\" is not a duration: the last number has no unit (s, m, h or d); write it like 90s, 30m, 2h or 1h30m"
        );
    }
}
