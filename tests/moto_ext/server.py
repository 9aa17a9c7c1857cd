#!/usr/bin/env python3
"""Local AWS for rollout-guardian tests: moto 5.2.5's own server plus a few small patches.

Usage: python tests/moto_ext/server.py --port 0 [--exit-with-parent]
Prints exactly one line `READY http://127.0.0.1:<port>` once it serves.
Each patch closes one measured moto gap; README.md lists them and the /_ext control API.
"""
import argparse, base64, json, logging, os, re, sys, threading, time, urllib.error, urllib.request, uuid
from collections import defaultdict, deque
from datetime import datetime
from io import BytesIO
from urllib.parse import parse_qs, unquote
from xml.sax.saxutils import escape

import cbor2
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

import moto.iam.models as iam_models
from moto.awslambda.responses import LambdaResponse
from moto.cloudwatch.responses import CloudWatchResponse
from moto.codedeploy.exceptions import CodeDeployException
from moto.codedeploy.models import codedeploy_backends
from moto.codedeploy.responses import CodeDeployResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult, BaseResponse
from moto.core.utils import get_service_model
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.sns.exceptions import InvalidParameterValue
from moto.sns.models import SNSBackend, Subscription

LOCK = threading.Lock()
FAULTS = {}                                     # (account, operation) -> fault spec
CALLS = defaultdict(lambda: defaultdict(int))   # account -> operation -> count
RESULTS = defaultdict(deque)                    # (account, function, qualifier|None) -> queued results
ROUTES = {}                                     # (account, function, qualifier|None) -> runtime URL
INVOCATIONS = defaultdict(list)                 # (account, function) -> invocation records
HOOKS, STOPPED = defaultdict(list), defaultdict(list)  # account -> CodeDeploy records
DELIVERIES = defaultdict(list)                  # account -> e-mail / SMS deliveries

# 0. Per-test account: access key id ACCT<12 digits> -> that account.
_orig_account_from = iam_models.get_account_id_from
def account_from(access_key):
    m = re.fullmatch(r"ACCT(\d{12})", access_key or "")
    return m.group(1) if m else _orig_account_from(access_key)
iam_models.get_account_id_from = account_from  # BaseResponse.get_current_account imports it per call
BaseResponse.access_key_regex = re.compile(  # moto only extracts 20-character key ids
    r"AWS.*(?P<access_key>(?<![A-Z0-9])(?:[A-Z0-9]{20}|ACCT\d{12})(?![A-Z0-9]))[:/]")

# 1. Count every call and inject faults, in the error format of the request's protocol.
def fault_response(resp, f):
    code, msg, status = f["code"], f.get("message") or "injected", int(f.get("status", 500))
    kind = "Sender" if status < 500 else "Receiver"
    if "Action" in resp.querystring:  # awsQuery (SNS): XML ErrorResponse
        body = (f"<ErrorResponse><Error><Type>{kind}</Type><Code>{escape(code)}</Code><Message>{escape(msg)}"
                f"</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")
        return status, {"Content-Type": "text/xml"}, body
    return status, {"Content-Type": "application/json", "x-amzn-ErrorType": code,
                    "x-amzn-query-error": f"{code};{kind}"}, json.dumps({"__type": code, "message": msg})

_orig_call_action = BaseResponse.call_action
def call_action(self):
    op, acct, fault = self._get_action(), self.current_account, None
    with LOCK:
        CALLS[acct][op] += 1
        f = FAULTS.get((acct, op))
        if f and f["count"] > 0:
            f["count"] -= 1
            fault = dict(f)
    return fault_response(self, fault) if fault else _orig_call_action(self)
BaseResponse.call_action = call_action

# 2. Lambda Invoke: qualifier, 404, reserved concurrency 0, queued/routed results, FunctionError.
def _pick(table, acct, name, qualifier, pop):
    with LOCK:
        for key in ((acct, name, qualifier), (acct, name, None)):
            if table.get(key):
                return table[key].popleft() if pop else table[key]
    return None

