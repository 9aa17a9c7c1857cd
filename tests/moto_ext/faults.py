"""Gap 1: count every call and inject faults, in the error format of the request's protocol.

Also the one wrapper around moto's `BaseResponse.call_action`: it counts the call, runs the
registered guards (IAM authorisation registers one), then an injected fault, then moto."""
from collections import defaultdict

from moto.core.responses import BaseResponse

from common import LOCK, error_response, route

FAULTS = {}                                     # (account, operation) -> fault spec
CALLS = defaultdict(lambda: defaultdict(int))   # account -> operation -> count

# Guards: fn(response_object) -> None to continue, or a (status, headers, body) to answer with.
GUARDS = []

_orig_call_action = BaseResponse.call_action


def call_action(self):
    op, acct, fault = self._get_action(), self.current_account, None
    with LOCK:
        CALLS[acct][op] += 1
    for guard in GUARDS:
        answer = guard(self)
        if answer is not None:
            return answer
    with LOCK:
        f = FAULTS.get((acct, op))
        if f and f["count"] > 0:
            f["count"] -= 1
            fault = dict(f)
    if fault:
        return error_response(self, int(fault.get("status", 500)), fault["code"], fault.get("message") or "injected")
    return _orig_call_action(self)


BaseResponse.call_action = call_action


@route("GET", "/_ext/calls")
def _calls(req, j):
    with LOCK:
        return dict(CALLS[req.args["account"]])


@route("POST", "/_ext/faults")
def _add_fault(req, j):
    with LOCK:
        FAULTS[(j["account"], j["operation"])] = {
            "count": int(j.get("count", 1)), "status": int(j.get("status", 500)),
            "code": j.get("code", "InternalFailure"), "message": j.get("message", "injected")}
    return {}


@route("DELETE", "/_ext/faults")
def _clear_faults(req, j):
    with LOCK:
        for k in [k for k in FAULTS if k[0] == req.args.get("account")]:
            del FAULTS[k]
    return {}
