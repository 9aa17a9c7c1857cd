"""Python 3 + boto3 baseline of the alarm fan-out (DESIGN §3), written as a user would.

Same env vars as the Rust function. Normalises SNS-wrapped classic alarms, the direct Lambda
alarm action, EventBridge alarm state changes and CodeDeploy state changes (anything else is
an `unparsed` alert), routes by alarm-name glob to a topic per severity, renders per protocol
with MessageStructure=json, publishes with PublishBatch (<= 10 per call, every entry
checked, failed entries retried), and asks the kill switch to stop on HALT_ON_ALARMS.
"""

import fnmatch
import json
import os
import time
import uuid

import boto3
from botocore.config import Config

CONFIG = Config(connect_timeout=2, read_timeout=10, retries={"mode": "standard", "max_attempts": 3})
sns = boto3.client("sns", config=CONFIG)
lambda_ = boto3.client("lambda", config=CONFIG)

TOPICS = {"critical": os.environ["CRITICAL_TOPIC_ARN"]}
TOPICS["warning"] = os.environ.get("WARNING_TOPIC_ARN") or TOPICS["critical"]
TOPICS["info"] = os.environ.get("INFO_TOPIC_ARN") or TOPICS["warning"]
CHAT_TOPIC = os.environ.get("CHAT_TOPIC_ARN")
RULES = json.loads(os.environ.get("SEVERITY_RULES") or "[]")
DEFAULT_SEVERITY = os.environ.get("DEFAULT_SEVERITY", "warning")
FORWARD_OK = os.environ.get("FORWARD_OK", "after_alarm")
HALT_ON = [p.strip() for p in os.environ.get("HALT_ON_ALARMS", "").split(",") if p.strip()]
KILL_SWITCH = os.environ.get("KILL_SWITCH_FUNCTION")
REGION = os.environ.get("CONSOLE_REGION") or os.environ.get("AWS_REGION", "us-east-1")
MAX_BODY = 256 * 1024


def alert(name, state, previous, reason, source, raw, description=None):
    return {"name": name, "state": state, "previous": previous, "reason": reason,
            "source": source, "description": description, "raw": raw}


def from_classic(msg, raw):
    return alert(msg["AlarmName"], msg.get("NewStateValue"), msg.get("OldStateValue"),
                 msg.get("NewStateReason", ""), "cloudwatch", raw, msg.get("AlarmDescription"))


def normalise(event):
    if isinstance(event, dict) and isinstance(event.get("Records"), list):
        alerts = []
        for record in event["Records"]:
            message = record.get("Sns", {}).get("Message", "")
            try:
                alerts.append(from_classic(json.loads(message), message))
            except (ValueError, KeyError, TypeError):
                alerts.append(alert("unparsed", "UNKNOWN", None, "", "unparsed", message))
        return alerts
    raw = json.dumps(event)
    try:
        if "alarmData" in event:
            data = event["alarmData"]
            return [alert(data["alarmName"], data["state"]["value"], data.get("previousState", {}).get("value"),
                          data["state"].get("reason", ""), "cloudwatch", raw,
                          data.get("configuration", {}).get("description"))]
        if event.get("detail-type") == "CloudWatch Alarm State Change":
            d = event["detail"]
            return [alert(d["alarmName"], d["state"]["value"], d.get("previousState", {}).get("value"),
                          d["state"].get("reason", ""), "cloudwatch", raw)]
        if event.get("detail-type") == "CodeDeploy Deployment State-change Notification":
            d = event["detail"]
            state = "ALARM" if d.get("state") in ("FAILURE", "STOP") else "OK"
            return [alert("deployment %s %s" % (d.get("deploymentId"), d.get("state")), state, None,
                          "CodeDeploy %s/%s: %s" % (d.get("application"), d.get("deploymentGroup"), d.get("state")),
                          "codedeploy", raw)]
    except (KeyError, TypeError):
        pass
    return [alert("unparsed", "UNKNOWN", None, "", "unparsed", raw)]