def invoke(self):
    raw = unquote(self.path.rsplit("/", 2)[-2])
    qualifier = parse_qs(self.parsed_url.query).get("Qualifier", [None])[0]
    lam = self.backend._lambdas
    name, q = (lam.split_function_arn(raw)[1:] if raw.startswith("arn:")
               else (raw.split(":", 1) if ":" in raw else (raw, None)))
    qualifier = qualifier or q
    self.backend.get_function(name, qualifier)  # raises 404 ResourceNotFoundException (function/version/alias)
    version = ("$LATEST" if qualifier in (None, "$LATEST") else qualifier if qualifier.isdigit()
               else lam.get_alias(qualifier, name).function_version)
    rc = self.backend.get_function(name).reserved_concurrency
    if rc is not None and int(rc) == 0:
        err = JsonRESTError("TooManyRequestsException", "Rate Exceeded.")
        err.code, err.description = 429, json.dumps({"__type": "TooManyRequestsException", "message": "Rate Exceeded.",
                                                      "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User"})
        raise err
    itype = self.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
    body = self.raw_body or b""
    try:
        recorded = json.loads(body) if body else None
    except ValueError:
        recorded = body.decode("utf-8", "replace")
    acct = self.current_account
    with LOCK:
        INVOCATIONS[(acct, name)].append({"qualifier": qualifier, "invocation_type": itype, "payload": recorded})
    route = _pick(ROUTES, acct, name, qualifier, False)
    if itype == "Event":
        if route:
            threading.Thread(target=_forward, args=(route, body), daemon=True).start()
        return 202, {"status": 202, "X-Amz-Executed-Version": version}, ""
    if itype == "DryRun":
        return 204, {"status": 204}, ""
    result = _pick(RESULTS, acct, name, qualifier, True) or {}
    time.sleep(result.get("delay_ms", 0) / 1000)
    func_error = result.get("function_error")
    if route and not result:
        payload, func_error = _forward(route, body)
    elif "payload" in result:
        payload = json.dumps(result["payload"])
    else:
        payload = json.dumps({"status": "ok", "version": version})
    headers = {"status": 200, "Content-Type": "application/json",
               "X-Amz-Executed-Version": result.get("executed_version") or version}
    if func_error:
        headers["X-Amz-Function-Error"] = func_error
    if (self.headers.get("X-Amz-Log-Type") or "").lower() == "tail":
        rid = uuid.uuid4()
        log = result.get("log") or f"START RequestId: {rid} Version: {version}\nEND RequestId: {rid}\n"
        headers["X-Amz-Log-Result"] = base64.b64encode(log.encode()).decode()
    return 200, headers, payload

def _forward(url, body):
    """POST the payload to a real runtime (cargo lambda watch); return (body, X-Amz-Function-Error)."""
    req = urllib.request.Request(url, data=body or b"{}", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=900) as r:
            return r.read(), r.headers.get("X-Amz-Function-Error")
    except urllib.error.HTTPError as e:
        return e.read(), e.headers.get("X-Amz-Function-Error") or "Unhandled"
LambdaResponse.invoke = invoke

# 3. CodeDeploy: PutLifecycleEventHookExecutionStatus and StopDeployment (missing in moto).
def put_lifecycle_event_hook_execution_status(self):
    dep_id, hook_id, status = (self._get_param(k) for k in ("deploymentId", "lifecycleEventHookExecutionId", "status"))
    self.codedeploy_backend.get_deployment(dep_id)  # DeploymentDoesNotExistException
    if status not in ("Succeeded", "Failed"):
        raise CodeDeployException("InvalidLifecycleEventHookExecutionStatusException", f"Invalid status: {status}")
    with LOCK:
        if any(h["deploymentId"] == dep_id and h["lifecycleEventHookExecutionId"] == hook_id
               for h in HOOKS[self.current_account]):
            raise CodeDeployException("LifecycleEventAlreadyCompletedException",
                                      f"The lifecycle event {hook_id} is already completed.")
        HOOKS[self.current_account].append(
            {"deploymentId": dep_id, "lifecycleEventHookExecutionId": hook_id, "status": status})
    return ActionResult({"lifecycleEventHookExecutionId": hook_id})

def stop_deployment(self):
    dep_id = self._get_param("deploymentId")
    dep = self.codedeploy_backend.get_deployment(dep_id)  # DeploymentDoesNotExistException
    if dep.status in ("Succeeded", "Failed", "Stopped"):
        raise CodeDeployException("DeploymentAlreadyCompletedException", f"Deployment {dep_id} is already completed.")
    dep.status, dep.complete_time = "Stopped", datetime.now()
    with LOCK:
        STOPPED[self.current_account].append(
            {"deploymentId": dep_id, "autoRollbackEnabled": bool(self._get_param("autoRollbackEnabled"))})
    return ActionResult({"status": "Succeeded", "statusMessage": f"Deployment {dep_id} stopped"})
CodeDeployResponse.put_lifecycle_event_hook_execution_status = put_lifecycle_event_hook_execution_status
CodeDeployResponse.stop_deployment = stop_deployment

