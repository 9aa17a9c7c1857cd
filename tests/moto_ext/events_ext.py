"""Events delivered as AWS delivers them (README.md lists each behaviour and its source):

1. CloudWatch alarm evaluation (a background thread, on the scaled clock) and what a state change
   does: state and history, alarm actions (SNS topic, Lambda function) run as CloudWatch with the
   resource policies AWS checks, and the EventBridge event "CloudWatch Alarm State Change".
2. EventBridge delivery to rule targets (Lambda, SQS, SNS) with resource-policy checks, retries
   and the target's dead-letter queue; `put_service_event` for events AWS services emit.
3. EventBridge Scheduler firings (on request, or on the scaled clock) as the schedule's role.
4. SNS deliveries to Lambda subscriptions, with the subscription's redrive policy.
"""
import json
import math
import queue
import re
import sys
import threading
import time
import traceback
import uuid
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from moto.awslambda.utils import get_backend as lambda_backend
from moto.cloudwatch.exceptions import InvalidFormat, ResourceNotFound, ValidationError
from moto.cloudwatch.models import CloudWatchBackend, MetricAggregatedDatum, MetricDatum, cloudwatch_backends
from moto.core.utils import utcnow
from moto.events.models import Rule, events_backends
from moto.events.utils import EventTemplateParser
from moto.iam.models import iam_backends
from moto.kms.models import kms_backends
from moto.scheduler.exceptions import ScheduleGroupNotFound, ScheduleNotFound
from moto.scheduler.models import scheduler_backends
from moto.sns.models import Subscription, sns_backends
from moto.sqs.models import SQSBackend, sqs_backends

import cloudwatch_ext
import iam_authz
import lambda_exec
import sns_ext  # noqa: F401  (its Subscription.publish patch must be in place before ours wraps it)
from common import CLOCK, LOCK, ExtError, route
from werkzeug.wrappers import Response

EB_DELIVERIES = defaultdict(list)   # account -> EventBridge rule-target deliveries
FIRINGS = defaultdict(list)         # account -> Scheduler firings
SNS_LAMBDA = defaultdict(list)      # account -> SNS deliveries to Lambda subscriptions
CLOCK_RUNNING = {}                  # account -> {"real", "virt", "scale"}: anchors of the schedule clock
SECURE = {"aws:SecureTransport": "true"}  # AWS services call each other over TLS

# ------------------------------------------------------------------------------------------
# Small helpers: time formats, records, resource policies, the three deliveries AWS services make
# ------------------------------------------------------------------------------------------


def _utc(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc)


def _epoch(value):
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00").replace("+0000", "+00:00")).timestamp()
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()


def _cw_time(epoch):
    """CloudWatch's format in alarm messages: 2023-08-04T12:36:15.490+0000."""
    d = _utc(epoch)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}+0000"


def _z_time(epoch):
    """EventBridge / Scheduler format: 2019-10-02T17:04:40Z."""
    return _utc(epoch).strftime("%Y-%m-%dT%H:%M:%SZ")


def _record(table, account, **rec):
    with LOCK:
        table[account].append(rec)


def _arn_parts(arn):
    """(service, region, account, resource) of an ARN."""
    parts = arn.split(":", 5)
    return parts[2], parts[3], parts[4], parts[5]


def _allows(policy, service, action, resource, context):
    """A resource policy (dict or JSON text; None = no policy) allows the service principal."""
    ctx = dict(SECURE, **context)
    return bool(policy) and iam_authz.resource_policy_allows(policy, {"Service": service}, action, resource, ctx)


def _invoke_as_service(service, arn, payload, context):
    """An asynchronous invoke of a function (ARN, qualified or not) as an AWS service, after the
    function-policy check Lambda makes. None on success, else (EventBridge-style code, message)."""
    _, region, account, resource = _arn_parts(arn)
    name, _, qualifier = resource.split(":", 1)[1].partition(":")
    backend = lambda_backend(account, region)
    try:
        backend.get_function(name, qualifier or None)
    except Exception:
        return "NO_RESOURCE", f"Function not found: {arn}"
    try:
        policy = json.loads(json.loads(backend.get_policy(name, qualifier or None))["Policy"])
    except Exception:
        policy = None  # no statement at all
    if not _allows(policy, service, "lambda:InvokeFunction", arn, context):
        return "NO_PERMISSIONS", (f"{service} is not authorized to perform: lambda:InvokeFunction "
                                  f"on resource: {arn} because no resource-based policy allows it")
    try:
        lambda_exec.invoke_async(account, region, name, qualifier or None, payload.encode())
    except ExtError as e:
        return ("NO_RESOURCE" if e.status == 404 else "THROTTLING" if e.status == 429 else "INTERNAL_ERROR"), e.message
    return None


def _sqs_attrs(attrs):
    return {k: {"DataType": "String", "StringValue": str(v)} for k, v in attrs.items() if v is not None}


def _send_to_queue(queue_arn, body, attrs, service=None, source_arn=None, role=None):
    """SendMessage to a dead-letter queue as an AWS service (the queue policy decides) or as a
    role (its identity policies decide). None on success, else the reason it was refused."""
    _, region, account, name = _arn_parts(queue_arn)
    backend = sqs_backends[account][region]
    q = backend.queues.get(name)
    if q is None:
        return f"queue {queue_arn} does not exist"
    if service and not _allows(q.policy, service, "sqs:SendMessage", queue_arn,
                               {"aws:SourceArn": source_arn, "aws:SourceAccount": _arn_parts(source_arn)[2]}):
        return f"{service} is not allowed to send to {queue_arn} by its queue policy"
    if role:
        decision = iam_authz.authorize(account, role, "sqs:SendMessage", queue_arn, source="scheduler:dead-letter",
                                       region=region)
        if not decision.allowed:
            return decision.message or f"{role} is not allowed sqs:SendMessage on {queue_arn}"
    backend.send_message(name, body, message_attributes=_sqs_attrs(attrs))
    return None


def _key_allows(service, key_id, topic_arn, context):
    """SNS encrypts with the topic's key as the publisher: the key policy must allow the service
    kms:GenerateDataKey* and kms:Decrypt. The AWS managed key (alias/aws/sns) never allows it."""
    _, region, account, _ = _arn_parts(topic_arn)
    if key_id.endswith("alias/aws/sns"):
        return False
    if key_id.startswith("arn:"):
        _, region, account, _ = _arn_parts(key_id)
    try:
        key = kms_backends[account][region].describe_key(key_id)
    except Exception:
        return False
    return key.key_state == "Enabled" and all(
        _allows(key.policy, service, action, key.arn, context) for action in ("kms:GenerateDataKey", "kms:Decrypt"))


