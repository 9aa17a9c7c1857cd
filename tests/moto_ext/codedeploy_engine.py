"""CodeDeploy for Lambda: runs a deployment's lifecycle as AWS does (README.md, CodeDeploy).

Start -> BeforeAllowTraffic hook -> AllowTraffic (the alias shifted per the deployment
configuration) -> AfterAllowTraffic hook -> End, alarms watched throughout. On a failure, an
alarm or a stop, the alias is flipped back and a rollback deployment (its own id, creator
codeDeployRollback) is recorded when the effective AutoRollbackConfiguration enables that
event. One thread per deployment; every wait goes through common.CLOCK. CodeDeploy acts as the
deployment group's service role: each hook invoke, GetAlias/UpdateAlias and DescribeAlarms is
authorised by iam_authz against that role (source codedeploy:*), then done on the backends as
the service itself would (no STS session, no HTTP round trip).

Interfaces: start_alias_deployment / wait_deployment (the provisioner); start, stop,
report_hook, timeline, runs_group (codedeploy_api)."""
import base64
import json
import sys
import threading
import time
import uuid
from collections import defaultdict

import yaml
from moto.awslambda.models import lambda_backends
from moto.cloudwatch.models import cloudwatch_backends
from moto.codedeploy.exceptions import CodeDeployException
from moto.core.exceptions import JsonRESTError
from moto.codedeploy.models import codedeploy_backends
from moto.core.utils import utcnow
from moto.iam.exceptions import NotFoundException
from moto.iam.models import iam_backends

import events_ext
import iam_authz
import lambda_exec
from common import CLOCK, LOCK, ExtError, admin_client, route

RUNS = {}                              # (account, deployment id) -> Run
ENABLED = defaultdict(lambda: True)    # account -> does the engine run its Lambda deployments
IN_FLIGHT = ("Created", "Queued", "InProgress", "Ready", "Baking")
TERMINAL = ("Succeeded", "Failed", "Stopped")
LIFECYCLE = ("BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic")

HOOK_TIMEOUT = 3600      # AWS s: a hook must report within one hour (AppSpec 'hooks' section)
ALARM_POLL = 5           # AWS s between alarm polls (AWS documents no interval)
ROLLBACK_SETTLE = 30     # AWS s a rollback deployment stays InProgress (not documented)
MIN_NAP = 0.1            # real s: scaled polling never spins faster than this
STOP_WAIT = 15           # real s StopDeployment waits for the engine before answering Pending
EVENT_TYPE = "CodeDeploy Deployment State-change Notification"
ALARM_MESSAGE = ("One or more alarms have been activated according to the Amazon CloudWatch metrics you "
                 "selected, and the affected deployments have been stopped. Activated alarms: {}")
ROLE_MESSAGE = ("The IAM role {} does not give you permission to perform operations in the following AWS "
                "service: AWSLambda. Contact your AWS administrator if you need help. If you are an AWS "
                "administrator, you can grant permissions to your users or groups by creating IAM policies.")


class Abort(Exception):
    """Ends a deployment: its final status, AWS error code and message, and the AutoRollbackEvent
    it counts as (DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM, DEPLOYMENT_STOP_ON_REQUEST)."""

    def __init__(self, status, code, message, event, auto_rollback=True):
        super().__init__(message)
        self.status, self.code, self.message, self.event = status, code, message, event
        self.auto_rollback = auto_rollback


class Run:
    """One deployment the engine runs, with what tests read back (timeline)."""

    def __init__(self, account, region, dep, routing, rollback_of):
        self.account, self.region, self.dep, self.routing = account, region, dep, routing
        self.rollback_of = rollback_of                   # the original's Run, for a rollback deployment
        self.role = dep.deployment_group.service_role_arn
        self.wake, self.done = threading.Event(), threading.Event()
        self.stop_request = None                        # {"auto_rollback": bool} once StopDeployment came
        self.hooks = {}                                 # execution id -> {"event", "status"}
        self.events = [{"lifecycleEventName": n, "status": "Pending", "start": None, "end": None} for n in LIFECYCLE]
        self.weights, self.spec, self.next_poll, self.assumed = [], None, 0.0, False
        self.t0 = time.time()
        self.thread = threading.Thread(target=_main, args=(self,), daemon=True, name=f"codedeploy-{dep.deployment_id}")

    def t(self):
        """AWS seconds since the deployment was created (real time divided by the scale)."""
        return round((time.time() - self.t0) / CLOCK.scale(self.account), 3)


