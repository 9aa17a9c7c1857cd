"""Gap 3: CodeDeploy as AWS serves it (README.md, CodeDeploy): PutLifecycleEventHookExecutionStatus
and StopDeployment (missing in moto), d-XXXXXXXXX ids, the AppSpec kept as AWS keeps it
(GetDeployment shows its sha256, GetApplicationRevision its content), deployment
configurations (predefined and CreateDeploymentConfig), and Lambda deployments handed to
codedeploy_engine. Deployments the engine does not run (a group that is not Lambda, whose
service role is not an IAM role of the account, or an account with the engine off) stay
Created and are driven by hand, as before."""
import hashlib
import json
import random
import string
import uuid
from collections import defaultdict

from moto.codedeploy import responses as cd_responses
from moto.codedeploy.exceptions import CodeDeployException
from moto.codedeploy.models import CodeDeployBackend, DeploymentInfo, codedeploy_backends
from moto.codedeploy.responses import CodeDeployResponse
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from werkzeug.wrappers import Response

import codedeploy_engine as engine
from common import LOCK, route

HOOKS, STOPPED = defaultdict(list), defaultdict(list)  # account -> CodeDeploy records
REVISIONS = defaultdict(dict)     # (account, region, application) -> revision key -> registered revision
CONFIGS = defaultdict(dict)       # (account, region) -> custom deployment configuration name -> info


# ---- deployment configurations ----------------------------------------------------------------

def _canary(p, i):
    return {"type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": p, "canaryInterval": i}}


def _linear(p, i):
    return {"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": p, "linearInterval": i}}


# The predefined configurations (user guide: deployment-configurations.html).
PREDEFINED = {
    "CodeDeployDefault.LambdaAllAtOnce": ("Lambda", {"type": "AllAtOnce"}),
    **{f"CodeDeployDefault.LambdaCanary10Percent{m}Minutes": ("Lambda", _canary(10, m)) for m in (5, 10, 15, 30)},
    "CodeDeployDefault.LambdaLinear10PercentEvery1Minute": ("Lambda", _linear(10, 1)),
    **{f"CodeDeployDefault.LambdaLinear10PercentEvery{m}Minutes": ("Lambda", _linear(10, m)) for m in (2, 3, 10)},
    "CodeDeployDefault.ECSAllAtOnce": ("ECS", {"type": "AllAtOnce"}),
    **{f"CodeDeployDefault.ECSCanary10Percent{m}Minutes": ("ECS", _canary(10, m)) for m in (5, 15)},
    **{f"CodeDeployDefault.ECSLinear10PercentEvery{m}Minutes": ("ECS", _linear(10, m)) for m in (1, 3)},
    "CodeDeployDefault.OneAtATime": ("Server", {"type": "HOST_COUNT", "value": 1}),
    "CodeDeployDefault.HalfAtATime": ("Server", {"type": "FLEET_PERCENT", "value": 50}),
    "CodeDeployDefault.AllAtOnce": ("Server", {"type": "FLEET_PERCENT", "value": 0}),
}


def config_info(account, region, name):
    """DeploymentConfigInfo of a predefined or custom configuration, or None."""
    if name in PREDEFINED:
        platform, rule = PREDEFINED[name]
        info = {"deploymentConfigId": str(uuid.uuid5(uuid.NAMESPACE_URL, name)), "deploymentConfigName": name,
                "computePlatform": platform}
        info["minimumHealthyHosts" if platform == "Server" else "trafficRoutingConfig"] = rule
        return info
    with LOCK:
        return CONFIGS[(account, region)].get(name)


def _require_config(backend, name):
    info = config_info(backend.account_id, backend.region_name, str(name))
    if info is None:
        raise CodeDeployException("DeploymentConfigDoesNotExistException",
                                  f"The deployment configuration {name} does not exist with the user or AWS account.")
    return info


def _valid_routing(r):
    """InvalidTrafficRoutingConfigurationException unless the type has its matching settings."""
    kind = (r or {}).get("type")
    step = {"TimeBasedCanary": ("timeBasedCanary", "canary"), "TimeBasedLinear": ("timeBasedLinear", "linear")}.get(kind)
    rule = (r.get(step[0]) or {}) if step else {}
    pct, interval = (rule.get(f"{step[1]}Percentage"), rule.get(f"{step[1]}Interval")) if step else (None, None)
    if kind == "AllAtOnce" or (pct is not None and 0 < pct < 100 and interval and interval > 0):
        return
    raise CodeDeployException("InvalidTrafficRoutingConfigurationException",
                              f"The traffic routing configuration is invalid: {json.dumps(r)}")


