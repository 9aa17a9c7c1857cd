"""Gap 5: the Rust CloudWatch client (and boto3 1.44) speak Smithy RPC v2 CBOR, which moto does
not parse: a bridge re-issues the request to moto as awsJson1_0 and CBOR-encodes the reply.
Also PutCompositeAlarm, DescribeAlarms with combined filters and AlarmTypes, alarm state kept
across updates, and the alarm history (DescribeAlarmHistory) the evaluator in events_ext writes."""
import base64
import json
from collections import defaultdict
from datetime import datetime, timezone
from io import BytesIO

import cbor2
from moto.cloudwatch.models import CloudWatchBackend
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult
from moto.core.utils import get_service_model, utcnow
from werkzeug.wrappers import Response

from common import LOCK

def put_composite_alarm(self):
    p = self._get_param
    self.cloudwatch_backend.put_metric_alarm(
        name=p("AlarmName"), namespace=None, metric_name=None, comparison_operator=None, evaluation_periods=None,
        period=None, threshold=None, statistic=None, description=p("AlarmDescription"), dimensions=[],
        alarm_actions=p("AlarmActions", []), ok_actions=p("OKActions", []), actions_enabled=p("ActionsEnabled", True),
        insufficient_data_actions=p("InsufficientDataActions", []), rule=p("AlarmRule"), tags=p("Tags", []))
    return ActionResult({})

def describe_alarms(self):
    p = self._get_param
    names, prefix, state, types = p("AlarmNames", []), p("AlarmNamePrefix"), p("StateValue"), p("AlarmTypes", [])
    alarms = [a for a in self.cloudwatch_backend.describe_alarms()
              if (not names or a.name in names) and (not prefix or a.name.startswith(prefix))
              and (not state or a.state_value == state)]
    types = types or ["MetricAlarm"]  # AWS: without AlarmTypes only metric alarms are returned
    return ActionResult({"MetricAlarms": [a for a in alarms if a.rule is None and "MetricAlarm" in types],
                         "CompositeAlarms": [a for a in alarms if a.rule is not None and "CompositeAlarm" in types]})
CloudWatchResponse.put_composite_alarm = put_composite_alarm
CloudWatchResponse.describe_alarms = describe_alarms

# Alarm history: (account, region) -> AlarmHistoryItem dicts, oldest first. AWS keeps the history
# of deleted alarms too (DescribeAlarmHistory documentation).
HISTORY = defaultdict(list)
_STATE = ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp", "state_transitioned_timestamp")


def record_history(backend, alarm, item_type, summary, data):
    item = {"AlarmName": alarm.name, "AlarmType": "CompositeAlarm" if alarm.rule else "MetricAlarm",
            "Timestamp": utcnow(), "HistoryItemType": item_type, "HistorySummary": summary,
            "HistoryData": json.dumps(data)}
    with LOCK:
        HISTORY[(backend.account_id, backend.region_name)].append(item)


_orig_put_metric_alarm = CloudWatchBackend.put_metric_alarm


def put_metric_alarm(self, *args, **kw):
    """AWS (PutMetricAlarm / PutCompositeAlarm): a new alarm starts in INSUFFICIENT_DATA; an update
    leaves the state unchanged and overwrites only the configuration (moto resets it to OK)."""
    name = kw.get("name", args[0] if args else None)
    old = self.alarms.get(name)
    alarm = _orig_put_metric_alarm(self, *args, **kw)
    if old is not None:
        for attr in _STATE:
            setattr(alarm, attr, getattr(old, attr, None))
    else:
        alarm.state_value, alarm.state_reason, alarm.state_reason_data = (
            "INSUFFICIENT_DATA", "Unchecked: Initial alarm creation", None)
        alarm.state_transitioned_timestamp = alarm.state_updated_timestamp
    verb = "updated" if old is not None else "created"
    record_history(self, alarm, "ConfigurationUpdate", f'Alarm "{name}" {verb}',
                   {"version": "1.0", "type": "Update" if old is not None else "Create"})
    return alarm


CloudWatchBackend.put_metric_alarm = put_metric_alarm


def _epoch(value):
    if isinstance(value, (int, float)):
        return float(value)
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()


def describe_alarm_history(self):
    """DescribeAlarmHistory (botocore model): AlarmName, AlarmTypes (metric alarms only when omitted,
    applied when no AlarmName is given), HistoryItemType, StartDate/EndDate, ScanBy, MaxRecords."""
    p = self._get_param
    name, kind, types = p("AlarmName"), p("HistoryItemType"), p("AlarmTypes", []) or ["MetricAlarm"]
    start, end = p("StartDate"), p("EndDate")
    with LOCK:
        items = list(HISTORY[(self.current_account, self.region)])
    items = [i for i in items if (i["AlarmName"] == name if name else i["AlarmType"] in types)
             and (not kind or i["HistoryItemType"] == kind)
             and (start is None or _epoch(i["Timestamp"]) >= _epoch(start))
             and (end is None or _epoch(i["Timestamp"]) <= _epoch(end))]
    if p("ScanBy") != "TimestampAscending":
        items.reverse()
    return ActionResult({"AlarmHistoryItems": items[:int(p("MaxRecords") or 100)]})


CloudWatchResponse.describe_alarm_history = describe_alarm_history

CBOR_PREFIX = "/service/GraniteServiceVersion20100801/operation/"
def _to_cbor_types(value, shape):
    """JSON reply -> CBOR values: timestamps as tag 1 (epoch seconds), doubles as floats."""
    if value is None or shape is None:
        return value
    t = shape.type_name
    if t == "structure":
        return {k: _to_cbor_types(v, shape.members.get(k)) for k, v in value.items()}
    if t == "list":
        return [_to_cbor_types(v, shape.member) for v in value]
    if t == "map":
        return {k: _to_cbor_types(v, shape.value) for k, v in value.items()}
    if t == "timestamp":
        return cbor2.CBORTag(1, value)
    return float(value) if t in ("double", "float") else value

def cbor_bridge(app, environ, start_response):
    op = environ["PATH_INFO"][len(CBOR_PREFIX):]
    raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    req = cbor2.loads(raw) if raw else {}
    body = json.dumps(req, default=lambda v: v.timestamp() if isinstance(v, datetime)
                      else base64.b64encode(v).decode()).encode()
    env = dict(environ, PATH_INFO="/", RAW_URI="/", REQUEST_URI="/", QUERY_STRING="", CONTENT_LENGTH=str(len(body)),
               CONTENT_TYPE="application/x-amz-json-1.0", HTTP_X_AMZ_TARGET=f"GraniteServiceVersion20100801.{op}")
    env["wsgi.input"] = BytesIO(body)
    got = {}
    out = b"".join(app(env, lambda status, headers, exc=None: got.update(status=status, headers=headers)))
    status = int(got["status"].split()[0])
    headers = [(k, v) for k, v in got["headers"] if k.lower() not in ("content-type", "content-length")]
    doc = json.loads(out) if out.strip() else {}
    if status < 300:
        shape = get_service_model("cloudwatch").operation_model(op).output_shape
        doc = _to_cbor_types(doc, shape) if shape else None
    elif "__type" in doc:
        doc["__type"] = doc["__type"].split("#")[-1]
    data = b"" if doc is None else cbor2.dumps(doc)
    resp = Response(data, status=status, headers=headers + [("smithy-protocol", "rpc-v2-cbor")])
    resp.headers["Content-Type"] = "application/cbor"
    return resp(environ, start_response)