# ---- eligibility and start -------------------------------------------------------------------

def _role(account, region, arn):
    try:
        return iam_backends[account]["aws"].get_role_by_arn(arn or "")
    except NotFoundException:
        return None


def runs_group(account, region, group):
    """Does the engine run this group's deployments? Lambda platform and a service role that
    exists in the account's IAM; otherwise deployments stay Created and are driven by hand."""
    return (ENABLED[account] and group.application.compute_platform == "Lambda"
            and _role(account, region, group.service_role_arn) is not None)


def start(account, region, dep, routing, rollback_of=None):
    """Called by CreateDeployment. Returns the Run, or None when the engine does not run this
    deployment. A rollback deployment's thread is started by the original once it has ended."""
    if not runs_group(account, region, dep.deployment_group):
        return None
    run = Run(account, region, dep, routing, rollback_of)
    with LOCK:
        RUNS[(account, dep.deployment_id)] = run
    if rollback_of is None:
        run.thread.start()
    return run


# ---- the lifecycle ----------------------------------------------------------------------------

def _main(run):
    try:
        _begin(run)
        (_rollback_lifecycle if run.rollback_of else _lifecycle)(run)
        _end(run, "Succeeded")
    except Abort as a:
        _abort(run, a)
    except Exception as e:  # an emulator bug must end the deployment, not hang it
        print(f"codedeploy engine: {run.dep.deployment_id}: {e!r}", file=sys.stderr)
        _abort(run, Abort("Failed", "INTERNAL_ERROR", f"CodeDeploy internal error: {e}", "DEPLOYMENT_FAILURE"))
    finally:
        run.done.set()


def _begin(run):
    with LOCK:
        run.dep.status, run.dep.start_time = "InProgress", utcnow()
    _emit(run, "START")
    _check_stop(run)
    run.spec = _parse_appspec(run.dep.revision)
    _assume_role(run)
    run.assumed = True


def _lifecycle(run):
    _check_alias(run)
    _step(run, "BeforeAllowTraffic", lambda: _hook(run, "BeforeAllowTraffic"))
    _step(run, "AllowTraffic", lambda: _shift(run))
    _step(run, "AfterAllowTraffic", lambda: _hook(run, "AfterAllowTraffic"))


def _rollback_lifecycle(run):
    """A rollback redeploys the original version at once; its hooks are not run (assumption,
    see notes) and alarms are not watched (they are usually still in ALARM)."""
    _step(run, "BeforeAllowTraffic", None)
    _step(run, "AllowTraffic", lambda: (_set_alias(run, run.spec["target"]), _wait(run, ROLLBACK_SETTLE)))
    _step(run, "AfterAllowTraffic", None)


def _step(run, name, fn):
    """Runs one lifecycle event, recording its status and start/end (AWS seconds)."""
    ev = next(e for e in run.events if e["lifecycleEventName"] == name)
    if fn is None or (name != "AllowTraffic" and not run.spec["hooks"].get(name)):
        ev.update(status="Skipped", start=run.t(), end=run.t())
        return
    ev.update(status="InProgress", start=run.t())
    try:
        fn()
        ev["status"] = "Succeeded"
    except Abort:
        ev["status"] = "Failed"
        raise
    finally:
        ev["end"] = run.t()


