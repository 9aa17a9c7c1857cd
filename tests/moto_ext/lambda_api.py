"""Lambda's API as AWS serves it where moto differs: Invoke (qualifiers, 404s, throttling,
FunctionError, through lambda_exec), the creation-time checks AWS makes (CreateFunction,
UpdateFunctionConfiguration, CreateAlias, UpdateAlias, PutFunctionEventInvokeConfig,
PutFunctionConcurrency), the configuration moto drops (DeadLetterConfig, LoggingConfig,
TracingConfig on update), EventInvokeConfig per qualifier, the tag constraints TagResource and
CreateFunction enforce (README.md, Tags), and the scripted behaviour of functions whose package
has no runnable `bootstrap` (queued results, routes, default payload).
README.md (Lambda) cites the AWS source of each behaviour."""
import functools
import json
import re
import time
import unicodedata
import urllib.error
import urllib.request
from collections import defaultdict, deque
from urllib.parse import parse_qs, unquote

from moto.awslambda.exceptions import (InvalidParameterValueException, InvalidRoleFormat,
                                       LambdaClientError, UnknownEventConfig)
from moto.awslambda.models import EventInvokeConfig, LambdaBackend, LambdaFunction
from moto.awslambda.responses import LambdaResponse
from moto.iam.models import iam_backends

import lambda_exec
from common import LOCK, ExtError, error_response, region_of, route

RESULTS = defaultdict(deque)                    # (account, function, qualifier|None) -> queued results
ROUTES = {}                                     # (account, function, qualifier|None) -> runtime URL
INVOCATIONS = defaultdict(list)                 # (account, function) -> invocation records
QUOTA = {}                                      # account -> concurrent executions quota
DEFAULT_QUOTA, UNRESERVED_FLOOR = 1000, 100

# "Defined runtime environment variables": the keys Lambda reserves.
RESERVED_ENV = {"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
                "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
                "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
                "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"}
NOT_ASSUMABLE = "The role defined for the function cannot be assumed by Lambda."


def _aws_errors(method):
    """Render a common.ExtError raised by the extension in the request's protocol. Inside a
    handler moto takes the status from the headers' "status", not the tuple's first item."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except ExtError as e:
            status, headers, body = error_response(self, e.status, e.code, e.message, e.extra)
            return status, dict(headers, status=status), body
    return wrapper


# ---------------------------------------------------------------- Invoke
@_aws_errors
def invoke(self):
    raw = unquote(self.path.rsplit("/", 2)[-2])
    qualifier = parse_qs(self.parsed_url.query).get("Qualifier", [None])[0]
    itype = self.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
    acct, region, body = self.current_account, region_of(self), self.raw_body or b""
    if itype == "Event":  # queued: 202 at once, whatever happens to the event later
        lambda_exec.invoke_async(acct, region, raw, qualifier, body)
        return 202, {"status": 202}, ""
    if itype == "DryRun":
        t = lambda_exec.resolve(acct, region, raw, qualifier)
        record(acct, t.name, t.qualifier, "DryRun", body)
        return 204, {"status": 204}, ""
    tail = (self.headers.get("X-Amz-Log-Type") or "").lower() == "tail"
    out = lambda_exec.invoke_sync(acct, region, raw, qualifier, body, log_tail=tail)
    headers = {"status": 200, "Content-Type": "application/json", "X-Amz-Executed-Version": out["executed_version"]}
    if out["function_error"]:
        headers["X-Amz-Function-Error"] = out["function_error"]
    if out["log_result"] is not None:
        headers["X-Amz-Log-Result"] = out["log_result"]
    return 200, headers, out["payload"]


LambdaResponse.invoke = invoke


def record(account, name, qualifier, itype, payload):
    """Every invoke that passed the existence and throttle checks (/_ext/lambda/invocations)."""
    try:
        recorded = json.loads(payload) if payload else None
    except ValueError:
        recorded = payload.decode("utf-8", "replace")
    with LOCK:
        INVOCATIONS[(account, name)].append({"qualifier": qualifier, "invocation_type": itype, "payload": recorded})


def _pick(table, acct, name, qualifier, pop):
    with LOCK:
        for key in ((acct, name, qualifier), (acct, name, None)):
            if table.get(key):
                return table[key].popleft() if pop else table[key]
    return None


def scripted(account, name, qualifier, version, payload, itype, rid):
    """One attempt of a function without runnable code: a queued result (RequestResponse
    only), else a route, else the default payload. Same shape as a real run."""
    result = (_pick(RESULTS, account, name, qualifier, True) if itype == "RequestResponse" else None) or {}
    route_url = _pick(ROUTES, account, name, qualifier, False)
    time.sleep(result.get("delay_ms", 0) / 1000)
    func_error = result.get("function_error")
    if route_url and not result:
        body, func_error = _forward(route_url, payload)
    elif "payload" in result:
        body = json.dumps(result["payload"]).encode()
    else:
        body = json.dumps({"status": "ok", "version": version}).encode()
    log = result.get("log") or f"START RequestId: {rid} Version: {version}\nEND RequestId: {rid}\n"
    return {"payload": body, "function_error": func_error, "log": log,
            "executed_version": result.get("executed_version") or version}


def _forward(url, body):
    """POST the payload to a real runtime's Invoke API; return (body, X-Amz-Function-Error)."""
    req = urllib.request.Request(url, data=body or b"{}", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=900) as r:
            return r.read(), r.headers.get("X-Amz-Function-Error")
    except urllib.error.HTTPError as e:
        return e.read(), e.headers.get("X-Amz-Function-Error") or "Unhandled"
    except OSError as e:
        return json.dumps({"errorType": "Runtime.Unreachable", "errorMessage": str(e)}).encode(), "Unhandled"


