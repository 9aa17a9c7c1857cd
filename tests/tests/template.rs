//! template.yaml, as CloudFormation will run it (translated by aws-sam-translator, read
//! through `e2e::translated`), checked for what an operator relies on: the canary rolls back
//! on the four alarms and runs both hooks, IAM is scoped to exact ARNs, every function's
//! environment names real resources, and only the operator policy may invoke the kill switch
//! and the DLQ inspector.

use std::collections::{BTreeMap, BTreeSet};

use e2e::translated::{
    Grant, action_matches, actions, as_list, could_cover_function, defined, environment,
    function_name_text, grants, grants_in, guardian_only, invokers, is_pseudo, of_type, references,
    resource, resources, sub_variables, target_of, translated,
};
use serde_json::Value;

/// Actions that AWS authorises only on `"Resource": "*"` (no resource-level permissions).
/// The only place a `*` resource is allowed in an identity policy of this stack.
const STAR_RESOURCE_ACTIONS: &[&str] = &["xray:PutTraceSegments", "xray:PutTelemetryRecords"];

/// AWS managed policies a role may carry: SAM's CodeDeploy service role, which may invoke
/// only functions named `CodeDeployHook_*` (the hooks).
const ALLOWED_MANAGED_POLICIES: &[&str] =
    &["arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda"];

const ROLLBACK_ALARMS: [&str; 4] = [
    "GuardedErrorsAlarm",
    "GuardedDurationAlarm",
    "GuardedThrottlesAlarm",
    "GuardedDlqArrivalsAlarm",
];

// ---- the canary ---------------------------------------------------------------------------

#[test]
fn deployment_group_rolls_back_on_the_four_alarms() {
    let groups = of_type("AWS::CodeDeploy::DeploymentGroup");
    assert_eq!(
        groups.len(),
        1,
        "one deployment group: the guarded function's"
    );
    let (id, group) = groups[0];
    assert_eq!(id, "GuardedFunctionDeploymentGroup");
    let props = &group["Properties"];

    let alarms = &props["AlarmConfiguration"];
    assert_eq!(alarms["Enabled"], true, "alarm monitoring is on");
    let names: BTreeSet<String> = as_list(&alarms["Alarms"])
        .into_iter()
        .map(|a| target_of(&a["Name"]))
        .collect();
    assert_eq!(
        names,
        ROLLBACK_ALARMS.iter().map(|s| s.to_string()).collect()
    );

    let rollback = &props["AutoRollbackConfiguration"];
    assert_eq!(rollback["Enabled"], true, "automatic rollback is on");
    let events: Vec<&str> = as_list(&rollback["Events"])
        .into_iter()
        .filter_map(Value::as_str)
        .collect();
    for needed in ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] {
        assert!(events.contains(&needed), "rollback on {needed}: {events:?}");
    }
    // Canary10Percent5Minutes unless the DeploymentType parameter says otherwise.
    assert!(
        props["DeploymentConfigName"]
            .to_string()
            .contains("Canary10Percent5Minutes"),
        "{}",
        props["DeploymentConfigName"]
    );
}

