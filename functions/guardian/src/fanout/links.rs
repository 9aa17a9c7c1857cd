//! AWS console deep links for e-mail alerts.

use super::alert::{Alert, Source};

/// The console link for `alert`, in `region` (CONSOLE_REGION, else the region in the
/// alert's ARN, else the function's own region; see `console_region`).
pub fn console_link(alert: &Alert, region: &str) -> Option<String> {
    let base = format!("https://{region}.console.aws.amazon.com");
    match alert.source {
        Source::Cloudwatch => Some(format!(
            "{base}/cloudwatch/home?region={region}#alarmsV2:alarm/{}",
            percent_encode(&alert.name)
        )),
        Source::Codedeploy => alert.deployment_id.as_ref().map(|id| {
            format!(
                "{base}/codesuite/codedeploy/deployments/{}?region={region}",
                percent_encode(id)
            )
        }),
        Source::Unparsed => None,
    }
}

/// The region to link to: an override, else the alert's ARN region, else `fallback`.
/// (The classic alarm's `Region` field is a display name such as "US East (N. Virginia)".)
pub fn console_region(alert: &Alert, override_region: Option<&str>, fallback: &str) -> String {
    if let Some(r) = override_region {
        return r.to_string();
    }
    alert
        .arn
        .as_deref()
        .and_then(|arn| arn.split(':').nth(3))
        .map(str::trim)
        .filter(|r| looks_like_region(r))
        .or_else(|| alert.region.as_deref().filter(|r| looks_like_region(r)))
        .unwrap_or(fallback)
        .to_string()
}

fn looks_like_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

/// RFC 3986 percent-encoding of everything but unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alarm_links_encode_the_name_and_use_the_arn_region() {
        let a = Alert {
            source: Source::Cloudwatch,
            name: "bot errors/high".into(),
            arn: Some("arn:aws:cloudwatch:eu-west-1:1:alarm:bot errors/high".into()),
            region: Some("EU (Ireland)".into()),
            ..Alert::default()
        };
        let region = console_region(&a, None, "us-east-1");
        assert_eq!(region, "eu-west-1");
        assert_eq!(
            console_link(&a, &region).unwrap(),
            "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/bot%20errors%2Fhigh"
        );
        assert_eq!(console_region(&a, Some("us-west-2"), "x"), "us-west-2");
        let no_arn = Alert { arn: None, ..a };
        assert_eq!(console_region(&no_arn, None, "us-east-1"), "us-east-1");
    }
}
