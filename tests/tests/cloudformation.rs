//! The emulator's CloudFormation (tests/moto_ext/cloudformation_ext.py), through the real
//! SDK: what it refuses before creating anything, how it resolves a template, how updates
//! and rollbacks behave, and the SAM fact the runbook relies on (a parameter change alone
//! publishes no new version).

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus};
use aws_smithy_types::error::display::DisplayErrorContext;
use e2e::{STACK, Template, TestAccount};
use serde_json::{Value, json};

fn param(key: &str, value: &str) -> Parameter {
    Parameter::builder()
        .parameter_key(key)
        .parameter_value(value)
        .build()
}

/// CreateStack's refusal (code and message), or None when it was accepted.
async fn refusal(
    cf: &Client,
    template: &Value,
    params: Vec<Parameter>,
    caps: &[Capability],
) -> Option<String> {
    let mut req = cf
        .create_stack()
        .stack_name("refused")
        .template_body(template.to_string())
        .set_parameters(Some(params));
    for c in caps {
        req = req.capabilities(c.clone());
    }
    req.send()
        .await
        .err()
        .map(|e| DisplayErrorContext(&e).to_string())
}

async fn wait(cf: &Client, stack: &str) -> aws_sdk_cloudformation::types::Stack {
    for _ in 0..600 {
        let s = cf
            .describe_stacks()
            .stack_name(stack)
            .send()
            .await
            .expect("DescribeStacks")
            .stacks
            .unwrap_or_default()
            .remove(0);
        let status = s
            .stack_status
            .clone()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        if !status.ends_with("_IN_PROGRESS") {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("stack {stack} never settled");
}

fn outputs(s: &aws_sdk_cloudformation::types::Stack) -> std::collections::BTreeMap<String, String> {
    s.outputs()
        .iter()
        .filter_map(|o| Some((o.output_key.clone()?, o.output_value.clone()?)))
        .collect()
}

#[tokio::test]
async fn what_cloudformation_refuses_it_refuses_before_creating_anything() {
    let acct = TestAccount::new();
    let cfg = acct.sdk_config().await;
    let cf = Client::new(&cfg);
    let queue = json!({"Type": "AWS::SQS::Queue"});
    let cases = [
        (
            json!({"Resources": {"A": {"Type": "AWS::SQS::Queue", "DependsOn": "B"},
                                 "B": {"Type": "AWS::SQS::Queue", "DependsOn": "A"}}}),
            vec![],
            vec![],
            "Circular dependency between resources: [A, B]",
        ),
        (
            json!({"Resources": {"Q": queue, "T": {"Type": "AWS::SNS::Topic",
                "Properties": {"DisplayName": {"Fn::GetAtt": ["Q", "Nope"]}}}}}),
            vec![],
            vec![],
            "resource Q does not support attribute type Nope in Fn::GetAtt",
        ),
        (
            json!({"Resources": {"T": {"Type": "AWS::SNS::Topic",
                "Properties": {"DisplayName": {"Ref": "Renamed"}}}}}),
            vec![],
            vec![],
            "Unresolved resource dependencies [Renamed] in the Resources block of the template",
        ),
        (
            json!({"Parameters": {"Env": {"Type": "String", "AllowedValues": ["dev", "prod"]}},
                   "Resources": {"Q": queue}}),
            vec![param("Env", "staging")],
            vec![],
            "Parameter 'Env' must be one of AllowedValues",
        ),
        (
            json!({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument":
                {"Version": "2012-10-17", "Statement": []}}}}}),
            vec![],
            vec![],
            "Requires capabilities : [CAPABILITY_IAM]",
        ),
        (
            json!({"Transform": "Foo", "Resources": {"Q": queue}}),
            vec![],
            vec![Capability::CapabilityAutoExpand],
            "No transform named",
        ),
    ];
    for (template, params, caps, expected) in cases {
        let got = refusal(&cf, &template, params, &caps).await;
        assert!(
            got.as_deref().is_some_and(|e| e.contains(expected)),
            "{template}: expected {expected:?}, got {got:?}"
        );
    }
    let stacks = cf
        .describe_stacks()
        .send()
        .await
        .expect("DescribeStacks")
        .stacks
        .unwrap_or_default();
    assert!(stacks.is_empty(), "nothing was created: {stacks:?}");
}

fn plain() -> Value {
    json!({
        "Parameters": {"Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
                       "Size": {"Type": "Number", "Default": 3}},
        "Mappings": {"ByEnv": {"dev": {"Retention": 345600}, "prod": {"Retention": 1209600}}},
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {
                "MessageRetentionPeriod": {"Fn::FindInMap": ["ByEnv", {"Ref": "Env"}, "Retention"]}}},
            "ProdTopic": {"Type": "AWS::SNS::Topic", "Condition": "IsProd"},
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {
                "DisplayName": {"Fn::Sub": ["${AWS::StackName}-${Q}-${!Literal}", {"Q": {"Fn::GetAtt": "Queue.QueueName"}}]}}}
        },
        "Outputs": {
            "Url": {"Value": {"Ref": "Queue"}, "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-url"}}},
            "Joined": {"Value": {"Fn::Join": ["/", [{"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]},
                                                   {"Fn::Base64": "hi"}, {"Ref": "Size"}]]}},
            "Prod": {"Condition": "IsProd", "Value": {"Ref": "ProdTopic"}},
            "Name": {"Value": {"Fn::GetAtt": ["Topic", "TopicName"]}}
        }
    })
}