#[test]
fn rollback_alarms_have_the_agreed_thresholds_and_watch_the_new_version() {
    let alarm = |id: &str| &resource(id)["Properties"];
    let dims = |id: &str| -> BTreeMap<String, &Value> {
        as_list(&alarm(id)["Dimensions"])
            .into_iter()
            .map(|d| (d["Name"].as_str().unwrap_or("").to_string(), &d["Value"]))
            .collect()
    };
    let expect = |id: &str, metric: &str, stat: &str, threshold: f64| {
        let a = alarm(id);
        assert_eq!(a["MetricName"], metric, "{id}");
        assert_eq!(a["Statistic"], stat, "{id}");
        assert_eq!(a["ComparisonOperator"], "GreaterThanThreshold", "{id}");
        assert_eq!(a["Threshold"].as_f64(), Some(threshold), "{id}");
        assert_eq!(
            a["TreatMissingData"], "notBreaching",
            "{id}: no data is not a failure"
        );
    };
    expect("GuardedErrorsAlarm", "Errors", "Sum", 1.0);
    expect("GuardedDurationAlarm", "Duration", "Maximum", 600_000.0);
    expect("GuardedThrottlesAlarm", "Throttles", "Sum", 0.0);
    expect(
        "GuardedDlqArrivalsAlarm",
        "NumberOfMessagesSent",
        "Sum",
        0.0,
    );

    // Errors and Duration: only the new version's runs through the alias, so the old
    // version's failures cannot roll back (or block) a fix.
    let version = of_type("AWS::Lambda::Version")
        .into_iter()
        .find(|(_, v)| references(&v["Properties"]["FunctionName"]).contains("GuardedFunction"))
        .map(|(id, _)| id)
        .expect("SAM publishes a version of the guarded function");
    for id in ["GuardedErrorsAlarm", "GuardedDurationAlarm"] {
        let d = dims(id);
        assert_eq!(target_of(d["FunctionName"]), "GuardedFunction", "{id}");
        assert!(
            d["Resource"].to_string().contains(":live"),
            "{id}: the alias"
        );
        assert_eq!(
            target_of(d["ExecutedVersion"]),
            version,
            "{id}: the new version"
        );
    }
    assert!(
        dims("GuardedThrottlesAlarm")["Resource"]
            .to_string()
            .contains(":live")
    );
    assert_eq!(
        target_of(dims("GuardedDlqArrivalsAlarm")["QueueName"]),
        "DeadLetterQueue"
    );
    assert_eq!(
        target_of(&resource("GuardedFunction")["Properties"]["DeadLetterConfig"]["TargetArn"]),
        "DeadLetterQueue",
        "the alarm watches the queue the guarded function's failures go to"
    );
}

#[test]
fn alias_update_policy_runs_the_pre_and_post_traffic_hooks() {
    let aliases: Vec<_> = of_type("AWS::Lambda::Alias")
        .into_iter()
        .filter(|(_, a)| references(&a["Properties"]["FunctionName"]).contains("GuardedFunction"))
        .collect();
    assert_eq!(aliases.len(), 1);
    let (_, alias) = aliases[0];
    assert_eq!(alias["Properties"]["Name"], "live");
    let update = &alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"];
    assert_eq!(
        target_of(&update["BeforeAllowTrafficHook"]),
        "PreTrafficHookFunction"
    );
    assert_eq!(
        target_of(&update["AfterAllowTrafficHook"]),
        "PostTrafficHookFunction"
    );
    assert_eq!(
        target_of(&update["DeploymentGroupName"]),
        "GuardedFunctionDeploymentGroup"
    );

    // CodeDeploy's role may invoke only functions named CodeDeployHook_*; both hooks run the
    // same binary in their own phase, and the post hook watches the rollback alarms.
    for (hook, phase) in [
        ("PreTrafficHookFunction", "pre"),
        ("PostTrafficHookFunction", "post"),
    ] {
        assert!(
            function_name_text(hook).starts_with("CodeDeployHook_"),
            "{hook} must be named CodeDeployHook_*"
        );
        assert_eq!(environment(hook)["HOOK_PHASE"], phase);
        assert_eq!(
            resource(hook)["Metadata"]["BuildProperties"]["Binary"],
            "pre-traffic-hook"
        );
    }
    let watched = references(&environment("PostTrafficHookFunction")["ROLLBACK_ALARMS"]);
    assert_eq!(
        watched,
        ROLLBACK_ALARMS.iter().map(|s| s.to_string()).collect()
    );
}

// ---- IAM ----------------------------------------------------------------------------------

