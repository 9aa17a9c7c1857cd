"""Lambda's execution side: runs a function's real code (the `bootstrap` in its package) as a
process behind a Lambda Runtime API, with the function's configuration, environment and
role credentials, its concurrency, its asynchronous event queue (retries, dead-letter queue,
destinations), its metrics and its logs. Owner: the Lambda module. README.md (Lambda) cites the
AWS source of each behaviour.

`invoke_sync` / `invoke_async` are the contract other modules code against (the Invoke API in
lambda_api.py, CodeDeploy hooks, EventBridge, Scheduler, SNS). A function whose package has
no non-empty `bootstrap` keeps lambda_api's scripted behaviour (queued results, routes,
default payload); concurrency, metrics and the async queue apply to both kinds."""
import base64
import ctypes
import hashlib
import io
import json
import math
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections import defaultdict
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from moto.awslambda.utils import get_backend
from moto.core.exceptions import JsonRESTError, ServiceException

import common
import iam_authz
import lambda_api  # circular on purpose: only its attributes are used, at call time
from common import CLOCK, LOCK, ExtError, route

LOCAL_CAP = 10            # concurrency of a function without reserved concurrency (stands for the account pool)
INIT_TIMEOUT = 10.0       # the Init phase limit
IDLE_RETIRE = 600.0       # an idle environment is reclaimed after this many real seconds
TAIL_BYTES = 4096         # LogType=Tail: the last 4 KB of the invocation's log
DEFAULT_RETRIES, DEFAULT_MAX_AGE = 2, 21600
ROOT = tempfile.mkdtemp(prefix="moto-lambda-code-")

ENVS = defaultdict(list)       # (account, function, version) -> [Env]
INFLIGHT = defaultdict(int)    # (account, function) -> executions in flight, all versions
ASYNC = defaultdict(list)      # (account, function) -> async event records
EVENT_CONFIGS = {}             # (account, region, function, qualifier) -> FunctionEventInvokeConfig
ROTATION = defaultdict(int)    # (account, function, alias, routing) -> invocations routed so far
_CODE = {}                     # code sha256 -> extracted task root, or None when not runnable
_EXTRACT = threading.Lock()
RESTError = (JsonRESTError, ServiceException)  # moto's two exception families


# ---------------------------------------------------------------- resolving an invocation
class Target:
    """One invocation as resolved: the function and version that run, and how it was invoked."""

    def __init__(self, account, region, name, qualifier, version, fn, latest, alias):
        self.account, self.region, self.name, self.qualifier = account, region, name, qualifier
        self.version, self.fn, self.latest, self.alias = version, fn, latest, alias
        base = f"arn:aws:lambda:{region}:{account}:function:{name}"
        self.arn = base
        self.invoked_arn = f"{base}:{qualifier}" if qualifier else base  # Lambda-Runtime-Invoked-Function-Arn
        self.resource = f"{name}:{qualifier}" if qualifier else name     # the metrics' Resource dimension


def split_name(function):
    """(name, qualifier|None) from a name, `name:qualifier`, or an ARN (qualified or not)."""
    if function.startswith("arn:"):
        parts = function.split(":")
        return parts[6], (parts[7] if len(parts) > 7 else None)
    return tuple(function.split(":", 1)) if ":" in function else (function, None)


def resolve(account, region, function, qualifier=None, route=True):
    """The target of an invoke; an alias's version is picked by its routing weights (`route`:
    False only checks the target exists, leaving the rotation to the invocation itself).
    Raises ExtError ResourceNotFoundException (404) for an unknown function, version or alias."""
    backend = get_backend(account, region)
    name, q = split_name(function)
    qualifier = qualifier or q
    try:
        latest = backend.get_function(name)
        version, alias = "$LATEST", False
        if qualifier and qualifier != "$LATEST":
            if qualifier.isdigit():
                version = qualifier
            else:
                a, alias = backend._lambdas.get_alias(qualifier, name), True
                version = (_route(account, name, qualifier, a.function_version, a.routing_config)
                           if route else a.function_version)
        fn = backend.get_function(name, version)
    except RESTError as e:
        raise ExtError("ResourceNotFoundException", e.message, 404)
    return Target(account, region, name, qualifier, version, fn, latest, alias)