def _hook(run, event):
    """Invokes the hook asynchronously as the service role, then waits for its status."""
    fn = run.spec["hooks"][event]
    arn = fn if fn.startswith("arn:") else f"arn:aws:lambda:{run.region}:{run.account}:function:{fn}"
    exec_id = base64.b64encode(json.dumps({"deploymentId": run.dep.deployment_id, "event": event,
                                           "nonce": uuid.uuid4().hex}).encode()).decode()
    with LOCK:
        run.hooks[exec_id] = {"event": event, "status": None}
    _as_role(run, "lambda:InvokeFunction", arn, "codedeploy:hook")
    payload = json.dumps({"DeploymentId": run.dep.deployment_id, "LifecycleEventHookExecutionId": exec_id})
    try:
        lambda_exec.invoke_async(run.account, run.region, fn, None, payload.encode())
    except ExtError as e:
        raise Abort("Failed", "INVALID_LAMBDA_FUNCTION", f"Could not invoke the {event} hook {fn}: {e.message}",
                    "DEPLOYMENT_FAILURE")
    if not _wait(run, HOOK_TIMEOUT, until=lambda: run.hooks[exec_id]["status"]):
        _close_hooks(run, "Failed")
        raise Abort("Failed", "HOOK_EXECUTION_FAILURE", f"The {event} hook {fn} did not report a status to "
                    "CodeDeploy within one hour (PutLifecycleEventHookExecutionStatus).", "DEPLOYMENT_FAILURE")
    if run.hooks[exec_id]["status"] == "Failed":
        raise Abort("Failed", "HOOK_EXECUTION_FAILURE",
                    f"The {event} hook {fn} reported Failed for deployment {run.dep.deployment_id}.", "DEPLOYMENT_FAILURE")


def _shift(run):
    """Shifts the alias per the deployment configuration: canary (one step, then all), linear
    (equal steps every interval) or all at once; the last step makes the target the alias's
    version with no routing."""
    for weight, minutes in traffic_steps(run.routing):
        _set_alias(run, run.spec["current"], {run.spec["target"]: weight})
        _wait(run, minutes * 60)
    _set_alias(run, run.spec["target"])


