"""Resource handlers of the emulator's CloudFormation: each type is created, updated and
deleted through the service's public API (boto3 against this same emulator, as the account),
so every check the emulator's APIs make applies to stack resources too.

Per type: the name property and its length limit (generated names are
`<stack>-<LogicalId>-<RANDOM>` truncated to fit), the GetAtt attributes, the create-only
properties (a change means replacement) and what Ref returns (the physical id), all as the
CloudFormation resource reference documents (awsdocs/aws-cloudformation-user-guide
doc_source/aws-resource-*.md, "Return values"; for types it leaves undocumented, the resource
provider schema's primaryIdentifier, aws-cloudformation/cfn-lint schemas/providers).
"""
import io
import json
import time
import zipfile

from botocore.exceptions import ClientError


class PropertyError(Exception):
    """A property the type does not accept (CloudFormation's schema validation)."""


class UpdateNotSupported(Exception):
    """A property change this emulator cannot apply to this type (no API for it)."""


# --------------------------------------------------------------------------- API arguments
def api_args(client, operation, props):
    """CloudFormation properties -> the operation's parameters, following the botocore input
    shape: member names matched case-insensitively (KmsKeyArn -> KMSKeyArn, Alarms[].Name ->
    alarms[].name), scalars coerced as CloudFormation does (Ref gives strings), JSON objects
    serialised where the API takes a string (policies, patterns), Tags lists turned into maps."""
    shape = client.meta.service_model.operation_model(operation).input_shape
    return _convert(shape, props, "#")


def _member(shape, key):
    low = {m.lower(): m for m in shape.members}
    if key.lower() in low:
        return low[key.lower()]
    if key in ("Key", "Value"):         # CloudFormation tags {Key, Value} -> KMS's {TagKey, TagValue}
        return low.get("tag" + key.lower())
    return None


def _convert(shape, v, path):
    t = shape.type_name
    if t == "structure":
        if not isinstance(v, dict):
            raise PropertyError(f"{path}: expected type: JSONObject, found: {type(v).__name__}")
        out = {}
        for k, x in v.items():
            m = _member(shape, k)
            if m is None:
                raise PropertyError(f"{path}: extraneous key [{k}] is not permitted")
            out[m] = _convert(shape.members[m], x, f"{path}/{k}")
        return out
    if t == "list":
        return [_convert(shape.member, x, f"{path}/{i}") for i, x in enumerate(v if isinstance(v, list) else [v])]
    if t == "map":
        if isinstance(v, list):             # CloudFormation Tags [{Key, Value}] -> {Key: Value}
            v = {x["Key"]: x["Value"] for x in v}
        return {str(k): _convert(shape.value, x, f"{path}/{k}") for k, x in v.items()}
    if t == "string":
        if isinstance(v, (dict, list)):
            return json.dumps(v)
        return ("true" if v else "false") if isinstance(v, bool) else str(v)
    if t in ("integer", "long"):
        return int(float(v))
    if t in ("float", "double"):
        return float(v)
    if t == "boolean":
        return v if isinstance(v, bool) else str(v).lower() == "true"
    if t == "blob" and isinstance(v, str):
        return v.encode()
    return v


def pick(props, *keys):
    return {k: props[k] for k in keys if k in props}


def drop(props, *keys):
    return {k: v for k, v in props.items() if k not in keys}


def tolerate(fn, *codes):
    """Run a delete call; a resource already gone is fine (CloudFormation treats it so)."""
    try:
        return fn()
    except ClientError as e:
        code = e.response["Error"]["Code"]
        if code in codes or any(w in code for w in ("NotFound", "NoSuch", "NonExistent", "DoesNotExist")):
            return None
        raise


# --------------------------------------------------------------------------- base
class Handler:
    name_prop = None            # property holding a custom name
    name_limit = 255
    attrs = ()                  # Fn::GetAtt attributes
    create_only = ()            # properties whose change means replacement
    updatable = None            # properties an update applies in place (None: all the others)

    def name(self, ctx, r, suffix=""):
        return r.props.get(self.name_prop) or ctx.generate_name(r.lid, self.name_limit - len(suffix)) + suffix

    def create(self, ctx, r):
        raise NotImplementedError

    def update(self, ctx, r, old, changed):
        raise UpdateNotSupported(sorted(changed))

    def unsupported(self, changed):
        """Changed properties this provisioner cannot apply, checked before anything is applied."""
        return [] if self.updatable is None else sorted(set(changed) - set(self.updatable))

    def delete(self, ctx, r):
        raise NotImplementedError


HANDLERS = {}


def handles(type_name):
    def register(cls):
        HANDLERS[type_name] = cls()
        return cls
    return register


def attributes_of(type_name):
    """GetAtt attributes of a type, or None for a type this provisioner does not create (the
    creation then fails naming the type)."""
    h = HANDLERS.get(type_name)
    return None if h is None else set(h.attrs)