def _route(account, name, alias, primary, routing):
    """Deterministic weighted rotation: after k invocations through the alias, exactly
    ceil(k * w) went to the additional version (so the first one after a weight change goes
    to the new version, then every 1/w-th). AWS picks at random; tests need stable runs."""
    weights = (routing or {}).get("AdditionalVersionWeights") or {}
    if not weights:
        return primary
    extra, w = next(iter(weights.items()))
    key = (account, name, alias, primary, extra, float(w))
    with LOCK:
        k = ROTATION[key]
        ROTATION[key] = k + 1
    return extra if math.ceil((k + 1) * float(w)) > math.ceil(k * float(w)) else primary


# ---------------------------------------------------------------- concurrency
def _acquire(t):
    """A concurrency slot for the function (all versions), or None when it is exhausted."""
    rc = t.latest.reserved_concurrency
    cap = LOCAL_CAP if rc is None else int(rc)
    key = (t.account, t.name)
    with LOCK:
        if INFLIGHT[key] >= cap:
            return None
        INFLIGHT[key] += 1
    return key


def _release(key):
    with LOCK:
        INFLIGHT[key] -= 1


def _throttled(t):
    """The 429 of the botocore model's TooManyRequestsException (Type, message, Reason)."""
    _metrics(t, {"Throttles": 1}, executed=False)
    reason = ("ConcurrentInvocationLimitExceeded" if t.latest.reserved_concurrency is None
              else "ReservedFunctionConcurrentInvocationLimitExceeded")
    return ExtError("TooManyRequestsException", "Rate Exceeded.", 429, {"Reason": reason, "Type": "User"})


# ---------------------------------------------------------------- the two entry points
def invoke_sync(account, region, function, qualifier, payload, log_tail=False):
    """A RequestResponse invocation as Lambda's Invoke API performs it. `function` is a name or
    ARN (qualified or not); `payload` bytes. Returns {"status": 200, "payload": bytes,
    "function_error": None | "Handled" | "Unhandled", "executed_version": str,
    "log_result": base64 str | None}. Raises common.ExtError for ResourceNotFoundException
    (404) and TooManyRequestsException (429, with Reason)."""
    t = resolve(account, region, function, qualifier)
    slot = _acquire(t)
    if slot is None:
        raise _throttled(t)
    lambda_api.record(account, t.name, t.qualifier, "RequestResponse", payload)
    try:
        out = _attempt(t, payload or b"", "RequestResponse")
    finally:
        _release(slot)
    tail = out["log"].encode()[-TAIL_BYTES:] if log_tail else None
    return {"status": 200, "payload": out["payload"], "function_error": out["function_error"],
            "executed_version": out["executed_version"],
            "log_result": base64.b64encode(tail).decode() if tail is not None else None}


def invoke_async(account, region, function, qualifier, payload):
    """An Event invocation: the event enters the function's asynchronous queue and is handled
    as Lambda does (throttle retries, function-error retries, then the on-failure destination
    or dead-letter queue). Returns the request id. Raises common.ExtError for
    ResourceNotFoundException (404). This is what AWS services (CodeDeploy hooks, EventBridge
    rules, Scheduler, SNS) use after their own authorisation. The alias's version is picked
    when the event runs, not when it is queued."""
    t = resolve(account, region, function, qualifier, route=False)
    rid = str(uuid.uuid4())
    rec = {"request_id": rid, "function": t.name, "qualifier": t.qualifier, "received": _iso(),
           "payload": _json_or_text(payload), "attempts": [], "outcome": "queued"}
    with LOCK:
        ASYNC[(account, t.name)].append(rec)
    lambda_api.record(account, t.name, t.qualifier, "Event", payload)
    threading.Thread(target=_process_event, args=(account, region, t.name, t.qualifier, payload or b"", rec),
                     daemon=True, name=f"lambda-async-{rid[:8]}").start()
    return rid


def _attempt(t, payload, itype, rid=None):
    """Run one invocation (the slot is held by the caller) and emit its metrics. Returns
    {"payload", "function_error", "executed_version", "log", "duration_ms"}."""
    rid = rid or str(uuid.uuid4())
    start = time.monotonic()
    if _task_root(t.fn):
        out = _run_real(t, payload, rid)
    else:
        out = lambda_api.scripted(t.account, t.name, t.qualifier, t.version, payload, itype, rid)
    out.setdefault("executed_version", t.version)
    out["duration_ms"] = out.get("duration_ms") or (time.monotonic() - start) * 1000
    _metrics(t, {"Invocations": 1, "Errors": 1 if out["function_error"] else 0, "Duration": out["duration_ms"]})
    return out