# ---------------------------------------------------------------- creation-time checks
def _check_role(account, role_arn):
    """The role exists and its trust policy lets lambda.amazonaws.com assume it."""
    m = re.match(InvalidRoleFormat.pattern, role_arn or "")
    if not m or m.group(2) != account:
        return  # moto answers a malformed or cross-account role itself
    try:
        role = iam_backends[account]["aws"].get_role_by_arn(role_arn)
    except Exception:
        raise InvalidParameterValueException(NOT_ASSUMABLE)
    if not lambda_exec.trust_allows_lambda(role.assume_role_policy_document, role_arn):
        raise InvalidParameterValueException(NOT_ASSUMABLE)


def _check_env(environment):
    reserved = sorted(k for k in ((environment or {}).get("Variables") or {}) if k in RESERVED_ENV)
    if reserved:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment variables you have "
            "provided contains reserved keys that are currently not supported for modification. Reserved keys used "
            "in this request: " + ", ".join(reserved))


def _check_dlq(account, region, role, dlq, function):
    """Lambda checks at configuration time that the role may write to the dead-letter target."""
    arn = (dlq or {}).get("TargetArn")
    if not arn:
        return
    api, service = ("SendMessage", "SQS") if arn.split(":")[2] == "sqs" else ("Publish", "SNS")
    action = "sqs:SendMessage" if service == "SQS" else "sns:Publish"
    if not lambda_exec._authorize(account, role, action, arn, "lambda:dead-letter", region, function):
        raise InvalidParameterValueException(
            f"The provided execution role does not have permissions to call {api} on {service}")


def _check_destination(account, region, role, arn, function):
    action = {"sqs": "sqs:SendMessage", "sns": "sns:Publish", "lambda": "lambda:InvokeFunction",
              "events": "events:PutEvents"}.get(arn.split(":")[2] if arn.count(":") >= 5 else "")
    if action is None or not lambda_exec._authorize(account, role, action, arn, "lambda:destination", region, function):
        raise InvalidParameterValueException(f"The destination ARN {arn} is invalid.")


_orig_fn_init = LambdaFunction.__init__
_orig_fn_update = LambdaFunction.update_configuration
_orig_fn_config = LambdaFunction.get_configuration


def _fn_init(self, account_id, spec, region, version=1):
    _orig_fn_init(self, account_id, spec, region, version)
    self.dead_letter_config = spec.get("DeadLetterConfig") or {}   # kept: moto ignores them
    self.logging_config = spec.get("LoggingConfig") or {}


