"""IAM as AWS enforces it, for the principals the emulator issues.

* Who is calling: a request signed with a key STS issued for a role (the Lambda module
  assumes each function's execution role) is that role's; the account's own `ACCT<id>` key
  (tests, the deployer) is the account itself and is not checked, as the root user is not.
* What is authorised: each operation maps to the IAM action(s) and resource ARN(s) the AWS
  Service Authorization Reference lists for it (`RESOLVERS`), plus the context keys a policy
  here conditions on (iam:PassedToService). An operation an assumed role calls that has no
  entry is denied with a message saying so: the emulator never guesses "*".
* The decision: `iam_policy.evaluate` over the role's inline and attached policies (AWS
  managed ones included); an explicit deny wins. A denial answers in the request's protocol
  with the service's error code and AWS's message naming principal, action and resource.
* Every decision is recorded (principal, action, resource, statements that decided it, and
  who made the call: the principal itself or an AWS service acting with its role), for the
  least-privilege report and the drill.

moto's own enforcement (INITIAL_NO_AUTH_ACTION_COUNT) is not used: it resolves resources only
for SQS, IAM and STS and authorises everything else against "*".
"""
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from moto.core.responses import ActionResult
from moto.core.utils import get_service_model
from moto.iam.models import iam_backends
from moto.iam.responses import IamResponse
from moto.sts.models import sts_backends

import cross_account
import faults
import iam_policy
from accounts import is_admin_key
from common import LOCK, ExtError, error_response, route

CALLS = {}  # account -> [decision records]


@dataclass
class Decision:
    allowed: bool
    explicit_deny: bool = False
    statements: list = field(default_factory=list)
    message: str = ""


# ---- principals and their policies ---------------------------------------------------------

def _iam(account):
    return iam_backends[account]["aws"]


def role_of_key(account, access_key):
    """(role ARN, session ARN) of an STS-issued key in `account`, else None."""
    key = _iam(account).access_keys.get(access_key)
    role_arn = getattr(key, "role_arn", None)
    if not role_arn:
        return None
    session = next((r.arn for r in sts_backends[account]["aws"].assumed_roles
                    if r.access_key_id == access_key), f"{role_arn} (session)")
    return role_arn, session


def identity_policies(account, role_arn):
    """[(policy id, document)] of a role: inline as `RoleName/PolicyName`, attached by ARN."""
    role = _iam(account).get_role_by_arn(role_arn)
    docs = [(f"{role.name}/{name}", doc) for name, doc in role.policies.items()]
    for arn, policy in role.managed_policies.items():
        version = next(v for v in policy.versions if v.is_default) if policy.versions else None
        docs.append((arn, version.document if version else policy.document))
    return docs


def _session_of(role_arn):
    return f"{role_arn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/session"


# ---- evaluation and records ------------------------------------------------------------------

def authorize(account, role_arn, action, resource, context=None, source="api", region="us-east-1",
              session=None, operation=None):
    """Evaluate and record one request context; never raises for a denial."""
    try:
        policies = identity_policies(account, role_arn)
    except Exception:  # the role is gone: nothing allows
        policies = []
    result = iam_policy.evaluate(policies, action, resource, context or {})
    who = session or _session_of(role_arn)
    decision = Decision(result.allowed, result.decision == "explicitDeny", result.statements)
    if not decision.allowed:
        why = ("with an explicit deny in an identity-based policy" if decision.explicit_deny
               else f"because no identity-based policy allows the {action} action")
        decision.message = f"User: {who} is not authorized to perform: {action} on resource: {resource} {why}"
    with LOCK:
        CALLS.setdefault(account, []).append({
            "role": role_arn, "principal": who, "action": action, "resource": resource,
            "context": dict(context or {}), "allowed": decision.allowed, "decision": result.decision,
            "statements": result.statements, "source": source, "operation": operation,
            "region": region, "message": decision.message})
    return decision


def require(account, role_arn, action, resource, context=None, source="api", region="us-east-1"):
    decision = authorize(account, role_arn, action, resource, context, source, region)
    if not decision.allowed:
        raise ExtError("AccessDeniedException", decision.message, 403)
    return decision


