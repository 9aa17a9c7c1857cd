"""Python 3 + boto3 baseline of the DLQ inspector (DESIGN §4), written as a user would.

Same env vars as the Rust function. `inspect` (default) receives up to max_messages in
batches of 10, groups them by Lambda's ErrorCode/ErrorMessage attributes, keeps a few
redacted samples, makes every message visible again with ChangeMessageVisibilityBatch and
publishes the report when the queue is not empty. `redrive` refuses a function the kill
switch stopped (GetFunctionConcurrency), then re-sends (async Invoke, or
SendMessageBatch to SOURCE_QUEUE_URL) and deletes only what was re-sent. This baseline
leaves out `purge`, rate limiting and body filters; the benchmark exercises `inspect`.
"""

import json
import os
import time
from collections import Counter

import boto3
from botocore.config import Config

CONFIG = Config(connect_timeout=2, read_timeout=10, retries={"mode": "standard", "max_attempts": 3})
sqs = boto3.client("sqs", config=CONFIG)
sns = boto3.client("sns", config=CONFIG)
lambda_ = boto3.client("lambda", config=CONFIG)

DLQ_URL = os.environ["DLQ_URL"]
GUARDED = [f.strip() for f in os.environ["GUARDED_FUNCTIONS"].split(",") if f.strip()]
REDRIVE_FUNCTION = os.environ.get("REDRIVE_FUNCTION") or GUARDED[0]
SOURCE_QUEUE_URL = os.environ.get("SOURCE_QUEUE_URL")
ALERT_TOPIC_ARN = os.environ["ALERT_TOPIC_ARN"]
SENSITIVE = {k.strip().lower() for k in os.environ.get(
    "SENSITIVE_KEYS", "password,secret,token,api_key,apikey,authorization,account_number,iban").split(",")}
MAX_LIMIT = int(os.environ.get("MAX_MESSAGES_LIMIT", "10000"))
SAMPLES = int(os.environ.get("SAMPLES", "3"))
MARGIN_MS = int(os.environ.get("DEADLINE_MARGIN_MS", "2000"))


def redact(value):
    if isinstance(value, dict):
        return {k: "***" if k.lower() in SENSITIVE else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def attr(message, name):
    return message.get("MessageAttributes", {}).get(name, {}).get("StringValue")


def receive(max_messages, context):
    """Yields batches until max_messages, an empty receive, or the deadline margin."""
    visibility = context.get_remaining_time_in_millis() // 1000 + 10
    seen = 0
    while seen < max_messages and context.get_remaining_time_in_millis() > MARGIN_MS:
        batch = sqs.receive_message(
            QueueUrl=DLQ_URL, MaxNumberOfMessages=min(10, max_messages - seen), VisibilityTimeout=visibility,
            WaitTimeSeconds=1, AttributeNames=["All"], MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            return
        seen += len(batch)
        yield batch


def release(handles):
    for i in range(0, len(handles), 10):
        sqs.change_message_visibility_batch(QueueUrl=DLQ_URL, Entries=[
            {"Id": str(n), "ReceiptHandle": h, "VisibilityTimeout": 0} for n, h in enumerate(handles[i:i + 10])])


def queue_depth():
    return int(sqs.get_queue_attributes(QueueUrl=DLQ_URL, AttributeNames=["ApproximateNumberOfMessages"])
               ["Attributes"]["ApproximateNumberOfMessages"])


def publish_report(depth, report):
    if depth > 0:
        sns.publish(TopicArn=ALERT_TOPIC_ARN, Subject="DLQ %s: %d messages" % (DLQ_URL.rsplit("/", 1)[-1], depth),
                    Message=json.dumps(report, indent=2)[:256 * 1024],
                    MessageAttributes={"severity": {"DataType": "String", "StringValue": "warning"},
                                       "source": {"DataType": "String", "StringValue": "dlq-inspector"}})


def inspect(request, context):
    depth = queue_depth()
    groups, receive_counts, samples, handles = Counter(), Counter(), [], []
    oldest = None
    for batch in receive(min(int(request.get("max_messages", MAX_LIMIT)), MAX_LIMIT), context):
        for m in batch:
            handles.append(m["ReceiptHandle"])
            groups[(attr(m, "ErrorCode") or "-", attr(m, "ErrorMessage") or "-")] += 1
            receive_counts[m["Attributes"].get("ApproximateReceiveCount", "?")] += 1
            sent = int(m["Attributes"]["SentTimestamp"])
            oldest = sent if oldest is None else min(oldest, sent)
            if len(samples) < SAMPLES:
                try:
                    body = json.dumps(redact(json.loads(m["Body"])))
                except ValueError:
                    body = m["Body"]
                samples.append({"message_id": m["MessageId"], "error_code": attr(m, "ErrorCode"), "body": body[:500]})
    release(handles)
    report = {
        "action": "inspect", "depth": depth, "inspected": len(handles),
        "oldest_age_seconds": int(time.time() - oldest / 1000) if oldest else None,
        "receive_counts": dict(receive_counts),
        "groups": [{"error_code": c, "error_message": msg[:200], "count": n} for (c, msg), n in groups.most_common()],
        "samples": samples,
    }
    publish_report(depth, report)
    return report


def redrive(request, context):
    to_queue = request.get("to") == "queue"
    dry_run = bool(request.get("dry_run"))
    if not to_queue and not dry_run:  # a stopped function would only refill the DLQ
        concurrency = lambda_.get_function_concurrency(FunctionName=REDRIVE_FUNCTION)
        if concurrency.get("ReservedConcurrentExecutions") == 0:
            raise RuntimeError("%s is stopped (reserved concurrency 0): redrive refused" % REDRIVE_FUNCTION)
    depth = queue_depth()
    max_age = request.get("max_age_seconds")
    moved, skipped, failed, keep = 0, 0, 0, []
    for batch in receive(min(int(request.get("max_messages", MAX_LIMIT)), MAX_LIMIT), context):
        chosen = []
        for m in batch:
            stale = max_age is not None and time.time() - int(m["Attributes"]["SentTimestamp"]) / 1000 > max_age
            wrong = request.get("error_code") and attr(m, "ErrorCode") != request["error_code"]
            if stale or wrong or dry_run:
                skipped += 1
                keep.append(m["ReceiptHandle"])
            else:
                chosen.append(m)
        sent = []
        if to_queue and chosen:
            result = sqs.send_message_batch(QueueUrl=SOURCE_QUEUE_URL, Entries=[
                {"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(chosen)])
            ok = {int(s["Id"]) for s in result.get("Successful", [])}
            sent = [m for i, m in enumerate(chosen) if i in ok]
        else:
            for m in chosen:
                try:
                    lambda_.invoke(FunctionName=REDRIVE_FUNCTION, InvocationType="Event", Payload=m["Body"].encode())
                    sent.append(m)
                except Exception as e:
                    print("re-send failed: %s" % e)
        failed += len(chosen) - len(sent)
        keep.extend(m["ReceiptHandle"] for m in chosen if m not in sent)
        if sent:
            sqs.delete_message_batch(QueueUrl=DLQ_URL, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(sent)])
        moved += len(sent)
    release(keep)
    report = {"action": "redrive", "depth": depth, "redriven": moved, "skipped": skipped, "failed": failed,
              "dry_run": dry_run}
    publish_report(depth, report)
    return report


def handler(event, context):
    if "source" in event or "detail-type" in event:
        event = {"action": "inspect"}
    action = event.get("action", "inspect")
    if action == "inspect":
        return inspect(event, context)
    if action == "redrive":
        return redrive(event, context)
    raise ValueError("unknown action %r: use inspect or redrive" % action)
