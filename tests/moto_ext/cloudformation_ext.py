"""CloudFormation's stack API served by our own provisioner instead of moto's parser.

Why (ARCHITECTURE.md, "Why a provisioner"): moto 5.2.5 cannot create template.yaml's stack, and
it would create resources straight in its backends, past every check the real APIs make. Here
CreateStack / UpdateStack / DeleteStack validate synchronously (parameters, capabilities, the
SAM transform, references, cycles) and return at once; a thread then creates, updates or deletes
each resource through the service's public API (cfn_resources), in dependency order, rolling
back on failure, while DescribeStacks / DescribeStackEvents / DescribeStackResource(s) /
ListStackResources / ListStacks / GetTemplate report the progress in AWS's shapes (moto's own
awsQuery serializer renders the dicts returned here). An alias with UpdatePolicy
CodeDeployLambdaAliasUpdate whose version changes is handed to codedeploy_engine.

Behaviours, sources and limits: README.md, CloudFormation.
"""
import datetime
import json
import random
import re
import string
import threading
import uuid
from collections import Counter
from urllib.parse import unquote, urlparse

from botocore.exceptions import ClientError
from moto.cloudformation.exceptions import CloudFormationError
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, EmptyResult

import cfn_intrinsics as ci
import cfn_resources as cr
import cfn_sam
import common
from common import LOCK, route

STACKS = {}                 # (account, region) -> [Stack], oldest first, deleted ones kept
EXPORTS = {}                # (account, region) -> {export name: stack id}
MAX_BODY, MAX_URL_BODY = 51200, 1_000_000
IAM_TYPES = {"AWS::IAM::AccessKey", "AWS::IAM::Group", "AWS::IAM::InstanceProfile", "AWS::IAM::ManagedPolicy",
             "AWS::IAM::Policy", "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::UserToGroupAddition"}
IAM_NAMES = ("RoleName", "ManagedPolicyName", "UserName", "GroupName", "InstanceProfileName")
UPDATABLE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE", "IMPORT_ROLLBACK_COMPLETE"}
STACK_TYPE = "AWS::CloudFormation::Stack"


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def error(code, message):
    """An error moto serialises in CloudFormation's awsQuery shape (its module names the service)."""
    return CloudFormationError(code, message)


# =========================================================================== state
class Res:
    """One resource of a stack, as DescribeStackResources shows it."""

    def __init__(self, lid, body):
        self.lid, self.type, self.body = lid, body["Type"], body
        self.props, self.physical_id, self.attrs = {}, None, {}
        self.status, self.reason, self.updated = None, None, now()

    def retain(self, why="delete"):
        """DeletionPolicy (UpdateReplacePolicy for a replaced resource) says keep it.
        RetainExceptOnCreate keeps it except when the create that made it rolls back."""
        policy = self.body.get("UpdateReplacePolicy" if why == "replaced" else "DeletionPolicy", "Delete")
        return policy == "Retain" or (policy == "RetainExceptOnCreate" and why != "create-rollback")