# --------------------------------------------------------------------------- KMS
@handles("AWS::KMS::Key")
class KmsKey(Handler):
    attrs = ("Arn", "KeyId")
    create_only = ("KeySpec", "KeyUsage", "MultiRegion", "Origin")
    updatable = ("Description", "KeyPolicy", "EnableKeyRotation", "Enabled", "PendingWindowInDays")

    def create(self, ctx, r):
        kms, p = ctx.client("kms"), r.props
        args = api_args(kms, "CreateKey", {**drop(p, "KeyPolicy", "EnableKeyRotation", "Enabled", "PendingWindowInDays",
                                                   "RotationPeriodInDays"), **({"Policy": p["KeyPolicy"]} if "KeyPolicy" in p else {})})
        meta = kms.create_key(**args)["KeyMetadata"]
        r.physical_id, r.attrs = meta["KeyId"], {"Arn": meta["Arn"], "KeyId": meta["KeyId"]}
        self._rotation_and_state(kms, r, {})

    def _rotation_and_state(self, kms, r, old):
        p, kid = r.props, r.physical_id
        if str(p.get("EnableKeyRotation", False)).lower() != str(old.get("EnableKeyRotation", False)).lower():
            (kms.enable_key_rotation if str(p.get("EnableKeyRotation")).lower() == "true" else kms.disable_key_rotation)(KeyId=kid)
        if str(p.get("Enabled", True)).lower() != str(old.get("Enabled", True)).lower():
            (kms.enable_key if str(p.get("Enabled", True)).lower() == "true" else kms.disable_key)(KeyId=kid)

    def update(self, ctx, r, old, changed):
        kms = ctx.client("kms")
        if "Description" in changed:
            kms.update_key_description(KeyId=r.physical_id, Description=r.props.get("Description", ""))
        if "KeyPolicy" in changed:
            kms.put_key_policy(KeyId=r.physical_id, PolicyName="default", Policy=json.dumps(r.props["KeyPolicy"]))
        self._rotation_and_state(kms, r, old)

    def delete(self, ctx, r):
        # CloudFormation schedules the deletion (PendingWindowInDays, default 30).
        tolerate(lambda: ctx.client("kms").schedule_key_deletion(
            KeyId=r.physical_id, PendingWindowInDays=int(r.props.get("PendingWindowInDays", 30))))


@handles("AWS::KMS::Alias")
class KmsAlias(Handler):
    create_only = ("AliasName",)
    updatable = ("TargetKeyId",)

    def create(self, ctx, r):
        ctx.client("kms").create_alias(**api_args(ctx.client("kms"), "CreateAlias", r.props))
        r.physical_id = r.props["AliasName"]

    def update(self, ctx, r, old, changed):
        ctx.client("kms").update_alias(AliasName=r.physical_id, TargetKeyId=r.props["TargetKeyId"])

    def delete(self, ctx, r):
        tolerate(lambda: ctx.client("kms").delete_alias(AliasName=r.physical_id))


# --------------------------------------------------------------------------- SNS
TOPIC_ATTRIBUTES = ("DisplayName", "KmsMasterKeyId", "FifoTopic", "ContentBasedDeduplication", "SignatureVersion",
                    "TracingConfig", "ArchivePolicy", "DeliveryStatusLogging", "FifoThroughputScope")


@handles("AWS::SNS::Topic")
class SnsTopic(Handler):
    name_prop, name_limit = "TopicName", 256
    attrs = ("TopicArn", "TopicName")
    create_only = ("TopicName", "FifoTopic")
    updatable = TOPIC_ATTRIBUTES

    def create(self, ctx, r):
        sns, p = ctx.client("sns"), r.props
        fifo = str(p.get("FifoTopic", "false")).lower() == "true"
        name = self.name(ctx, r, ".fifo" if fifo and not p.get("TopicName") else "")
        attributes = {k: _attr(v) for k, v in pick(p, *TOPIC_ATTRIBUTES).items()}
        extra = drop(p, "TopicName", "Subscription", "Tags", *TOPIC_ATTRIBUTES)
        if extra:
            raise PropertyError(f"#: extraneous key [{next(iter(extra))}] is not permitted")
        arn = sns.create_topic(Name=name, Attributes=attributes, **({"Tags": p["Tags"]} if p.get("Tags") else {}))["TopicArn"]
        r.physical_id, r.attrs = arn, {"TopicArn": arn, "TopicName": name}
        for s in p.get("Subscription", []):
            sns.subscribe(TopicArn=arn, Protocol=s["Protocol"], Endpoint=s["Endpoint"])

    def update(self, ctx, r, old, changed):
        sns = ctx.client("sns")
        for k in changed:
            sns.set_topic_attributes(TopicArn=r.physical_id, AttributeName=k, AttributeValue=_attr(r.props.get(k, "")))

    def delete(self, ctx, r):
        tolerate(lambda: ctx.client("sns").delete_topic(TopicArn=r.physical_id))


def _attr(v):
    """An SNS/SQS attribute value: strings, with JSON objects serialised."""
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


SUBSCRIPTION_ATTRIBUTES = ("DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery",
                           "RedrivePolicy", "SubscriptionRoleArn", "ReplayPolicy")