def _run_real(t, payload, rid):
    if (t.fn.tracing_config or {}).get("Mode") == "Active":  # the trace segments Lambda sends as the role
        _authorize(t.account, t.fn.role, "xray:PutTraceSegments", "*", "lambda:xray", t.region, t.name)
    try:
        env = _checkout(t)
    except OSError as e:
        error = {"errorType": "Runtime.InvalidEntrypoint", "errorMessage": str(e)}
        return {"payload": _error_payload(rid, error), "function_error": "Unhandled", "log": ""}
    try:
        return env.run(rid, payload, t.invoked_arn)
    finally:
        _checkin(env)


# ---------------------------------------------------------------- code and environments
def _task_root(fn):
    """The extracted package when it has a non-empty `bootstrap` (extracted once per code
    sha256), else None: the function is then scripted."""
    data = getattr(fn, "code_bytes", b"") or b""
    if not data:
        return None
    sha = getattr(fn, "code_digest", None) or hashlib.sha256(data).hexdigest()
    with _EXTRACT:
        if sha not in _CODE:
            _CODE[sha] = _extract(sha, data)
        return _CODE[sha]


def _extract(sha, data):
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        if zf.getinfo("bootstrap").file_size == 0:
            return None
    except (zipfile.BadZipFile, KeyError):
        return None
    root = os.path.join(ROOT, sha)
    zf.extractall(root)
    for info in zf.infolist():  # keep the archive's unix modes; bootstrap is always executable
        mode = (info.external_attr >> 16) & 0o777
        if mode:
            os.chmod(os.path.join(root, info.filename), mode)
    os.chmod(os.path.join(root, "bootstrap"), 0o755)
    return root


def _fingerprint(fn):
    """What an environment was started from: a $LATEST change retires its environments."""
    parts = [fn.code_sha_256, fn.environment_vars, fn.timeout, fn.memory_size, fn.role, fn.handler,
             fn.run_time, getattr(fn, "logging_config", None), fn.tracing_config]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _checkout(t):
    """A warm idle environment of this version and configuration, or a new (cold) one."""
    key, fp, stale = (t.account, t.name, t.version), _fingerprint(t.fn), []
    with LOCK:
        for env in list(ENVS[key]):
            if env.state == "idle" and (env.fingerprint != fp or env.proc.poll() is not None):
                stale.append(env)
                ENVS[key].remove(env)
        warm = next((e for e in ENVS[key] if e.state == "idle"), None)
        if warm:
            warm.state, warm.last_used = "busy", time.monotonic()
    for env in stale:
        env.retire()
    if warm:
        return warm
    env = Env(t, fp)
    with LOCK:
        ENVS[key].append(env)
    return env


def _checkin(env):
    if env.broken:
        env.retire()
        return
    with LOCK:
        if env.state == "busy":
            env.state, env.last_used = "idle", time.monotonic()


def retire_function(account, name):
    """Kill every environment of a function (DeleteFunction)."""
    with LOCK:
        envs = [e for (a, n, _), es in ENVS.items() if (a, n) == (account, name) for e in es]
    for env in envs:
        env.retire()


def _reaper():
    """Reclaims idle environments, as Lambda does after a while without invocations."""
    while True:
        time.sleep(30)
        now = time.monotonic()
        with LOCK:
            old = [e for es in ENVS.values() for e in es if e.state == "idle" and now - e.last_used > IDLE_RETIRE]
        for env in old:
            env.retire()


# Children get SIGKILL when the thread that forked them ends (prctl(2) PR_SET_PDEATHSIG is
# per thread), so every function process is forked by this one thread that lives as long as
# the emulator: they die with it, never with the request thread that happened to start them.
_SPAWN = queue.Queue()
_LIBC = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    _LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _spawner():
    while True:
        kwargs, box = _SPAWN.get()
        try:
            box["proc"] = subprocess.Popen(preexec_fn=_die_with_parent, start_new_session=True, **kwargs)
        except OSError as e:
            box["error"] = e
        box["done"].set()


def _popen(**kwargs):
    box = {"done": threading.Event()}
    _SPAWN.put((kwargs, box))
    box["done"].wait()
    if "error" in box:
        raise box["error"]
    return box["proc"]