class Plan:
    """A template made ready to apply: everything CloudFormation checks before it starts."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


class Stack:
    def __init__(self, account, region, name, kw):
        self.account, self.region, self.name = account, region, name
        self.id = f"arn:{partition(region)}:cloudformation:{region}:{account}:stack/{name}/{uuid.uuid4()}"
        self.status, self.reason = "CREATE_IN_PROGRESS", "User Initiated"
        self.created, self.updated, self.deleted = now(), None, None
        self.resources, self.events, self.outputs = {}, [], []
        self.plan, self.capabilities = None, kw.get("Capabilities", [])
        self.tags = {t["Key"]: t["Value"] for t in kw.get("Tags", [])}
        on_failure = kw.get("OnFailure") or ("DO_NOTHING" if str(kw.get("DisableRollback")).lower() == "true" else "ROLLBACK")
        self.on_failure, self.notification_arns = on_failure, kw.get("NotificationARNs", [])
        self.op_lock = threading.Lock()

    # ---- what intrinsic functions see (cfn_intrinsics.resolve's ctx)
    @property
    def params(self):
        return self.plan.params

    @property
    def conditions(self):
        return self.plan.conditions

    @property
    def mappings(self):
        return self.plan.processed.get("Mappings") or {}

    def pseudo(self, name):
        return {"AWS::AccountId": self.account, "AWS::Region": self.region, "AWS::StackName": self.name,
                "AWS::StackId": self.id, "AWS::Partition": partition(self.region),
                "AWS::URLSuffix": "amazonaws.com.cn" if self.region.startswith("cn-") else "amazonaws.com",
                "AWS::NotificationARNs": list(self.notification_arns)}[name]

    def ref(self, lid):
        r = self.resources.get(lid)
        if r is None or r.physical_id is None:
            raise ci.TemplateError(f"Template format error: Unresolved resource dependencies [{lid}] in the Resources block of the template")
        return r.physical_id

    def getatt(self, lid, attr):
        r = self.resources.get(lid)
        if r is None or attr not in r.attrs:
            raise ci.TemplateError(f"Template error: resource {lid} does not support attribute type {attr} in Fn::GetAtt")
        return r.attrs[attr]

    @staticmethod
    def azs(region):
        return [f"{region}{z}" for z in "abc"]

    def import_value(self, name):
        with LOCK:
            sid = EXPORTS.get((self.account, self.region), {}).get(name)
            other = next((s for s in STACKS.get((self.account, self.region), []) if s.id == sid), None)
        value = next((o["OutputValue"] for o in (other.outputs if other else []) if o.get("ExportName") == name), None)
        if value is None:
            raise ci.TemplateError(f"No export named {name} found.")
        return value

    # ---- records
    def event(self, lid, rtype, physical, status, reason=None, props=None):
        e = {"StackId": self.id, "EventId": str(uuid.uuid4()), "StackName": self.name, "LogicalResourceId": lid,
             "PhysicalResourceId": physical or "", "ResourceType": rtype, "Timestamp": now(), "ResourceStatus": status}
        if reason:
            e["ResourceStatusReason"] = reason
        if props is not None:
            e["ResourceProperties"] = json.dumps(props)
        with LOCK:
            self.events.append(e)

    def set_status(self, status, reason=None):
        with LOCK:
            self.status, self.reason = status, reason
        self.event(self.name, STACK_TYPE, self.id, status, reason)

    def res_status(self, r, status, reason=None, props=None):
        with LOCK:
            r.status, r.reason, r.updated = status, reason, now()
        self.event(r.lid, r.type, r.physical_id, status, reason, props)


def partition(region):
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def live(account, region, name):
    with LOCK:
        return any(s.name == name and s.status != "DELETE_COMPLETE" for s in STACKS.get((account, region), []))


def find(account, region, name_or_id, deleted_ok=True):
    with LOCK:
        stacks = list(STACKS.get((account, region), []))
    for s in reversed(stacks):
        if s.id == name_or_id and (deleted_ok or s.status != "DELETE_COMPLETE"):
            return s
        if s.name == name_or_id and s.status != "DELETE_COMPLETE":
            return s
    raise error("ValidationError", f"Stack with id {name_or_id} does not exist")


# =========================================================================== templates
def parse_template(body):
    """JSON or YAML (short-form intrinsics) into a dict; YAML dates stay strings."""
    from samtranslator.yaml_helper import yaml_parse
    text = body.strip()
    try:
        doc = json.loads(text) if text.startswith("{") else yaml_parse(text)
    except json.JSONDecodeError as e:
        raise ci.TemplateError(f"Template format error: JSON not well-formed. (line {e.lineno}, column {e.colno})") from None
    except Exception as e:     # yaml.YAMLError and friends
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ci.TemplateError(f"Template format error: YAML not well-formed.{where}") from None
    if not isinstance(doc, dict):
        raise ci.TemplateError("Template format error: template must be a JSON or YAML object")
    return _dates_to_strings(doc)


def _dates_to_strings(n):
    if isinstance(n, dict):
        return {k: _dates_to_strings(v) for k, v in n.items()}
    if isinstance(n, list):
        return [_dates_to_strings(v) for v in n]
    return n.isoformat() if isinstance(n, (datetime.date, datetime.datetime)) else n


def template_body(resp, account, stack=None):
    body, url = resp._get_param("TemplateBody"), resp._get_param("TemplateURL")
    if str(resp._get_param("UsePreviousTemplate")).lower() == "true":
        if body or url:
            raise error("ValidationError", "You cannot specify both usePreviousTemplate and Template Body/Template URL.")
        return stack.plan.body
    if body and url:
        raise error("ValidationError", "Specify exactly one of TemplateBody or TemplateURL.")
    if not body and not url:
        raise error("ValidationError", "Either Template URL or Template Body must be specified.")
    if body:
        if len(body.encode()) > MAX_BODY:
            raise error("ValidationError", "1 validation error detected: Value at 'templateBody' failed to satisfy constraint: "
                                           f"Member must have length less than or equal to {MAX_BODY}")
        return body
    return fetch_template_url(url, account)


def fetch_template_url(url, account):
    """The template object in the emulator's S3: https://<bucket>.s3[.<region>].amazonaws.com/<key>,
    https://s3[.<region>].amazonaws.com/<bucket>/<key>, or this emulator's own http://host:port/<bucket>/<key>."""
    u = urlparse(url)
    own = urlparse(common.SERVER["url"] or "http://127.0.0.1")
    host, path = u.hostname or "", unquote(u.path.lstrip("/"))
    virtual = re.match(r"^(.+)\.s3([.-][a-z0-9-]+)?\.amazonaws\.com(\.cn)?$", host)
    if virtual:
        bucket, key = virtual.group(1), path
    elif re.match(r"^s3([.-][a-z0-9-]+)?\.amazonaws\.com(\.cn)?$", host) or host in (own.hostname, "localhost", "127.0.0.1"):
        bucket, _, key = path.partition("/")
    else:
        raise error("ValidationError", "TemplateURL must be a supported URL.")
    try:
        obj = common.admin_client("s3", account).get_object(Bucket=bucket, Key=key)
    except ClientError as e:
        raise error("ValidationError", f"S3 error: {e.response['Error'].get('Message', e.response['Error']['Code'])}") from None
    data = obj["Body"].read()
    if len(data) > MAX_URL_BODY:
        raise error("ValidationError", f"Template may not exceed {MAX_URL_BODY} bytes in size.")
    return data.decode()