def traffic_steps(routing):
    """[(weight of the target, minutes to wait after it)] before the final 100 % step."""
    kind = (routing or {}).get("type", "AllAtOnce")
    if kind == "TimeBasedCanary":
        c = routing["timeBasedCanary"]
        return [(c["canaryPercentage"] / 100, c["canaryInterval"])]
    if kind == "TimeBasedLinear":
        p, i = routing["timeBasedLinear"]["linearPercentage"], routing["timeBasedLinear"]["linearInterval"]
        return [(round(k * p / 100, 6), i) for k in range(1, (100 + p - 1) // p) if k * p < 100]
    return []


# ---- waiting, stops and alarms ----------------------------------------------------------------

def _wait(run, seconds, until=None):
    """Waits `seconds` of AWS time; returns True early once `until()` is truthy. A stop request
    or an alarm in ALARM (polled every ALARM_POLL s, hooks included) ends it with Abort."""
    deadline = time.time() + CLOCK.scaled(run.account, seconds)
    while True:
        _check_stop(run)
        _check_alarms(run)
        if until is not None and until():
            return True
        left = deadline - time.time()
        if left <= 0:
            return False
        run.wake.wait(min(left, max(MIN_NAP, CLOCK.scaled(run.account, ALARM_POLL))))
        run.wake.clear()


def _check_stop(run):
    req = run.stop_request
    if req is not None:
        raise Abort("Stopped", "MANUAL_STOP", "The deployment was stopped by a user request (StopDeployment).",
                    "DEPLOYMENT_STOP_ON_REQUEST", req["auto_rollback"])


def _alarm_config(run):
    override = run.dep.override_alarm_configuration
    return override if override else (run.dep.deployment_group.alarm_configuration or {})


def _check_alarms(run):
    cfg = _alarm_config(run)
    names = [a["name"] for a in cfg.get("alarms") or [] if a.get("name")]
    if run.rollback_of or not cfg.get("enabled") or not names or time.time() < run.next_poll:
        return
    run.next_poll = time.time() + max(MIN_NAP, CLOCK.scaled(run.account, ALARM_POLL))
    try:  # cloudwatch:DescribeAlarms as the service role, one alarm ARN each (as iam_authz resolves it)
        for n in names:
            iam_authz.require(run.account, run.role, "cloudwatch:DescribeAlarms",
                              f"arn:aws:cloudwatch:{run.region}:{run.account}:alarm:{n}", source="codedeploy:alarms",
                              region=run.region)
    except ExtError as e:
        if cfg.get("ignorePollAlarmFailure"):
            return
        raise Abort("Stopped", "ALARM_ACTIVE", f"CodeDeploy could not retrieve the state of the deployment's "
                    f"alarms from Amazon CloudWatch: {e.message}", "DEPLOYMENT_STOP_ON_ALARM")
    alarms = cloudwatch_backends[run.account][run.region].alarms
    firing = [n for n in names if n in alarms and alarms[n].state_value == "ALARM"]
    if firing:
        raise Abort("Stopped", "ALARM_ACTIVE", ALARM_MESSAGE.format(", ".join(f"<{n}>" for n in firing)),
                    "DEPLOYMENT_STOP_ON_ALARM")


# ---- the service role, the AppSpec and the alias ----------------------------------------------

def _assume_role(run):
    """CodeDeploy assumes the group's service role: the role must trust codedeploy.amazonaws.com."""
    role = _role(run.account, run.region, run.role)
    if role is None or not iam_authz.resource_policy_allows(
            role.assume_role_policy_document, {"Service": "codedeploy.amazonaws.com"}, "sts:AssumeRole", run.role):
        raise Abort("Failed", "IAM_ROLE_PERMISSIONS", f"CodeDeploy does not have the permissions required to "
                    f"assume the role {run.role}.", "DEPLOYMENT_FAILURE")


def _as_role(run, action, resource, source):
    """Authorises one call CodeDeploy makes with the service role (recorded by iam_authz)."""
    try:
        iam_authz.require(run.account, run.role, action, resource, source=source, region=run.region)
    except ExtError:
        raise Abort("Failed", "IAM_ROLE_PERMISSIONS", ROLE_MESSAGE.format(run.role), "DEPLOYMENT_FAILURE")


def _parse_appspec(revision):
    """The Lambda AppSpec (JSON or YAML; AppSpecContent or the deprecated String revision): its
    AWS::Lambda::Function resource and the hooks by lifecycle event."""
    inline = (revision or {}).get("appSpecContent") or (revision or {}).get("string") or {}
    try:
        doc = yaml.safe_load(inline.get("content") or "")
        res = next(iter(_key(doc, "Resources")[0].values()))
        props = _key(res, "Properties")
        name = str(_key(props, "Name"))
        spec = {"name": name.split(":")[6] if name.startswith("arn:") else name, "alias": str(_key(props, "Alias")),
                "current": str(_key(props, "CurrentVersion")), "target": str(_key(props, "TargetVersion"))}
        spec["hooks"] = {k: v for h in _key(doc, "Hooks", []) or [] for k, v in h.items()}
        return spec
    except Exception as e:
        raise Abort("Failed", "INVALID_REVISION", f"The AppSpec file is not a valid Lambda AppSpec: {e!r}",
                    "DEPLOYMENT_FAILURE")


def _key(d, name, default=KeyError):
    """AppSpec keys as AWS reads them: `Resources` or `resources`, and so on."""
    for k in (name, name[0].lower() + name[1:]):
        if k in d:
            return d[k]
    if default is KeyError:
        raise KeyError(name)
    return default


def _check_alias(run):
    """A weighted alias (left by a stop without rollback) makes the deployment fail, as the
    CodeDeploy troubleshooting guide describes."""
    s = run.spec
    alias = _alias_call(run, "GetAlias", lambda b: b.get_alias(s["alias"], s["name"]))
    extra = (alias.routing_config or {}).get("AdditionalVersionWeights") or {}
    _record_weights(run, alias.function_version, extra)
    if extra:
        raise Abort("Failed", "INVALID_LAMBDA_CONFIGURATION", f"The alias {s['alias']} of {s['name']} routes traffic "
                    f"to more than one version ({alias.function_version} and {', '.join(extra)}); "
                    "remove its weighted routing and deploy again.", "DEPLOYMENT_FAILURE")


def _set_alias(run, version, extra=None):
    """lambda:UpdateAlias as the service role; the Lambda module's checks on weights apply."""
    s, routing = run.spec, ({"AdditionalVersionWeights": extra} if extra else {})  # {}: no routing left
    _alias_call(run, "UpdateAlias", lambda b: b.update_alias(s["alias"], s["name"], version, None, routing))
    _record_weights(run, version, extra or {})


def _alias_call(run, op, call):
    s = run.spec
    _as_role(run, f"lambda:{op}", f"arn:aws:lambda:{run.region}:{run.account}:function:{s['name']}:{s['alias']}",
             "codedeploy:traffic")
    try:
        return call(lambda_backends[run.account][run.region])
    except JsonRESTError as e:
        raise Abort("Failed", "INVALID_LAMBDA_CONFIGURATION", f"Lambda {op} on {s['name']}:{s['alias']} failed: "
                    f"{e.error_type}: {e.message}", "DEPLOYMENT_FAILURE")


def _record_weights(run, version, extra):
    weights = {str(v): w for v, w in extra.items()}
    weights[str(version)] = round(1 - sum(weights.values()), 6)
    with LOCK:
        run.weights.append({"t": run.t(), "weights": weights})


# ---- ending: statuses, rollback, events -------------------------------------------------------

def _end(run, status, error=None):
    with LOCK:
        run.dep.status, run.dep.complete_time, run.dep.error_information = status, utcnow(), error
    _emit(run, {"Succeeded": "SUCCESS", "Failed": "FAILURE", "Stopped": "STOP"}[status])


def _abort(run, a):
    for ev in run.events:
        if ev["status"] in ("Pending", "InProgress"):
            ev.update(status="Skipped" if ev["status"] == "Pending" else "Failed", end=run.t())
    _close_hooks(run, "Failed")
    rollback = _rollback_wanted(run, a)
    if rollback:
        try:
            _set_alias(run, run.spec["current"])  # the alias flips back at once
        except Abort as e:
            print(f"codedeploy engine: {run.dep.deployment_id}: alias not restored: {e.message}", file=sys.stderr)
        rb = _create_rollback(run)
        rollback = rb is not None  # None only if the engine was turned off meanwhile
    if rollback:
        run.dep.rollback_info = {"rollbackDeploymentId": rb.dep.deployment_id, "rollbackMessage":
                                 f"Deployment {run.dep.deployment_id} terminated. Automatic rollback is "
                                 f"triggered with a DeploymentId {rb.dep.deployment_id}."}
    _end(run, a.status, {"code": a.code, "message": a.message})
    if rollback:
        rb.thread.start()


def _rollback_wanted(run, a):
    """The deployment's own AutoRollbackConfiguration, else the group's, must enable the event;
    a stop also needs autoRollbackEnabled. A rollback deployment is never rolled back."""
    if run.rollback_of or not run.assumed:
        return False
    cfg = run.dep.auto_rollback_configuration or run.dep.deployment_group.auto_rollback_configuration or {}
    return bool(cfg.get("enabled")) and a.event in (cfg.get("events") or []) and a.auto_rollback


def _create_rollback(run):
    """A new deployment of the last good version (the AppSpec with the versions swapped, no
    hooks) with the predefined all-at-once configuration; its thread starts after the original ends."""
    s, dep = run.spec, run.dep
    content = json.dumps({"version": 0.0, "Resources": [{s["name"]: {"Type": "AWS::Lambda::Function", "Properties": {
        "Name": s["name"], "Alias": s["alias"], "CurrentVersion": s["target"], "TargetVersion": s["current"]}}}]})
    backend = codedeploy_backends[run.account][run.region]
    rb_id = backend.create_deployment(dep.application_name, dep.deployment_group_name,
                                      {"revisionType": "AppSpecContent", "appSpecContent": {"content": content}},
                                      "CodeDeployDefault.LambdaAllAtOnce", creator="codeDeployRollback", rollback_of=run)
    rb = run_of(run.account, rb_id)
    if rb is None:
        return None
    rb.dep.rollback_info = {"rollbackTriggeringDeploymentId": dep.deployment_id, "rollbackMessage":
                            f"Deployment {rb_id} is triggered to roll back deployment {dep.deployment_id}."}
    return rb


def _close_hooks(run, status):
    """Hooks still waiting are completed: a later report gets LifecycleEventAlreadyCompletedException."""
    with LOCK:
        for h in run.hooks.values():
            h["status"] = h["status"] or status


def _emit(run, state):
    """EventBridge 'CodeDeploy Deployment State-change Notification' on the default bus."""
    dep, acct, region = run.dep, run.account, run.region
    arn = f"arn:aws:codedeploy:{region}:{acct}:"
    detail = {"account": acct, "region": region, "application": dep.application_name,
              "deploymentId": dep.deployment_id, "deploymentGroup": dep.deployment_group_name,
              "instanceGroupId": dep.deployment_group.deployment_group_id, "state": state}
    resources = [f"{arn}deploymentgroup:{dep.application_name}/{dep.deployment_group_name}",
                 f"{arn}application:{dep.application_name}"]
    try:
        events_ext.put_service_event(acct, region, "aws.codedeploy", EVENT_TYPE, detail, resources)
    except Exception as e:  # a delivery problem never changes the deployment
        print(f"codedeploy engine: {dep.deployment_id}: {state} event not delivered: {e!r}", file=sys.stderr)


# ---- what the API module calls ----------------------------------------------------------------

def run_of(account, deployment_id):
    with LOCK:
        return RUNS.get((account, deployment_id))


def stop(run, auto_rollback):
    """StopDeployment: the engine ends the deployment (and rolls back if asked and enabled).
    Returns "Succeeded" once it has, or "Pending" if it is still busy after STOP_WAIT."""
    run.stop_request = {"auto_rollback": bool(auto_rollback)}
    run.wake.set()
    return "Succeeded" if run.done.wait(STOP_WAIT) else "Pending"


def report_hook(run, execution_id, status):
    """PutLifecycleEventHookExecutionStatus for a deployment the engine runs."""
    with LOCK:
        hook = run.hooks.get(execution_id)
        if hook is None:
            raise CodeDeployException("InvalidLifecycleEventHookExecutionIdException",
                                      f"The lifecycle event hook execution ID {execution_id} is not valid.")
        if hook["status"] is not None:
            raise CodeDeployException("LifecycleEventAlreadyCompletedException",
                                      f"The lifecycle event {execution_id} is already completed.")
        hook["status"] = status
    run.wake.set()


def timeline(run):
    with LOCK:
        return {"deploymentId": run.dep.deployment_id, "status": run.dep.status,
                "lifecycleEvents": [dict(e) for e in run.events], "weights": list(run.weights),
                "hooks": [{"lifecycleEventHookExecutionId": k, **v} for k, v in run.hooks.items()]}


@route("POST", "/_ext/codedeploy/engine")
def _set_enabled(req, j):
    """{"account", "enabled": false}: later deployments in the account are left for tests to drive."""
    ENABLED[j["account"]] = bool(j.get("enabled", True))
    return {"enabled": ENABLED[j["account"]]}


# ---- what the CloudFormation provisioner calls -------------------------------------------------

def start_alias_deployment(account, region, application, group, function_name, alias,
                           current_version, target_version, before_hook=None, after_hook=None):
    """Create and start a deployment of `alias` from `current_version` to `target_version` as
    CloudFormation's CodeDeployLambdaAliasUpdate does (an AppSpec revision, hooks named by
    function name). Returns the deployment id."""
    hooks = [{k: v} for k, v in (("BeforeAllowTraffic", before_hook), ("AfterAllowTraffic", after_hook)) if v]
    appspec = {"version": 0.0, "Resources": [{function_name: {"Type": "AWS::Lambda::Function", "Properties": {
        "Name": function_name, "Alias": alias, "CurrentVersion": str(current_version),
        "TargetVersion": str(target_version)}}}], "Hooks": hooks}
    out = admin_client("codedeploy", account, region).create_deployment(
        applicationName=application, deploymentGroupName=group,
        revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": json.dumps(appspec)}})
    return out["deploymentId"]


def wait_deployment(account, region, deployment_id, timeout_seconds=None):
    """Block until the deployment is Succeeded, Failed or Stopped; return GetDeployment's
    deploymentInfo as a dict. Raises TimeoutError after `timeout_seconds` (real time)."""
    deadline = None if timeout_seconds is None else time.time() + timeout_seconds
    dep = codedeploy_backends[account][region].get_deployment(deployment_id)
    while dep.status not in TERMINAL:
        if deadline is not None and time.time() > deadline:
            raise TimeoutError(f"deployment {deployment_id} is still {dep.status}")
        run = run_of(account, deployment_id)
        (run.done.wait(0.5) if run else time.sleep(0.5))
    client = admin_client("codedeploy", account, region)
    return client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