def resource_policy_allows(policy, principal, action, resource, context=None):
    if not policy:
        return False
    return iam_policy.evaluate_resource_policy(policy, principal, action, resource, context).allowed


# ---- which action and resource each operation is authorised against ------------------------

def _arn(resp, service, resource):
    return f"arn:aws:{service}:{resp.region}:{resp.current_account}:{resource}"


def _uri_params(resp, service, operation):
    """Path parameters of a rest-json request, from the botocore model's requestUri."""
    uri = get_service_model(service).operation_model(operation).http["requestUri"].split("?")[0]
    regex = ""
    for m in re.finditer(r"\{(\w+)(\+?)\}|[^{]+", uri):
        if m.group(1):  # {Name} is one path segment, {Name+} the rest of the path
            regex += f"(?P<{m.group(1)}>{'.+' if m.group(2) else '[^/]+'})"
        else:
            regex += re.escape(m.group(0))
    found = re.fullmatch(regex, resp.path.split("?")[0])
    return {k: unquote(v) for k, v in (found.groupdict() if found else {}).items()}


def _function_arn(resp, name, qualifier=None):
    if name.startswith("arn:"):
        parts = name.split(":")
        name, qualifier = parts[6], (parts[7] if len(parts) > 7 else qualifier)
    elif ":" in name:
        name, qualifier = name.split(":", 1)
    base = _arn(resp, "lambda", f"function:{name}")
    return f"{base}:{qualifier}" if qualifier else base


def _lambda(action, qualified=False, resource_param=None):
    def resolve(resp, op):
        params = _uri_params(resp, "lambda", op)
        if resource_param:
            return [(action, params[resource_param], {})]
        qualifier = (resp.querystring.get("Qualifier") or [None])[0] if qualified else None
        return [(action, _function_arn(resp, params["FunctionName"], qualifier), {})]
    return resolve


def _queue_arn(resp, url=None):
    url = url or resp._get_param("QueueUrl") or ""
    account, name = url.rstrip("/").split("/")[-2:]
    return f"arn:aws:sqs:{resp.region}:{account}:{name}"


def _sqs(action):
    return lambda resp, op: [(action, _queue_arn(resp), {})]


def _topic_kms(resp, topic_arn):
    """Publishing to an SSE topic also needs kms:GenerateDataKey and kms:Decrypt on its key
    (SNS developer guide, "Encryption at rest": permissions for publishers). The topic may be
    another account's (cross_account.py)."""
    key_arn = cross_account.topic_key_arn(topic_arn)
    if not key_arn:
        return []
    return [("kms:GenerateDataKey", key_arn, {}), ("kms:Decrypt", key_arn, {})]


def _sns_publish(resp, op):
    topic = resp._get_param("TopicArn") or resp._get_param("TargetArn") or ""
    return [("sns:Publish", topic, {})] + _topic_kms(resp, topic)


def _deployment_group_arn(resp):
    """CodeDeploy authorises deployment operations against the deployment group."""
    from moto.codedeploy.models import codedeploy_backends
    backend = codedeploy_backends[resp.current_account][resp.region]
    app, group = resp._get_param("applicationName"), resp._get_param("deploymentGroupName")
    dep = backend.deployments.get(resp._get_param("deploymentId") or "")
    if dep is not None:
        app, group = dep.application_name, dep.deployment_group_name
    return _arn(resp, "codedeploy", f"deploymentgroup:{app}/{group}")


def _codedeploy(action):
    return lambda resp, op: [(action, _deployment_group_arn(resp), {})]


def _schedule_arn(resp, op):
    params = _uri_params(resp, "scheduler", op)
    group = resp._get_param("GroupName") or (resp.querystring.get("groupName") or ["default"])[0]
    return _arn(resp, "scheduler", f"schedule/{group}/{params['Name']}")


def _scheduler_get(resp, op):
    return [("scheduler:GetSchedule", _schedule_arn(resp, op), {})]


