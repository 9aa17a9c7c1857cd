"""Gap 2: Lambda Invoke with qualifiers, 404s, reserved concurrency 0, queued or routed
results and FunctionError (moto needs Docker to run a function and ignores the qualifier)."""
import base64
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict, deque
from urllib.parse import parse_qs, unquote

from moto.awslambda.responses import LambdaResponse
from moto.core.exceptions import JsonRESTError

from common import LOCK, route

RESULTS = defaultdict(deque)                    # (account, function, qualifier|None) -> queued results
ROUTES = {}                                     # (account, function, qualifier|None) -> runtime URL
INVOCATIONS = defaultdict(list)                 # (account, function) -> invocation records


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
    route_url = _pick(ROUTES, acct, name, qualifier, False)
    if itype == "Event":
        if route_url:
            threading.Thread(target=_forward, args=(route_url, body), daemon=True).start()
        return 202, {"status": 202, "X-Amz-Executed-Version": version}, ""
    if itype == "DryRun":
        return 204, {"status": 204}, ""
    result = _pick(RESULTS, acct, name, qualifier, True) or {}
    time.sleep(result.get("delay_ms", 0) / 1000)
    func_error = result.get("function_error")
    if route_url and not result:
        payload, func_error = _forward(route_url, body)
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
    """POST the payload to a real runtime's Invoke API; return (body, X-Amz-Function-Error)."""
    req = urllib.request.Request(url, data=body or b"{}", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=900) as r:
            return r.read(), r.headers.get("X-Amz-Function-Error")
    except urllib.error.HTTPError as e:
        return e.read(), e.headers.get("X-Amz-Function-Error") or "Unhandled"


LambdaResponse.invoke = invoke


@route("GET", "/_ext/lambda/invocations")
def _invocations(req, j):
    with LOCK:
        return list(INVOCATIONS[(req.args["account"], req.args["function"])])


@route("POST", "/_ext/lambda/results")
def _queue_results(req, j):
    with LOCK:
        RESULTS[(j["account"], j["function"], j.get("qualifier"))].extend(j.get("results", []))
    return {}


@route("POST", "/_ext/lambda/route")
def _route(req, j):
    with LOCK:
        ROUTES[(j["account"], j["function"], j.get("qualifier"))] = j["url"]
    return {}