def prepare(stack, body, given, previous, capabilities):
    """Every check CloudFormation makes before it starts, with its messages: parameters,
    capabilities, the transform, references, conditions, cycles. Returns a Plan."""
    try:
        template = parse_template(body)
        declared = template.get("Parameters") or {}
        params = ci.parameter_values(declared, given, previous)
        if cfn_sam.transforms(template) and "CAPABILITY_AUTO_EXPAND" not in capabilities:
            raise error("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_AUTO_EXPAND]")
        processed = cfn_sam.process(template, params, stack.account, stack.region)
        check_iam_capabilities(processed, capabilities)
        unknown = sorted({r.get("Type") for r in (processed.get("Resources") or {}).values() if isinstance(r, dict)
                          and isinstance(r.get("Type"), str) and not r["Type"].startswith(("AWS::", "Custom::", "Alexa::"))})
        if unknown:
            raise ci.TemplateError(f"Template format error: Unrecognized resource types: [{', '.join(unknown)}]")
        ci.check_template(processed, cr.attributes_of)
        plan = Plan(body=body, template=template, processed=processed, params=params, conditions={})
        view = _PlanView(stack, plan)
        plan.conditions = ci.evaluate_conditions(processed, view)
        plan.active, plan.skipped, plan.deps = ci.active_graph(processed, plan.conditions)
        deferred = {lid for lid, r in plan.active.items()
                    if r["Type"] == "AWS::Lambda::Alias" and "CodeDeployLambdaAliasUpdate" in (r.get("UpdatePolicy") or {})}
        plan.order = ci.creation_order(plan.active, plan.deps, deferred)
        return plan
    except ci.TemplateError as e:
        raise error("ValidationError", str(e)) from None


class _PlanView:
    """What conditions may see while a plan is prepared: parameters, pseudo parameters, mappings."""

    def __init__(self, stack, plan):
        self.stack, self.params, self.conditions = stack, plan.params, {}
        self.mappings = plan.processed.get("Mappings") or {}

    def pseudo(self, name):
        return self.stack.pseudo(name)

    def ref(self, lid):
        raise ci.TemplateError(f"Template format error: Unresolved dependencies [{lid}]. Cannot reference resources in the Conditions block of the template")

    getatt = ref
    azs = staticmethod(Stack.azs)

    def import_value(self, name):
        return self.stack.import_value(name)


