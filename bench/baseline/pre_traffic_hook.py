"""Python 3 + boto3 baseline of the pre-traffic hook (DESIGN §2), written as a user would.

Same env vars as the Rust function. Resolves the target from the deployment's AppSpec
(GetDeployment, then GetApplicationRevision for its text; JSON, this baseline does not
parse YAML), refuses functions outside GUARDED_FUNCTIONS,
fails when the kill switch has set reserved concurrency 0, runs the smoke plan against the
numbered target version, reports to CodeDeploy exactly once, then publishes the verdict.
"""

import base64
import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

CONFIG = Config(connect_timeout=2, read_timeout=10, retries={"mode": "standard", "max_attempts": 3})
codedeploy = boto3.client("codedeploy", config=CONFIG)
lambda_ = boto3.client("lambda", config=CONFIG)
sns = boto3.client("sns", config=CONFIG)
cloudwatch = boto3.client("cloudwatch", config=CONFIG)

GUARDED = [f.strip() for f in os.environ["GUARDED_FUNCTIONS"].split(",") if f.strip()]
ALERT_TOPIC_ARN = os.environ["ALERT_TOPIC_ARN"]
PHASE = os.environ.get("HOOK_PHASE", "pre").lower()
PROBE_CONCURRENCY = int(os.environ.get("PROBE_CONCURRENCY", "4"))
ROLLBACK_ALARMS = [a.strip() for a in os.environ.get("ROLLBACK_ALARMS", "").split(",") if a.strip()]
REPORT_MARGIN_MS = int(os.environ.get("REPORT_MARGIN_MS", "3000"))
DEFAULT_PLAN = {"probes": [{"name": "smoke", "payload": {"smoke_test": True}}]}


def load_plan():
    if os.environ.get("SMOKE_PLAN"):
        return json.loads(os.environ["SMOKE_PLAN"])
    if os.environ.get("SMOKE_PLAN_FILE"):
        with open(os.environ["SMOKE_PLAN_FILE"]) as f:
            return json.load(f)
    return DEFAULT_PLAN


try:
    PLAN, PLAN_ERROR = load_plan(), None
except (ValueError, OSError) as e:  # report Failed on every invocation rather than hang
    PLAN, PLAN_ERROR = None, "smoke plan does not parse: %s" % e


def resolve_target(deployment_id):
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    revision = info.get("revision", {})
    content = (revision.get("appSpecContent") or revision.get("string") or {}).get("content")
    if not content and (revision.get("appSpecContent") or revision.get("string")):
        # GetDeployment names an AppSpecContent revision by its sha256 only: the text comes
        # from GetApplicationRevision, as the Rust hook does.
        registered = codedeploy.get_application_revision(
            applicationName=info["applicationName"], revision=revision)["revision"]
        content = (registered.get("appSpecContent") or registered.get("string") or {}).get("content")
    if content:
        appspec = json.loads(content)
        for resource in appspec.get("Resources", []):
            for spec in resource.values():
                props = spec.get("Properties", {})
                if props.get("Name") and props.get("TargetVersion"):
                    return props["Name"], str(props["TargetVersion"])
    if os.environ.get("TARGET_VERSION"):
        return os.environ.get("TARGET_FUNCTION", GUARDED[0]), os.environ["TARGET_VERSION"]
    raise ValueError("no target in the AppSpec and no TARGET_VERSION")


def pointer(doc, path):
    for part in path.lstrip("/").split("/") if path else []:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(doc, list):
            doc = doc[int(part)]
        else:
            doc = doc[part]
    return doc


def check(probe, resp, body, elapsed_ms, version):
    if resp.get("FunctionError"):
        return "FunctionError %s" % resp["FunctionError"]
    if resp.get("ExecutedVersion") != version:
        return "executed version %s, expected %s" % (resp.get("ExecutedVersion"), version)
    if probe.get("max_latency_ms") and elapsed_ms > probe["max_latency_ms"]:
        return "took %d ms > %d ms" % (elapsed_ms, probe["max_latency_ms"])
    try:
        doc = json.loads(body) if body else None
    except ValueError:
        doc = None
    for exp in probe.get("expect", []):
        try:
            value = pointer(doc, exp["pointer"])
        except (KeyError, IndexError, TypeError, ValueError):
            return "%s missing" % exp["pointer"]
        if "equals" in exp and value != exp["equals"]:
            return "%s is %r, expected %r" % (exp["pointer"], value, exp["equals"])
        if "matches" in exp and not re.search(exp["matches"], str(value)):
            return "%s does not match %s" % (exp["pointer"], exp["matches"])
    return None