def _fn_update(self, updates):
    if "DeadLetterConfig" in updates:
        self.dead_letter_config = updates["DeadLetterConfig"] or {}
    if "LoggingConfig" in updates:
        self.logging_config = updates["LoggingConfig"] or {}
    if "TracingConfig" in updates:
        self.tracing_config = updates["TracingConfig"] or {"Mode": "PassThrough"}
    return _orig_fn_update(self, updates)


def _fn_config(self, on_create=False):
    config = _orig_fn_config(self, on_create)
    if getattr(self, "dead_letter_config", None):
        config["DeadLetterConfig"] = self.dead_letter_config
    logging = dict(getattr(self, "logging_config", None) or {})
    logging.setdefault("LogFormat", "Text")
    logging.setdefault("LogGroup", f"/aws/lambda/{self.function_name}")
    if logging["LogFormat"] == "JSON":
        logging.setdefault("ApplicationLogLevel", "INFO")
        logging.setdefault("SystemLogLevel", "INFO")
    config["LoggingConfig"] = logging
    return config


LambdaFunction.__init__ = _fn_init
LambdaFunction.update_configuration = _fn_update
LambdaFunction.get_configuration = _fn_config

_orig_create = LambdaBackend.create_function
_orig_update_config = LambdaBackend.update_function_configuration
_orig_create_alias = LambdaBackend.create_alias
_orig_update_alias = LambdaBackend.update_alias
_orig_delete = LambdaBackend.delete_function


def create_function(self, spec):
    _check_tags(spec.get("Tags"))
    _check_tag_count(spec.get("Tags") or {})
    _check_role(self.account_id, spec.get("Role"))
    _check_env(spec.get("Environment"))
    _check_dlq(self.account_id, self.region_name, spec.get("Role"), spec.get("DeadLetterConfig"), spec.get("FunctionName"))
    return _orig_create(self, spec)


def update_function_configuration(self, function_name, qualifier, body):
    fn = self.get_function(function_name, qualifier)
    role = body.get("Role") or fn.role
    if "Role" in body:
        _check_role(self.account_id, role)
    if "Environment" in body:
        _check_env(body["Environment"])
    if "Role" in body or "DeadLetterConfig" in body:
        dlq = body["DeadLetterConfig"] if "DeadLetterConfig" in body else fn.dead_letter_config
        _check_dlq(self.account_id, self.region_name, role, dlq, fn.function_name)
    return _orig_update_config(self, function_name, qualifier, body)


def _check_routing(backend, function_name, primary, routing):
    """A weighted alias: one additional published version, weight in [0, 1], both versions
    with the same role and dead-letter queue, the alias not on $LATEST."""
    weights = (routing or {}).get("AdditionalVersionWeights") or {}
    if not weights:
        return
    if len(weights) > 1:
        raise InvalidParameterValueException("Only one additional version can be specified in RoutingConfig.")
    if primary == "$LATEST":
        raise InvalidParameterValueException("$LATEST is not supported for an alias pointing to more than 1 version")
    version, weight = next(iter(weights.items()))
    if not version.isdigit() or version == primary or not 0.0 <= float(weight) <= 1.0:
        raise InvalidParameterValueException(
            f"Invalid RoutingConfig: additional version {version} with weight {weight} for primary version {primary}")
    a, b = backend.get_function(function_name, primary), backend.get_function(function_name, version)  # 404s
    if a.role != b.role or (a.dead_letter_config or {}) != (b.dead_letter_config or {}):
        raise InvalidParameterValueException(
            "Both versions of a weighted alias must have the same execution role and dead-letter queue configuration.")


def create_alias(self, name, function_name, function_version, description, routing_config):
    self.get_function(function_name, function_version)  # the primary version exists
    _check_routing(self, function_name, function_version, routing_config)
    return _orig_create_alias(self, name, function_name, function_version, description, routing_config)


def update_alias(self, name, function_name, function_version, description, routing_config):
    primary = function_version or self.get_alias(name, function_name).function_version
    _check_routing(self, function_name, primary, routing_config)
    return _orig_update_alias(self, name, function_name, function_version, description, routing_config)


