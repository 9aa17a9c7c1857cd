//! Who is asking: `--requested-by`, else the caller's AWS identity, else `$USER`.

/// A readable name from a caller ARN (STS `GetCallerIdentity`): `role/session` for an
/// assumed role (the session is usually the person), the user name for an IAM user.
pub fn name_from_arn(arn: &str) -> Option<String> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let mut parts = resource.split('/');
    let kind = parts.next()?;
    let rest: Vec<&str> = parts.filter(|p| !p.is_empty()).collect();
    let name = match kind {
        "assumed-role" if rest.len() >= 2 => format!("{}/{}", rest[0], rest[rest.len() - 1]),
        "user" | "federated-user" | "assumed-role" => rest.last()?.to_string(),
        "root" => format!("root of account {}", arn.split(':').nth(4)?),
        _ => return None,
    };
    Some(name)
}

/// The `requested_by` a stop or resume records.
pub fn requested_by(flag: Option<&str>, caller_arn: Option<&str>, user: Option<&str>) -> String {
    let given = |v: Option<&str>| {
        v.map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    given(flag)
        .or_else(|| caller_arn.and_then(name_from_arn))
        .or_else(|| given(user))
        .unwrap_or_else(|| "rollout-guardian CLI".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_become_names() {
        for (arn, name) in [
            (
                "arn:aws:sts::123456789012:assumed-role/on-call/alice@example.com",
                Some("on-call/alice@example.com"),
            ),
            ("arn:aws:iam::123456789012:user/ops/bob", Some("bob")),
            (
                "arn:aws:sts::123456789012:federated-user/carol",
                Some("carol"),
            ),
            (
                "arn:aws:iam::123456789012:root",
                Some("root of account 123456789012"),
            ),
            ("arn:aws:iam::123456789012:role/x", None),
            ("not an arn", None),
        ] {
            assert_eq!(name_from_arn(arn).as_deref(), name, "{arn}");
        }
    }

    #[test]
    fn flag_then_identity_then_user() {
        let arn = Some("arn:aws:sts::1:assumed-role/on-call/alice");
        assert_eq!(requested_by(Some(" dave "), arn, Some("u")), "dave");
        assert_eq!(requested_by(None, arn, Some("u")), "on-call/alice");
        assert_eq!(requested_by(Some(""), None, Some("u")), "u");
        assert_eq!(
            requested_by(None, Some("garbage"), None),
            "rollout-guardian CLI"
        );
    }
}