def _scheduler_update(resp, op):
    """UpdateSchedule re-passes the target's role: iam:PassRole on it, for the scheduler."""
    role = (resp._get_param("Target") or {}).get("RoleArn", "")
    return [("scheduler:UpdateSchedule", _schedule_arn(resp, op), {}),
            ("iam:PassRole", role, {"iam:PassedToService": "scheduler.amazonaws.com"})]


def _alarms(resp, op):
    """DescribeAlarms returns composite alarms only to a caller allowed on "*" (DescribeAlarms
    API reference): asking for them is authorised against "*", which a narrower grant does
    not match. Metric alarms are authorised per alarm ARN."""
    if "CompositeAlarm" in (resp._get_param("AlarmTypes") or []):
        return [("cloudwatch:DescribeAlarms", "*", {})]
    names = resp._get_param("AlarmNames") or []
    if not names:
        return [("cloudwatch:DescribeAlarms", _arn(resp, "cloudwatch", "alarm:*"), {})]
    return [("cloudwatch:DescribeAlarms", _arn(resp, "cloudwatch", f"alarm:{n}"), {}) for n in names]


def _kms(action):
    def resolve(resp, op):
        from moto.kms.models import kms_backends
        key = resp._get_param("KeyId") or ""
        try:
            key = kms_backends[resp.current_account][resp.region].describe_key(key).arn
        except Exception:
            pass
        return [(action, key, {})]
    return resolve


def _stack(action):
    """CloudFormation authorises a stack operation against the stack's ARN, which ends in its
    id; a name that is not a live stack is matched as stack/<name>/* (Service Authorization
    Reference, AWS CloudFormation, resource type `stack`; a call with no StackName, "*")."""
    def resolve(resp, op):
        name = resp._get_param("StackName") or ""
        if not name:
            return [(action, "*", {})]
        if name.startswith("arn:"):
            return [(action, name, {})]
        import cloudformation_ext
        try:
            stack_id = cloudformation_ext.find(resp.current_account, resp.region, name, deleted_ok=False).id
        except Exception:
            stack_id = _arn(resp, "cloudformation", f"stack/{name}/*")
        return [(action, stack_id, {})]
    return resolve


def _anything(action):
    return lambda resp, op: [(action, "*", {})]