@handles("AWS::SNS::Subscription")
class SnsSubscription(Handler):
    attrs = ("Arn",)
    create_only = ("Endpoint", "Protocol", "TopicArn", "Region")
    updatable = SUBSCRIPTION_ATTRIBUTES

    def create(self, ctx, r):
        p = r.props
        attributes = {k: _attr(v) for k, v in pick(p, *SUBSCRIPTION_ATTRIBUTES).items()}
        arn = ctx.client("sns").subscribe(TopicArn=p["TopicArn"], Protocol=p["Protocol"], Endpoint=p.get("Endpoint", ""),
                                          Attributes=attributes, ReturnSubscriptionArn=True)["SubscriptionArn"]
        r.physical_id, r.attrs = arn, {"Arn": arn}

    def update(self, ctx, r, old, changed):
        for k in changed:     # a removed attribute is reset with an empty value
            ctx.client("sns").set_subscription_attributes(SubscriptionArn=r.physical_id, AttributeName=k,
                                                          AttributeValue=_attr(r.props.get(k, "")))

    def delete(self, ctx, r):
        tolerate(lambda: ctx.client("sns").unsubscribe(SubscriptionArn=r.physical_id))


def default_topic_policy(ctx, arn):
    """The policy SNS gives a new topic (what deleting a TopicPolicy goes back to)."""
    return json.dumps({"Version": "2008-10-17", "Id": "__default_policy_ID", "Statement": [{
        "Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
                   "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
        "Resource": arn, "Condition": {"StringEquals": {"AWS:SourceOwner": ctx.account}}}]})


@handles("AWS::SNS::TopicPolicy")
class SnsTopicPolicy(Handler):
    attrs = ("Id",)
    updatable = ("Topics", "PolicyDocument")

    def create(self, ctx, r):
        self._apply(ctx, r)
        r.physical_id = ctx.generate_name(r.lid, 255)
        r.attrs = {"Id": r.physical_id}

    def _apply(self, ctx, r):
        for arn in r.props["Topics"]:
            ctx.client("sns").set_topic_attributes(TopicArn=arn, AttributeName="Policy",
                                                   AttributeValue=_attr(r.props["PolicyDocument"]))

    def update(self, ctx, r, old, changed):
        for arn in set(old.get("Topics", [])) - set(r.props["Topics"]):
            self._reset(ctx, arn)
        self._apply(ctx, r)

    def _reset(self, ctx, arn):
        tolerate(lambda: ctx.client("sns").set_topic_attributes(TopicArn=arn, AttributeName="Policy",
                                                                AttributeValue=default_topic_policy(ctx, arn)))

    def delete(self, ctx, r):
        for arn in r.props.get("Topics", []):
            self._reset(ctx, arn)


# --------------------------------------------------------------------------- SQS
QUEUE_ATTRIBUTES = ("ContentBasedDeduplication", "DeduplicationScope", "DelaySeconds", "FifoQueue", "FifoThroughputLimit",
                    "KmsDataKeyReusePeriodSeconds", "KmsMasterKeyId", "MaximumMessageSize", "MessageRetentionPeriod",
                    "ReceiveMessageWaitTimeSeconds", "RedriveAllowPolicy", "RedrivePolicy", "SqsManagedSseEnabled",
                    "VisibilityTimeout")


@handles("AWS::SQS::Queue")
class SqsQueue(Handler):
    name_prop, name_limit = "QueueName", 80
    attrs = ("Arn", "QueueName", "QueueUrl")
    create_only = ("QueueName", "FifoQueue")
    updatable = QUEUE_ATTRIBUTES

    def create(self, ctx, r):
        sqs, p = ctx.client("sqs"), r.props
        extra = drop(p, "QueueName", "Tags", *QUEUE_ATTRIBUTES)
        if extra:
            raise PropertyError(f"#: extraneous key [{next(iter(extra))}] is not permitted")
        fifo = str(p.get("FifoQueue", "false")).lower() == "true"
        name = self.name(ctx, r, ".fifo" if fifo and not p.get("QueueName") else "")
        kw = {"tags": {t["Key"]: t["Value"] for t in p["Tags"]}} if p.get("Tags") else {}
        url = sqs.create_queue(QueueName=name, Attributes={k: _attr(v) for k, v in pick(p, *QUEUE_ATTRIBUTES).items()}, **kw)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        r.physical_id, r.attrs = url, {"Arn": arn, "QueueName": name, "QueueUrl": url}

    def update(self, ctx, r, old, changed):
        ctx.client("sqs").set_queue_attributes(QueueUrl=r.physical_id, Attributes={
            k: _attr(r.props.get(k, "")) for k in changed})

    def delete(self, ctx, r):
        tolerate(lambda: ctx.client("sqs").delete_queue(QueueUrl=r.physical_id))


@handles("AWS::SQS::QueuePolicy")
class SqsQueuePolicy(Handler):
    attrs = ("Id",)
    updatable = ("Queues", "PolicyDocument")

    def create(self, ctx, r):
        self._apply(ctx, r)
        r.physical_id = ctx.generate_name(r.lid, 255)
        r.attrs = {"Id": r.physical_id}

    def _apply(self, ctx, r):
        for url in r.props["Queues"]:
            ctx.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": _attr(r.props["PolicyDocument"])})

    def update(self, ctx, r, old, changed):
        for url in set(old.get("Queues", [])) - set(r.props["Queues"]):
            self._reset(ctx, url)
        self._apply(ctx, r)

    def _reset(self, ctx, url):
        tolerate(lambda: ctx.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""}))

    def delete(self, ctx, r):
        for url in r.props.get("Queues", []):
            self._reset(ctx, url)


