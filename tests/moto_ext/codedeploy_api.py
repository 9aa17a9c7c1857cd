"""Gap 3: CodeDeploy PutLifecycleEventHookExecutionStatus and StopDeployment (missing in moto)."""
from collections import defaultdict
from datetime import datetime

from moto.codedeploy.exceptions import CodeDeployException
from moto.codedeploy.models import codedeploy_backends
from moto.codedeploy.responses import CodeDeployResponse
from moto.core.responses import ActionResult
from werkzeug.wrappers import Response

from common import LOCK, route

HOOKS, STOPPED = defaultdict(list), defaultdict(list)  # account -> CodeDeploy records


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


@route("GET", "/_ext/codedeploy/hook-statuses")
def _hook_statuses(req, j):
    with LOCK:
        return list(HOOKS[req.args["account"]])


@route("GET", "/_ext/codedeploy/stopped")
def _stopped(req, j):
    with LOCK:
        return list(STOPPED[req.args["account"]])


@route("POST", "/_ext/codedeploy/status")
def _set_status(req, j):
    for region_backend in codedeploy_backends[j["account"]].values():
        if j["deploymentId"] in region_backend.deployments:
            region_backend.deployments[j["deploymentId"]].status = j["status"]
            return {}
    return Response('{"error": "unknown deployment"}', 404, mimetype="application/json")