def severity(a):
    if a["source"] == "unparsed":
        return "warning"
    for rule in RULES:
        if fnmatch.fnmatchcase(a["name"], rule["pattern"]):
            return rule["severity"]
    return DEFAULT_SEVERITY


def forward(a):
    if a["state"] != "OK":
        return True
    return FORWARD_OK == "always" or (FORWARD_OK == "after_alarm" and a["previous"] == "ALARM")


def safe_subject(text):
    clean = "".join(c if 32 <= ord(c) < 127 else " " for c in text).strip() or "alert"
    return clean[:99]


def render(a, sev):
    link = "https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#alarmsV2:alarm/%s" % (REGION, REGION, a["name"])
    normalised = json.dumps({k: v for k, v in a.items() if k != "raw"} | {"severity": sev})
    text = "%s is %s (was %s)\n\n%s\n\n%s\n%s" % (a["name"], a["state"], a["previous"], a["reason"],
                                                   a["description"] or "", link)
    if a["source"] == "unparsed":
        text += "\n\nRaw payload:\n" + a["raw"]
    if len(text.encode()) > MAX_BODY - 4096:
        text = text.encode()[: MAX_BODY - 4096].decode(errors="ignore") + "\n[truncated]"
    sms = ("%s %s: %s" % (sev.upper(), a["state"], a["name"]))[:140]
    return json.dumps({"default": text, "email": text, "sms": sms, "sqs": normalised,
                       "lambda": normalised, "https": normalised})


def attributes(a, sev):
    return {k: {"DataType": "String", "StringValue": str(v or "-")[:256]}
            for k, v in (("severity", sev), ("alarm", a["name"]), ("state", a["state"]), ("source", a["source"]))}


def publish_all(by_topic):
    failed = []
    for topic, entries in by_topic.items():
        for i in range(0, len(entries), 10):
            batch = entries[i:i + 10]
            for attempt in range(3):
                result = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=batch)
                failed_ids = {f["Id"] for f in result.get("Failed", []) if not f.get("SenderFault")}
                refused = [f for f in result.get("Failed", []) if f.get("SenderFault")]
                failed.extend(refused)
                batch = [e for e in batch if e["Id"] in failed_ids]
                if not batch:
                    break
                time.sleep(0.1 * 2**attempt)
            failed.extend(batch)
    return failed


def handler(event, context):
    alerts = normalise(event)
    halts = 0
    if KILL_SWITCH:
        for a in alerts:
            if a["state"] == "ALARM" and any(fnmatch.fnmatchcase(a["name"], p) for p in HALT_ON):
                lambda_.invoke(FunctionName=KILL_SWITCH, InvocationType="Event", Payload=json.dumps({
                    "action": "stop", "reason": "auto-halt: alarm %s entered ALARM" % a["name"],
                    "requested_by": "alarm-fanout"}).encode())
                halts += 1
    by_topic = {}
    forwarded = [a for a in alerts if forward(a)]
    for a in forwarded:
        sev = severity(a)
        entry = {"Id": uuid.uuid4().hex, "Subject": safe_subject("%s %s: %s" % (sev.upper(), a["state"], a["name"])),
                 "Message": render(a, sev), "MessageStructure": "json", "MessageAttributes": attributes(a, sev)}
        by_topic.setdefault(TOPICS[sev], []).append(entry)
        if CHAT_TOPIC:
            chat = {"version": "1.0", "source": "custom", "content": {
                "textType": "client-markdown", "title": entry["Subject"], "description": a["reason"][:1000]}}
            by_topic.setdefault(CHAT_TOPIC, []).append({"Id": uuid.uuid4().hex, "Message": json.dumps(chat)})
    failed = publish_all(by_topic)
    if failed:
        raise RuntimeError("%d alert publications failed" % len(failed))
    return {"alerts": len(alerts), "forwarded": len(forwarded), "held_back": len(alerts) - len(forwarded),
            "halts_requested": halts}