# --------------------------------------------------------------------------- Logs
@handles("AWS::Logs::LogGroup")
class LogGroup(Handler):
    name_prop, name_limit = "LogGroupName", 512
    attrs = ("Arn",)
    create_only = ("LogGroupName", "LogGroupClass")
    updatable = ("RetentionInDays", "KmsKeyId")

    def create(self, ctx, r):
        logs, p = ctx.client("logs"), r.props
        name = self.name(ctx, r)
        logs.create_log_group(**api_args(logs, "CreateLogGroup", {"logGroupName": name, **pick(p, "KmsKeyId", "Tags", "LogGroupClass")}))
        r.physical_id = name
        r.attrs = {"Arn": f"arn:{ctx.partition}:logs:{ctx.region}:{ctx.account}:log-group:{name}:*"}
        if "RetentionInDays" in p:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(p["RetentionInDays"]))
        extra = drop(p, "LogGroupName", "KmsKeyId", "Tags", "LogGroupClass", "RetentionInDays")
        if extra:
            raise PropertyError(f"#: extraneous key [{next(iter(extra))}] is not permitted")

    def update(self, ctx, r, old, changed):
        logs, name, p = ctx.client("logs"), r.physical_id, r.props
        if "RetentionInDays" in changed:
            if "RetentionInDays" in p:
                logs.put_retention_policy(logGroupName=name, retentionInDays=int(p["RetentionInDays"]))
            else:
                logs.delete_retention_policy(logGroupName=name)
        if "KmsKeyId" in changed:
            if "KmsKeyId" in p:
                logs.associate_kms_key(logGroupName=name, kmsKeyId=p["KmsKeyId"])
            else:
                logs.disassociate_kms_key(logGroupName=name)

    def delete(self, ctx, r):
        tolerate(lambda: ctx.client("logs").delete_log_group(logGroupName=r.physical_id))


# --------------------------------------------------------------------------- IAM
@handles("AWS::IAM::Role")
class IamRole(Handler):
    name_prop, name_limit = "RoleName", 64
    attrs = ("Arn", "RoleId")
    create_only = ("RoleName", "Path")
    updatable = ("AssumeRolePolicyDocument", "Description", "MaxSessionDuration", "Policies", "ManagedPolicyArns")

    def create(self, ctx, r):
        iam, p = ctx.client("iam"), r.props
        name = self.name(ctx, r)
        args = api_args(iam, "CreateRole", {**drop(p, "Policies", "ManagedPolicyArns"), "RoleName": name})
        role = iam.create_role(**args)["Role"]
        r.physical_id, r.attrs = name, {"Arn": role["Arn"], "RoleId": role["RoleId"]}
        for pol in p.get("Policies", []):
            iam.put_role_policy(RoleName=name, PolicyName=pol["PolicyName"], PolicyDocument=_attr(pol["PolicyDocument"]))
        for arn in p.get("ManagedPolicyArns", []):
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)

    def update(self, ctx, r, old, changed):
        iam, name, p = ctx.client("iam"), r.physical_id, r.props
        if "AssumeRolePolicyDocument" in changed:
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=_attr(p["AssumeRolePolicyDocument"]))
        if {"Description", "MaxSessionDuration"} & set(changed):
            iam.update_role(**api_args(iam, "UpdateRole", {"RoleName": name, **pick(p, "Description", "MaxSessionDuration")}))
        if "Policies" in changed:
            new = {x["PolicyName"]: x["PolicyDocument"] for x in p.get("Policies", [])}
            for pol in old.get("Policies", []):
                if pol["PolicyName"] not in new:
                    iam.delete_role_policy(RoleName=name, PolicyName=pol["PolicyName"])
            for pname, doc in new.items():
                iam.put_role_policy(RoleName=name, PolicyName=pname, PolicyDocument=_attr(doc))
        if "ManagedPolicyArns" in changed:
            before, after = set(old.get("ManagedPolicyArns", [])), set(p.get("ManagedPolicyArns", []))
            for arn in before - after:
                iam.detach_role_policy(RoleName=name, PolicyArn=arn)
            for arn in after - before:
                iam.attach_role_policy(RoleName=name, PolicyArn=arn)

    def delete(self, ctx, r):
        iam, name = ctx.client("iam"), r.physical_id

        def go():
            for pol in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=name, PolicyArn=pol["PolicyArn"])
            for pname in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                iam.delete_role_policy(RoleName=name, PolicyName=pname)
            iam.delete_role(RoleName=name)
        tolerate(go)


