//! Settings given once per guarded function: comma-separated lists in the same order as
//! `GUARDED_FUNCTIONS`, an empty entry meaning "none for this function". CloudFormation
//! cannot build a map from parameters, but it can join a list, so this is the shape a
//! guardian-only stack can pass for several existing functions.
//!
//! Entries may be ARNs, which is what a stack exports and what IAM needs; the guardian reads
//! the names it calls AWS with out of them.

use crate::config::{ConfigError, Env};
use crate::guarded::GuardedFunctions;

/// The raw entries of `var`, one per guarded function (`None`: nothing for that one). Unset
/// means none for any. A list of another length is refused: a shifted list would stop the
/// wrong function's deployment or redrive into the wrong function.
pub fn entries(
    env: &Env,
    var: &str,
    guarded: &GuardedFunctions,
) -> Result<Vec<Option<String>>, ConfigError> {
    let wanted = guarded.names().count();
    let Some(raw) = env.optional(var) else {
        return Ok(vec![None; wanted]);
    };
    let entries: Vec<Option<String>> = raw
        .split(',')
        .map(|e| Some(e.trim().to_string()).filter(|e| !e.is_empty()))
        .collect();
    if entries.len() != wanted {
        return Err(ConfigError::malformed(
            var,
            format!(
                "has {} entries but GUARDED_FUNCTIONS names {wanted} function(s)",
                entries.len()
            ),
            "give one entry per guarded function, in the same order (leave an entry empty, \
             e.g. a,,c, for a function that has none)",
        ));
    }
    Ok(entries)
}

/// An SQS queue URL as given, or the URL of a queue ARN, for setting `var`.
pub fn queue_url_in(var: &str, raw: &str) -> Result<String, ConfigError> {
    queue_url(raw).ok_or_else(|| {
        ConfigError::malformed(
            var,
            format!("{raw:?} is neither a queue URL nor a queue ARN"),
            "use the queue URL SQS shows (https://sqs.<region>.amazonaws.com/<account>/<name>) or the queue's ARN",
        )
    })
}

/// An SQS queue URL, or the URL of a queue ARN (`arn:<partition>:sqs:<region>:<account>:<name>`)
/// in the form SQS itself gives queues (`https://sqs.<region>.<domain>/<account>/<name>`;
/// SQS Developer Guide, "Amazon SQS queue and message identifiers", Queue name and URL).
fn queue_url(raw: &str) -> Option<String> {
    if raw.starts_with("https://") || raw.starts_with("http://") {
        return Some(raw.to_string());
    }
    match raw.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", partition, "sqs", region, account, name]
            if !region.is_empty() && !account.is_empty() && !name.is_empty() =>
        {
            Some(format!(
                "https://sqs.{region}.{}/{account}/{name}",
                dns_suffix(partition)
            ))
        }
        _ => None,
    }
}

/// The DNS suffix of a partition's regional service endpoints.
fn dns_suffix(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "amazonaws.com.cn",
        "aws-iso" => "c2s.ic.gov",
        "aws-iso-b" => "sc2s.sgov.gov",
        _ => "amazonaws.com",
    }
}

/// `arn:<partition>:<service>:<region>:<account>:<resource-type><sep><rest>` -> `<rest>`, when
/// `raw` is an ARN of that service and resource type; otherwise `raw` itself.
pub fn resource_of<'a>(raw: &'a str, service: &str, resource_type: &str) -> Option<&'a str> {
    if !raw.starts_with("arn:") {
        return Some(raw);
    }
    let mut parts = raw.splitn(6, ':');
    let (_, _, svc, _, _, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if svc != service {
        return None;
    }
    resource
        .strip_prefix(resource_type)
        .and_then(|rest| rest.strip_prefix([':', '/']))
        .filter(|rest| !rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guarded(n: usize) -> GuardedFunctions {
        GuardedFunctions::new((0..n).map(|i| format!("bot-{i}")))
    }

    #[test]
    fn entries_follow_the_guarded_functions() {
        let env = Env::from_pairs([("DLQ_URL", "a, ,c")]);
        assert_eq!(
            entries(&env, "DLQ_URL", &guarded(3)).unwrap(),
            vec![Some("a".into()), None, Some("c".into())]
        );
        let unset = entries(&Env::from_pairs([("X", "y")]), "DLQ_URL", &guarded(2)).unwrap();
        assert_eq!(unset, vec![None, None]);
        let err = entries(&env, "DLQ_URL", &guarded(2))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("DLQ_URL") && err.contains("3 entries") && err.contains("2 function"),
            "{err}"
        );
    }

    #[test]
    fn queue_urls_from_arns() {
        assert_eq!(
            queue_url("arn:aws:sqs:eu-west-1:123456789012:bot-dlq").as_deref(),
            Some("https://sqs.eu-west-1.amazonaws.com/123456789012/bot-dlq")
        );
        assert_eq!(
            queue_url("arn:aws-cn:sqs:cn-north-1:123456789012:q").as_deref(),
            Some("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q")
        );
        let url = "http://localhost:5000/123456789012/q";
        assert_eq!(queue_url(url).as_deref(), Some(url));
        assert_eq!(queue_url("arn:aws:sns:eu-west-1:123456789012:t"), None);
        assert_eq!(queue_url("bot-dlq"), None);
        let err = queue_url_in("DLQ_URL", "bot-dlq").unwrap_err().to_string();
        assert!(
            err.contains("DLQ_URL") && err.contains("queue ARN"),
            "{err}"
        );
    }

    #[test]
    fn resources_of_arns() {
        let group = "arn:aws:codedeploy:eu-west-1:123456789012:deploymentgroup:app/group";
        assert_eq!(
            resource_of(group, "codedeploy", "deploymentgroup"),
            Some("app/group")
        );
        let schedule = "arn:aws:scheduler:eu-west-1:123456789012:schedule/bots/tick";
        assert_eq!(
            resource_of(schedule, "scheduler", "schedule"),
            Some("bots/tick")
        );
        let alarm = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:bot errors";
        assert_eq!(
            resource_of(alarm, "cloudwatch", "alarm"),
            Some("bot errors")
        );
        assert_eq!(
            resource_of("plain-name", "cloudwatch", "alarm"),
            Some("plain-name")
        );
        assert_eq!(resource_of(group, "scheduler", "schedule"), None);
        assert_eq!(
            resource_of(
                "arn:aws:cloudwatch:eu-west-1:1:alarm:",
                "cloudwatch",
                "alarm"
            ),
            None
        );
    }
}
