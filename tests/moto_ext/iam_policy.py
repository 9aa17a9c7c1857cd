"""The IAM policy evaluator: does a set of policy documents allow an action on a resource?

Follows the IAM User Guide's policy evaluation logic for one account
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
an explicit Deny in any statement wins; otherwise any matching Allow allows; otherwise the
request is implicitly denied. Pure: no moto, no state; iam_authz feeds it the documents.

Statement elements (reference_policies_elements_*.html):
* Action / NotAction: `service:Action`, case-insensitive, with `*` and `?` wildcards.
* Resource / NotResource: ARNs, case-sensitive, `*` and `?` wildcards (a `*` spans `:` and `/`).
* Principal / NotPrincipal: only for resource-based policies (`principal_matches`).
* Condition: every operator block must hold, and every key in a block; the values listed for
  one key are ORed. Operators: String*, Arn*, Bool, Null, Numeric*, each with `...IfExists`,
  and the `ForAnyValue:` / `ForAllValues:` set qualifiers. A key absent from the request
  context makes a positive operator false and a negated one (StringNotLike, ArnNotEquals…)
  true; `...IfExists` is true when the key is absent (reference_policies_elements_condition_
  operators.html, "Important"). Policy variables (`${aws:username}`) are not expanded.
"""
import json
import re
from dataclasses import dataclass, field


@dataclass
class Result:
    decision: str                      # "allowed" | "explicitDeny" | "implicitDeny"
    statements: list = field(default_factory=list)  # the statements that decided it

    @property
    def allowed(self):
        return self.decision == "allowed"


def load(document):
    """A policy document from JSON text or a dict; its Statement always a list."""
    doc = json.loads(document) if isinstance(document, (str, bytes)) else document
    statements = doc.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def evaluate(policies, action, resource, context=None, skip=None):
    """`policies`: [(policy_id, document)]. `skip`: a (policy_id, index) statement to leave out
    (for the least-privilege report: is this statement necessary?)."""
    context = context or {}
    allows, denies = [], []
    for policy_id, document in policies:
        for index, st in enumerate(load(document)):
            if skip == (policy_id, index) or not statement_applies(st, action, resource, context):
                continue
            ref = {"policy": policy_id, "index": index, "sid": st.get("Sid", "")}
            (denies if st.get("Effect") == "Deny" else allows).append(ref)
    if denies:
        return Result("explicitDeny", denies)
    if allows:
        return Result("allowed", allows)
    return Result("implicitDeny", [])


def statement_applies(st, action, resource, context):
    """Action, resource and conditions of one statement (principal is checked separately)."""
    if "Action" in st and not any(_like(p, action, fold=True) for p in _list(st["Action"])):
        return False
    if "NotAction" in st and any(_like(p, action, fold=True) for p in _list(st["NotAction"])):
        return False
    if "Resource" in st and not any(_like(p, resource) for p in _list(st["Resource"])):
        return False
    if "NotResource" in st and any(_like(p, resource) for p in _list(st["NotResource"])):
        return False
    return conditions_hold(st.get("Condition") or {}, context)


def principal_matches(st, principal):
    """`principal`: {"Service": "events.amazonaws.com"} or {"AWS": "<arn or account id>"}.
    A statement's Principal "*" or {"AWS": "*"} matches anyone, AWS services included (the
    two forms are equivalent); an account id or its root ARN matches every principal of that
    account (reference_policies_elements_principal.html)."""
    want = st.get("Principal")
    if want is None:
        return False
    if want == "*" or (isinstance(want, dict) and "*" in _list(want.get("AWS", []))):
        return True  # "*" and {"AWS": "*"} are the same: everyone, services included
    for kind, value in principal.items():
        for allowed in _list(want.get(kind, [])):
            if allowed == "*" or allowed == value:
                return True
            if kind == "AWS" and _account_of(allowed) and _account_of(allowed) == _account_of(value) \
                    and (allowed.isdigit() or allowed.endswith(":root")):
                return True
    return False


def evaluate_resource_policy(document, principal, action, resource, context=None):
    """A resource-based policy's own decision for `principal` (explicit deny wins)."""
    statements = [(i, st) for i, st in enumerate(load(document)) if principal_matches(st, principal)]
    doc = {"Statement": [st for _, st in statements]}
    return evaluate([("resource-policy", doc)], action, resource, context)


# ---- conditions --------------------------------------------------------------------------

_NEGATED = ("StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals",
            "ArnNotLike", "NumericNotEquals")


def conditions_hold(block, context):
    ctx = {k.lower(): v for k, v in context.items()}
    for operator, keys in block.items():
        for key, wanted in keys.items():
            if not _condition(operator, ctx.get(key.lower()), _list(wanted)):
                return False
    return True


def _condition(operator, actual, wanted):
    qualifier = None
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    if base == "Null":  # "true": the key must be absent
        return (actual is None) == (str(wanted[0]).lower() == "true")
    if actual is None:
        return if_exists or base in _NEGATED or qualifier == "ForAllValues"
    values = _list(actual)
    test = lambda v: _match_one(base, v, wanted)  # noqa: E731
    if qualifier == "ForAllValues":
        return all(test(v) for v in values)
    if qualifier == "ForAnyValue" or len(values) != 1:
        return any(test(v) for v in values)
    return test(values[0])


def _match_one(base, value, wanted):
    value = str(value)
    negated = base in _NEGATED
    positive = base.replace("Not", "", 1) if negated else base
    if positive == "StringEquals":
        hit = value in [str(w) for w in wanted]
    elif positive == "StringEqualsIgnoreCase":
        hit = value.lower() in [str(w).lower() for w in wanted]
    elif positive in ("StringLike", "ArnLike", "ArnEquals"):
        hit = any(_like(str(w), value) for w in wanted)
    elif positive == "Bool":
        hit = value.lower() in [str(w).lower() for w in wanted]
    elif positive.startswith("Numeric"):
        hit = any(_numeric(positive, float(value), float(w)) for w in wanted)
    else:
        raise ValueError(f"condition operator {base} is not supported by the emulator's evaluator")
    return not hit if negated else hit


def _numeric(op, a, b):
    return {"NumericEquals": a == b, "NumericLessThan": a < b, "NumericLessThanEquals": a <= b,
            "NumericGreaterThan": a > b, "NumericGreaterThanEquals": a >= b}[op]


# ---- matching helpers ----------------------------------------------------------------------

def _like(pattern, value, fold=False):
    """IAM wildcard match: `*` any run of characters (including `:` and `/`), `?` one."""
    if fold:
        pattern, value = pattern.lower(), value.lower()
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _list(v):
    return v if isinstance(v, list) else [v]


def _account_of(principal):
    if principal.isdigit():
        return principal
    parts = principal.split(":")
    return parts[4] if len(parts) > 5 and parts[0] == "arn" else None