#[test]
fn no_iam_statement_has_a_wildcard_outside_the_documented_list() {
    let all = grants();
    assert!(all.len() > 20, "found the stack's policies ({})", all.len());
    for g in &all {
        let s = g.statement;
        assert!(
            s.get("NotAction").is_none() && s.get("NotResource").is_none(),
            "{}: NotAction/NotResource grant everything else: {s}",
            g.holder
        );
        if s["Effect"] != "Allow" {
            continue;
        }
        for action in actions(s) {
            assert!(
                !action.contains('*') && !action.contains('?'),
                "{}: wildcard action {action}",
                g.holder
            );
        }
        let star = as_list(&s["Resource"]).iter().any(|r| *r == "*");
        if star {
            for action in actions(s) {
                assert!(
                    STAR_RESOURCE_ACTIONS.contains(&action),
                    "{}: `*` resource for {action}, which supports resource-level permissions",
                    g.holder
                );
            }
        }
    }
    for (id, role) in of_type("AWS::IAM::Role") {
        for arn in as_list(&role["Properties"]["ManagedPolicyArns"]) {
            let arn = arn.as_str().unwrap_or_default();
            assert!(
                ALLOWED_MANAGED_POLICIES.contains(&arn),
                "{id}: managed policy {arn} is not on the documented list"
            );
        }
    }
}

/// Statements that grant on what is guarded: in a guardian-only stack they name only what the
/// Existing* parameters give.
const GUARDED_GRANTS: [&str; 14] = [
    "StopResumeGuardedFunction",
    "ProbeNumberedVersions",
    "SeeKillSwitchState",
    "RedriveToGuardedAlias",
    "ReadReleaseDeleteDeadLetters",
    "CountDeadLetters",
    "PauseGuardedSchedule",
    "PassGuardedScheduleRole",
    "StopInFlightDeployment",
    "ReadDeploymentAndReportHook",
    "ReadAppSpec",
    "ReadRollbackAlarms",
    "ReadDeploymentsInFlight",
    "ReadDeadLetterDepth",
];

#[test]
fn the_guardian_only_variant_has_no_sample_and_grants_only_on_the_existing_arns() {
    let t = guardian_only();
    let resources = t["Resources"].as_object().expect("resources");
    for sample in [
        "GuardedFunction",
        "DeadLetterQueue",
        "GuardedSchedule",
        "GuardedErrorsAlarm",
        "ServerlessDeploymentApplication",
        "GuardedFunctionDeploymentGroup",
        "CodeDeployServiceRole",
        "OnCallDashboard",
    ] {
        assert!(
            !resources.contains_key(sample),
            "{sample} in a guardian-only stack"
        );
    }
    let parameters = t["Parameters"].as_object().expect("parameters");
    for (id, r) in resources {
        for name in references(r) {
            assert!(
                is_pseudo(&name) || resources.contains_key(&name) || parameters.contains_key(&name),
                "{id} refers to {name}, which a guardian-only stack does not have"
            );
        }
    }
    let all = grants_in(t);
    let mut seen = BTreeSet::new();
    for g in &all {
        let s = g.statement;
        let star = as_list(&s["Resource"]).iter().any(|r| *r == "*");
        assert!(
            !star || actions(s).iter().all(|a| STAR_RESOURCE_ACTIONS.contains(a)),
            "{}: `*` in {s}",
            g.holder
        );
        let Some(sid) = s["Sid"].as_str().filter(|sid| GUARDED_GRANTS.contains(sid)) else {
            continue;
        };
        seen.insert(sid);
        let named = references(&s["Resource"]);
        assert!(
            !named.is_empty() && named.iter().all(|n| n.starts_with("Existing")),
            "{}.{sid} grants on {named:?}, not only the Existing* parameters",
            g.holder
        );
    }
    assert_eq!(seen.len(), GUARDED_GRANTS.len(), "found {seen:?}");
    let outputs = t["Outputs"].as_object().expect("outputs");
    for key in [
        "PreTrafficHookFunctionName",
        "PostTrafficHookFunctionName",
        "AlarmTopicArn",
    ] {
        assert!(outputs.contains_key(key), "output {key}");
    }
    assert!(!outputs.contains_key("GuardedFunctionName"));
}