threading.Thread(target=_spawner, daemon=True, name="lambda-spawner").start()
threading.Thread(target=_reaper, daemon=True, name="lambda-reaper").start()


def _credentials(t):
    """The execution role assumed through STS in the function's account (session name = the
    function's name, as Lambda does): every call the function makes is IAM-checked as it."""
    from moto.sts.models import sts_backends
    with LOCK:
        role = sts_backends[t.account]["aws"].assume_role(t.region, t.name, t.fn.role, None, 43200, None)
    return role.access_key_id, role.secret_access_key, role.session_token


def _environment(t, api, task_root, group, stream):
    """Exactly the function's variables plus what Lambda sets (provided.al2023), plus the
    emulator's endpoint; nothing from the emulator's own environment."""
    fn = t.fn
    key, secret, token = _credentials(t)
    env = {"LANG": "en_US.UTF-8", "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin", "TZ": ":UTC",
           "LD_LIBRARY_PATH": f"/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:{task_root}:{task_root}/lib:/opt/lib"}
    env.update({k: str(v) for k, v in (fn.environment_vars or {}).items()})
    env.update({
        "_HANDLER": fn.handler or "", "AWS_REGION": t.region, "AWS_DEFAULT_REGION": t.region,
        "AWS_LAMBDA_FUNCTION_NAME": t.name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
        "AWS_LAMBDA_FUNCTION_VERSION": t.version, "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": group, "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token,
        "AWS_LAMBDA_RUNTIME_API": api, "LAMBDA_TASK_ROOT": task_root, "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "AWS_ENDPOINT_URL": common.SERVER["url"] or ""})
    logging = getattr(fn, "logging_config", None) or {}
    if logging.get("LogFormat") == "JSON":
        env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        if logging.get("ApplicationLogLevel"):
            env["AWS_LAMBDA_LOG_LEVEL"] = logging["ApplicationLogLevel"]
    return env


def log_group_of(fn):
    return (getattr(fn, "logging_config", None) or {}).get("LogGroup") or f"/aws/lambda/{fn.function_name}"


class Env:
    """One execution environment: a process, its Runtime API, its log stream."""

    def __init__(self, t, fingerprint):
        self.account, self.region, self.name, self.version = t.account, t.region, t.name, t.version
        self.role, self.timeout, self.memory = t.fn.role, float(t.fn.timeout or 3), t.fn.memory_size
        self.fingerprint, self.state, self.broken = fingerprint, "busy", False
        self.id, self.started, self.last_used = uuid.uuid4().hex, time.monotonic(), time.monotonic()
        self.group = log_group_of(t.fn)
        self.stream = f"{datetime.now(timezone.utc):%Y/%m/%d}/[{t.version}]{self.id}"
        self.inbox, self.slots, self.lock = queue.Queue(), {}, threading.Lock()
        self.ready, self.failure, self.init_ms, self.invocations = threading.Event(), None, None, 0
        self.current, self.pending, self.last_output = None, [], 0.0
        self.stream_ok, self.log_file = None, self._open_log_file()
        self.api = _ApiServer(("127.0.0.1", 0), _RuntimeApi)
        self.api.env = self
        threading.Thread(target=self.api.serve_forever, daemon=True, name=f"lambda-api-{self.id[:8]}").start()
        root = _task_root(t.fn)
        api = f"127.0.0.1:{self.api.server_port}"
        try:
            self.proc = _popen(args=[os.path.join(root, "bootstrap")], cwd=root, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=_environment(t, api, root, self.group, self.stream))
        except OSError:  # e.g. a bootstrap that is not an executable
            self.api.shutdown()
            self.api.server_close()
            raise
        threading.Thread(target=self._read, daemon=True, name=f"lambda-log-{self.id[:8]}").start()

    def _open_log_file(self):
        if not common.SERVER.get("log_dir"):
            return None
        d = os.path.join(common.SERVER["log_dir"], self.account, self.name)
        os.makedirs(d, exist_ok=True)
        version = self.version.replace("$", "")
        return open(os.path.join(d, f"{version}-{self.id[:12]}.log"), "a", encoding="utf-8")

    def describe(self):
        return {"function": self.name, "version": self.version, "pid": self.proc.pid, "state": self.state,
                "runtime_api": f"127.0.0.1:{self.api.server_port}", "log_group": self.group,
                "log_stream": self.stream, "invocations": self.invocations,
                "age_seconds": round(time.monotonic() - self.started, 1)}

    # -- output: file, CloudWatch Logs, and the current invocation's tail
    def emit(self, line, from_process=False):
        with self.lock:
            if from_process:
                self.last_output = time.monotonic()
            if self.log_file and not self.log_file.closed:
                self.log_file.write(line + "\n")
                self.log_file.flush()
            self.pending.append({"timestamp": int(time.time() * 1000), "message": line})
            if self.current is not None:
                self.current.append(line)

    def _read(self):
        for raw in iter(self.proc.stdout.readline, b""):
            self.emit(raw.decode("utf-8", "replace").rstrip("\n"), from_process=True)
        code = self.proc.wait()
        status = f"signal: {signal.Signals(-code).name.lower().removeprefix('sig')}" if code < 0 else f"exit status {code}"
        self._fail({"errorType": "Runtime.ExitError", "errorMessage": "Runtime exited with error: " + status})
        self._flush_logs()

    def _fail(self, error):
        """The process cannot serve (init error, exit): every waiting invocation fails with it."""
        with self.lock:
            self.failure = self.failure or error
            slots, self.slots = list(self.slots.items()), {}
        self.broken = True
        self.ready.set()
        for rid, slot in slots:
            slot["result"] = (_error_payload(rid, self.failure), "Unhandled")
            slot["done"].set()

    # -- the Runtime API side
    def next_invocation(self):
        if not self.ready.is_set():
            self.init_ms = (time.monotonic() - self.started) * 1000
            self.ready.set()
        return self.inbox.get()

    def complete(self, rid, kind, body):
        with self.lock:
            slot = self.slots.pop(rid, None)
        if slot is None:
            return False
        slot["result"] = (body, None if kind == "response" else "Unhandled")
        slot["done"].set()
        return True

    # -- one invocation
    def run(self, rid, payload, invoked_arn):
        with self.lock:
            self.current, self.invocations = [], self.invocations + 1
        first = self.invocations == 1
        self.emit(f"START RequestId: {rid} Version: {self.version}")
        start = time.monotonic()
        body, error = self._exchange(rid, payload, invoked_arn)
        duration = (time.monotonic() - start) * 1000
        self._quiesce()
        self.emit(f"END RequestId: {rid}")
        self.emit(self._report(rid, duration, first, error))
        with self.lock:
            lines, self.current = self.current, None
        self._flush_logs()
        return {"payload": body, "function_error": error, "executed_version": self.version,
                "log": "\n".join(lines) + "\n", "duration_ms": duration}

    def _exchange(self, rid, payload, invoked_arn):
        """Hand the event over at the runtime's /next and wait for its answer or the timeout."""
        if not self.ready.wait(INIT_TIMEOUT):
            self._kill()
            self._fail({"errorType": "Runtime.Unknown", "errorMessage": f"Init timed out after {INIT_TIMEOUT:.2f} seconds"})
        slot = {"done": threading.Event(), "result": None}
        with self.lock:
            failure = self.failure
            if failure is None:
                self.slots[rid] = slot
        if failure is not None:
            return _error_payload(rid, failure), "Unhandled"
        deadline = int((time.time() + self.timeout) * 1000)
        self.inbox.put((rid, payload or b"{}", {
            "Lambda-Runtime-Aws-Request-Id": rid, "Lambda-Runtime-Deadline-Ms": str(deadline),
            "Lambda-Runtime-Invoked-Function-Arn": invoked_arn, "Lambda-Runtime-Trace-Id": _trace_id()}))
        if slot["done"].wait(self.timeout):
            return slot["result"]
        with self.lock:
            self.slots.pop(rid, None)
        self.broken = True
        self._kill()
        msg = f"Task timed out after {self.timeout:.2f} seconds"
        self.emit(f"{_iso()} {rid} {msg}")
        return _error_payload(rid, {"errorType": "Sandbox.Timedout", "errorMessage": msg}), "Unhandled"

    def _quiesce(self):
        """Let the reader catch up with what the process printed before it answered."""
        end = time.monotonic() + 0.25
        while time.monotonic() < end and time.monotonic() - self.last_output < 0.03:
            time.sleep(0.01)

    def _report(self, rid, duration, first, error):
        line = (f"REPORT RequestId: {rid}\tDuration: {duration:.2f} ms\tBilled Duration: {math.ceil(duration)} ms\t"
                f"Memory Size: {self.memory} MB\tMax Memory Used: {_max_rss_mb(self.proc.pid)} MB\t")
        if first and self.init_ms is not None:
            line += f"Init Duration: {self.init_ms:.2f} ms\t"
        if error and self.failure:
            line += f"Status: error\tError Type: {self.failure.get('errorType')}"
        return line

    # -- CloudWatch Logs, as Lambda's agent writes them: as the execution role
    def _flush_logs(self):
        with self.lock:
            events, self.pending = self.pending, []
        if not events or self.stream_ok is False:
            return
        group_arn = f"arn:aws:logs:{self.region}:{self.account}:log-group:{self.group}"
        stream_arn = f"{group_arn}:log-stream:{self.stream}"
        from moto.logs.models import logs_backends
        backend = logs_backends[self.account][self.region]
        if self.stream_ok is None:
            if self.group not in backend.groups and not self._may("logs:CreateLogGroup", f"{group_arn}:log-stream:"):
                return
            self.stream_ok = self._may("logs:CreateLogStream", stream_arn)
            if not self.stream_ok:
                return  # denied: Lambda's agent drops the logs, silently
            with LOCK:
                backend.ensure_log_group(self.group)
                backend.ensure_log_stream(self.group, self.stream)
        if self._may("logs:PutLogEvents", stream_arn):
            with LOCK:
                backend.put_log_events(self.group, self.stream, events)

    def _may(self, action, resource):
        return _authorize(self.account, self.role, action, resource, "lambda:logs", self.region, self.name)

    # -- end of life
    def _kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: the bootstrap and its children
        except (ProcessLookupError, PermissionError):
            pass

    def retire(self):
        with LOCK:
            if self.state == "retired":
                return
            self.state = "retired"
            envs = ENVS.get((self.account, self.name, self.version), [])
            if self in envs:
                envs.remove(self)
        self.inbox.put(None)
        self._kill()
        threading.Thread(target=self._close, daemon=True).start()

    def _close(self):
        self.api.shutdown()
        self.api.server_close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        with self.lock:
            if self.log_file:
                self.log_file.close()


class _ApiServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a killed runtime's socket: nothing to say
            super().handle_error(request, client_address)


class _RuntimeApi(BaseHTTPRequestHandler):
    """The Lambda Runtime API (2018-06-01) for one environment."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.split("?")[0] != "/2018-06-01/runtime/invocation/next":
            return self._reply(404, {"errorMessage": "not found", "errorType": "NotFound"})
        item = self.server.env.next_invocation()  # the long poll
        if item is None:  # retired: a non-recoverable state, the runtime should exit
            return self._reply(500, {"errorMessage": "environment shut down", "errorType": "Runtime.Shutdown"})
        rid, payload, headers = item
        self._reply(200, payload, headers)

    def do_POST(self):
        env, body = self.server.env, self._body()
        parts = self.path.split("?")[0].strip("/").split("/")
        if parts[:3] == ["2018-06-01", "runtime", "invocation"] and len(parts) == 5 and parts[4] in ("response", "error"):
            if env.complete(parts[3], parts[4], body):
                return self._reply(202, {"status": "OK"})
            return self._reply(400, {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})
        if parts == ["2018-06-01", "runtime", "init", "error"]:
            error = _json_or_text(body)
            if not isinstance(error, dict):
                error = {"errorMessage": str(error or "")}
            error.setdefault("errorType", self.headers.get("Lambda-Runtime-Function-Error-Type") or "Runtime.Unknown")
            self._reply(202, {"status": "OK"})
            env._fail(error)
            return env.retire()
        self._reply(404, {"errorMessage": "not found", "errorType": "NotFound"})

    def _body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _reply(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


# ---------------------------------------------------------------- the asynchronous queue
def event_config(account, region, name, qualifier):
    """The FunctionEventInvokeConfig of the invoked qualifier (unqualified = $LATEST)."""
    with LOCK:
        cfg = dict(EVENT_CONFIGS.get((account, region, name, qualifier or "$LATEST")) or {})
    cfg.setdefault("MaximumRetryAttempts", DEFAULT_RETRIES)
    cfg.setdefault("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE)
    return cfg


def _process_event(account, region, name, qualifier, payload, rec):
    """One event's life in the queue. Ages and waits are AWS seconds, slept through the
    account's scaled clock; the function's own run time is real."""
    age, errors, backoff, last = 0.0, 0, 1, None
    while True:
        try:
            t = resolve(account, region, name, qualifier)
        except ExtError:
            return _outcome(rec, "dropped", "function deleted")
        cfg = event_config(account, region, name, qualifier)
        if t.latest.reserved_concurrency is not None and int(t.latest.reserved_concurrency) == 0:
            return _failed(t, rec, payload, cfg, "ZeroReservedConcurrency", last)  # at once, no retries
        if age > cfg["MaximumEventAgeInSeconds"]:
            return _failed(t, rec, payload, cfg, "EventAgeExceeded", last)
        slot = _acquire(t)
        if slot is None:  # throttled: back to the queue, 1 s doubling up to 5 minutes
            _metrics(t, {"Throttles": 1}, executed=False)
            _attempted(rec, {"at": _iso(), "result": "throttled"})
            CLOCK.sleep(account, backoff)
            age, backoff = age + backoff, min(backoff * 2, 300)
            continue
        try:
            last = _attempt(t, payload, "Event", rec["request_id"])
        finally:
            _release(slot)
        age += last["duration_ms"] / 1000
        _attempted(rec, {"at": _iso(), "version": last["executed_version"],
                         "result": "function_error" if last["function_error"] else "succeeded"})
        if not last["function_error"]:
            _deliver_success(t, rec, payload, cfg, last)
            return _outcome(rec, "succeeded")
        errors += 1
        if errors > cfg["MaximumRetryAttempts"]:
            return _failed(t, rec, payload, cfg, "RetriesExhausted", last)
        CLOCK.sleep(account, 60 * errors)  # one minute, then two
        age += 60 * errors


def _attempted(rec, attempt):
    with LOCK:
        rec["attempts"].append(attempt)


def _outcome(rec, outcome, detail=None, **extra):
    with LOCK:
        rec.update(outcome=outcome, finished=_iso(), **extra)
        if detail:
            rec["detail"] = detail


def _failed(t, rec, payload, cfg, condition, last):
    """An event that failed every attempt or could not run: the on-failure destination when
    configured, else the version's dead-letter queue, else dropped."""
    dest = ((cfg.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    dlq = (getattr(t.fn, "dead_letter_config", None) or {}).get("TargetArn")
    if dest:
        ok = _send(t, dest, json.dumps(_invocation_record(t, rec, payload, condition, last)), None, "lambda:destination")
        if not ok:
            _metrics(t, {"DestinationDeliveryFailures": 1})
        return _outcome(rec, "destination" if ok else "dropped", None, condition=condition, target=dest)
    if dlq:
        code, message = ("200", _error_message(last["payload"])) if last else ("429", "Rate Exceeded.")
        attrs = {"RequestID": ("String", rec["request_id"]), "ErrorCode": ("Number", code),
                 "ErrorMessage": ("String", message)}
        ok = _send(t, dlq, payload.decode("utf-8", "replace"), attrs, "lambda:dead-letter")
        if not ok:
            _metrics(t, {"DeadLetterErrors": 1})
        return _outcome(rec, "dead-lettered" if ok else "dropped", None, condition=condition, target=dlq)
    return _outcome(rec, "dropped", None, condition=condition)


def _deliver_success(t, rec, payload, cfg, last):
    dest = ((cfg.get("DestinationConfig") or {}).get("OnSuccess") or {}).get("Destination")
    if dest and not _send(t, dest, json.dumps(_invocation_record(t, rec, payload, "Success", last)), None,
                          "lambda:destination"):
        _metrics(t, {"DestinationDeliveryFailures": 1})


def _invocation_record(t, rec, payload, condition, last):
    out = {"version": "1.0", "timestamp": _iso(),
           "requestContext": {"requestId": rec["request_id"], "functionArn": f"{t.arn}:{t.qualifier or '$LATEST'}",
                              "condition": condition, "approximateInvokeCount": len(
                                  [a for a in rec["attempts"] if a["result"] != "throttled"])},
           "requestPayload": _json_or_text(payload)}
    if last:
        out["responseContext"] = {"statusCode": 200, "executedVersion": last["executed_version"]}
        if last["function_error"]:
            out["responseContext"]["functionError"] = last["function_error"]
        out["responsePayload"] = _json_or_text(last["payload"])
    return out


def _send(t, arn, body, attrs, source):
    """Deliver to an SQS queue, SNS topic or Lambda function as the execution role (Lambda
    sends with the function's permissions); False when denied or failed."""
    service, region, account = arn.split(":")[2], arn.split(":")[3], arn.split(":")[4]
    action = {"sqs": "sqs:SendMessage", "sns": "sns:Publish", "lambda": "lambda:InvokeFunction"}.get(service)
    if not action or not _authorize(t.account, t.fn.role, action, arn, source, t.region, t.name):
        return False
    try:
        if service == "lambda":
            invoke_async(account, region, arn, None, body.encode())
            return True
        with LOCK:
            if service == "sqs":
                from moto.sqs.models import sqs_backends
                sqs_backends[account][region].send_message(arn.split(":")[5], body, message_attributes={
                    k: {"DataType": d, "StringValue": v} for k, (d, v) in (attrs or {}).items()})
            else:
                from moto.sns.models import sns_backends
                sns_backends[account][region].publish(body, arn, message_attributes={
                    k: {"Type": d, "Value": v} for k, (d, v) in (attrs or {}).items()})
        return True
    except (RESTError, ExtError, KeyError):
        return False


# ---------------------------------------------------------------- metrics, IAM, helpers
def _metrics(t, values, executed=True):
    """AWS/Lambda metrics with the dimension sets Lambda publishes: {FunctionName},
    {FunctionName, Resource} and, for alias invocations that ran, + ExecutedVersion."""
    from moto.cloudwatch.models import cloudwatch_backends
    fn_dim, res_dim = {"Name": "FunctionName", "Value": t.name}, {"Name": "Resource", "Value": t.resource}
    dims = [[fn_dim], [fn_dim, res_dim]]
    if t.alias and executed:
        dims.append([fn_dim, res_dim, {"Name": "ExecutedVersion", "Value": t.version}])
    data = [{"MetricName": m, "Value": float(v), "Unit": "Milliseconds" if m == "Duration" else "Count", "Dimensions": d}
            for m, v in values.items() for d in dims]
    with LOCK:
        cloudwatch_backends[t.account][t.region].put_metric_data("AWS/Lambda", data)


def _authorize(account, role_arn, action, resource, source, region, function=None):
    """May the role do it? Decided (and recorded) by the IAM module, as the function's session."""
    session = None
    if function:
        session = f"arn:aws:sts::{account}:assumed-role/{role_arn.rsplit('/', 1)[-1]}/{function}"
    return iam_authz.authorize(account, role_arn, action, resource, None, source, region, session=session).allowed


def trust_allows_lambda(document, role_arn):
    """Does a role's trust policy let lambda.amazonaws.com sts:AssumeRole?"""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            from urllib.parse import unquote
            document = json.loads(unquote(document))
    return iam_authz.resource_policy_allows(document, {"Service": "lambda.amazonaws.com"}, "sts:AssumeRole", role_arn)


def _error_payload(rid, error):
    return json.dumps({"errorType": error.get("errorType"),
                       "errorMessage": f"RequestId: {rid} Error: {error.get('errorMessage')}"}).encode()


def _error_message(payload):
    """ErrorMessage of a DLQ message: the first 1 KB of the function's error message."""
    doc = _json_or_text(payload)
    text = doc.get("errorMessage") if isinstance(doc, dict) and doc.get("errorMessage") else (
        doc if isinstance(doc, str) else json.dumps(doc))
    return str(text).encode()[:1024].decode("utf-8", "ignore")


def _json_or_text(data):
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    try:
        return json.loads(data) if data else None
    except (ValueError, TypeError):
        return data


def _iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _trace_id():
    return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=0"


def _max_rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            kb = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
        return max(1, kb // 1024)
    except (OSError, StopIteration, ValueError):
        return 0


# ---------------------------------------------------------------- control API
@route("GET", "/_ext/lambda/environments")
def _environments(req, j):
    acct = req.args["account"]
    with LOCK:
        return [e.describe() for (a, _, _), envs in ENVS.items() if a == acct for e in envs]


@route("GET", "/_ext/lambda/async")
def _async_records(req, j):
    acct, fn = req.args["account"], req.args.get("function")
    with LOCK:
        return [json.loads(json.dumps(r)) for (a, f), recs in ASYNC.items()
                if a == acct and (fn is None or f == fn) for r in recs]