# 4. SNS Publish/PublishBatch: reject the subjects and JSON structures AWS rejects. PublishBatch
# calls backend.publish per entry and already turns InvalidParameterValue into a Failed entry.
_orig_publish = SNSBackend.publish
def publish(self, message, arn=None, **kw):
    subject = kw.get("subject")
    if subject is not None and (not subject or len(subject) >= 100 or not subject.isascii()
                                or any(ord(c) < 32 or ord(c) == 127 for c in subject)):
        raise InvalidParameterValue("Invalid parameter: Subject")
    if kw.get("message_structure") == "json":
        try:
            doc = json.loads(message)
        except ValueError:
            doc = None
        if not isinstance(doc, dict) or not isinstance(doc.get("default"), str):
            raise InvalidParameterValue("Invalid parameter: Message Structure - No default entry in JSON message body")
    return _orig_publish(self, message, arn, **kw)
SNSBackend.publish = publish

# moto drops what e-mail and SMS subscribers would get; keep it so tests can read the text a
# person receives (the protocol's key of a MessageStructure=json message, else the message).
_orig_sub_publish = Subscription.publish
def subscription_publish(self, message, message_id, subject=None, message_attributes=None, **kw):
    if self.protocol not in ("email", "email-json", "sms"):
        return _orig_sub_publish(self, message, message_id, subject, message_attributes, **kw)
    if self._filter_policy_matcher is not None and not self._filter_policy_matcher.matches(message_attributes, message):
        return
    if kw.get("message_structure") == "json":
        message = self._parse_message_structure(message, self.protocol)
    with LOCK:
        DELIVERIES[self.account_id].append({"protocol": self.protocol, "endpoint": self.endpoint,
                                            "subject": subject, "message": message})
Subscription.publish = subscription_publish

# 5. CloudWatch: PutCompositeAlarm, DescribeAlarms with combined filters, and an rpc-v2-cbor bridge
# that re-issues the request to moto as awsJson1_0 (a protocol moto parses) and CBOR-encodes the reply.
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

# Control API (/_ext/...) and the WSGI wrapper around moto's own app.
READERS = {  # GET /_ext/... -> JSON snapshot for one account
    "/_ext/calls": lambda q: dict(CALLS[q["account"]]),
    "/_ext/lambda/invocations": lambda q: list(INVOCATIONS[(q["account"], q["function"])]),
    "/_ext/codedeploy/hook-statuses": lambda q: list(HOOKS[q["account"]]),
    "/_ext/codedeploy/stopped": lambda q: list(STOPPED[q["account"]]),
    "/_ext/sns/deliveries": lambda q: [d for d in DELIVERIES[q["account"]] if d["protocol"] == q.get("protocol", d["protocol"])],
}

def control(req):
    path, j = req.path, (req.get_json(silent=True) or {})
    with LOCK:
        if req.method == "GET" and path in READERS:
            return READERS[path](req.args)
        if path == "/_ext/faults" and req.method == "DELETE":
            for k in [k for k in FAULTS if k[0] == req.args.get("account")]:
                del FAULTS[k]
            return {}
        if path == "/_ext/faults":
            FAULTS[(j["account"], j["operation"])] = {"count": int(j.get("count", 1)), "status": int(j.get("status", 500)),
                                                      "code": j.get("code", "InternalFailure"), "message": j.get("message", "injected")}
            return {}
        if path == "/_ext/lambda/results":
            RESULTS[(j["account"], j["function"], j.get("qualifier"))].extend(j.get("results", []))
            return {}
        if path == "/_ext/lambda/route":
            ROUTES[(j["account"], j["function"], j.get("qualifier"))] = j["url"]
            return {}
    if path == "/_ext/codedeploy/status":
        for region_backend in codedeploy_backends[j["account"]].values():
            if j["deploymentId"] in region_backend.deployments:
                region_backend.deployments[j["deploymentId"]].status = j["status"]
                return {}
    return Response(json.dumps({"error": f"unknown {req.method} {path} (or deployment)"}), 404, mimetype="application/json")

class ExtApp:
    def __init__(self):
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_ext/"):
            out = control(Request(environ))
            resp = out if isinstance(out, Response) else Response(json.dumps(out), mimetype="application/json")
            return resp(environ, start_response)
        if path.startswith(CBOR_PREFIX):
            return cbor_bridge(self.moto, environ, start_response)
        return self.moto(environ, start_response)

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--exit-with-parent", action="store_true")
    args = ap.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if args.exit_with_parent:
        parent = os.getppid()
        def watch():
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    server = make_server("127.0.0.1", args.port, ExtApp(), threaded=True, request_handler=MotoRequestHandler)
    print(f"READY http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()

if __name__ == "__main__":
    main()
