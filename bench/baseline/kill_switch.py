"""Python 3 + boto3 baseline of the kill switch (DESIGN §5), written as a user would.

Same env vars and the same tag record as the Rust function. `stop`: read the function (ARN,
tags) and its reserved concurrency, write the record tags first, set reserved concurrency 0,
stop in-flight deployments with auto-rollback, disable schedules, read back, alert.
`resume`: restore exactly (Put n / Delete), clear the record, re-enable schedules, alert,
report DLQ depth. `status`. Failures after the stop are reported, never undo it.
"""

import json
import os
import re
from datetime import datetime, timezone

import boto3
from botocore.config import Config

CONFIG = Config(connect_timeout=2, read_timeout=10, retries={"mode": "standard", "max_attempts": 3})
lambda_ = boto3.client("lambda", config=CONFIG)
sns = boto3.client("sns", config=CONFIG)
codedeploy = boto3.client("codedeploy", config=CONFIG)
scheduler = boto3.client("scheduler", config=CONFIG)
sqs = boto3.client("sqs", config=CONFIG)

GUARDED = [f.strip() for f in os.environ["GUARDED_FUNCTIONS"].split(",") if f.strip()]
ALERT_TOPIC_ARN = os.environ["ALERT_TOPIC_ARN"]
SCHEDULES = [s.strip() for s in os.environ.get("SCHEDULE_NAMES", "").split(",") if s.strip()]
APPLICATION, _, GROUP = (os.environ.get("DEPLOYMENT_GROUPS") or "").partition("/")
DLQ_URL = os.environ.get("DLQ_URL")

AT, BY, REASON, PREVIOUS = ("guardian:stopped-at", "guardian:stopped-by", "guardian:stop-reason",
                            "guardian:previous-concurrency")
ALLOWED_KEYS = {"action", "reason", "requested_by", "function"}


def tag_value(text):
    return re.sub(r"[^\w .:/=+\-@]", "_", text)[:256]


def concurrency(name):
    return lambda_.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")


def set_schedules(enabled, done):
    for entry in SCHEDULES:
        group, _, name = entry.rpartition("/")
        try:
            s = scheduler.get_schedule(Name=name, GroupName=group or "default")
            wanted = "ENABLED" if enabled else "DISABLED"
            if s["State"] != wanted:
                scheduler.update_schedule(
                    Name=name, GroupName=group or "default", State=wanted,
                    ScheduleExpression=s["ScheduleExpression"], FlexibleTimeWindow=s["FlexibleTimeWindow"],
                    Target=s["Target"])
            done.append("schedule %s %s" % (entry, wanted.lower()))
        except Exception as e:
            done.append("schedule %s FAILED: %s" % (entry, e))


def alert(subject, body, done):
    try:
        sns.publish(TopicArn=ALERT_TOPIC_ARN, Subject=subject[:99], Message=json.dumps(body, indent=2),
                    MessageAttributes={"severity": {"DataType": "String", "StringValue": "critical"},
                                       "source": {"DataType": "String", "StringValue": "kill-switch"}})
        done.append("alerted")
    except Exception as e:
        done.append("alert_failed: %s" % e)


def stop(name, reason, by):
    fn = lambda_.get_function(FunctionName=name)
    arn, tags = fn["Configuration"]["FunctionArn"], fn.get("Tags", {})
    done = []
    if AT not in tags:  # a second stop keeps the first record
        current = concurrency(name)
        tags = {AT: datetime.now(timezone.utc).isoformat(timespec="seconds"), BY: tag_value(by),
                REASON: tag_value(reason), PREVIOUS: "none" if current is None else str(current)}
        lambda_.tag_resource(Resource=arn, Tags=tags)
    lambda_.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    if APPLICATION and GROUP:
        try:
            ids = codedeploy.list_deployments(applicationName=APPLICATION, deploymentGroupName=GROUP,
                                              includeOnlyStatuses=["Created", "Queued", "InProgress", "Ready"])
            for d in ids.get("deployments", []):
                codedeploy.stop_deployment(deploymentId=d, autoRollbackEnabled=True)
                done.append("deployment %s stopped with rollback" % d)
        except Exception as e:
            done.append("deployments FAILED: %s" % e)
    set_schedules(False, done)
    # Read back: the record (a concurrent resume may have cleared it) and the concurrency.
    tags = lambda_.get_function(FunctionName=name).get("Tags", {}) or tags
    now = concurrency(name)
    state = {"state": "stopped" if now == 0 and AT in tags else "running", "function": name, "since": tags.get(AT),
             "by": tags.get(BY), "reason": tags.get(REASON), "reserved_concurrency": now}
    alert("STOPPED trading: %s" % name, state, done)
    return state | {"done": done}


def resume(name, reason, by):
    fn = lambda_.get_function(FunctionName=name)
    arn, tags = fn["Configuration"]["FunctionArn"], fn.get("Tags", {})
    if AT not in tags:
        return {"state": "running", "function": name, "reserved_concurrency": concurrency(name),
                "done": ["nothing to do: not stopped"]}
    done = []
    previous = tags.get(PREVIOUS, "none")
    if previous == "none":
        lambda_.delete_function_concurrency(FunctionName=name)
    else:
        lambda_.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=int(previous))
    lambda_.untag_resource(Resource=arn, TagKeys=[AT, BY, REASON, PREVIOUS])
    set_schedules(True, done)
    piled_up = None
    if DLQ_URL:
        piled_up = int(sqs.get_queue_attributes(QueueUrl=DLQ_URL, AttributeNames=["ApproximateNumberOfMessages"])
                       ["Attributes"]["ApproximateNumberOfMessages"])
    state = {"state": "running", "function": name, "by": by, "reason": reason,
             "reserved_concurrency": None if previous == "none" else int(previous), "dlq_messages": piled_up}
    alert("RESUMED trading: %s" % name, state, done)
    return state | {"done": done}


def status(name):
    tags = lambda_.get_function(FunctionName=name).get("Tags", {})
    return {"state": "stopped" if AT in tags else "running", "function": name, "since": tags.get(AT),
            "by": tags.get(BY), "reason": tags.get(REASON), "reserved_concurrency": concurrency(name)}


def handler(event, context):
    if event.get("detail-type") == "CloudWatch Alarm State Change":  # auto-halt
        event = {"action": "stop", "requested_by": "alarm",
                 "reason": "auto-halt: alarm %s entered ALARM" % event["detail"]["alarmName"]}
    unknown = set(event) - ALLOWED_KEYS
    if unknown:
        raise ValueError("unknown fields %s: allowed are %s" % (sorted(unknown), sorted(ALLOWED_KEYS)))
    name = event.get("function") or (GUARDED[0] if len(GUARDED) == 1 else None)
    if name not in GUARDED:
        raise ValueError("function %r is not in GUARDED_FUNCTIONS" % name)
    action = event.get("action")
    if action == "status":
        return status(name)
    if action not in ("stop", "resume"):
        raise ValueError("unknown action %r: use stop, resume or status" % action)
    if not event.get("reason"):
        raise ValueError("reason is required for %s" % action)
    by = event.get("requested_by", "unknown")
    return stop(name, event["reason"], by) if action == "stop" else resume(name, event["reason"], by)