@handles("AWS::IAM::ManagedPolicy")
class IamManagedPolicy(Handler):
    name_prop, name_limit = "ManagedPolicyName", 128
    attrs = ("PolicyArn", "PolicyId", "DefaultVersionId", "AttachmentCount", "IsAttachable", "CreateDate",
             "UpdateDate", "PermissionsBoundaryUsageCount")
    create_only = ("ManagedPolicyName", "Path", "Description")
    updatable = ("PolicyDocument", "Roles", "Users", "Groups")
    TARGETS = (("Roles", "role", "RoleName"), ("Users", "user", "UserName"), ("Groups", "group", "GroupName"))

    def create(self, ctx, r):
        iam, p = ctx.client("iam"), r.props
        pol = iam.create_policy(**api_args(iam, "CreatePolicy", {
            "PolicyName": self.name(ctx, r), "PolicyDocument": p["PolicyDocument"], **pick(p, "Path", "Description")}))["Policy"]
        r.physical_id = pol["Arn"]
        self._attach(iam, r.physical_id, p, {})
        self._attrs(iam, r)

    def _attach(self, iam, arn, new, old):
        for prop, kind, key in self.TARGETS:
            before, after = set(old.get(prop, [])), set(new.get(prop, []))
            for n in before - after:
                getattr(iam, f"detach_{kind}_policy")(**{key: n, "PolicyArn": arn})
            for n in after - before:
                getattr(iam, f"attach_{kind}_policy")(**{key: n, "PolicyArn": arn})

    def _attrs(self, iam, r):
        pol = iam.get_policy(PolicyArn=r.physical_id)["Policy"]
        r.attrs = {"PolicyArn": pol["Arn"], "PolicyId": pol["PolicyId"], "DefaultVersionId": pol["DefaultVersionId"],
                   "AttachmentCount": pol.get("AttachmentCount", 0), "IsAttachable": pol.get("IsAttachable", True),
                   "CreateDate": str(pol.get("CreateDate")), "UpdateDate": str(pol.get("UpdateDate")),
                   "PermissionsBoundaryUsageCount": pol.get("PermissionsBoundaryUsageCount", 0)}

    def update(self, ctx, r, old, changed):
        iam, arn = ctx.client("iam"), r.physical_id
        if "PolicyDocument" in changed:
            versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
            if len(versions) >= 5:       # IAM keeps five versions: drop the oldest non-default
                oldest = min((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
                iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
            iam.create_policy_version(PolicyArn=arn, PolicyDocument=_attr(r.props["PolicyDocument"]), SetAsDefault=True)
        self._attach(iam, arn, r.props, old)
        self._attrs(iam, r)

    def delete(self, ctx, r):
        iam, arn = ctx.client("iam"), r.physical_id

        def go():
            self._attach(iam, arn, {}, r.props)
            for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
                if not v["IsDefaultVersion"]:
                    iam.delete_policy_version(PolicyArn=arn, VersionId=v["VersionId"])
            iam.delete_policy(PolicyArn=arn)
        tolerate(go)


# --------------------------------------------------------------------------- Lambda
CODE_PROPS = ("Code", "Architectures")


@handles("AWS::Lambda::Function")
class LambdaFunction(Handler):
    name_prop, name_limit = "FunctionName", 64
    attrs = ("Arn", "SnapStartResponse", "SnapStartResponse.ApplyOn", "SnapStartResponse.OptimizationStatus")
    create_only = ("FunctionName", "PackageType")

    def create(self, ctx, r):
        lam, p = ctx.client("lambda"), r.props
        name = self.name(ctx, r)
        args = api_args(lam, "CreateFunction", {**drop(p, "ReservedConcurrentExecutions", "Code"), "FunctionName": name,
                                                "Code": self._code(p)})
        fn = lam.create_function(**args)
        r.physical_id = name
        r.attrs = {"Arn": fn["FunctionArn"], **self._snapstart(fn)}
        if p.get("ReservedConcurrentExecutions") is not None:
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=int(p["ReservedConcurrentExecutions"]))
        self._wait(lam, name)

    @staticmethod
    def _snapstart(fn):
        s = fn.get("SnapStart") or {}
        return {"SnapStartResponse.ApplyOn": s.get("ApplyOn", "None"),
                "SnapStartResponse.OptimizationStatus": s.get("OptimizationStatus", "Off")}

    @staticmethod
    def _code(p):
        code = dict(p.get("Code") or {})
        if "ZipFile" in code:           # inline source: CloudFormation zips it as index.<ext>
            ext = "py" if str(p.get("Runtime", "")).startswith("python") else "js"
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as z:
                z.writestr(f"index.{ext}", code.pop("ZipFile"))
            code["ZipFile"] = buf.getvalue()
        return code

    @staticmethod
    def _wait(lam, name, qualifier=None):
        """CloudFormation waits until the function (or the update) is no longer Pending/InProgress."""
        for _ in range(600):
            cfg = lam.get_function_configuration(FunctionName=name, **({"Qualifier": qualifier} if qualifier else {}))
            if cfg.get("State") == "Failed":
                raise RuntimeError(f"Function {name} state Failed: {cfg.get('StateReason', '')}")
            if cfg.get("State", "Active") != "Pending" and cfg.get("LastUpdateStatus", "Successful") != "InProgress":
                return cfg
            time.sleep(0.1)
        raise RuntimeError(f"Function {name} did not become Active")

    def unsupported(self, changed):
        shape = _config_shape()
        return sorted(k for k in set(changed) - set(CODE_PROPS) - {"ReservedConcurrentExecutions", "Tags"}
                      if _member(shape, k) is None)

    def update(self, ctx, r, old, changed):
        lam, name, p = ctx.client("lambda"), r.physical_id, r.props
        if set(changed) & set(CODE_PROPS):
            lam.update_function_code(FunctionName=name, **api_args(lam, "UpdateFunctionCode", {
                **self._code(p), **pick(p, "Architectures")}))
            self._wait(lam, name)
        config = set(changed) - set(CODE_PROPS) - {"ReservedConcurrentExecutions", "Tags"}
        if config:
            # A property removed from the template goes back to Lambda's default.
            reset = {k: RESET[k] for k in config if k not in p and k in RESET}
            lam.update_function_configuration(**api_args(lam, "UpdateFunctionConfiguration", {
                "FunctionName": name, **pick(p, *config), **reset}))
            self._wait(lam, name)
        if "ReservedConcurrentExecutions" in changed:
            if p.get("ReservedConcurrentExecutions") is None:
                lam.delete_function_concurrency(FunctionName=name)
            else:
                lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=int(p["ReservedConcurrentExecutions"]))
        if "Tags" in changed:
            arn, new = r.attrs["Arn"], {t["Key"]: t["Value"] for t in p.get("Tags", [])}
            gone = [t["Key"] for t in old.get("Tags", []) if t["Key"] not in new]
            if gone:
                lam.untag_resource(Resource=arn, TagKeys=gone)
            if new:
                lam.tag_resource(Resource=arn, Tags=new)

    def delete(self, ctx, r):
        tolerate(lambda: ctx.client("lambda").delete_function(FunctionName=r.physical_id))