def check_iam_capabilities(processed, capabilities):
    """IAM resources need CAPABILITY_IAM (or NAMED_IAM); custom-named ones CAPABILITY_NAMED_IAM
    (botocore CreateStackInput.Capabilities)."""
    iam = [r for r in (processed.get("Resources") or {}).values() if isinstance(r, dict) and r.get("Type") in IAM_TYPES]
    named = any(k in (r.get("Properties") or {}) for r in iam for k in IAM_NAMES)
    if named and "CAPABILITY_NAMED_IAM" not in capabilities:
        raise error("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_NAMED_IAM]")
    if iam and not {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"} & set(capabilities):
        raise error("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_IAM]")


# =========================================================================== provisioning
class Failed(Exception):
    """A resource failed; its event already carries the reason."""

    def __init__(self, lid, reason):
        super().__init__(reason)
        self.lid, self.reason = lid, reason


class DeploymentFailed(Exception):
    """The CodeDeploy deployment of an alias update did not succeed."""


class OpCtx:
    """What resource handlers use: the account's own clients and CloudFormation's names."""

    def __init__(self, stack):
        self.account, self.region, self.partition = stack.account, stack.region, partition(stack.region)
        self.stack_name, self.stack_id, self._clients = stack.name, stack.id, {}

    def client(self, service):
        if service not in self._clients:
            self._clients[service] = _Tagged(common.admin_client(service, self.account, self.region))
        return self._clients[service]

    def generate_name(self, lid, limit):
        """`<stack>-<LogicalId>-<RANDOM>`, both names shortened to fit the type's limit."""
        rand = "".join(random.choices(string.ascii_uppercase + string.digits, k=12))
        room, stack = limit - len(rand) - 2, self.stack_name
        if len(stack) + len(lid) > room:
            lid = lid[:max(room - len(stack), room // 2)]
            stack = stack[:room - len(lid)].rstrip("-")
        return f"{stack}-{lid}-{rand}"


class _Tagged:
    """A boto3 client whose errors remember the service (for CloudFormation's failure text)."""

    def __init__(self, client):
        self._c = client

    def __getattr__(self, name):
        attr = getattr(self._c, name)
        if not callable(attr) or name.startswith("_"):
            return attr

        def call(*a, **kw):
            try:
                return attr(*a, **kw)
            except ClientError as e:
                e.service = self._c.meta.service_model.service_id
                raise
        return call


def failure_text(r, e):
    """A resource's *_FAILED reason, as CloudFormation words it."""
    if isinstance(e, ClientError):
        err, meta = e.response.get("Error", {}), e.response.get("ResponseMetadata", {})
        status = meta.get("HTTPStatusCode", 400)
        code = ("NotFound" if status == 404 else "AccessDenied" if "AccessDenied" in err.get("Code", "")
                else "AlreadyExists" if "Exist" in err.get("Code", "") and status == 409 else
                "Throttling" if status == 429 else "ServiceInternalError" if status >= 500 else "InvalidRequest")
        return (f'Resource handler returned message: "{err.get("Message", err.get("Code"))} (Service: {getattr(e, "service", "")}, '
                f'Status Code: {status}, Request ID: {meta.get("RequestId", "")})" '
                f"(RequestToken: {uuid.uuid4()}, HandlerErrorCode: {code})")
    if isinstance(e, cr.PropertyError):
        return f"Properties validation failed for resource {r.lid} with message: {e}"
    if isinstance(e, cr.UpdateNotSupported):
        return (f"Update of resource type {r.type} property {', '.join(e.args[0])} is not supported by the "
                "emulator's CloudFormation (no API applies it)")
    if isinstance(e, (ci.TemplateError, DeploymentFailed)):
        return str(e)
    return f"{type(e).__name__}: {e}"


def run(stack, work):
    """Run one stack operation in its own thread, one operation per stack at a time."""
    def body():
        with stack.op_lock:
            try:
                work()
            except Exception as e:   # a provisioner bug must still end the operation visibly
                stack.set_status(stack.status.replace("IN_PROGRESS", "FAILED"), f"Internal failure: {e!r}")
    threading.Thread(target=body, daemon=True, name=f"cfn-{stack.name}").start()


def resolve_props(stack, body):
    props = ci.resolve(body.get("Properties") or {}, stack)
    return {} if props is ci.NO_VALUE else props


def create_resource(stack, ctx, lid, body):
    """Create one resource; raises Failed after recording *_FAILED. Returns the Res."""
    r = Res(lid, body)
    with LOCK:
        stack.resources[lid] = r
    try:
        r.props = resolve_props(stack, body)
    except ci.TemplateError as e:
        stack.res_status(r, "CREATE_FAILED", str(e))
        raise Failed(lid, str(e)) from None
    stack.res_status(r, "CREATE_IN_PROGRESS", props=r.props)
    handler = cr.HANDLERS.get(r.type)
    try:
        if handler is None:     # never a silent skip: the stack fails naming the type
            raise cr.PropertyError(f"Resource type {r.type} is not supported by the emulator's CloudFormation provisioner")
        handler.create(ctx, r)
    except Exception as e:
        reason = str(e) if handler is None else failure_text(r, e)
        stack.res_status(r, "CREATE_FAILED", reason)
        raise Failed(lid, reason) from None
    stack.res_status(r, "CREATE_IN_PROGRESS", "Resource creation Initiated")
    stack.res_status(r, "CREATE_COMPLETE")
    return r


def delete_resource(stack, ctx, r, why="delete"):
    """Delete (or keep, DeletionPolicy Retain) one resource; returns the failure text or None."""
    if r.status in ("DELETE_COMPLETE", "DELETE_SKIPPED"):
        return None
    if r.physical_id is None:           # it failed before anything existed
        stack.res_status(r, "DELETE_COMPLETE")
        return None
    if r.retain(why):
        stack.res_status(r, "DELETE_SKIPPED")
        return None
    stack.res_status(r, "DELETE_IN_PROGRESS")
    try:
        cr.HANDLERS[r.type].delete(ctx, r)
    except Exception as e:
        reason = failure_text(r, e)
        stack.res_status(r, "DELETE_FAILED", reason)
        return reason
    stack.res_status(r, "DELETE_COMPLETE")
    return None


def failed_reason(verb, failure, aws_tail=""):
    """The stack's reason: AWS's sentence, then (emulator addition) the resource's own reason."""
    return f"The following resource(s) failed to {verb}: [{failure.lid}]. {aws_tail}{failure.lid}: {failure.reason}"


def compute_outputs(stack):
    outs = []
    for key, out in (stack.plan.processed.get("Outputs") or {}).items():
        if not stack.conditions.get(out.get("Condition"), True):
            continue
        value = ci.resolve(out.get("Value"), stack)
        o = {"OutputKey": key, "OutputValue": ",".join(map(str, value)) if isinstance(value, list) else ci.stringify(value)}
        if "Description" in out:
            o["Description"] = out["Description"]
        if "Export" in out:
            o["ExportName"] = ci.stringify(ci.resolve(out["Export"]["Name"], stack))
        outs.append(o)
    with LOCK:
        exports = EXPORTS.setdefault((stack.account, stack.region), {})
        for o in outs:
            owner = exports.get(o.get("ExportName"))
            if "ExportName" in o and owner not in (None, stack.id):
                raise ci.TemplateError(f"Export with name {o['ExportName']} is already exported by stack {owner.split('/')[1]}")
        for name in [n for n, sid in exports.items() if sid == stack.id]:
            del exports[name]
        exports.update({o["ExportName"]: stack.id for o in outs if "ExportName" in o})
        stack.outputs = outs


def delete_order(all_deps, lids):
    """Reverse dependency order of `lids` (dependents first)."""
    deps = {lid: {d for d in all_deps.get(lid, ()) if d in lids} for lid in lids}
    try:
        return list(reversed(ci.creation_order({lid: None for lid in lids}, deps)))
    except ci.TemplateError:
        return list(reversed(lids))


# ---------------------------------------------------------------- create
def do_create(stack):
    ctx = OpCtx(stack)
    try:
        for lid in stack.plan.order:
            create_resource(stack, ctx, lid, stack.plan.active[lid])
        try:
            compute_outputs(stack)
        except ci.TemplateError as e:
            raise Failed(stack.name, str(e)) from None
    except Failed as f:
        return create_failed(stack, ctx, f)
    stack.set_status("CREATE_COMPLETE")


def create_failed(stack, ctx, f):
    if stack.on_failure == "DO_NOTHING":
        return stack.set_status("CREATE_FAILED", failed_reason("create", f))
    stack.set_status("ROLLBACK_IN_PROGRESS", failed_reason("create", f, "Rollback requested by user. "))
    reason = stack.reason
    errors = [delete_resource(stack, ctx, stack.resources[lid], "create-rollback")
              for lid in delete_order(stack.plan.deps, list(stack.resources))]
    if any(errors):
        return stack.set_status("ROLLBACK_FAILED", reason)
    stack.set_status("ROLLBACK_COMPLETE", reason)
    if stack.on_failure == "DELETE":
        do_delete(stack)


# ---------------------------------------------------------------- update
def do_update(stack, plan):
    """Create added resources, update changed ones (replacing on create-only changes), then
    delete what the template no longer has; on failure, put everything back."""
    ctx, old_plan, old_res = OpCtx(stack), stack.plan, dict(stack.resources)
    journal = []        # ("created", lid, replaced Res|None) | ("updated", lid, old props)
    with LOCK:
        stack.plan, stack.updated = plan, now()
    stack.set_status("UPDATE_IN_PROGRESS", "User Initiated")
    try:
        for lid in plan.order:
            update_one(stack, ctx, lid, plan.active[lid], old_res.get(lid), journal)
        try:
            compute_outputs(stack)
        except ci.TemplateError as e:
            raise Failed(stack.name, str(e)) from None
    except Failed as f:
        return update_rollback(stack, ctx, f, old_plan, old_res, journal)
    stack.set_status("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    gone = [(old_res[lid], "delete") for lid in delete_order(old_plan.deps, [x for x in old_res if x not in plan.active])]
    gone += [(rep, "replaced") for kind, _, rep in journal if kind == "created" and rep is not None]
    for r, why in gone:
        delete_resource(stack, ctx, r, why)     # a failed cleanup delete does not fail the update
    with LOCK:                              # removed (or retained) resources leave the stack
        for lid in [x for x in old_res if x not in plan.active]:
            stack.resources.pop(lid, None)
    stack.set_status("UPDATE_COMPLETE")


def update_one(stack, ctx, lid, body, old, journal):
    if old is None or old.type != body["Type"]:
        journal.append(("created", lid, old))
        create_resource(stack, ctx, lid, body)
        return
    try:
        props = resolve_props(stack, body)
    except ci.TemplateError as e:
        stack.res_status(old, "UPDATE_FAILED", str(e))
        raise Failed(lid, str(e)) from None
    with LOCK:
        old.body = body             # policies (DeletionPolicy, UpdatePolicy) follow the new template
    changed = sorted(k for k in set(props) | set(old.props) if props.get(k) != old.props.get(k))
    if not changed:
        return
    handler = cr.HANDLERS[old.type]
    if set(changed) & set(handler.create_only):
        return replace(stack, ctx, lid, body, old, props, handler, journal)
    stack.res_status(old, "UPDATE_IN_PROGRESS", props=props)
    unsupported = handler.unsupported(changed)
    if unsupported:                     # refused before anything is applied: nothing to restore
        reason = failure_text(old, cr.UpdateNotSupported(unsupported))
        stack.res_status(old, "UPDATE_FAILED", reason)
        raise Failed(lid, reason)
    journal.append(("updated", lid, old.props))
    before, old.props = old.props, props
    try:
        if old.type == "AWS::Lambda::Alias":
            update_alias(stack, ctx, old, before, changed)
        else:
            handler.update(ctx, old, before, changed)
    except Exception as e:
        reason = failure_text(old, e)
        stack.res_status(old, "UPDATE_FAILED", reason)
        raise Failed(lid, reason) from None
    stack.res_status(old, "UPDATE_COMPLETE")


def replace(stack, ctx, lid, body, old, props, handler, journal):
    """A create-only property changed: a new physical resource; the old one goes at cleanup."""
    if handler.name_prop and props.get(handler.name_prop) and props.get(handler.name_prop) == old.props.get(handler.name_prop):
        reason = (f"CloudFormation cannot update a stack when a custom-named resource requires replacing. "
                  f"Rename {props[handler.name_prop]} and update the stack again.")
        stack.res_status(old, "UPDATE_FAILED", reason)
        raise Failed(lid, reason)
    stack.res_status(old, "UPDATE_IN_PROGRESS", "Requested update requires the creation of a new physical resource; hence creating one.")
    journal.append(("created", lid, old))
    create_resource(stack, ctx, lid, body)


def update_alias(stack, ctx, r, before, changed):
    """A new FunctionVersion on an alias with UpdatePolicy CodeDeployLambdaAliasUpdate is a
    CodeDeploy deployment (aws-attribute-updatepolicy.md); without it, UpdateAlias."""
    policy = (r.body.get("UpdatePolicy") or {}).get("CodeDeployLambdaAliasUpdate")
    if "FunctionVersion" not in changed or not policy:
        return cr.HANDLERS[r.type].update(ctx, r, before, changed)
    import codedeploy_engine
    up = ci.resolve(policy, stack)
    p = r.props
    dep = codedeploy_engine.start_alias_deployment(
        stack.account, stack.region, up["ApplicationName"], up["DeploymentGroupName"], p["FunctionName"], p["Name"],
        before["FunctionVersion"], p["FunctionVersion"], up.get("BeforeAllowTrafficHook"), up.get("AfterAllowTrafficHook"))
    info = codedeploy_engine.wait_deployment(stack.account, stack.region, dep)
    if info.get("status") != "Succeeded":
        err = info.get("errorInformation") or {}
        raise DeploymentFailed(f"CodeDeploy deployment {dep} of alias {p['Name']} ({before['FunctionVersion']} -> "
                           f"{p['FunctionVersion']}) ended {info.get('status')}: {err.get('code', '')} {err.get('message', '')}".rstrip())
    if set(changed) - {"FunctionVersion"}:
        cr.HANDLERS[r.type].update(ctx, r, before, [c for c in changed if c != "FunctionVersion"])


def update_rollback(stack, ctx, f, old_plan, old_res, journal):
    stack.set_status("UPDATE_ROLLBACK_IN_PROGRESS", failed_reason("update", f))
    reason = stack.reason
    with LOCK:
        stack.plan = old_plan           # resolution and outputs see the previous template again
        for lid, r in old_res.items():
            r.body = old_plan.active.get(lid, r.body)
    ok = True
    for kind, lid, prev in reversed(journal):
        if kind == "updated":
            ok &= restore(stack, ctx, stack.resources[lid], prev)
    stack.set_status("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    for kind, lid, prev in reversed(journal):
        if kind == "created":
            new = stack.resources[lid]
            delete_resource(stack, ctx, new)
            with LOCK:
                if prev is None:
                    stack.resources.pop(lid, None)
                else:
                    stack.resources[lid] = prev         # the replaced resource is the stack's again
            if prev is not None:
                stack.res_status(prev, "UPDATE_COMPLETE")
    try:
        compute_outputs(stack)
    except ci.TemplateError:
        pass
    stack.set_status("UPDATE_ROLLBACK_COMPLETE" if ok else "UPDATE_ROLLBACK_FAILED", reason)


def restore(stack, ctx, r, prev):
    """Put a resource's previous properties back (an alias straight back to its version: the
    failed deployment's own rollback already moved the traffic)."""
    changed = sorted(k for k in set(prev) | set(r.props) if prev.get(k) != r.props.get(k))
    if not changed:
        return True
    stack.res_status(r, "UPDATE_IN_PROGRESS", props=prev)
    before, r.props = r.props, prev
    try:
        cr.HANDLERS[r.type].update(ctx, r, before, changed)
    except Exception as e:
        stack.res_status(r, "UPDATE_FAILED", failure_text(r, e))
        return False
    stack.res_status(r, "UPDATE_COMPLETE")
    return True


# ---------------------------------------------------------------- delete
def do_delete(stack):
    ctx = OpCtx(stack)
    stack.set_status("DELETE_IN_PROGRESS", "User Initiated")
    lids = [lid for lid, r in stack.resources.items() if r.status not in ("DELETE_COMPLETE", "DELETE_SKIPPED")]
    failed = [lid for lid in delete_order(stack.plan.deps, lids) if delete_resource(stack, ctx, stack.resources[lid])]
    if failed:
        return stack.set_status("DELETE_FAILED", f"The following resource(s) failed to delete: [{', '.join(failed)}]. ")
    with LOCK:
        stack.deleted = now()
        exports = EXPORTS.get((stack.account, stack.region), {})
        for name in [n for n, sid in exports.items() if sid == stack.id]:
            del exports[name]
    stack.set_status("DELETE_COMPLETE")


# =========================================================================== API handlers
def create_stack(self):
    acct, region, name = self.current_account, common.region_of(self), self._get_param("StackName")
    if not re.fullmatch(r"[a-zA-Z][-a-zA-Z0-9]{0,127}", name or ""):
        raise error("ValidationError", f"1 validation error detected: Value '{name}' at 'stackName' failed to satisfy "
                                       "constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*")
    if live(acct, region, name):
        raise error("AlreadyExistsException", f"Stack [{name}] already exists")
    kw = {k: self._get_param(k) for k in ("Capabilities", "Tags", "OnFailure", "DisableRollback", "NotificationARNs")}
    stack = Stack(acct, region, name, {k: v for k, v in kw.items() if v is not None})
    body = template_body(self, acct)
    stack.plan = prepare(stack, body, self._get_param("Parameters", []) or [], None, stack.capabilities)
    with LOCK:
        STACKS.setdefault((acct, region), []).append(stack)
    stack.event(name, STACK_TYPE, stack.id, "CREATE_IN_PROGRESS", "User Initiated")
    run(stack, lambda: do_create(stack))
    return ActionResult({"StackId": stack.id})


def update_stack(self):
    acct, region = self.current_account, common.region_of(self)
    stack = find(acct, region, self._get_param("StackName"), deleted_ok=False)
    if stack.status not in UPDATABLE:
        raise error("ValidationError", f"Stack:{stack.id} is in {stack.status} state and can not be updated.")
    body = template_body(self, acct, stack)
    caps = self._get_param("Capabilities", []) or []
    plan = prepare(stack, body, self._get_param("Parameters", []) or [], stack.plan.params, caps)
    tags = {t["Key"]: t["Value"] for t in self._get_param("Tags", []) or []} or stack.tags
    if (json.dumps(plan.processed, sort_keys=True) == json.dumps(stack.plan.processed, sort_keys=True)
            and plan.params == stack.plan.params and tags == stack.tags):
        raise error("ValidationError", "No updates are to be performed.")
    with LOCK:                          # one update at a time: check and claim together
        if stack.status not in UPDATABLE:
            raise error("ValidationError", f"Stack:{stack.id} is in {stack.status} state and can not be updated.")
        stack.capabilities, stack.tags, stack.status = caps, tags, "UPDATE_IN_PROGRESS"
    run(stack, lambda: do_update(stack, plan))
    return ActionResult({"StackId": stack.id})


def delete_stack(self):
    try:
        stack = find(self.current_account, common.region_of(self), self._get_param("StackName"))
    except ServiceException:
        return EmptyResult()            # deleting a stack that does not exist succeeds
    run(stack, lambda: do_delete(stack) if stack.status != "DELETE_COMPLETE" else None)
    return EmptyResult()


def stack_doc(s):
    declared = s.plan.template.get("Parameters") or {} if s.plan else {}
    params = [{"ParameterKey": k, "ParameterValue": "****" if str(declared.get(k, {}).get("NoEcho")).lower() == "true"
               else (",".join(v) if isinstance(v, list) else v)} for k, v in (s.plan.params if s.plan else {}).items()]
    d = {"StackId": s.id, "StackName": s.name, "Parameters": params, "CreationTime": s.created,
         "StackStatus": s.status, "DisableRollback": s.on_failure == "DO_NOTHING", "NotificationARNs": s.notification_arns,
         "Capabilities": s.capabilities, "Outputs": s.outputs, "Tags": s.tags, "EnableTerminationProtection": False,
         "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"}}
    if s.plan and "Description" in s.plan.processed:
        d["Description"] = s.plan.processed["Description"]
    for key, value in (("LastUpdatedTime", s.updated), ("DeletionTime", s.deleted), ("StackStatusReason", s.reason)):
        if value:
            d[key] = value
    return d


def describe_stacks(self):
    acct, region, name = self.current_account, common.region_of(self), self._get_param("StackName")
    if name:
        stacks = [find(acct, region, name)]
    else:
        with LOCK:
            stacks = [s for s in STACKS.get((acct, region), []) if s.status != "DELETE_COMPLETE"]
    with LOCK:
        return ActionResult({"Stacks": [stack_doc(s) for s in reversed(stacks)]})


def res_doc(s, r, detail=False):
    d = {"StackName": s.name, "StackId": s.id, "LogicalResourceId": r.lid, "PhysicalResourceId": r.physical_id or "",
         "ResourceType": r.type, "ResourceStatus": r.status, "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"}}
    d["LastUpdatedTimestamp" if detail else "Timestamp"] = r.updated
    if r.reason:
        d["ResourceStatusReason"] = r.reason
    if detail and "Metadata" in r.body:
        d["Metadata"] = json.dumps(r.body["Metadata"])
    return d


def _resources_of(self):
    acct, region = self.current_account, common.region_of(self)
    name, physical = self._get_param("StackName"), self._get_param("PhysicalResourceId")
    if name:
        return find(acct, region, name)
    if not physical:
        raise error("ValidationError", "Either StackName or PhysicalResourceId must be specified.")
    with LOCK:
        stacks = [s for s in STACKS.get((acct, region), []) if s.status != "DELETE_COMPLETE"]
    for s in stacks:
        if any(r.physical_id == physical for r in s.resources.values()):
            return s
    raise error("ValidationError", f"Stack for {physical} does not exist")


def describe_stack_resources(self):
    s, lid = _resources_of(self), self._get_param("LogicalResourceId")
    with LOCK:
        return ActionResult({"StackResources": [res_doc(s, r) for r in s.resources.values() if lid in (None, r.lid)]})


def describe_stack_resource(self):
    s, lid = find(self.current_account, common.region_of(self), self._get_param("StackName")), self._get_param("LogicalResourceId")
    with LOCK:
        r = s.resources.get(lid)
        if r is None:
            raise error("ValidationError", f"Resource {lid} does not exist for stack {s.name}")
        return ActionResult({"StackResourceDetail": res_doc(s, r, detail=True)})


def list_stack_resources(self):
    s = find(self.current_account, common.region_of(self), self._get_param("StackName"))
    keep = ("LogicalResourceId", "PhysicalResourceId", "ResourceType", "LastUpdatedTimestamp", "ResourceStatus",
            "ResourceStatusReason", "DriftInformation")
    with LOCK:
        docs = [res_doc(s, r, detail=True) for r in s.resources.values()]
    return ActionResult({"StackResourceSummaries": [{k: d[k] for k in keep if k in d} for d in docs]})


def describe_stack_events(self):
    s = find(self.current_account, common.region_of(self), self._get_param("StackName"))
    with LOCK:
        return ActionResult({"StackEvents": list(reversed(s.events))})


def list_stacks(self):
    wanted = set(self._get_param("StackStatusFilter", []) or [])
    with LOCK:
        stacks = list(STACKS.get((self.current_account, common.region_of(self)), []))
    out = [{k: v for k, v in {"StackId": s.id, "StackName": s.name, "CreationTime": s.created, "LastUpdatedTime": s.updated,
                              "DeletionTime": s.deleted, "StackStatus": s.status, "StackStatusReason": s.reason}.items() if v}
           for s in reversed(stacks) if not wanted or s.status in wanted]
    return ActionResult({"StackSummaries": out})


def get_template(self):
    s = find(self.current_account, common.region_of(self), self._get_param("StackName"))
    stage = self._get_param("TemplateStage") or "Processed"   # the API's default (botocore GetTemplateInput)
    body = s.plan.body if stage == "Original" else json.dumps(s.plan.processed, indent=1)
    return ActionResult({"TemplateBody": body, "StagesAvailable": ["Original", "Processed"]})


for _name, _fn in (("create_stack", create_stack), ("update_stack", update_stack), ("delete_stack", delete_stack),
                   ("describe_stacks", describe_stacks), ("describe_stack_resources", describe_stack_resources),
                   ("describe_stack_resource", describe_stack_resource), ("list_stack_resources", list_stack_resources),
                   ("describe_stack_events", describe_stack_events), ("list_stacks", list_stacks),
                   ("get_template", get_template)):
    setattr(CloudFormationResponse, _name, _fn)


# =========================================================================== control route
@route("GET", "/_ext/cloudformation/summary")
def _summary(req, j):
    """What the drill prints: resources created by type against the translated total."""
    q = req.args
    try:
        s = find(q["account"], q.get("region", "us-east-1"), q["stack"])
    except ServiceException as e:
        return {"error": e.message}
    with LOCK:
        alive = [r for r in s.resources.values() if r.physical_id and r.status.endswith("_COMPLETE") and not r.status.startswith("DELETE")]
        return {"stack_status": s.status, "resources_by_type": dict(sorted(Counter(r.type for r in alive).items())),
                "created": len(alive), "translated": len(s.plan.processed.get("Resources", {})),
                "skipped_by_condition": list(s.plan.skipped),
                "roles": {r.lid: r.attrs.get("Arn") for r in alive if r.type == "AWS::IAM::Role"}}