def _publish_as_service(service, topic_arn, message, subject, source_arn, denied_key_message=None):
    """Publish to a topic as an AWS service: the topic policy, then the topic's KMS key policy.
    Returns (message id, None) or (None, the error AWS reports)."""
    _, region, account, _ = _arn_parts(topic_arn)
    backend = sns_backends[account][region]
    topic = backend.topics.get(topic_arn)
    if topic is None:
        return None, f"Topic does not exist: {topic_arn}"
    source_account = _arn_parts(source_arn)[2]
    ctx = {"aws:SourceArn": source_arn, "aws:SourceAccount": source_account, "aws:SourceOwner": source_account}
    if not _allows(topic.policy, service, "sns:Publish", topic_arn, ctx):
        return None, f"Resource: {source_arn} is not authorized to perform: SNS:Publish on resource: {topic_arn}"
    if topic.kms_master_key_id and not _key_allows(service, topic.kms_master_key_id, topic_arn, ctx):
        return None, denied_key_message or f"{service} is not authorized to use the topic's KMS key"
    try:
        return backend.publish(message, arn=topic_arn, subject=subject), None
    except Exception as e:  # an SNS validation error (e.g. Subject) is a failed action too
        return None, str(getattr(e, "message", e))


def _with_retries(account, attempt, retriable, max_retries, max_age, give_up):
    """Deliver as AWS services do: `attempt(n)` (None = delivered, else (code, message, ...)) now;
    retriable errors again on a background thread with exponential backoff (1, 2, 4 ... 60 s,
    scaled) until MaximumRetryAttempts or MaximumEventAgeInSeconds; then `give_up(error, which
    limit or None)`. Other errors give up at once."""
    first, err = time.time(), attempt(1)
    if err is None:
        return
    if err[0] not in retriable:
        return give_up(err, None)

    def retry(n, err):
        while True:
            delay = min(60, 2 ** (n - 1))
            if n > max_retries:
                return give_up(err, "MaximumRetryAttempts")
            if time.time() - first + CLOCK.scaled(account, delay) > CLOCK.scaled(account, max_age):
                return give_up(err, "MaximumEventAgeInSeconds")
            CLOCK.sleep(account, delay)
            n, err = n + 1, attempt(n + 1)
            if err is None:
                return None
            if err[0] not in retriable:
                return give_up(err, None)
    threading.Thread(target=retry, args=(1, err), daemon=True).start()


# ------------------------------------------------------------------------------------------
# 1. CloudWatch alarms: evaluation, state changes, actions, the EventBridge event
# ------------------------------------------------------------------------------------------

OPERATORS = {"GreaterThanThreshold": (lambda v, t: v > t, "greater than"),
             "GreaterThanOrEqualToThreshold": (lambda v, t: v >= t, "greater than or equal to"),
             "LessThanThreshold": (lambda v, t: v < t, "less than"),
             "LessThanOrEqualToThreshold": (lambda v, t: v <= t, "less than or equal to")}
STAT_NAMES = {"Sum": "SUM", "Average": "AVERAGE", "Minimum": "MINIMUM", "Maximum": "MAXIMUM",
              "SampleCount": "SAMPLE_COUNT"}
REGION_NAMES = {"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)",
                "us-west-1": "US West (N. California)", "us-west-2": "US West (Oregon)",
                "eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)", "eu-central-1": "EU (Frankfurt)",
                "ap-southeast-1": "Asia Pacific (Singapore)", "ap-southeast-2": "Asia Pacific (Sydney)",
                "ap-northeast-1": "Asia Pacific (Tokyo)"}
SIDE_EFFECTS = queue.Queue()  # alarm actions and events run in order, off the caller's thread


def _alarm_metric(alarm):
    """(namespace, name, dimensions, statistic, period) an alarm evaluates, or None when it cannot
    be evaluated here (metric math expressions, anomaly detection)."""
    if alarm.metric_data_queries:
        queries = [q for q in alarm.metric_data_queries if str(q.return_data).lower() != "false"]
        if len(queries) != 1 or queries[0].metric_stat is None or any(q.expression for q in alarm.metric_data_queries):
            return None
        ms = queries[0].metric_stat
        dims = frozenset((d.name, d.value) for d in ms.metric.dimensions)
        return ms.metric.namespace, ms.metric.metric_name, dims, ms.stat, int(ms.period or queries[0].period or 60)
    if alarm.comparison_operator not in OPERATORS:
        return None
    dims = frozenset((d.name, d.value) for d in alarm.dimensions)
    return alarm.namespace, alarm.metric_name, dims, alarm.statistic or alarm.extended_statistic, int(alarm.period)


def _statistic(data, stat):
    """Sum, Average, Minimum, Maximum, SampleCount, or pNN (raw values only) of one period."""
    values = [d.value for d in data if isinstance(d, MetricDatum)]
    aggs = [d for d in data if isinstance(d, MetricAggregatedDatum)]
    count = len(values) + sum(a.sample_count for a in aggs)
    total = sum(values) + sum(a.sum for a in aggs)
    if stat and stat.startswith("p"):
        if not values:
            return None
        ordered = sorted(values)
        return ordered[max(0, math.ceil(float(stat[1:]) / 100 * len(ordered)) - 1)]
    return {"Sum": total, "SampleCount": count, "Average": total / count if count else None,
            "Minimum": min(values + [a.min for a in aggs]), "Maximum": max(values + [a.max for a in aggs])}.get(stat)


def _index(backend):
    """Datapoints by (namespace, name) with epoch timestamps and dimension sets. moto only appends
    to metric_data, so the index is extended with what is new (rebuilt if the list shrank)."""
    data = backend.metric_data
    count, index = getattr(backend, "_ext_index", (0, None))
    if index is None or len(data) < count:
        count, index = 0, defaultdict(list)
    for d in data[count:]:
        index[(d.namespace, d.name)].append((_epoch(d.timestamp), frozenset((x.name, x.value) for x in d.dimensions),
                                             d.unit, d))
    backend._ext_index = (count + len(data[count:]), index)
    return index


