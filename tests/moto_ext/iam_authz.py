"""IAM as AWS enforces it, for the principals the emulator issues: who is calling, which
action and resource each operation is authorised against, the decision (explicit deny wins),
the protocol-correct AccessDenied, and a record of every decision (for the least-privilege
report). Owner: the IAM module. INTERFACE STUB: the signatures below are the contract other
modules code against."""

from dataclasses import dataclass, field


@dataclass
class Decision:
    allowed: bool
    explicit_deny: bool = False
    # Statements that allowed (or denied) the call: [{"policy": id, "sid": sid, "index": i}]
    statements: list = field(default_factory=list)
    message: str = ""


def authorize(account, role_arn, action, resource, context=None, source="api", region="us-east-1"):
    """Evaluate `role_arn`'s identity policies (inline and attached, AWS managed included) for
    `action` on `resource` with condition `context` ({"iam:PassedToService": ...}); record the
    call (principal, action, resource, decision, source: "api" for a call the principal made,
    or the AWS service acting with the role, e.g. "lambda:dead-letter", "codedeploy:hook");
    return a Decision. Never raises for a denial."""
    raise NotImplementedError


def require(account, role_arn, action, resource, context=None, source="api", region="us-east-1"):
    """`authorize`, raising common.ExtError("AccessDeniedException", AWS's message naming the
    principal, action and resource, 403) when denied."""
    raise NotImplementedError


def resource_policy_allows(policy, principal, action, resource, context=None):
    """Does a resource-based policy document (dict or JSON text: a Lambda function policy, an
    SNS topic policy, an SQS queue policy, a KMS key policy) allow `principal` ({"Service":
    "events.amazonaws.com"} or {"AWS": "<arn>"}) to do `action` on `resource` with
    `context` ({"aws:SourceArn": ..., "aws:SourceAccount": ..., "aws:SecureTransport":
    "true"})? An explicit deny wins."""
    raise NotImplementedError