def _config_shape():
    import botocore.session
    model = botocore.session.get_session().get_service_model("lambda")
    return model.operation_model("UpdateFunctionConfiguration").input_shape


RESET = {"Description": "", "Environment": {"Variables": {}}, "DeadLetterConfig": {"TargetArn": ""},
         "TracingConfig": {"Mode": "PassThrough"}, "Timeout": 3, "MemorySize": 128, "Layers": [],
         "KmsKeyArn": "", "VpcConfig": {"SubnetIds": [], "SecurityGroupIds": []}}


@handles("AWS::Lambda::Version")
class LambdaVersion(Handler):
    attrs = ("Version", "FunctionArn")
    create_only = ("FunctionName", "Description", "CodeSha256", "RuntimePolicy", "ProvisionedConcurrencyConfig")
    updatable = ()

    def create(self, ctx, r):
        lam = ctx.client("lambda")
        v = lam.publish_version(**api_args(lam, "PublishVersion", pick(r.props, "FunctionName", "Description", "CodeSha256")))
        r.physical_id, r.attrs = v["FunctionArn"], {"Version": v["Version"], "FunctionArn": v["FunctionArn"]}

    def delete(self, ctx, r):
        fn, _, version = r.physical_id.rpartition(":")
        tolerate(lambda: ctx.client("lambda").delete_function(FunctionName=fn, Qualifier=version))


@handles("AWS::Lambda::Alias")
class LambdaAlias(Handler):
    attrs = ("AliasArn",)
    create_only = ("FunctionName", "Name")
    updatable = ("Description", "FunctionVersion", "RoutingConfig")

    @staticmethod
    def args(lam, op, p):
        p = dict(p)
        weights = (p.pop("RoutingConfig", None) or {}).get("AdditionalVersionWeights")
        if op == "UpdateAlias":
            p.pop("ProvisionedConcurrencyConfig", None)
        args = api_args(lam, op, drop(p, "ProvisionedConcurrencyConfig"))
        if weights is not None:     # CloudFormation's [{FunctionVersion, FunctionWeight}] -> the API's map
            args["RoutingConfig"] = {"AdditionalVersionWeights": {w["FunctionVersion"]: float(w["FunctionWeight"]) for w in weights}}
        return args

    def create(self, ctx, r):
        lam = ctx.client("lambda")
        a = lam.create_alias(**self.args(lam, "CreateAlias", r.props))
        r.physical_id, r.attrs = a["AliasArn"], {"AliasArn": a["AliasArn"]}

    def update(self, ctx, r, old, changed):
        """Plain UpdateAlias; the CodeDeploy path (UpdatePolicy) is the provisioner's. No
        RoutingConfig in the template means no weights (UpdateAlias would otherwise keep them)."""
        lam = ctx.client("lambda")
        p = {"RoutingConfig": {"AdditionalVersionWeights": []}, **r.props}
        lam.update_alias(**self.args(lam, "UpdateAlias", p))

    def delete(self, ctx, r):
        p = r.props
        tolerate(lambda: ctx.client("lambda").delete_alias(FunctionName=p["FunctionName"], Name=p["Name"]))