RESOLVERS = {
    ("lambda", "Invoke"): _lambda("lambda:InvokeFunction", qualified=True),
    ("lambda", "GetFunction"): _lambda("lambda:GetFunction", qualified=True),
    ("lambda", "GetFunctionConfiguration"): _lambda("lambda:GetFunctionConfiguration", qualified=True),
    ("lambda", "GetFunctionConcurrency"): _lambda("lambda:GetFunctionConcurrency"),
    ("lambda", "PutFunctionConcurrency"): _lambda("lambda:PutFunctionConcurrency"),
    ("lambda", "DeleteFunctionConcurrency"): _lambda("lambda:DeleteFunctionConcurrency"),
    ("lambda", "ListVersionsByFunction"): _lambda("lambda:ListVersionsByFunction"),
    ("lambda", "GetAlias"): lambda r, o: [("lambda:GetAlias", _function_arn(
        r, _uri_params(r, "lambda", o)["FunctionName"], _uri_params(r, "lambda", o)["Name"]), {})],
    ("lambda", "ListTags"): _lambda("lambda:ListTags", resource_param="Resource"),
    ("lambda", "TagResource"): _lambda("lambda:TagResource", resource_param="Resource"),
    ("lambda", "UntagResource"): _lambda("lambda:UntagResource", resource_param="Resource"),
    ("sns", "Publish"): _sns_publish,
    ("sns", "PublishBatch"): _sns_publish,
    ("sqs", "ReceiveMessage"): _sqs("sqs:ReceiveMessage"),
    ("sqs", "ChangeMessageVisibility"): _sqs("sqs:ChangeMessageVisibility"),
    ("sqs", "ChangeMessageVisibilityBatch"): _sqs("sqs:ChangeMessageVisibility"),
    ("sqs", "DeleteMessage"): _sqs("sqs:DeleteMessage"),
    ("sqs", "DeleteMessageBatch"): _sqs("sqs:DeleteMessage"),
    ("sqs", "SendMessage"): _sqs("sqs:SendMessage"),
    ("sqs", "SendMessageBatch"): _sqs("sqs:SendMessage"),
    ("sqs", "GetQueueAttributes"): _sqs("sqs:GetQueueAttributes"),
    ("sqs", "PurgeQueue"): _sqs("sqs:PurgeQueue"),
    ("sqs", "GetQueueUrl"): lambda r, o: [("sqs:GetQueueUrl", _arn(r, "sqs", r._get_param("QueueName")), {})],
    ("codedeploy", "GetDeployment"): _codedeploy("codedeploy:GetDeployment"),
    ("codedeploy", "PutLifecycleEventHookExecutionStatus"):
        _codedeploy("codedeploy:PutLifecycleEventHookExecutionStatus"),
    ("codedeploy", "ListDeployments"): _codedeploy("codedeploy:ListDeployments"),
    ("codedeploy", "StopDeployment"): _codedeploy("codedeploy:StopDeployment"),
    ("codedeploy", "GetApplicationRevision"): lambda r, o: [("codedeploy:GetApplicationRevision", _arn(
        r, "codedeploy", f"application:{r._get_param('applicationName')}"), {})],
    ("cloudwatch", "DescribeAlarms"): _alarms,
    ("cloudwatch", "PutMetricData"): _anything("cloudwatch:PutMetricData"),
    ("scheduler", "GetSchedule"): _scheduler_get,
    ("scheduler", "UpdateSchedule"): _scheduler_update,
    ("kms", "GenerateDataKey"): _kms("kms:GenerateDataKey"),
    ("kms", "Decrypt"): _kms("kms:Decrypt"),
    ("cloudformation", "DescribeStacks"): _stack("cloudformation:DescribeStacks"),
    ("xray", "PutTraceSegments"): _anything("xray:PutTraceSegments"),
    ("xray", "PutTelemetryRecords"): _anything("xray:PutTelemetryRecords"),
}

# Answered for any caller, as on AWS (no permission needed).
UNCHECKED = {("sts", "GetCallerIdentity")}

ERROR_CODES = {"sns": "AuthorizationError", "sqs": "AccessDenied", "cloudwatch": "AccessDenied",
               "cloudformation": "AccessDenied",
               "iam": "AccessDenied", "sts": "AccessDenied"}


def request_contexts(resp, service, operation):
    resolver = RESOLVERS.get((service, operation))
    if resolver is None:
        return None
    return resolver(resp, operation)


def guard(resp):
    """The call_action guard: authorise a request signed by an emulator-issued role key."""
    access_key = resp.get_access_key()
    if is_admin_key(access_key):
        return None
    account = resp.current_account
    owner = role_of_key(account, access_key)
    if owner is None:
        return None  # a moto default key: not a principal the emulator issued
    role_arn, session = owner
    service = {"awslambda": "lambda"}.get(resp.service_name, resp.service_name)
    operation = resp._get_action()
    if (service, operation) in UNCHECKED:
        return None
    code = ERROR_CODES.get(service, "AccessDeniedException")
    contexts = request_contexts(resp, service, operation)
    if contexts is None:
        message = (f"User: {session} is not authorized to perform: {service}:{operation}: the local emulator "
                   f"does not know which resource {service}:{operation} is authorised against "
                   f"(add it to tests/moto_ext/iam_authz.py RESOLVERS)")
        authorize(account, role_arn, f"{service}:{operation}", "?", {}, "api", resp.region, session, operation)
        return error_response(resp, 403, code, message)
    for action, resource, context in contexts:
        decision = authorize(account, role_arn, action, resource, context, "api", resp.region, session, operation)
        if not decision.allowed:
            return error_response(resp, 403, code, decision.message)
        # Another account's resource: its own policy must allow the caller too.
        why = cross_account.resource_denial(account, role_arn, action, resource, context)
        if why:
            message = f"User: {session} is not authorized to perform: {action} on resource: {resource} {why}"
            with LOCK:
                CALLS.setdefault(account, []).append({
                    "role": role_arn, "principal": session, "action": action, "resource": resource,
                    "context": dict(context or {}), "allowed": False, "decision": "resourcePolicyDenied",
                    "statements": [], "source": "api", "operation": operation, "region": resp.region,
                    "message": message})
            return error_response(resp, 403, code, message)
    return None