def create_deployment_config(self):
    name, platform = self._get_param("deploymentConfigName"), self._get_param("computePlatform") or "Server"
    key = (self.current_account, self.region)
    if config_info(*key, name) is not None:
        raise CodeDeployException("DeploymentConfigAlreadyExistsException", f"A deployment configuration "
                                  f"named {name} already exists with the user or AWS account.")
    routing, hosts = self._get_param("trafficRoutingConfig"), self._get_param("minimumHealthyHosts")
    if platform in ("Lambda", "ECS"):
        _valid_routing(routing)
    info = {"deploymentConfigId": str(uuid.uuid4()), "deploymentConfigName": name, "computePlatform": platform,
            "createTime": utcnow(), "trafficRoutingConfig": routing, "minimumHealthyHosts": hosts}
    with LOCK:
        CONFIGS[key][name] = {k: v for k, v in info.items() if v is not None}
    return ActionResult({"deploymentConfigId": info["deploymentConfigId"]})


def get_deployment_config(self):
    info = _require_config(self.codedeploy_backend, self._get_param("deploymentConfigName"))
    return ActionResult({"deploymentConfigInfo": info})


def list_deployment_configs(self):
    with LOCK:
        custom = list(CONFIGS[(self.current_account, self.region)])
    return ActionResult({"deploymentConfigsList": sorted(PREDEFINED) + custom})


def delete_deployment_config(self):
    name = self._get_param("deploymentConfigName")
    if name in PREDEFINED:
        raise CodeDeployException("InvalidOperationException",
                                  f"The predefined deployment configuration {name} cannot be deleted.")
    _require_config(self.codedeploy_backend, name)
    in_use = any(str(g.deployment_config_name) == name
                 for groups in self.codedeploy_backend.deployment_groups.values() for g in groups.values())
    if in_use:
        raise CodeDeployException("DeploymentConfigInUseException", f"The deployment configuration {name} is in use.")
    with LOCK:
        CONFIGS[(self.current_account, self.region)].pop(name, None)
    return EmptyResult()


# ---- revisions: the AppSpec kept by sha256 ----------------------------------------------------

def _sha256(text):
    return hashlib.sha256((text or "").encode()).hexdigest()


def public_revision(rev):
    """A revision as GetDeployment shows it: inline AppSpec content replaced by its sha256."""
    out = {k: v for k, v in (rev or {}).items() if k not in ("appSpecContent", "string")}
    for key in ("appSpecContent", "string"):
        if key in (rev or {}):
            out[key] = {"sha256": (rev[key] or {}).get("sha256") or _sha256((rev[key] or {}).get("content"))}
    return out


def _full_revision(rev):
    """The revision as registered: content plus its sha256."""
    out = dict(rev or {})
    for key in ("appSpecContent", "string"):
        if key in out:
            out[key] = {**out[key], "sha256": _sha256(out[key].get("content"))}
    return out


def register_revision(account, region, app, rev, description=None, group=None):
    key = json.dumps(public_revision(rev), sort_keys=True)
    now = utcnow()
    with LOCK:
        r = REVISIONS[(account, region, app)].setdefault(
            key, {"revision": _full_revision(rev), "revisionInfo": {"registerTime": now, "deploymentGroups": []}})
        info = r["revisionInfo"]
        if description is not None:
            info["description"] = description
        if group is not None:
            info.setdefault("firstUsedTime", now)
            info["lastUsedTime"] = now
            info["deploymentGroups"] = sorted(set(info["deploymentGroups"]) | {group})


def get_application_revision(self):
    app, rev = self._get_param("applicationName"), self._get_param("revision")
    self.codedeploy_backend.get_application(app)  # ApplicationDoesNotExistException
    with LOCK:
        found = REVISIONS[(self.current_account, self.region, app)].get(json.dumps(public_revision(rev), sort_keys=True))
    if found is None:
        raise CodeDeployException("RevisionDoesNotExistException",
                                  f"No application revision found for revision {json.dumps(public_revision(rev))}")
    return ActionResult({"applicationName": app, "revision": found["revision"], "revisionInfo": found["revisionInfo"]})


def register_application_revision(self):
    app, rev = self._get_param("applicationName"), self._get_param("revision")
    self.codedeploy_backend.get_application(app)
    register_revision(self.current_account, self.region, app, rev, self._get_param("description"))
    return EmptyResult()


# ---- deployments, groups and their shapes -----------------------------------------------------