#[test]
fn every_function_logs_only_to_its_own_log_group_with_retention() {
    let functions = of_type("AWS::Lambda::Function");
    assert_eq!(
        functions.len(),
        6,
        "guarded + pre/post hooks + fan-out + inspector + kill switch"
    );
    let all = grants();
    for (id, f) in functions {
        let props = &f["Properties"];
        assert_eq!(props["Architectures"], serde_json::json!(["arm64"]), "{id}");
        assert_eq!(props["Runtime"], "provided.al2023", "{id}");
        assert_eq!(props["LoggingConfig"]["LogFormat"], "JSON", "{id}");
        let group = target_of(&props["LoggingConfig"]["LogGroup"]);
        let log_group = resource(&group);
        assert_eq!(log_group["Type"], "AWS::Logs::LogGroup", "{id}");
        assert!(
            log_group["Properties"]["RetentionInDays"].is_object()
                || log_group["Properties"]["RetentionInDays"].is_number(),
            "{id}: {group} has a retention"
        );

        let role = target_of(&props["Role"]);
        let log_grants: Vec<&Grant> = all
            .iter()
            .filter(|g| g.holder == role)
            .filter(|g| actions(g.statement).iter().any(|a| a.starts_with("logs:")))
            .collect();
        assert!(!log_grants.is_empty(), "{id}: {role} may write its logs");
        for g in log_grants {
            for r in as_list(&g.statement["Resource"]) {
                assert_eq!(target_of(r), group, "{id}: {role} logs only to {group}");
            }
        }
        // No other function's role, nor a shared one.
        let sharing: Vec<_> = of_type("AWS::Lambda::Function")
            .into_iter()
            .filter(|(other, f)| *other != id && target_of(&f["Properties"]["Role"]) == role)
            .map(|(other, _)| other)
            .collect();
        assert!(sharing.is_empty(), "{id} shares {role} with {sharing:?}");
    }
}

#[test]
fn the_kill_switch_can_be_invoked_only_via_the_operator_policy() {
    assert_eq!(
        resource("OperatorPolicy")["Type"],
        "AWS::IAM::ManagedPolicy"
    );
    let (identity, resource_based) = invokers("KillSwitchFunction");
    assert!(
        resource_based.is_empty(),
        "resource-based permissions let others invoke the kill switch: {resource_based:?}"
    );
    let holders: BTreeMap<&str, Option<&str>> = identity
        .iter()
        .map(|g| (g.holder.as_str(), g.condition.as_deref()))
        .collect();
    // The documented exception: the fan-out's auto-halt, granted only when configured.
    assert_eq!(
        holders,
        BTreeMap::from([
            ("OperatorPolicy", None),
            ("AlarmFanoutRole", Some("HasHaltOnAlarms")),
        ]),
        "who may invoke the kill switch"
    );
    // CodeDeploy's managed role invokes CodeDeployHook_* functions: the kill switch is not one.
    assert!(!function_name_text("KillSwitchFunction").starts_with("CodeDeployHook_"));
}

#[test]
fn the_dlq_inspector_can_be_invoked_only_via_the_operator_policy_and_its_schedule() {
    let (identity, resource_based) = invokers("DlqInspectorFunction");
    assert!(resource_based.is_empty(), "{resource_based:?}");
    let holders: BTreeSet<&str> = identity.iter().map(|g| g.holder.as_str()).collect();
    assert_eq!(
        holders,
        BTreeSet::from(["OperatorPolicy", "InspectScheduleRole"])
    );
    assert!(!function_name_text("DlqInspectorFunction").starts_with("CodeDeployHook_"));

    // The schedule's role is used by that schedule only, and it sends `inspect`.
    let users: Vec<_> = of_type("AWS::Scheduler::Schedule")
        .into_iter()
        .filter(|(_, s)| {
            references(&s["Properties"]["Target"]["RoleArn"]).contains("InspectScheduleRole")
        })
        .collect();
    assert_eq!(users.len(), 1);
    let input: Value = serde_json::from_str(
        users[0].1["Properties"]["Target"]["Input"]
            .as_str()
            .expect("a JSON input"),
    )
    .expect("valid JSON");
    assert_eq!(input, serde_json::json!({"action": "inspect"}));
}