def run_probe(probe, function, version):
    attempts = 1 + int(probe.get("retries", 0))
    for attempt in range(attempts):
        started = time.monotonic()
        try:
            resp = lambda_.invoke(
                FunctionName=function,
                Qualifier=version,
                Payload=json.dumps(probe.get("payload", {})).encode(),
                LogType="Tail",
            )
            body = resp["Payload"].read().decode()
            failure = check(probe, resp, body, (time.monotonic() - started) * 1000, version)
            log_tail = base64.b64decode(resp.get("LogResult", "")).decode(errors="replace")[-500:]
        except ClientError as e:
            failure, log_tail = "invoke failed: %s" % e.response["Error"]["Code"], ""
        if failure is None:
            break
        if attempt + 1 < attempts:
            time.sleep(0.2 * 2**attempt)
    return {"probe": probe.get("name", "probe"), "ok": failure is None, "failure": failure, "log_tail": log_tail}


def examine(deployment_id, context):
    if PLAN_ERROR:
        return None, [PLAN_ERROR], []
    function, version = resolve_target(deployment_id)
    if function not in GUARDED:
        return (function, version), ["%s is not in GUARDED_FUNCTIONS" % function], []
    concurrency = lambda_.get_function_concurrency(FunctionName=function).get("ReservedConcurrentExecutions")
    if concurrency == 0:
        return (function, version), ["trading is stopped (reserved concurrency 0)"], []
    if PHASE == "post" and ROLLBACK_ALARMS:
        alarms = cloudwatch.describe_alarms(AlarmNames=ROLLBACK_ALARMS, StateValue="ALARM")["MetricAlarms"]
        if alarms:
            return (function, version), ["alarm in ALARM: " + ", ".join(a["AlarmName"] for a in alarms)], []
    probes = PLAN.get("probes") or DEFAULT_PLAN["probes"]
    with ThreadPoolExecutor(max_workers=min(PROBE_CONCURRENCY, len(probes))) as pool:
        rows = list(pool.map(lambda p: run_probe(p, function, version), probes))
    reasons = ["%s: %s" % (r["probe"], r["failure"]) for r in rows if not r["ok"]]
    return (function, version), reasons, rows


def handler(event, context):
    deployment_id = event["DeploymentId"]
    execution_id = event["LifecycleEventHookExecutionId"]
    try:
        target, reasons, rows = examine(deployment_id, context)
    except codedeploy.exceptions.DeploymentDoesNotExistException:
        raise
    except Exception as e:  # every path reports
        target, reasons, rows = None, ["hook error: %s" % e], []
    status = "Failed" if reasons else "Succeeded"
    try:
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id, lifecycleEventHookExecutionId=execution_id, status=status
        )
    except ClientError as e:
        if e.response["Error"]["Code"] != "LifecycleEventAlreadyCompletedException":
            raise
    verdict = {
        "status": status,
        "phase": PHASE,
        "deployment_id": deployment_id,
        "function": target[0] if target else None,
        "version": target[1] if target else None,
        "reasons": reasons,
        "probes": rows,
    }
    subject = "%s %s-traffic %s v%s" % (
        "PASS" if status == "Succeeded" else "FAIL", PHASE, verdict["function"], verdict["version"]
    )
    try:
        sns.publish(
            TopicArn=ALERT_TOPIC_ARN,
            Subject=subject[:99],
            Message=json.dumps(verdict, indent=2)[:256 * 1024],
            MessageAttributes={
                "severity": {"DataType": "String", "StringValue": "info" if status == "Succeeded" else "critical"},
                "source": {"DataType": "String", "StringValue": "pre-traffic-hook"},
            },
        )
    except ClientError as e:
        print("publish failed: %s" % e)
    return verdict