faults.GUARDS.append(guard)


# ---- the least-privilege report --------------------------------------------------------------

def report(account):
    """Per role of the account: each statement of its own policies, the recorded calls it
    allowed, and whether it is necessary (some allowed call is denied without it)."""
    with LOCK:
        calls = list(CALLS.get(account, []))
    out = {}
    for role in _iam(account).roles.values():
        policies = identity_policies(account, role.arn)
        mine = [c for c in calls if c["role"] == role.arn and c["allowed"]]
        rows = []
        for policy_id, document in policies:
            if policy_id.startswith("arn:aws:iam::aws:policy/"):
                continue  # AWS managed: not ours to trim
            for index, st in enumerate(iam_policy.load(document)):
                ref = (policy_id, index)
                used = [c for c in mine if any((s["policy"], s["index"]) == ref for s in c["statements"])]
                needed = next((c for c in used if not iam_policy.evaluate(
                    policies, c["action"], c["resource"], c["context"], skip=ref).allowed), None)
                rows.append({"policy": policy_id, "index": index, "sid": st.get("Sid", ""),
                             "effect": st.get("Effect"), "actions": st.get("Action", st.get("NotAction")),
                             "resources": st.get("Resource", st.get("NotResource")),
                             "calls": len(used), "necessary": needed is not None,
                             "example": ({k: needed[k] for k in ("action", "resource", "source")}
                                         if needed else None)})
        out[role.name] = {"arn": role.arn, "statements": rows}
    return out


@route("GET", "/_ext/iam/calls")
def _calls(req, j):
    with LOCK:
        return list(CALLS.get(req.args["account"], []))


@route("GET", "/_ext/iam/denials")
def _denials(req, j):
    with LOCK:
        return [c for c in CALLS.get(req.args["account"], []) if not c["allowed"]]


@route("GET", "/_ext/iam/report")
def _report(req, j):
    return report(req.args["account"])


# ---- IAM SimulateCustomPolicy / SimulatePrincipalPolicy, served by the same evaluator --------

def _context(entries):
    out = {}
    for e in entries or []:
        values = e.get("ContextKeyValues") or []
        out[e["ContextKeyName"]] = values if len(values) != 1 else values[0]
    return out


def _simulate(policies, actions, resources, context):
    results = []
    for action in actions:
        for resource in resources or ["*"]:
            r = iam_policy.evaluate(policies, action, resource, context)
            results.append({"EvalActionName": action, "EvalResourceName": resource,
                            "EvalDecision": r.decision,
                            "MatchedStatements": [{"SourcePolicyId": s["policy"], "SourcePolicyType": "IAM Policy"}
                                                  for s in r.statements],
                            "MissingContextValues": []})
    return ActionResult({"EvaluationResults": results, "IsTruncated": False})


def simulate_custom_policy(self):
    docs = [(f"PolicyInputList.{i + 1}", d) for i, d in enumerate(self._get_param("PolicyInputList") or [])]
    return _simulate(docs, self._get_param("ActionNames") or [], self._get_param("ResourceArns"),
                     _context(self._get_param("ContextEntries")))


def simulate_principal_policy(self):
    arn = self._get_param("PolicySourceArn")
    docs = identity_policies(self.current_account, arn)
    docs += [(f"PolicyInputList.{i + 1}", d) for i, d in enumerate(self._get_param("PolicyInputList") or [])]
    return _simulate(docs, self._get_param("ActionNames") or [], self._get_param("ResourceArns"),
                     _context(self._get_param("ContextEntries")))


IamResponse.simulate_custom_policy = simulate_custom_policy
IamResponse.simulate_principal_policy = simulate_principal_policy