def _periods(alarm, metric, index, now, scale):
    """The alarm's last EvaluationPeriods periods, newest first: (start epoch, value or None).
    Sliding periods of Period scaled seconds ending now (AWS aligns them to the clock)."""
    ns, name, dims, stat, period = metric
    span, n = period * scale, int(alarm.evaluation_periods)
    buckets = [[] for _ in range(n)]
    for ts, d_dims, unit, datum in index.get((ns, name), ()):
        age = now - ts
        if d_dims == dims and -span < age < n * span and (not alarm.unit or unit == alarm.unit):
            buckets[max(0, int(age // span))].append(datum)
    return [(now - (i + 1) * span, _statistic(b, stat) if b else None) for i, b in enumerate(buckets)]


def _metric_state(alarm, index, now, scale):
    """(state, reason, reason data) from the datapoints as CloudWatch evaluates a metric alarm
    (DatapointsToAlarm out of EvaluationPeriods; TreatMissingData), or None to keep the state."""
    metric = _alarm_metric(alarm)
    if metric is None:
        return None
    periods = _periods(alarm, metric, index, now, scale)
    n, m = len(periods), int(alarm.datapoints_to_alarm or len(periods))
    test, words = OPERATORS.get(alarm.comparison_operator, OPERATORS["GreaterThanThreshold"])
    threshold, tmd = float(alarm.threshold), alarm.treat_missing_data or "missing"
    present = [(ts, v) for ts, v in periods if v is not None]
    breaching = [(ts, v) for ts, v in present if test(v, threshold)]
    missing = n - len(present)
    if not present and tmd in ("missing", "ignore"):
        if tmd == "ignore":
            return None
        return "INSUFFICIENT_DATA", f"Insufficient Data: {n} datapoint{'s were' if n > 1 else ' was'} unknown.", \
            _reason_data(metric, periods, threshold, now, scale)
    count = len(breaching) + (missing if tmd == "breaching" else 0)
    state = "ALARM" if count >= m else "OK"
    shown = breaching if state == "ALARM" else [p for p in present if p not in breaching]
    if not shown:
        treated = "Breaching" if tmd == "breaching" else "NonBreaching"
        reason = (f"Threshold Crossed: no datapoints were received for {n} period{'s' if n > 1 else ''} and {missing} "
                  f"missing datapoint{'s were' if missing > 1 else ' was'} treated as [{treated}].")
    else:
        points = ", ".join(f"{float(v)} ({_utc(ts).strftime('%d/%m/%y %H:%M:%S')})" for ts, v in shown)
        reason = (f"Threshold Crossed: {len(shown)} out of the last {n} datapoints [{points}] "
                  f"{'was' if len(shown) == 1 else 'were'} {'' if state == 'ALARM' else 'not '}{words} the threshold "
                  f"({threshold}) (minimum {m} datapoint{'s' if m > 1 else ''} for "
                  f"{'OK -> ALARM' if state == 'ALARM' else 'ALARM -> OK'} transition).")
    return state, reason, _reason_data(metric, periods, threshold, now, scale)


def _reason_data(metric, periods, threshold, now, scale):
    ns, name, dims, stat, period = metric
    return json.dumps({"version": "1.0", "queryDate": _cw_time(now), "startDate": _cw_time(periods[-1][0]),
                       "statistic": stat, "period": period,
                       "recentDatapoints": [v for _, v in reversed(periods) if v is not None], "threshold": threshold,
                       "evaluatedDatapoints": [dict({"timestamp": _cw_time(ts)}, **({} if v is None else {"value": v}))
                                               for ts, v in periods]})


# Composite alarms: AlarmRule over ALARM(x) / OK(x) / INSUFFICIENT_DATA(x), AND, OR, NOT, (), TRUE, FALSE.
TOKEN = re.compile(r'\s*(?:(ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*(?:"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([^()]*?))\s*\)'
                   r'|(AND|OR|NOT|TRUE|FALSE)\b|(\()|(\)))', re.I)
_RULES = {}


def _parse_rule(rule):
    """AST of an AlarmRule (cached): ("call", state, alarm), ("not", x), ("and"/"or", a, b), ("const", b).
    Precedence NOT > AND > OR."""
    if rule in _RULES:
        return _RULES[rule]
    tokens, pos = [], 0
    while pos < len(rule.rstrip()):
        m = TOKEN.match(rule, pos)
        if not m:
            raise ValueError(f"cannot parse AlarmRule at: {rule[pos:]!r}")
        fn, q1, q2, bare, word, lp, rp = m.groups()
        tokens.append(("call", fn.upper(), (q1 or q2 or bare or "").strip()) if fn else
                      (word.upper(),) if word else ("(",) if lp else (")",))
        pos = m.end()

    def expr(i, prec):  # precedence climbing: 0 = OR, 1 = AND
        node, i = unary(i)
        while i < len(tokens) and tokens[i][0] in ("OR", "AND")[prec:]:
            op = tokens[i][0]
            rhs, i = expr(i + 1, 1) if op == "OR" else unary(i + 1)
            node = (op.lower(), node, rhs)
        return node, i

    def unary(i):
        t = tokens[i]
        if t[0] == "NOT":
            node, i = unary(i + 1)
            return ("not", node), i
        if t[0] == "(":
            node, i = expr(i + 1, 0)
            return node, i + 1
        return (("const", t[0] == "TRUE") if t[0] in ("TRUE", "FALSE") else t), i + 1

    _RULES[rule] = expr(0, 0)[0]
    return _RULES[rule]


def _eval_rule(node, children):
    kind = node[0]
    if kind == "const":
        return node[1]
    if kind == "call":
        child = children(node[2])
        return child is not None and child.state_value == node[1]
    if kind == "not":
        return not _eval_rule(node[1], children)
    a = _eval_rule(node[1], children)
    return (a and _eval_rule(node[2], children)) if kind == "and" else (a or _eval_rule(node[2], children))


def _rule_children(node):
    if node[0] == "call":
        return [node[2]]
    return [c for sub in node[1:] if isinstance(sub, tuple) for c in _rule_children(sub)]


def _composite_state(backend, alarm):
    """(state, reason, reason data) of a composite alarm: ALARM when its rule is TRUE, else OK."""
    def child(ref):
        return backend.alarms.get(ref.split(":alarm:")[-1])
    try:
        node = _parse_rule(alarm.rule)
    except (ValueError, IndexError):
        return None
    state = "ALARM" if _eval_rule(node, child) else "OK"
    kids = [c for c in (child(r) for r in _rule_children(node)) if c is not None]
    triggering = [c for c in kids if c.state_value == "ALARM"] if state == "ALARM" else kids
    if not triggering:
        return state, f"{alarm.alarm_arn} was created and its alarm rule evaluates to {state}", None
    last = max(triggering, key=lambda c: _epoch(c.state_updated_timestamp))
    when = _utc(_epoch(last.state_updated_timestamp)).strftime("%A %d %B, %Y %H:%M:%S UTC")
    data = {"triggeringAlarms": [{"arn": c.alarm_arn, "state": {
        "value": c.state_value, "timestamp": _cw_time(_epoch(c.state_updated_timestamp))}} for c in triggering]}
    return state, f"{last.alarm_arn} transitioned to {last.state_value} at {when}", json.dumps(data)


def _evaluate_backend(backend, now):
    """One pass over a region's alarms: metric alarms due (every 60 scaled seconds, or every
    Period for high-resolution alarms, as CloudWatch evaluates each minute), then composites."""
    scale = CLOCK.scale(backend.account_id)
    alarms = list(backend.alarms.values())
    due = [a for a in alarms if a.rule is None and now >= getattr(a, "_ext_next_eval", 0)]
    _sample_sqs_gauges(backend, due)
    index = _index(backend) if due else None
    for alarm in due:
        alarm._ext_next_eval = now + scale * min(60, int(alarm.period or 60))
        new = _metric_state(alarm, index, now, scale)
        if new and new[0] != alarm.state_value:
            _transition(backend, alarm, *new)
    for _ in range(5):  # composites of composites settle in a few passes
        changed = [a for a in alarms if a.rule is not None and _settle_composite(backend, a)]
        if not changed:
            break


def _settle_composite(backend, alarm):
    new = _composite_state(backend, alarm)
    if new and new[0] != alarm.state_value:
        _transition(backend, alarm, *new)
        return True
    return False


def _state_doc(alarm):
    doc = {"value": alarm.state_value, "reason": alarm.state_reason,
           "timestamp": _cw_time(_epoch(alarm.state_updated_timestamp))}
    if alarm.state_reason_data and alarm.state_reason_data != "{}":
        doc["reasonData"] = alarm.state_reason_data
    return doc


def _transition(backend, alarm, state, reason, reason_data):
    """A state change as CloudWatch makes it: the state fields and a StateUpdate history item now;
    then (in order, on the side-effect thread) the new state's actions and the EventBridge event."""
    with LOCK:
        if alarm.state_value == state:
            return
        prev = _state_doc(alarm)
        alarm.state_value, alarm.state_reason, alarm.state_reason_data = state, reason, reason_data
        alarm.state_updated_timestamp = alarm.state_transitioned_timestamp = utcnow()
        cur = _state_doc(alarm)
    old_new = {k: {"stateValue": d["value"], "stateReason": d["reason"],
                   **({"stateReasonData": json.loads(d["reasonData"])} if _is_json(d.get("reasonData")) else {})}
               for k, d in (("oldState", prev), ("newState", cur))}
    cloudwatch_ext.record_history(backend, alarm, "StateUpdate", f"Alarm updated from {prev['value']} to {state}",
                                  dict({"version": "1.0"}, **old_new))
    SIDE_EFFECTS.put((backend, alarm, prev, cur))


def _is_json(text):
    try:
        json.loads(text)
        return True
    except (TypeError, ValueError):
        return False


def _side_effects():
    while True:
        backend, alarm, prev, cur = SIDE_EFFECTS.get()
        try:
            _run_actions(backend, alarm, prev, cur)
            detail = {"alarmName": alarm.name, "state": cur, "previousState": prev,
                      "configuration": _configuration(alarm)}
            put_service_event(backend.account_id, backend.region_name, "aws.cloudwatch",
                              "CloudWatch Alarm State Change", detail, [alarm.alarm_arn])
        except Exception:
            traceback.print_exc(file=sys.stderr)


def _run_actions(backend, alarm, prev, cur):
    """The new state's actions when ActionsEnabled, each recorded in the alarm history as AWS does
    ("Successfully executed action ..." / "Failed to execute action ... Received error: ...")."""
    if str(alarm.actions_enabled).lower() == "false":
        return
    actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions,
               "INSUFFICIENT_DATA": alarm.insufficient_data_actions}[cur["value"]] or []
    for arn in actions:
        error, data = _run_action(backend, alarm, prev, cur, arn)
        data = dict({"actionState": "Failed" if error else "Succeeded", "notificationResource": arn,
                     "stateUpdateTimestamp": int(_epoch(cur["timestamp"]) * 1000)},
                    **({"error": error} if error else data))
        summary = f'Failed to execute action {arn}. Received error: "{error}"' if error else \
            f"Successfully executed action {arn}"
        cloudwatch_ext.record_history(backend, alarm, "Action", summary, data)


def _run_action(backend, alarm, prev, cur, arn):
    """(error or None, history data) of one alarm action: an SNS topic or a Lambda function."""
    service = arn.split(":")[2] if arn.startswith("arn:") else ""
    if service == "sns":
        message, subject = _sns_alarm_message(backend, alarm, prev, cur)
        msg_id, error = _publish_as_service(
            "cloudwatch.amazonaws.com", arn, json.dumps(message), subject, alarm.alarm_arn,
            "CloudWatch Alarms does not have authorization to access the SNS topic encryption key.")
        return error, {"publishedMessage": {"messageId": msg_id}}
    if service == "lambda":
        event = {"source": "aws.cloudwatch", "alarmArn": alarm.alarm_arn, "accountId": backend.account_id,
                 "time": cur["timestamp"], "region": backend.region_name,
                 "alarmData": {"alarmName": alarm.name, "state": cur, "previousState": prev,
                               "configuration": _configuration(alarm)}}
        err = _invoke_as_service("lambda.alarms.cloudwatch.amazonaws.com", arn, json.dumps(event),
                                 {"aws:SourceArn": alarm.alarm_arn, "aws:SourceAccount": backend.account_id})
        return (err[1] if err else None), {}
    return f"the emulator does not run {service or arn} alarm actions", {}


def _dims_map(dimensions):
    return {d.name: d.value for d in dimensions}


def _configuration(alarm):
    """`configuration` of the alarm action event and the EventBridge event."""
    conf = {"description": alarm.description} if alarm.description else {}
    if alarm.rule is not None:
        return dict(conf, alarmRule=alarm.rule)
    if alarm.metric_data_queries:
        return dict(conf, metrics=[_query_conf(q) for q in alarm.metric_data_queries])
    stat = {"metric": {"namespace": alarm.namespace, "name": alarm.metric_name,
                       "dimensions": _dims_map(alarm.dimensions)},
            "period": int(alarm.period), "stat": alarm.statistic or alarm.extended_statistic}
    if alarm.unit:
        stat["unit"] = alarm.unit
    return dict(conf, metrics=[{"id": str(uuid.uuid5(uuid.NAMESPACE_URL, alarm.alarm_arn)), "metricStat": stat,
                                "returnData": True}])


def _query_conf(q):
    out = {"id": q.id, "returnData": str(q.return_data).lower() != "false"}
    if q.expression:
        out.update(expression=q.expression, label=q.label)
    if q.metric_stat:
        m = q.metric_stat.metric
        out["metricStat"] = {"metric": {"namespace": m.namespace, "name": m.metric_name,
                                        "dimensions": _dims_map(m.dimensions)},
                             "period": int(q.metric_stat.period or 60), "stat": q.metric_stat.stat}
    return {k: v for k, v in out.items() if v is not None}


def _sns_alarm_message(backend, alarm, prev, cur):
    """The classic JSON CloudWatch publishes to an SNS alarm action, and its subject."""
    region = REGION_NAMES.get(backend.region_name, backend.region_name)
    msg = {"AlarmName": alarm.name, "AlarmDescription": alarm.description, "AWSAccountId": backend.account_id,
           "AlarmConfigurationUpdatedTimestamp": _cw_time(_epoch(alarm.configuration_updated_timestamp)),
           "NewStateValue": cur["value"], "NewStateReason": cur["reason"], "StateChangeTime": cur["timestamp"],
           "Region": region, "AlarmArn": alarm.alarm_arn, "OldStateValue": prev["value"],
           "OKActions": list(alarm.ok_actions or []), "AlarmActions": list(alarm.alarm_actions or []),
           "InsufficientDataActions": list(alarm.insufficient_data_actions or [])}
    if alarm.rule is not None:
        reason = json.loads(cur.get("reasonData") or "{}")
        msg.update(AlarmRule=alarm.rule, TriggeringChildren=[
            {"Arn": t["arn"], "State": {"Value": t["state"]["value"], "Timestamp": t["state"]["timestamp"]}}
            for t in reason.get("triggeringAlarms", [])])
    else:
        msg["Trigger"] = _trigger(alarm)
    return msg, f'{cur["value"]}: "{alarm.name}" in {region}'[:99]


def _trigger(alarm):
    common_ = {"Period": int(alarm.period or 0) or None, "EvaluationPeriods": int(alarm.evaluation_periods),
               "ComparisonOperator": alarm.comparison_operator, "Threshold": float(alarm.threshold),
               "TreatMissingData": alarm.treat_missing_data or "- TreatMissingData:                    missing",
               "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile or ""}
    if alarm.datapoints_to_alarm:
        common_["DatapointsToAlarm"] = int(alarm.datapoints_to_alarm)
    if alarm.metric_data_queries:
        metrics = [{"Id": q.id, "ReturnData": str(q.return_data).lower() != "false",
                    **({"Expression": q.expression, "Label": q.label} if q.expression else {}),
                    **({"MetricStat": {"Metric": {"Dimensions": [{"value": d.value, "name": d.name}
                                                                 for d in q.metric_stat.metric.dimensions],
                                                  "MetricName": q.metric_stat.metric.metric_name,
                                                  "Namespace": q.metric_stat.metric.namespace},
                                       "Period": int(q.metric_stat.period or 60), "Stat": q.metric_stat.stat}}
                       if q.metric_stat else {})} for q in alarm.metric_data_queries]
        return dict(common_, Metrics=metrics)
    ext = alarm.extended_statistic
    return dict({"MetricName": alarm.metric_name, "Namespace": alarm.namespace,
                 "StatisticType": "ExtendedStatistic" if ext else "Statistic",
                 **({"ExtendedStatistic": ext} if ext else
                    {"Statistic": STAT_NAMES.get(alarm.statistic, alarm.statistic)}),
                 "Unit": alarm.unit, "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions]},
                **common_)


def set_alarm_state(self, alarm_name, reason, reason_data, state_value):
    """SetAlarmState (API reference): moto's checks, then a real state change when the state differs
    (actions and the event run; the next evaluation returns the alarm to its actual state)."""
    if reason_data is not None and not _is_json(reason_data):
        raise InvalidFormat("Unknown")
    if alarm_name not in self.alarms:
        raise ResourceNotFound
    if state_value not in ("OK", "ALARM", "INSUFFICIENT_DATA"):
        raise ValidationError(f"1 validation error detected: Value '{state_value}' at 'stateValue' failed to satisfy "
                              "constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]")
    alarm = self.alarms[alarm_name]
    # The set state holds until the alarm's next regular evaluation, a minute (or its period)
    # away, not until the evaluator's next tick.
    alarm._ext_next_eval = time.time() + CLOCK.scale(self.account_id) * min(60, int(alarm.period or 60))
    if alarm.state_value == state_value:
        alarm.state_reason, alarm.state_reason_data = reason, reason_data
        return
    _transition(self, alarm, state_value, reason, reason_data)


CloudWatchBackend.set_alarm_state = set_alarm_state


# AWS/SQS metrics the template's alarms use: NumberOfMessagesSent per SendMessage (also what
# Lambda's dead-letter sends count as), and the queue gauges sampled when an alarm evaluates.
_orig_send_message = SQSBackend.send_message


def send_message(self, queue_name, message_body, *args, **kw):
    message = _orig_send_message(self, queue_name, message_body, *args, **kw)
    cloudwatch_backends[self.account_id][self.region_name].metric_data.append(MetricDatum(
        "AWS/SQS", "NumberOfMessagesSent", 1.0, [{"Name": "QueueName", "Value": queue_name}], None, "Count"))
    return message


SQSBackend.send_message = send_message
SQS_GAUGES = {"ApproximateNumberOfMessagesVisible": lambda q: len(q.messages),
              "ApproximateAgeOfOldestMessage": lambda q: max([time.time() - m.sent_timestamp / 1000
                                                              for m in q.messages] or [0])}


def _sample_sqs_gauges(backend, alarms):
    """AWS publishes the queue gauges every minute; here they are sampled when an alarm on them is
    evaluated (each scaled minute) and stored as datapoints."""
    wanted = {(a.metric_name, d.value) for a in alarms if a.namespace == "AWS/SQS" and a.metric_name in SQS_GAUGES
              for d in a.dimensions if d.name == "QueueName" and len(a.dimensions) == 1}
    for metric, queue_name in wanted:
        q = sqs_backends[backend.account_id][backend.region_name].queues.get(queue_name)
        if q is not None:
            backend.metric_data.append(MetricDatum("AWS/SQS", metric, float(SQS_GAUGES[metric](q)),
                                                   [{"Name": "QueueName", "Value": queue_name}], None))


# ------------------------------------------------------------------------------------------
# 2. EventBridge: service events, rule targets, retries, dead-letter queues
# ------------------------------------------------------------------------------------------

ENABLED = ("ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")


def put_service_event(account, region, source, detail_type, detail, resources=()):
    """An event an AWS service emits to the account's default event bus (e.g. source
    "aws.codedeploy", detail-type "CodeDeploy Deployment State-change Notification"): matched
    against the bus's rules and delivered to their targets as EventBridge does. Returns its id."""
    now = time.time()
    event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type, "source": source,
             "account": account, "time": now, "region": region, "resources": list(resources),
             "detail": json.loads(json.dumps(detail)), "ingestion-time": now}  # moto's internal form
    for rule in list(events_backends[account][region].event_buses["default"].rules.values()):
        rule.send_to_targets(event)
    return event["id"]


_orig_send_to_targets = Rule.send_to_targets


def send_to_targets(self, original_event, transform_input=True):
    """Replaces moto's (which ignores the rule's state and cannot deliver to Lambda): an ENABLED
    rule whose pattern matches delivers to each target as EventBridge does."""
    if self.state not in ENABLED or not self.event_pattern.matches_event(original_event):
        return
    event = {k: v for k, v in original_event.items() if k != "ingestion-time"}
    event["time"] = _z_time(_epoch(event["time"])) if not isinstance(event.get("time"), str) else event["time"]
    for target in list(self.targets):
        kind = target["Arn"].split(":")[2]
        if kind in ("lambda", "sqs", "sns"):
            _deliver_rule_target(self, target, event, original_event)
        else:  # log groups, buses, archives, API destinations: moto's own delivery
            single = Rule.__new__(Rule)
            single.__dict__.update(self.__dict__, targets=[target])
            _orig_send_to_targets(single, original_event, transform_input)


Rule.send_to_targets = send_to_targets


def _target_input(target, event):
    """The payload a target gets: Input, InputPath, InputTransformer, or the event."""
    if target.get("Input") is not None:
        return target["Input"]
    if target.get("InputPath"):
        from jsonpath_ng.ext import parse
        found = parse(target["InputPath"]).find(event)
        return json.dumps(found[0].value if found else None)
    if target.get("InputTransformer"):
        t = target["InputTransformer"]
        return json.dumps(EventTemplateParser.parse(t.get("InputTemplate"), t.get("InputPathsMap", {}),
                                                    dict(event, **{"ingestion-time": time.time()})))
    return json.dumps(event)


def _deliver_rule_target(rule, target, event, original_event):
    """One target: delivered, retried (throttling, internal errors) per its RetryPolicy, or sent to
    its DeadLetterConfig queue (permissions and missing resources are not retried)."""
    arn = target["Arn"]
    try:
        payload = _target_input(target, event)
    except Exception as e:  # a transformer whose output is not JSON
        payload = e
    ctx = {"aws:SourceArn": rule.arn, "aws:SourceAccount": rule.account_id}
    rec = {"rule": rule.name, "rule_arn": rule.arn, "target": target["Id"], "target_arn": arn, "event_id": event["id"]}

    def attempt(n):
        if isinstance(payload, Exception):
            return "INVALID_JSON", f"the input transformer did not produce valid JSON: {payload}"
        err = _deliver_to(arn, payload, ctx, rule, target)
        if err is None:
            _record(EB_DELIVERIES, rule.account_id, **rec, attempt=n, outcome="delivered")
        return err

    def give_up(err, exhausted):
        code, message = err
        dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
        attrs = {"RULE_ARN": rule.arn, "TARGET_ARN": arn, "ERROR_CODE": code, "ERROR_MESSAGE": message,
                 "EXHAUSTED_RETRY_CONDITION": exhausted}
        dlq_error = _send_to_queue(dlq, json.dumps(event), attrs, "events.amazonaws.com", rule.arn) if dlq else "no DLQ"
        _record(EB_DELIVERIES, rule.account_id, **rec, outcome="dropped" if dlq_error else "dead-lettered",
                error_code=code, error_message=message, **({"dlq_error": dlq_error} if dlq_error else {}))

    policy = target.get("RetryPolicy") or {}
    _with_retries(rule.account_id, attempt, ("THROTTLING", "INTERNAL_ERROR"),
                  int(policy.get("MaximumRetryAttempts", 185)), int(policy.get("MaximumEventAgeInSeconds", 86400)),
                  give_up)


def _deliver_to(arn, payload, ctx, rule, target):
    kind = arn.split(":")[2]
    if kind == "lambda":
        return _invoke_as_service("events.amazonaws.com", arn, payload, ctx)
    if kind == "sns":
        _, error = _publish_as_service("events.amazonaws.com", arn, payload, None, rule.arn)
        if error:
            return ("NO_RESOURCE" if error.startswith("Topic does not exist") else "NO_PERMISSIONS"), error
        return None
    _, region, account, name = _arn_parts(arn)
    q = sqs_backends[account][region].queues.get(name)
    if q is None:
        return "NO_RESOURCE", f"queue {arn} does not exist"
    if not _allows(q.policy, "events.amazonaws.com", "sqs:SendMessage", arn, ctx):
        return "NO_PERMISSIONS", f"events.amazonaws.com is not allowed to send to {arn} by its queue policy"
    group = (target.get("SqsParameters") or {}).get("MessageGroupId")
    try:
        sqs_backends[account][region].send_message(name, payload, group_id=group)
    except Exception as e:  # e.g. a FIFO queue without content-based deduplication
        return "INVALID_PARAMETER", str(getattr(e, "message", e))
    return None


# ------------------------------------------------------------------------------------------
# 3. EventBridge Scheduler: firings as the schedule's role, retries, dead-letter queue, clock
# ------------------------------------------------------------------------------------------


def _context_input(text, schedule, scheduled, execution_id, attempt):
    """Scheduler's context attributes substituted in the target Input."""
    for key, value in (("schedule-arn", schedule.arn), ("scheduled-time", _z_time(scheduled)),
                       ("execution-id", execution_id), ("attempt-number", str(attempt))):
        text = text.replace(f"<aws.scheduler.{key}>", value)
    return text


def _role_trusts_scheduler(account, role_arn, schedule):
    try:
        role = iam_backends[account]["aws"].get_role_by_arn(role_arn)
    except Exception:
        return False
    return _allows(role.assume_role_policy_document, "scheduler.amazonaws.com", "sts:AssumeRole", role_arn,
                   {"aws:SourceAccount": account, "aws:SourceArn": schedule.arn})


def _invoke_as_role(account, region, schedule, payload):
    """The target call Scheduler makes with the schedule's execution role: assume it (its trust
    policy), then lambda:InvokeFunction as that role. None, or (exception name, message)."""
    target = schedule.target
    arn, role = target["Arn"], target.get("RoleArn")
    if not arn.startswith("arn:aws:lambda:"):
        return "ValidationException", f"the emulator's Scheduler invokes Lambda targets only, not {arn}"
    if not role or not _role_trusts_scheduler(account, role, schedule):
        return "AccessDeniedException", f"scheduler.amazonaws.com cannot assume the execution role {role}"
    try:
        iam_authz.require(account, role, "lambda:InvokeFunction", arn, source="scheduler:target", region=region)
    except ExtError as e:
        return e.code, e.message
    _, fregion, faccount, resource = _arn_parts(arn)
    name, _, qualifier = resource.split(":", 1)[1].partition(":")
    try:
        lambda_exec.invoke_async(faccount, fregion, name, qualifier or None, payload.encode())
    except ExtError as e:
        return e.code, e.message
    return None


def fire(account, region, group, name, scheduled=None):
    """One occurrence of a schedule, as Scheduler fires it. Returns the firing record (or why not)."""
    schedule = scheduler_backends[account][region].get_schedule(group, name)
    if schedule.state != "ENABLED":
        return {"group": group, "name": name, "outcome": "not fired: schedule is " + str(schedule.state)}
    scheduled = scheduled or float(int(time.time()))
    execution_id, target = uuid.uuid4().hex[:16], schedule.target
    rec = {"group": schedule.group_name, "name": name, "schedule_arn": schedule.arn, "target": target["Arn"],
           "scheduled_time": _z_time(scheduled), "execution_id": execution_id}
    result = {}

    def attempt(n):
        payload = _context_input(target.get("Input") or "{}", schedule, scheduled, execution_id, n)
        err = _invoke_as_role(account, region, schedule, payload)
        if err is None:
            result.update(rec, attempt=n, input=payload, outcome="invoked")
            _record(FIRINGS, account, **result)
        return None if err is None else (err[0], err[1], payload)

    def give_up(err, exhausted):
        code, message, payload = err
        dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
        attrs = {"ERROR_CODE": code, "ERROR_MESSAGE": message, "EXECUTION_ID": execution_id,
                 "SCHEDULE_ARN": schedule.arn, "SCHEDULED_TIME": _z_time(scheduled), "TARGET_ARN": target["Arn"]}
        dlq_error = _send_to_queue(dlq, payload, attrs, role=target.get("RoleArn")) if dlq else "no DLQ"
        result.update(rec, input=payload, outcome="dropped" if dlq_error else "dead-lettered", error_code=code,
                      error_message=message, **({"dlq_error": dlq_error} if dlq_error else {}))
        _record(FIRINGS, account, **result)

    policy = target.get("RetryPolicy") or {}
    _with_retries(account, attempt, ("ThrottlingException", "TooManyRequestsException", "ServiceException",
                                     "InternalFailure"),
                  int(policy.get("MaximumRetryAttempts", 185)), int(policy.get("MaximumEventAgeInSeconds", 86400)),
                  give_up)
    if schedule.schedule_expression.startswith("at(") and schedule.action_after_completion == "DELETE":
        scheduler_backends[account][region].delete_schedule(group, name)
    return result or dict(rec, outcome="retrying")


# The schedule clock: virtual time runs 1/scale times faster than real time from the moment the
# clock starts; rate/cron/at expressions are evaluated in that time (cron and at in the
# schedule's time zone).
MONTHS = {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
WEEKDAYS = {d: i + 1 for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}  # AWS cron: 1 = Sunday
RATE_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def _cron_field(spec, lo, hi, names=None):
    """Values an AWS cron field allows (*, ?, lists, ranges, steps, names; not L, W or #)."""
    if spec in ("*", "?"):
        return set(range(lo, hi + 1))
    value = lambda x: (names or {}).get(x.upper()) or int(x)  # noqa: E731
    out = set()
    for part in spec.split(","):
        rng, _, step = part.partition("/")
        a, b = (lo, hi) if rng == "*" else (tuple(map(value, rng.split("-"))) if "-" in rng else (value(rng),) * 2)
        out.update(range(a, (hi if step and "-" not in rng and rng != "*" else b) + 1, int(step or 1)))
    return out


def _cron_next(expr, after):
    """The first minute strictly after `after` (naive local datetime) matching an AWS cron."""
    mi, hh, dom, mon, dow, yr = expr.split()
    sets = (_cron_field(mi, 0, 59), _cron_field(hh, 0, 23), _cron_field(dom, 1, 31),
            _cron_field(mon, 1, 12, MONTHS), _cron_field(dow, 1, 7, WEEKDAYS), _cron_field(yr, 1970, 2199))
    t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while t.year <= max(sets[5]):
        if t.year not in sets[5] or t.month not in sets[3]:
            t = (t.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
        elif (dom != "?" and t.day not in sets[2]) or (dow != "?" and t.isoweekday() % 7 + 1 not in sets[4]):
            t = t.replace(hour=0, minute=0) + timedelta(days=1)
        elif t.hour not in sets[1]:
            t = t.replace(minute=0) + timedelta(hours=1)
        elif t.minute not in sets[0]:
            t += timedelta(minutes=1)
        else:
            return t
    return None


def _next_occurrence(schedule, after):
    """Virtual epoch of the schedule's next occurrence strictly after `after`, or None."""
    expr = schedule.schedule_expression.strip()
    kind, _, body = expr.partition("(")
    body = body.rstrip(")").strip()
    try:
        from zoneinfo import ZoneInfo
        tz = ZoneInfo(schedule.schedule_expression_timezone or "UTC")
    except Exception:
        tz = timezone.utc
    if kind == "rate":
        n, unit = body.split()
        return after + int(n) * RATE_UNITS[unit]
    local = datetime.fromtimestamp(after, tz).replace(tzinfo=None)
    if kind == "cron":
        t = _cron_next(body, local)
        return t.replace(tzinfo=tz).timestamp() if t else None
    if kind == "at":
        t = datetime.fromisoformat(body).replace(tzinfo=tz).timestamp()
        return t if t > after else None
    return None


def _clock_tick(now):
    for account, anchor in list(CLOCK_RUNNING.items()):
        scale = CLOCK.scale(account)
        if scale != anchor["scale"]:  # re-anchor so virtual time stays continuous
            anchor.update(virt=anchor["virt"] + (now - anchor["real"]) / anchor["scale"], real=now, scale=scale)
        vnow = anchor["virt"] + (now - anchor["real"]) / scale
        for region, backend in list(scheduler_backends[account].items()):
            for group in list(backend.schedule_groups.values()):
                for schedule in list(group.schedules.values()):
                    _tick_schedule(account, region, schedule, anchor, vnow)


def _tick_schedule(account, region, schedule, anchor, vnow):
    """Fire what is due (at most 5 occurrences per tick; later ones are skipped as missed)."""
    state = anchor["next"].get(schedule.arn)
    if state is None or state[0] != schedule.schedule_expression:  # new schedule or new expression
        start = max(vnow, _epoch(schedule.start_date) if schedule.start_date else 0)
        state = anchor["next"][schedule.arn] = [schedule.schedule_expression, _next_occurrence(schedule, start)]
    for _ in range(5):
        due = state[1]
        if due is None or due > vnow:
            return
        end = _epoch(schedule.end_date) if schedule.end_date else None
        state[1] = _next_occurrence(schedule, due)
        if schedule.state == "ENABLED" and (end is None or due <= end):
            fire(account, region, schedule.group_name, schedule.name, scheduled=due)


# ------------------------------------------------------------------------------------------
# 4. SNS to Lambda subscriptions (moto's own needs Docker)
# ------------------------------------------------------------------------------------------

_prev_sub_publish = Subscription.publish


def subscription_publish(self, message, message_id, subject=None, message_attributes=None, **kw):
    if self.protocol != "lambda":
        return _prev_sub_publish(self, message, message_id, subject, message_attributes, **kw)
    if self._filter_policy_matcher is not None and not self._filter_policy_matcher.matches(message_attributes, message):
        return None
    if kw.get("message_structure") == "json":
        message = self._parse_message_structure(message, self.protocol)
    _deliver_sns_lambda(self, message, message_id, subject, message_attributes or {})
    return None


Subscription.publish = subscription_publish


def _deliver_sns_lambda(sub, message, message_id, subject, attributes):
    """The event SNS invokes a Lambda subscriber with (asynchronously, as sns.amazonaws.com); a
    client-side failure (no permission, no function) goes to the subscription's dead-letter queue."""
    topic, region = sub.topic, sub.topic.sns_backend.region_name
    post = sub.get_post_data(message, message_id, subject, message_attributes=attributes)
    sns = {"Type": "Notification", "MessageId": message_id, "TopicArn": topic.arn, "Subject": subject,
           "Message": message, "Timestamp": post["Timestamp"], "SignatureVersion": post["SignatureVersion"],
           "Signature": post["Signature"], "SigningCertUrl": post["SigningCertURL"],
           "UnsubscribeUrl": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={sub.arn}",
           "MessageAttributes": {k: {"Type": v.get("Type"), "Value": v.get("Value")} for k, v in attributes.items()}}
    event = {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": sub.arn,
                          "Sns": sns}]}
    rec = {"topic": topic.arn, "subscription": sub.arn, "function": sub.endpoint, "message_id": message_id}
    err = _invoke_as_service("sns.amazonaws.com", sub.endpoint, json.dumps(event),
                             {"aws:SourceArn": topic.arn, "aws:SourceAccount": topic.account_id})
    if err is None:
        return _record(SNS_LAMBDA, topic.account_id, **rec, outcome="invoked", event=event)
    redrive = sub.attributes.get("RedrivePolicy")
    dlq = (json.loads(redrive) if isinstance(redrive, str) else redrive or {}).get("deadLetterTargetArn")
    dlq_error = (_send_to_queue(dlq, json.dumps(post), {}, "sns.amazonaws.com", topic.arn) if dlq
                 else "no redrive policy")
    _record(SNS_LAMBDA, topic.account_id, **rec, outcome="dropped" if dlq_error else "dead-lettered",
            error_code=err[0], error_message=err[1], **({"dlq_error": dlq_error} if dlq_error else {}))


# ------------------------------------------------------------------------------------------
# Background threads and control routes
# ------------------------------------------------------------------------------------------


def _alarm_tick(now):
    for account, regions in list(cloudwatch_backends.items()):
        for backend in list(regions.values()):
            if backend.alarms:
                _evaluate_backend(backend, now)


def _loop(tick, interval):
    while True:
        time.sleep(interval)
        try:
            tick(time.time())
        except RuntimeError:  # a backend dict grew while being listed: next tick
            pass
        except Exception:
            traceback.print_exc(file=sys.stderr)


for _target, _args in ((_loop, (_alarm_tick, 0.1)), (_loop, (_clock_tick, 0.1)), (_side_effects, ())):
    threading.Thread(target=_target, args=_args, daemon=True).start()


def _records(table, req):
    with LOCK:
        return list(table[req.args["account"]])


route("GET", "/_ext/events/deliveries")(lambda req, j: _records(EB_DELIVERIES, req))
route("GET", "/_ext/scheduler/firings")(lambda req, j: _records(FIRINGS, req))
route("GET", "/_ext/sns/lambda-deliveries")(lambda req, j: _records(SNS_LAMBDA, req))


@route("POST", "/_ext/scheduler/fire")
def _fire_route(req, j):
    try:
        return fire(j["account"], j.get("region", "us-east-1"), j.get("group"), j["name"])
    except (ScheduleNotFound, ScheduleGroupNotFound) as e:
        return Response(json.dumps({"error": e.message}), 404, mimetype="application/json")


@route("POST", "/_ext/scheduler/clock")
def _clock_route(req, j):
    with LOCK:
        if j.get("running") and j["account"] not in CLOCK_RUNNING:
            now = time.time()
            CLOCK_RUNNING[j["account"]] = {"real": now, "virt": now, "scale": CLOCK.scale(j["account"]), "next": {}}
        elif not j.get("running"):
            CLOCK_RUNNING.pop(j["account"], None)
    return {"running": j["account"] in CLOCK_RUNNING}