def put_function_concurrency(self, function_name, reserved_concurrency):
    """The account keeps UnreservedConcurrentExecutions >= 100 of its quota (default 1000)."""
    fn = self.get_function(function_name)
    quota = QUOTA.get(self.account_id, DEFAULT_QUOTA)
    others = sum(int(f.reserved_concurrency) for f in self._lambdas.latest()
                 if f.reserved_concurrency is not None and f.function_name != fn.function_name)
    if quota - others - int(reserved_concurrency) < UNRESERVED_FLOOR:
        raise InvalidParameterValueException(
            "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
            f"below its minimum value of [{UNRESERVED_FLOOR}].")
    fn.reserved_concurrency = reserved_concurrency
    return fn.reserved_concurrency


def delete_function(self, function_name, qualifier=None):
    _orig_delete(self, function_name, qualifier)
    name, q = lambda_exec.split_name(function_name)
    if not (qualifier or q):
        lambda_exec.retire_function(self.account_id, name)


LambdaBackend.create_function = create_function
LambdaBackend.update_function_configuration = update_function_configuration
LambdaBackend.create_alias = create_alias
LambdaBackend.update_alias = update_alias
LambdaBackend.put_function_concurrency = put_function_concurrency
LambdaBackend.delete_function = delete_function


# ---------------------------------------------------------------- tags (README.md, Tags)
# TagKey and TagValue in the botocore lambda model: min/max length and this pattern, which AWS
# quotes in its ValidationException. Python's `re` has no \p{L}: see _tag_text_ok.
TAG_PATTERN = r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)"
TAG_SIGNS = frozenset("_.:/=+-@")
TAG_KEY_MAX, TAG_VALUE_MAX, MAX_TAGS = 128, 256, 50
TOO_MANY_TAGS = "Number of tags exceeds resource tag limit."
NO_TAGS = "An error occurred and the request cannot be processed."


def _tag_text_ok(text):
    """TAG_PATTERN: every character a Unicode letter (L*), separator (Z*) or number (N*), as
    this Python's Unicode database classifies it, or one of _ . : / = + - @."""
    return all(c in TAG_SIGNS or unicodedata.category(c)[0] in "LZN" for c in text)


def _java_map(entries):
    """A map as AWS's validation message prints it (Java's Map.toString)."""
    return "{" + ", ".join(f"{k}={v}" for k, v in entries) + "}"


def _constraint(entries, what, low, high):
    return (f"Value '{_java_map(entries)}' at 'tags' failed to satisfy constraint: {what} must satisfy constraint: "
            f"[Member must have length less than or equal to {high}, Member must have length greater than or equal "
            f"to {low}, Member must satisfy regular expression pattern: {TAG_PATTERN}]")


def _check_tags(tags):
    """A Tags map (TagResource, CreateFunction) against TagKey and TagValue: ValidationException
    in AWS's wording, naming the offending entries; then the reserved `aws:` key prefix."""
    if not isinstance(tags, dict):
        return  # not a map: moto's own handling
    bad_values = [(k, v) for k, v in tags.items()
                  if isinstance(v, str) and not (len(v) <= TAG_VALUE_MAX and _tag_text_ok(v))]
    bad_keys = [(k, v) for k, v in tags.items()
                if isinstance(k, str) and not (1 <= len(k) <= TAG_KEY_MAX and _tag_text_ok(k))]
    errors = ([_constraint(bad_values, "Map value", 0, TAG_VALUE_MAX)] if bad_values else []) + \
             ([_constraint(bad_keys, "Map keys", 1, TAG_KEY_MAX)] if bad_keys else [])
    if errors:
        count = f"{len(errors)} validation error{'s' if len(errors) > 1 else ''} detected: "
        raise LambdaClientError("ValidationException", count + "; ".join(errors))
    reserved = sorted(k for k in tags if isinstance(k, str) and k.lower().startswith("aws:"))
    if reserved:
        raise InvalidParameterValueException(
            f"Tag keys starting with 'aws:' are reserved for AWS use: {', '.join(reserved)}")


def _check_tag_count(tags):
    """At most 50 tags on a resource; `aws:` tags do not count."""
    if sum(1 for k in tags if not str(k).lower().startswith("aws:")) > MAX_TAGS:
        raise InvalidParameterValueException(TOO_MANY_TAGS)