#[tokio::test]
async fn a_template_is_resolved_created_updated_and_deleted_as_cloudformation_does() {
    let acct = TestAccount::new();
    let cfg: SdkConfig = acct.sdk_config().await;
    let cf = Client::new(&cfg);
    cf.create_stack()
        .stack_name("plain")
        .template_body(plain().to_string())
        .send()
        .await
        .expect("CreateStack");
    let s = wait(&cf, "plain").await;
    assert_eq!(s.stack_status, Some(StackStatus::CreateComplete), "{s:?}");
    let out = outputs(&s);
    assert_eq!(
        out.get("Joined").map(String::as_str),
        Some("b/aGk=/3"),
        "{out:?}"
    );
    assert!(
        !out.contains_key("Prod"),
        "an output whose condition is false is absent"
    );
    // Generated names: <stack>-<LogicalId>-<12 random>.
    let name = &out["Name"];
    assert!(
        name.starts_with("plain-Topic-") && name.len() == "plain-Topic-".len() + 12,
        "{name}"
    );
    let sqs = aws_sdk_sqs::Client::new(&cfg);
    let retention = |url: String| {
        let sqs = sqs.clone();
        async move {
            sqs.get_queue_attributes()
                .queue_url(url)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::MessageRetentionPeriod)
                .send()
                .await
                .expect("GetQueueAttributes")
                .attributes
                .and_then(|a| {
                    a.get(&aws_sdk_sqs::types::QueueAttributeName::MessageRetentionPeriod)
                        .cloned()
                })
        }
    };
    assert_eq!(
        retention(out["Url"].clone()).await.as_deref(),
        Some("345600")
    );

    // Env=prod: the mapping changes the queue in place, the conditional topic and output appear.
    cf.update_stack()
        .stack_name("plain")
        .template_body(plain().to_string())
        .parameters(param("Env", "prod"))
        .send()
        .await
        .expect("UpdateStack");
    let s = wait(&cf, "plain").await;
    assert_eq!(s.stack_status, Some(StackStatus::UpdateComplete), "{s:?}");
    assert!(outputs(&s).contains_key("Prod"));
    assert_eq!(
        retention(out["Url"].clone()).await.as_deref(),
        Some("1209600")
    );

    // The same again changes nothing: CloudFormation says so.
    let again = cf
        .update_stack()
        .stack_name("plain")
        .use_previous_template(true)
        .parameters(
            Parameter::builder()
                .parameter_key("Env")
                .use_previous_value(true)
                .build(),
        )
        .send()
        .await
        .expect_err("a no-op update is refused");
    assert!(
        DisplayErrorContext(&again)
            .to_string()
            .contains("No updates are to be performed.")
    );

    // A failing update rolls back what it had changed.
    let mut broken = plain();
    broken["Resources"]["Topic"]["Properties"]["DisplayName"] = json!("changed");
    broken["Resources"]["Bucket"] = json!({"Type": "AWS::S3::Bucket", "DependsOn": "Topic"});
    cf.update_stack()
        .stack_name("plain")
        .template_body(broken.to_string())
        .parameters(param("Env", "prod"))
        .send()
        .await
        .expect("UpdateStack");
    let s = wait(&cf, "plain").await;
    assert_eq!(
        s.stack_status,
        Some(StackStatus::UpdateRollbackComplete),
        "{s:?}"
    );
    assert!(
        s.stack_status_reason()
            .is_some_and(|r| r.contains("AWS::S3::Bucket")),
        "{s:?}"
    );

    cf.delete_stack()
        .stack_name("plain")
        .send()
        .await
        .expect("DeleteStack");
    let gone = loop {
        match cf.describe_stacks().stack_name("plain").send().await {
            Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => break DisplayErrorContext(&e).to_string(),
        }
    };
    assert!(
        gone.contains("Stack with id plain does not exist"),
        "{gone}"
    );
}

#[tokio::test]
async fn a_parameter_change_alone_publishes_no_version_a_rebuild_does() {
    // SAM names the Version resource from the code and the *unresolved* environment, so
    // FailureMode=fail alone updates $LATEST and never reaches CodeDeploy (the runbook's bad
    // build needs a code change too).
    let acct = TestAccount::new();
    acct.control.scale_time(0.01).await;
    let first = acct.deploy(STACK, &Template::Repository, &[]).await;
    assert!(first.succeeded(), "{}", first.failure());
    let lambda = aws_sdk_lambda::Client::new(&acct.sdk_config().await);
    let guarded = first.physical("GuardedFunction");
    let versions = || async {
        lambda
            .list_versions_by_function()
            .function_name(&guarded)
            .send()
            .await
            .expect("ListVersionsByFunction")
            .versions
            .unwrap_or_default()
            .len()
    };
    let before = versions().await;
    let param_only = acct
        .deploy(STACK, &Template::Repository, &[("FailureMode", "fail")])
        .await;
    assert!(param_only.succeeded(), "{}", param_only.failure());
    assert_eq!(versions().await, before, "no version was published");
    let latest = lambda
        .get_function_configuration()
        .function_name(&guarded)
        .send()
        .await
        .expect("config");
    assert_eq!(
        latest
            .environment
            .and_then(|e| e.variables)
            .and_then(|v| v.get("FAILURE_MODE").cloned())
            .as_deref(),
        Some("fail"),
        "$LATEST carries the new environment"
    );
    let rebuilt = acct
        .deploy_build(
            STACK,
            &Template::Repository,
            &[("FailureMode", "none")],
            Some("rebuild"),
        )
        .await;
    assert!(rebuilt.succeeded(), "{}", rebuilt.failure());
    assert_eq!(
        versions().await,
        before + 1,
        "a rebuild publishes a version"
    );
    let alias = lambda
        .get_alias()
        .function_name(&guarded)
        .name("live")
        .send()
        .await
        .expect("GetAlias");
    assert_eq!(
        alias.function_version.as_deref(),
        Some("2"),
        "CodeDeploy shifted live to it"
    );
}