// ---- configuration ------------------------------------------------------------------------

/// What each environment variable must name, by the type of the resource it refers to.
fn expected_type(var: &str) -> Option<&'static [&'static str]> {
    Some(match var {
        // Another account's topic, named by a parameter (README "Alerts at organisation scale").
        "CENTRAL_TOPIC_ARN" => return None,
        v if v.ends_with("_TOPIC_ARN") => &["AWS::SNS::Topic"],
        "DLQ_URL" => &["AWS::SQS::Queue"],
        "GUARDED_FUNCTIONS" | "TARGET_FUNCTION" | "KILL_SWITCH_FUNCTION" => {
            &["AWS::Lambda::Function"]
        }
        "TARGET_VERSION" => &["AWS::Lambda::Version"],
        "DEPLOYMENT_GROUPS" => &[
            "AWS::CodeDeploy::Application",
            "AWS::CodeDeploy::DeploymentGroup",
        ],
        "ROLLBACK_ALARMS" => &["AWS::CloudWatch::Alarm"],
        "SCHEDULE_NAMES" => &["AWS::Scheduler::Schedule", "AWS::Scheduler::ScheduleGroup"],
        _ => return None,
    })
}

#[test]
fn every_function_environment_names_resources_that_exist() {
    let hook = [
        "GUARDED_FUNCTIONS",
        "ALERT_TOPIC_ARN",
        "HOOK_PHASE",
        "TARGET_VERSION",
        "SMOKE_PLAN",
        "PROBE_CONCURRENCY",
        "REPORT_MARGIN_MS",
    ];
    let post_hook = [&hook[..], &["ROLLBACK_ALARMS"]].concat();
    let required: &[(&str, &[&str])] = &[
        ("GuardedFunction", &["FAILURE_MODE"]),
        ("PreTrafficHookFunction", &hook),
        ("PostTrafficHookFunction", &post_hook),
        (
            "AlarmFanoutFunction",
            &[
                "CRITICAL_TOPIC_ARN",
                "WARNING_TOPIC_ARN",
                "INFO_TOPIC_ARN",
                "CHAT_TOPIC_ARN",
                "SEVERITY_RULES",
                "DEFAULT_SEVERITY",
                "FORWARD_OK",
                "HALT_ON_ALARMS",
                "KILL_SWITCH_FUNCTION",
                "GUARDED_FUNCTIONS",
                "CENTRAL_TOPIC_ARN",
            ],
        ),
        (
            "DlqInspectorFunction",
            &[
                "DLQ_URL",
                "GUARDED_FUNCTIONS",
                "REDRIVE_QUALIFIER",
                "SOURCE_QUEUE_URL",
                "ALERT_TOPIC_ARN",
                "SENSITIVE_KEYS",
                "GROUP_BY_POINTER",
                "DEADLINE_MARGIN_MS",
            ],
        ),
        (
            "KillSwitchFunction",
            &[
                "GUARDED_FUNCTIONS",
                "ALERT_TOPIC_ARN",
                "SCHEDULE_NAMES",
                "DEPLOYMENT_GROUPS",
                "DLQ_URL",
                "CENTRAL_TOPIC_ARN",
            ],
        ),
    ];
    for (function, vars) in required {
        let env = environment(function);
        for var in *vars {
            assert!(env.contains_key(*var), "{function} lacks {var}");
        }
        for (var, value) in env {
            let refs = references(value);
            for name in &refs {
                assert!(
                    defined(name),
                    "{function}.{var} names {name}, which is not in the template"
                );
            }
            let Some(types) = expected_type(var) else {
                continue;
            };
            let targets: Vec<&String> = refs
                .iter()
                .filter(|n| !is_pseudo(n) && resources().contains_key(*n))
                .collect();
            assert!(
                !targets.is_empty(),
                "{function}.{var} names no resource: {value}"
            );
            for t in targets {
                let kind = resource(t)["Type"].as_str().unwrap_or_default();
                assert!(
                    types.contains(&kind),
                    "{function}.{var} names {t} ({kind}), expected one of {types:?}"
                );
            }
        }
    }
    // The guarded function is the one the guardian protects, everywhere.
    for function in [
        "PreTrafficHookFunction",
        "PostTrafficHookFunction",
        "AlarmFanoutFunction",
        "DlqInspectorFunction",
        "KillSwitchFunction",
    ] {
        assert_eq!(
            target_of(&environment(function)["GUARDED_FUNCTIONS"]),
            "GuardedFunction",
            "{function}"
        );
    }
    assert_eq!(
        target_of(&environment("AlarmFanoutFunction")["KILL_SWITCH_FUNCTION"]),
        "KillSwitchFunction"
    );
    assert_eq!(
        target_of(&environment("KillSwitchFunction")["ALERT_TOPIC_ARN"]),
        "CriticalTopic"
    );
}