@handles("AWS::Lambda::Permission")
class LambdaPermission(Handler):
    attrs = ("Id",)
    create_only = ("Action", "EventSourceToken", "FunctionName", "FunctionUrlAuthType", "Principal", "PrincipalOrgID",
                   "SourceAccount", "SourceArn", "InvokedViaFunctionUrl")

    def create(self, ctx, r):
        lam, sid = ctx.client("lambda"), ctx.generate_name(r.lid, 100)
        lam.add_permission(**api_args(lam, "AddPermission", {**r.props, "StatementId": sid}))
        # Ref: the schema's primaryIdentifier, FunctionName|Id.
        r.physical_id, r.attrs = f"{r.props['FunctionName']}|{sid}", {"Id": sid}

    def delete(self, ctx, r):
        fn, sid = r.physical_id.split("|", 1)
        tolerate(lambda: ctx.client("lambda").remove_permission(FunctionName=fn, StatementId=sid))


@handles("AWS::Lambda::EventInvokeConfig")
class LambdaEventInvokeConfig(Handler):
    create_only = ("FunctionName", "Qualifier")
    updatable = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")

    def create(self, ctx, r):
        lam = ctx.client("lambda")
        lam.put_function_event_invoke_config(**api_args(lam, "PutFunctionEventInvokeConfig", r.props))
        r.physical_id = f"{r.props['FunctionName']}|{r.props['Qualifier']}"   # schema primaryIdentifier

    def update(self, ctx, r, old, changed):
        lam = ctx.client("lambda")   # Put replaces the whole configuration, as the template states it
        lam.put_function_event_invoke_config(**api_args(lam, "PutFunctionEventInvokeConfig", r.props))

    def delete(self, ctx, r):
        p = r.props
        tolerate(lambda: ctx.client("lambda").delete_function_event_invoke_config(
            FunctionName=p["FunctionName"], Qualifier=p["Qualifier"]))


# --------------------------------------------------------------------------- CodeDeploy
def _codedeploy_delete(ctx, call, backend_pop):
    """moto 5.2.5 has no DeleteApplication / DeleteDeploymentGroup: when the API answers that it
    is not implemented, remove the object from moto's backend (README.md, CloudFormation)."""
    try:
        tolerate(call)
    except ClientError as e:
        if "not been implemented" not in e.response["Error"].get("Message", "") and e.response["ResponseMetadata"]["HTTPStatusCode"] < 500:
            raise
        from moto.codedeploy.models import codedeploy_backends
        backend_pop(codedeploy_backends[ctx.account][ctx.region])


@handles("AWS::CodeDeploy::Application")
class CodeDeployApplication(Handler):
    name_prop, name_limit = "ApplicationName", 100
    attrs = ("ApplicationName",)
    create_only = ("ApplicationName", "ComputePlatform")
    updatable = ("Tags",)       # kept as the template states them; not applied (moto has no tag diff)

    def create(self, ctx, r):
        cd, name = ctx.client("codedeploy"), self.name(ctx, r)
        cd.create_application(**api_args(cd, "CreateApplication", {**r.props, "ApplicationName": name}))
        r.physical_id, r.attrs = name, {"ApplicationName": name}

    def update(self, ctx, r, old, changed):
        pass

    def delete(self, ctx, r):
        name = r.physical_id
        _codedeploy_delete(ctx, lambda: ctx.client("codedeploy").delete_application(applicationName=name),
                           lambda b: (b.applications.pop(name, None), b.deployment_groups.pop(name, None)))


@handles("AWS::CodeDeploy::DeploymentGroup")
class CodeDeployDeploymentGroup(Handler):
    name_prop, name_limit = "DeploymentGroupName", 100
    create_only = ("ApplicationName", "DeploymentGroupName")

    def create(self, ctx, r):
        cd, name = ctx.client("codedeploy"), self.name(ctx, r)
        cd.create_deployment_group(**api_args(cd, "CreateDeploymentGroup", {
            **drop(r.props, "Deployment"), "DeploymentGroupName": name}))
        r.physical_id = name

    def update(self, ctx, r, old, changed):
        cd = ctx.client("codedeploy")
        cd.update_deployment_group(**api_args(cd, "UpdateDeploymentGroup", {
            **drop(r.props, "Deployment", "DeploymentGroupName", "Tags"), "CurrentDeploymentGroupName": r.physical_id}))

    def delete(self, ctx, r):
        app, name = r.props["ApplicationName"], r.physical_id
        _codedeploy_delete(ctx, lambda: ctx.client("codedeploy").delete_deployment_group(applicationName=app, deploymentGroupName=name),
                           lambda b: b.deployment_groups.get(app, {}).pop(name, None))