@_aws_errors
def tag_resource(self):
    arn = unquote(self.path.rsplit("/", 1)[-1])
    tags = self.json_body.get("Tags")
    _check_tags(tags)
    if not tags:
        raise InvalidParameterValueException(NO_TAGS)
    resource = self.backend._get_resource_by_arn(arn)  # 404 for an unknown function
    _check_tag_count({**resource.tags, **tags})
    self.backend.tag_resource(arn, tags)
    return "{}"


LambdaResponse.tag_resource = tag_resource


# ---------------------------------------------------------------- EventInvokeConfig per qualifier
def _eic_target(self):
    raw = unquote(self.path).split("/functions/", 1)[1].split("/event-invoke-config")[0]
    name, q = lambda_exec.split_name(raw)
    qualifier = self.querystring.get("Qualifier", [None])[0] or q or "$LATEST"
    fn = self.backend.get_function(name, qualifier)  # 404 for an unknown function, version or alias
    arn = f"arn:aws:lambda:{region_of(self)}:{self.current_account}:function:{name}:{qualifier}"
    return (self.current_account, region_of(self), name, qualifier), fn, arn


def _eic_response(cfg):
    out = {"DestinationConfig": {"OnSuccess": {}, "OnFailure": {}}}
    out.update(cfg)
    return out


def _put_eic(self, replace):
    key, fn, arn = _eic_target(self)
    with LOCK:
        old = lambda_exec.EVENT_CONFIGS.get(key)
    if not replace and old is None:
        raise UnknownEventConfig(arn)
    body = {k: v for k, v in json.loads(self.body or "{}").items()
            if k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")}
    cfg = body if replace else {**{k: v for k, v in old.items() if k not in ("FunctionArn", "LastModified")}, **body}
    EventInvokeConfig(arn, "", cfg)  # moto's validation: ranges and destination ARN pattern
    for side in ("OnSuccess", "OnFailure"):
        dest = ((cfg.get("DestinationConfig") or {}).get(side) or {}).get("Destination")
        if dest:
            _check_destination(key[0], key[1], fn.role, dest, key[2])
    cfg = dict(cfg, FunctionArn=arn, LastModified=time.time())
    with LOCK:
        lambda_exec.EVENT_CONFIGS[key] = cfg
    return 200, {}, json.dumps(_eic_response(cfg))


def put_function_event_invoke_config(self):
    return _put_eic(self, replace=True)


def update_function_event_invoke_config(self):
    return _put_eic(self, replace=False)


def get_function_event_invoke_config(self):
    key, _, arn = _eic_target(self)
    with LOCK:
        cfg = lambda_exec.EVENT_CONFIGS.get(key)
    if cfg is None:
        raise UnknownEventConfig(arn)
    return 200, {}, json.dumps(_eic_response(cfg))


def delete_function_event_invoke_config(self):
    key, _, arn = _eic_target(self)
    with LOCK:
        if lambda_exec.EVENT_CONFIGS.pop(key, None) is None:
            raise UnknownEventConfig(arn)
    return 204, {"status": 204}, ""


def list_function_event_invoke_configs(self):
    key, _, _ = _eic_target(self)
    with LOCK:
        cfgs = [_eic_response(c) for k, c in lambda_exec.EVENT_CONFIGS.items() if k[:3] == key[:3]]
    return 200, {}, json.dumps({"FunctionEventInvokeConfigs": cfgs})


LambdaResponse.put_function_event_invoke_config = put_function_event_invoke_config
LambdaResponse.update_function_event_invoke_config = update_function_event_invoke_config
LambdaResponse.get_function_event_invoke_config = get_function_event_invoke_config
LambdaResponse.delete_function_event_invoke_config = delete_function_event_invoke_config
LambdaResponse.list_function_event_invoke_configs = list_function_event_invoke_configs


# ---------------------------------------------------------------- control API
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


@route("POST", "/_ext/lambda/quota")
def _quota(req, j):
    with LOCK:
        QUOTA[j["account"]] = int(j["concurrency"])
    return {"concurrency": QUOTA[j["account"]]}