#[test]
fn every_reference_in_the_template_resolves() {
    let mut missing = vec![];
    for (id, r) in resources() {
        for name in references(r) {
            if !defined(&name) {
                missing.push(format!("{id} -> {name}"));
            }
        }
    }
    assert!(missing.is_empty(), "unresolved references: {missing:?}");
}

#[test]
fn reference_extraction_sees_sub_getatt_and_skips_literals() {
    let v = serde_json::json!({"Fn::Sub": ["${A}/${B.Arn}-${!Lit}-${C}", {"C": {"Ref": "D"}}]});
    assert_eq!(
        references(&v),
        ["A", "B", "D"].iter().map(|s| s.to_string()).collect()
    );
    assert!(action_matches("lambda:*", "lambda:InvokeFunction"));
    assert!(action_matches("*", "lambda:InvokeFunction"));
    assert!(action_matches("Lambda:Invoke*", "lambda:InvokeFunction"));
    assert!(!action_matches(
        "lambda:InvokeAsync",
        "lambda:InvokeFunction"
    ));
    let wide = serde_json::json!({"Effect": "Allow", "Action": "lambda:InvokeFunction",
        "Resource": {"Fn::Sub": "arn:${AWS::Partition}:lambda:*:*:function:*"}});
    assert!(could_cover_function(&wide, "KillSwitchFunction"));
    let versions = serde_json::json!({"Resource": {"Fn::Sub": "${GuardedFunction.Arn}:*"}});
    assert!(!could_cover_function(&versions, "KillSwitchFunction"));
}

// ---- the on-call dashboard -----------------------------------------------------------------

/// The dashboard body with every `${Name}` / `${Name.Attr}` of its `Fn::Sub` replaced by
/// `<Name>` / `<Name.Attr>` (and `${!Literal}` by `${Literal}`, as CloudFormation does),
/// parsed as JSON: what CloudWatch receives, with the deploy-time values left symbolic.
fn substituted_json(sub: &Value) -> Value {
    let text = sub
        .get("Fn::Sub")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("expected a plain-string Fn::Sub, got {sub}"));
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .expect("unterminated ${ in the dashboard body");
        let var = &after[..end];
        match var.strip_prefix('!') {
            Some(literal) => out.push_str(&format!("${{{literal}}}")),
            None => out.push_str(&format!("<{var}>")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("the dashboard body is not JSON after Fn::Sub ({e}):\n{out}"))
}

/// One metric line of a widget: namespace, metric name and dimensions (`[ns, name, k, v, ...,
/// {options}]`), or a metric-math / SEARCH expression (`[{"expression": ...}]`).
#[derive(Debug)]
enum Line {
    Metric {
        namespace: String,
        name: String,
        dimensions: BTreeMap<String, String>,
    },
    Expression(String),
}

