"""Shared state of the emulator extension: the lock, per-account records, the control-API
route table, the scaled clock, the emulator's own address, and protocol-correct errors.

Every other module imports this one and registers its patches and control routes at import.
"""
import json
import threading
import time
import uuid
from collections import defaultdict
from xml.sax.saxutils import escape

LOCK = threading.RLock()

# The emulator's own address and log directory, set by server.main() before it serves.
SERVER = {"url": None, "log_dir": None}

# Control API: (method, path) -> handler(request, json_body) returning a JSON-able value or a
# werkzeug Response. Handlers run outside LOCK; take it where state is shared.
ROUTES = {}


def route(method, path):
    def register(fn):
        ROUTES[(method, path)] = fn
        return fn
    return register


class Clock:
    """Time as the emulator's timed behaviours see it (CodeDeploy waits, async retry delays,
    alarm periods, schedules), scaled per account: scale 0.01 makes a 5-minute canary take
    3 s. Lambda deadlines and SDK timeouts are never scaled."""

    def __init__(self):
        self._scale = defaultdict(lambda: 1.0)

    def set_scale(self, account, scale):
        with LOCK:
            self._scale[account] = float(scale)

    def scale(self, account):
        with LOCK:
            return self._scale[account]

    def scaled(self, account, seconds):
        """Real seconds that stand for `seconds` of AWS time in `account`."""
        return seconds * self.scale(account)

    def sleep(self, account, seconds):
        time.sleep(self.scaled(account, seconds))


CLOCK = Clock()


@route("POST", "/_ext/clock")
def _set_clock(req, j):
    CLOCK.set_scale(j["account"], j["scale"])
    return {"scale": CLOCK.scale(j["account"])}


class ExtError(Exception):
    """An AWS error raised by a patch; rendered in the calling protocol by `error_response`."""

    def __init__(self, code, message, status=400, extra=None):
        super().__init__(message)
        self.code, self.message, self.status, self.extra = code, message, status, extra or {}


def error_response(resp, status, code, message, extra=None):
    """(status, headers, body) for an AWS error in the request's protocol: awsQuery (SNS) gets
    an XML ErrorResponse; JSON, rest-json (and CBOR through the bridge) get {"__type","message"}
    with x-amzn-ErrorType, and x-amzn-query-error for awsQueryCompatible services (SQS,
    CloudWatch)."""
    kind = "Sender" if int(status) < 500 else "Receiver"
    if "Action" in getattr(resp, "querystring", {}):
        body = (f"<ErrorResponse><Error><Type>{kind}</Type><Code>{escape(code)}</Code><Message>{escape(message)}"
                f"</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")
        return int(status), {"Content-Type": "text/xml"}, body
    doc = {"__type": code, "message": message, "Message": message}
    doc.update(extra or {})
    return int(status), {"Content-Type": "application/json", "x-amzn-ErrorType": code,
                         "x-amzn-query-error": f"{code};{kind}"}, json.dumps(doc)


def region_of(resp):
    return getattr(resp, "region", None) or "us-east-1"


def admin_client(service, account, region="us-east-1"):
    """A boto3 client of this emulator acting as the account itself (the deployer, like
    CloudFormation with the caller's rights): used by the extension's own orchestration
    (stack provisioning). Never used for calls a function or a service role makes."""
    import boto3
    from botocore.config import Config
    return boto3.client(service, region_name=region, endpoint_url=SERVER["url"],
                        aws_access_key_id=f"ACCT{account}", aws_secret_access_key="emulator-secret",
                        config=Config(retries={"max_attempts": 1}, read_timeout=900, connect_timeout=5))