_orig_info_init = DeploymentInfo.__init__
_orig_create_deployment = CodeDeployBackend.create_deployment
_orig_create_group = CodeDeployBackend.create_deployment_group
_orig_deployment_info = cd_responses._deployment_info
_orig_group_info = cd_responses._deployment_group_info


def _deployment_info_init(self, *args, **kwargs):
    """AWS deployment ids are d- and nine upper-case letters or digits."""
    _orig_info_init(self, *args, **kwargs)
    self.deployment_id = "d-" + "".join(random.choices(string.ascii_uppercase + string.digits, k=9))
    self.error_information = self.rollback_info = None


def create_deployment(self, application_name, deployment_group_name, revision, deployment_config_name=None,
                      *args, creator="user", rollback_of=None, **kwargs):
    """Checks the configuration and (for engine groups) that no other deployment of the group is
    in flight, registers the revision, and hands a Lambda deployment to the engine."""
    group, routing = self.deployment_groups.get(application_name, {}).get(deployment_group_name), None
    with LOCK:  # the in-flight check and the creation are one step
        if group is not None:
            name = deployment_config_name or group.deployment_config_name
            routing = _require_config(self, name).get("trafficRoutingConfig")
            if rollback_of is None and engine.runs_group(self.account_id, self.region_name, group):
                _one_at_a_time(self, application_name, deployment_group_name)
        dep_id = _orig_create_deployment(self, application_name, deployment_group_name, revision,
                                         deployment_config_name, *args, **kwargs)
    dep = self.deployments[dep_id]
    dep.creator = creator
    register_revision(self.account_id, self.region_name, application_name, revision, group=deployment_group_name)
    engine.start(self.account_id, self.region_name, dep, routing, rollback_of)
    return dep_id


def _one_at_a_time(backend, app, group):
    for d in backend.deployments.values():
        if (d.application_name, d.deployment_group_name) == (app, group) and d.status in engine.IN_FLIGHT \
                and engine.run_of(backend.account_id, d.deployment_id):
            raise CodeDeployException("DeploymentLimitExceededException",
                                      f"The Deployment Group '{group}' already has an active Deployment '{d.deployment_id}'")