# --------------------------------------------------------------------------- EventBridge, Scheduler
@handles("AWS::Events::Rule")
class EventsRule(Handler):
    name_prop, name_limit = "Name", 64
    attrs = ("Arn",)
    create_only = ("Name", "EventBusName")

    def create(self, ctx, r):
        name = self.name(ctx, r)
        r.physical_id = name if r.props.get("EventBusName", "default") == "default" else f"{r.props['EventBusName']}|{name}"
        r.attrs = {"Arn": self._put(ctx, r, name, {})}

    def _put(self, ctx, r, name, old):
        ev, p = ctx.client("events"), r.props
        bus = pick(p, "EventBusName")
        arn = ev.put_rule(**api_args(ev, "PutRule", {**drop(p, "Targets"), "Name": name, "State": p.get("State", "ENABLED")}))["RuleArn"]
        new_ids = {t["Id"] for t in p.get("Targets", [])}
        gone = [t["Id"] for t in old.get("Targets", []) if t["Id"] not in new_ids]
        if gone:
            ev.remove_targets(Rule=name, Ids=gone, **bus)
        if p.get("Targets"):
            ev.put_targets(**api_args(ev, "PutTargets", {"Rule": name, "Targets": p["Targets"], **bus}))
        return arn

    def update(self, ctx, r, old, changed):
        r.attrs = {"Arn": self._put(ctx, r, r.physical_id.split("|")[-1], old)}

    def delete(self, ctx, r):
        ev, name, bus = ctx.client("events"), r.physical_id.split("|")[-1], pick(r.props, "EventBusName")

        def go():
            ids = [t["Id"] for t in ev.list_targets_by_rule(Rule=name, **bus)["Targets"]]
            if ids:
                ev.remove_targets(Rule=name, Ids=ids, **bus)
            ev.delete_rule(Name=name, **bus)
        tolerate(go)


@handles("AWS::Scheduler::ScheduleGroup")
class ScheduleGroup(Handler):
    name_prop, name_limit = "Name", 64
    attrs = ("Arn", "CreationDate", "LastModificationDate", "State")
    create_only = ("Name",)
    updatable = ("Tags",)       # kept as the template states them; not applied

    def create(self, ctx, r):
        sch, name = ctx.client("scheduler"), self.name(ctx, r)
        sch.create_schedule_group(**api_args(sch, "CreateScheduleGroup", {**r.props, "Name": name}))
        g = sch.get_schedule_group(Name=name)
        r.physical_id = name
        r.attrs = {"Arn": g["Arn"], "CreationDate": str(g.get("CreationDate")),
                   "LastModificationDate": str(g.get("LastModificationDate")), "State": g.get("State", "ACTIVE")}

    def update(self, ctx, r, old, changed):
        pass

    def delete(self, ctx, r):
        tolerate(lambda: ctx.client("scheduler").delete_schedule_group(Name=r.physical_id))


@handles("AWS::Scheduler::Schedule")
class Schedule(Handler):
    name_prop, name_limit = "Name", 64
    attrs = ("Arn",)
    create_only = ("Name", "GroupName")

    def create(self, ctx, r):
        sch, name = ctx.client("scheduler"), self.name(ctx, r)
        arn = sch.create_schedule(**api_args(sch, "CreateSchedule", {**r.props, "Name": name}))["ScheduleArn"]
        r.physical_id, r.attrs = name, {"Arn": arn}

    def update(self, ctx, r, old, changed):
        sch = ctx.client("scheduler")   # UpdateSchedule replaces the whole definition
        r.attrs = {"Arn": sch.update_schedule(**api_args(sch, "UpdateSchedule", {**r.props, "Name": r.physical_id}))["ScheduleArn"]}

    def delete(self, ctx, r):
        tolerate(lambda: ctx.client("scheduler").delete_schedule(Name=r.physical_id, **pick(r.props, "GroupName")))


# --------------------------------------------------------------------------- CloudWatch
@handles("AWS::CloudWatch::Alarm")
class Alarm(Handler):
    name_prop, name_limit = "AlarmName", 255
    attrs = ("Arn",)
    create_only = ("AlarmName",)

    def create(self, ctx, r):
        name = self.name(ctx, r)
        self._put(ctx, r, name)
        r.physical_id = name
        alarms = ctx.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
        r.attrs = {"Arn": alarms[0]["AlarmArn"] if alarms else f"arn:{ctx.partition}:cloudwatch:{ctx.region}:{ctx.account}:alarm:{name}"}

    def _put(self, ctx, r, name):
        cw = ctx.client("cloudwatch")
        cw.put_metric_alarm(**api_args(cw, "PutMetricAlarm", {**r.props, "AlarmName": name}))

    def update(self, ctx, r, old, changed):
        self._put(ctx, r, r.physical_id)    # PutMetricAlarm replaces the whole alarm definition

    def delete(self, ctx, r):
        tolerate(lambda: ctx.client("cloudwatch").delete_alarms(AlarmNames=[r.physical_id]))


@handles("AWS::CloudWatch::Dashboard")
class Dashboard(Handler):
    name_prop, name_limit = "DashboardName", 255
    create_only = ("DashboardName",)
    updatable = ("DashboardBody",)

    def create(self, ctx, r):
        name = self.name(ctx, r)
        ctx.client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=_attr(r.props["DashboardBody"]))
        r.physical_id = name

    def update(self, ctx, r, old, changed):
        ctx.client("cloudwatch").put_dashboard(DashboardName=r.physical_id, DashboardBody=_attr(r.props["DashboardBody"]))

    def delete(self, ctx, r):
        tolerate(lambda: ctx.client("cloudwatch").delete_dashboards(DashboardNames=[r.physical_id]))