fn widget_lines(widget: &Value) -> Vec<Line> {
    as_list(&widget["properties"]["metrics"])
        .into_iter()
        .map(|row| {
            let items = row.as_array().expect("a metrics row is an array");
            if let Some(expr) = items[0].get("expression").and_then(Value::as_str) {
                return Line::Expression(expr.to_string());
            }
            let texts: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            assert!(
                texts.len() >= 2 && texts.len().is_multiple_of(2) && !texts.contains(&"."),
                "metric rows spell out namespace, name and every dimension: {row}"
            );
            Line::Metric {
                namespace: texts[0].to_string(),
                name: texts[1].to_string(),
                dimensions: texts[2..]
                    .chunks(2)
                    .map(|kv| (kv[0].to_string(), kv[1].to_string()))
                    .collect(),
            }
        })
        .collect()
}

#[test]
fn the_dashboard_shows_versions_verdicts_alerts_dlq_kill_switch_and_alarm_states() {
    let dashboards = of_type("AWS::CloudWatch::Dashboard");
    assert_eq!(dashboards.len(), 1, "one on-call dashboard");
    let (id, dashboard) = dashboards[0];
    let body = substituted_json(&dashboard["Properties"]["DashboardBody"]);
    let widgets = body["widgets"].as_array().expect("widgets");

    let mut lines: Vec<Line> = vec![];
    for w in widgets {
        if w["type"] == "metric" {
            let title = &w["properties"]["title"];
            assert_eq!(w["properties"]["region"], "<AWS::Region>", "{title}");
            lines.extend(widget_lines(w));
        }
    }
    let has = |namespace: &str, name: &str, dims: &[(&str, &str)]| {
        lines.iter().any(|l| match l {
            Line::Metric {
                namespace: n,
                name: m,
                dimensions,
            } => {
                n == namespace
                    && m == name
                    && dimensions.len() == dims.len()
                    && dims
                        .iter()
                        .all(|(k, v)| dimensions.get(*k).map(String::as_str) == Some(*v))
            }
            Line::Expression(_) => false,
        })
    };
    let mut missing: Vec<String> = vec![];
    let mut want = |ok: bool, what: String| {
        if !ok {
            missing.push(what);
        }
    };

    // The guarded function by version: SEARCH over ExecutedVersion through the alias.
    let guarded = "<GuardedFunction>";
    let alias = format!("Resource=\"{guarded}:live\"");
    for (metric, stat) in [
        ("Invocations", "'Sum'"),
        ("Errors", "'Sum'"),
        ("Duration", "'p99'"),
        ("Duration", "'Maximum'"),
    ] {
        let found = lines.iter().any(|l| {
            matches!(l, Line::Expression(e) if e.starts_with("SEARCH(")
                && e.contains("ExecutedVersion")
                && e.contains(&format!("MetricName=\"{metric}\""))
                && e.contains(&format!("FunctionName=\"{guarded}\""))
                && e.contains(&alias)
                && e.contains(stat))
        });
        want(
            found,
            format!("{metric} {stat} of the guarded function by version"),
        );
    }
    let alias_dim = format!("{guarded}:live");
    want(
        has(
            "AWS/Lambda",
            "Throttles",
            &[("FunctionName", guarded), ("Resource", &alias_dim)],
        ),
        "guarded alias throttles".into(),
    );
    want(
        has("AWS/Lambda", "Throttles", &[("FunctionName", guarded)]),
        "guarded function throttles (reserved concurrency)".into(),
    );

    // Deployment verdicts: the hook's EMF metrics (functions/pre-traffic-hook/src/lib.rs).
    for metric in ["HookSucceeded", "HookFailed"] {
        for phase in ["pre-traffic", "post-traffic"] {
            want(
                has(
                    "RolloutGuardian",
                    metric,
                    &[("Function", "pre-traffic-hook"), ("Phase", phase)],
                ),
                format!("{metric} {phase}"),
            );
        }
    }

    // Alerts by severity (functions/alarm-fanout/src/observe.rs).
    for metric in ["AlertsPublished", "AlertsFailed", "AlertsUnparsed"] {
        for severity in ["critical", "warning", "info"] {
            want(
                has(
                    "RolloutGuardian",
                    metric,
                    &[("Function", "alarm-fanout"), ("Severity", severity)],
                ),
                format!("{metric} {severity}"),
            );
        }
    }

    // The guarded function's DLQ (functions/dlq-inspector/src/observe.rs for the EMF side).
    for metric in [
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
    ] {
        want(
            has(
                "AWS/SQS",
                metric,
                &[("QueueName", "<DeadLetterQueue.QueueName>")],
            ),
            format!("DLQ {metric}"),
        );
    }
    want(
        has(
            "RolloutGuardian",
            "DlqDepth",
            &[("Function", "dlq-inspector")],
        ),
        "DlqDepth".into(),
    );
    for metric in ["DlqRedriven", "DlqSkippedStale", "DlqDuplicates"] {
        want(
            has(
                "RolloutGuardian",
                metric,
                &[("Function", "dlq-inspector"), ("Action", "redrive")],
            ),
            format!("{metric} redrive"),
        );
    }

    // Kill-switch state (functions/kill-switch/src/observe.rs): 1 = stopped.
    want(
        has(
            "RolloutGuardian",
            "KillSwitchStopped",
            &[("Function", "kill-switch")],
        ),
        "KillSwitchStopped".into(),
    );
    assert!(missing.is_empty(), "{id} lacks: {missing:#?}");

    // Alarm states: the four rollback alarms and every alarm on the guardian itself, each of
    // which pages through the critical topic.
    let shown: BTreeSet<String> = widgets
        .iter()
        .filter(|w| w["type"] == "alarm")
        .flat_map(|w| as_list(&w["properties"]["alarms"]))
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    let guardian_alarms: Vec<&str> = of_type("AWS::CloudWatch::Alarm")
        .into_iter()
        .filter(|(_, a)| {
            a["Properties"]["AlarmName"]["Fn::Sub"]
                .as_str()
                .is_some_and(|n| n.starts_with("${AWS::StackName}-guardian-"))
        })
        .map(|(alarm, a)| {
            let actions: Vec<String> = as_list(&a["Properties"]["AlarmActions"])
                .into_iter()
                .map(target_of)
                .collect();
            assert_eq!(
                actions,
                ["CriticalTopic"],
                "{alarm} pages via the critical topic"
            );
            alarm
        })
        .collect();
    for alarm in [
        "PreTrafficHookErrorsAlarm",
        "AlarmFanoutErrorsAlarm",
        "DlqInspectorErrorsAlarm",
    ] {
        assert!(
            guardian_alarms.contains(&alarm),
            "{alarm} is a guardian alarm"
        );
    }
    for alarm in ROLLBACK_ALARMS.iter().copied().chain(guardian_alarms) {
        assert!(
            shown.contains(&format!("<{alarm}.Arn>")),
            "the alarm widget shows {alarm}: {shown:?}"
        );
    }

    let url = translated()["Outputs"]["DashboardUrl"]["Value"]["Fn::Sub"]
        .as_str()
        .expect("Output DashboardUrl");
    assert!(
        url.starts_with("https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}#dashboards:name=")
            && sub_variables(url).contains(&id.to_string()),
        "{url}"
    );
}

/// What another stack of the account needs from the guardian is exported as
/// `<stack>-<output>` (README "Alerts at organisation scale", examples/).
#[test]
fn outputs_another_stack_needs_are_exported() {
    let outputs = &translated()["Outputs"];
    for key in [
        "AlarmTopicArn",
        "PreTrafficHookFunctionName",
        "PostTrafficHookFunctionName",
        "KillSwitchFunctionName",
        "DlqInspectorFunctionName",
        "AlarmFanoutRoleArn",
        "KillSwitchRoleArn",
        "CriticalTopicArn",
        "WarningTopicArn",
        "InfoTopicArn",
        "OperatorPolicyArn",
    ] {
        assert_eq!(
            outputs[key]["Export"]["Name"],
            serde_json::json!({"Fn::Sub": format!("${{AWS::StackName}}-{key}")}),
            "{key}: {}",
            outputs[key]
        );
    }
}