def create_deployment_group(self, application_name, deployment_group_name, deployment_config_name, *args, **kwargs):
    """A Lambda group defaults to CodeDeployDefault.LambdaAllAtOnce and BLUE_GREEN with traffic
    control; a named configuration must exist."""
    app = self.applications.get(application_name)
    lam = app is not None and app.compute_platform == "Lambda"
    if deployment_config_name:
        _require_config(self, deployment_config_name)
    elif lam:
        deployment_config_name = "CodeDeployDefault.LambdaAllAtOnce"
    if lam and not kwargs.get("deployment_style"):
        kwargs["deployment_style"] = {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"}
    return _orig_create_group(self, application_name, deployment_group_name, deployment_config_name, *args, **kwargs)


def _deployment_info(dep):
    info = _orig_deployment_info(dep)
    info.update(revision=public_revision(dep.revision), previousRevision=None, relatedDeployments=None,
                errorInformation=getattr(dep, "error_information", None), rollbackInfo=getattr(dep, "rollback_info", None))
    return info


def _deployment_group_info(group):
    return {**_orig_group_info(group), "alarmConfiguration": group.alarm_configuration or None}


DeploymentInfo.__init__ = _deployment_info_init
CodeDeployBackend.create_deployment = create_deployment
CodeDeployBackend.create_deployment_group = create_deployment_group
cd_responses._deployment_info = _deployment_info            # looked up at call time by GetDeployment & co
cd_responses._deployment_group_info = _deployment_group_info


# UpdateDeploymentGroup (moto lacks it): what CloudFormation calls when a group's properties
# change, e.g. SAM's DeploymentPreference.Type -> deploymentConfigName. Only the fields given
# change (botocore UpdateDeploymentGroupInput); the output lists hooks not cleaned up (none here).
_UPDATABLE = {"deploymentConfigName": "deployment_config_name", "serviceRoleArn": "service_role_arn",
              "alarmConfiguration": "alarm_configuration", "autoRollbackConfiguration": "auto_rollback_configuration",
              "deploymentStyle": "deployment_style", "triggerConfigurations": "trigger_configurations",
              "blueGreenDeploymentConfiguration": "blue_green_deployment_configuration",
              "loadBalancerInfo": "load_balancer_info", "outdatedInstancesStrategy": "outdated_instances_strategy"}


def update_deployment_group(self):
    backend, app = self.codedeploy_backend, self._get_param("applicationName")
    current = self._get_param("currentDeploymentGroupName")
    group = backend.get_deployment_group(app, current)  # DeploymentGroupDoesNotExistException
    if self._get_param("deploymentConfigName"):
        _require_config(backend, self._get_param("deploymentConfigName"))
    for param, attr in _UPDATABLE.items():
        value = self._get_param(param)
        if value is not None:
            setattr(group, attr, value)
    new_name = self._get_param("newDeploymentGroupName")
    if new_name and new_name != current:
        groups = backend.deployment_groups[app]
        if new_name in groups:
            raise CodeDeployException("DeploymentGroupAlreadyExistsException",
                                      f"A deployment group named {new_name} already exists for application {app}.")
        group.deployment_group_name = new_name
        groups[new_name] = groups.pop(current)
    return ActionResult({"hooksNotCleanedUp": []})


CodeDeployResponse.update_deployment_group = update_deployment_group


# ---- hooks and stops --------------------------------------------------------------------------

def put_lifecycle_event_hook_execution_status(self):
    dep_id, hook_id, status = (self._get_param(k) for k in ("deploymentId", "lifecycleEventHookExecutionId", "status"))
    self.codedeploy_backend.get_deployment(dep_id)  # DeploymentDoesNotExistException
    if status not in ("Succeeded", "Failed"):
        raise CodeDeployException("InvalidLifecycleEventHookExecutionStatusException", f"Invalid status: {status}")
    run = engine.run_of(self.current_account, dep_id)
    with LOCK:
        if run is None and any(h["deploymentId"] == dep_id and h["lifecycleEventHookExecutionId"] == hook_id
                               for h in HOOKS[self.current_account]):
            raise CodeDeployException("LifecycleEventAlreadyCompletedException",
                                      f"The lifecycle event {hook_id} is already completed.")
    if run is not None:
        engine.report_hook(run, hook_id, status)  # the engine knows its executions and their state
    with LOCK:
        HOOKS[self.current_account].append(
            {"deploymentId": dep_id, "lifecycleEventHookExecutionId": hook_id, "status": status})
    return ActionResult({"lifecycleEventHookExecutionId": hook_id})


def stop_deployment(self):
    dep_id, rollback = self._get_param("deploymentId"), bool(self._get_param("autoRollbackEnabled"))
    dep = self.codedeploy_backend.get_deployment(dep_id)  # DeploymentDoesNotExistException
    if dep.status in engine.TERMINAL:
        raise CodeDeployException("DeploymentAlreadyCompletedException", f"Deployment {dep_id} is already completed.")
    with LOCK:
        STOPPED[self.current_account].append({"deploymentId": dep_id, "autoRollbackEnabled": rollback})
    run = engine.run_of(self.current_account, dep_id)
    if run is None:  # a hand-driven deployment: stopped on the spot
        dep.status, dep.complete_time = "Stopped", utcnow()
        return ActionResult({"status": "Succeeded", "statusMessage": f"Deployment {dep_id} stopped"})
    status = engine.stop(run, rollback)
    return ActionResult({"status": status, "statusMessage": f"Deployment {dep_id} " +
                         ("stopped" if status == "Succeeded" else "is stopping")})


for _fn in (put_lifecycle_event_hook_execution_status, stop_deployment, get_application_revision,
            register_application_revision, create_deployment_config, get_deployment_config,
            list_deployment_configs, delete_deployment_config):
    setattr(CodeDeployResponse, _fn.__name__, _fn)  # moto dispatches by the operation's snake_case name


# ---- control routes ---------------------------------------------------------------------------

@route("GET", "/_ext/codedeploy/hook-statuses")
def _hook_statuses(req, j):
    with LOCK:
        return list(HOOKS[req.args["account"]])


@route("GET", "/_ext/codedeploy/stopped")
def _stopped(req, j):
    with LOCK:
        return list(STOPPED[req.args["account"]])


@route("GET", "/_ext/codedeploy/timeline")
def _timeline(req, j):
    run = engine.run_of(req.args["account"], req.args["deploymentId"])
    if run is None:
        return Response('{"error": "no deployment the engine runs"}', 404, mimetype="application/json")
    return engine.timeline(run)


@route("POST", "/_ext/codedeploy/status")
def _set_status(req, j):
    for region_backend in codedeploy_backends[j["account"]].values():
        if j["deploymentId"] in region_backend.deployments:
            region_backend.deployments[j["deploymentId"]].status = j["status"]
            return {}
    return Response('{"error": "unknown deployment"}', 404, mimetype="application/json")
