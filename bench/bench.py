"""Benchmark driver (issues #9, #21): the four guardian functions and the floor, Rust vs the
Python baseline.

For every function and language it runs the function as a real process under a minimal
Lambda Runtime API (bench/runtime_api.py), against the local AWS emulator
(tests/moto_ext/server.py), and measures:
  * cold init: process exec -> first GET /runtime/invocation/next (SDK clients built),
  * cold total: process exec -> first response posted (the first event is queued before the
    process starts, as on Lambda, where an invocation is what starts the environment),
  * the first invocation and warm invocations (event handed over -> response posted),
  * peak RSS (VmHWM) after the first invocation,
  * AWS API calls per unit of work, counted by the emulator (/_ext/calls),
  * the init breakdown of the Rust functions: extra runs with BENCH_INIT_TRACE=1, where main
    prints a timestamp at the end of every init phase (guardian_aws::init_trace),
  * what the first call's TLS handshake adds to the cold total: extra cold starts against the
    emulator's HTTPS listener and, interleaved, the same server without TLS, both trusting the
    same private CA (bench/tls.py), so the handshake is the only difference,
and (from bench/run) the stripped arm64 bootstrap and its zip. The floor is the least a
function can do (bench/floor: lambda_runtime, no SDK; bench/baseline/floor.py: no boto3);
every function is also given as its overhead above the floor of its language. Runs of Rust
and Python are interleaved so machine load affects both alike. Prints the tables and writes
target/bench/results.json and target/bench/table.md.
"""

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import zipfile
from pathlib import Path

import boto3

sys.dont_write_bytecode = True  # keep bench/ free of __pycache__
from runtime_api import RuntimeApi  # noqa: E402
import tls  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = ROOT / "target" / "bench"
REGION = "us-east-1"
GUARDED = "trading-bot"
FLOOR = "floor"
FUNCTIONS = [FLOOR, "pre-traffic-hook", "alarm-fanout", "dlq-inspector", "kill-switch"]
PY_MODULE = {f: f.replace("-", "_") for f in FUNCTIONS}
TRACE_VAR = "BENCH_INIT_TRACE"


# ---------------------------------------------------------------- emulator and accounts

class Emulator:
    """The emulator on HTTP and, with `tls_material` (bench/tls.py), also on HTTPS."""

    def __init__(self, python, tls_material=None):
        command = [python, str(ROOT / "tests/moto_ext/server.py"), "--port", "0", "--exit-with-parent"]
        if tls_material:
            command += ["--tls-cert", str(tls_material["cert"]), "--tls-key", str(tls_material["key"])]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=open(OUT / "emulator.log", "w"),
                                     text=True)
        # the HTTPS listener and the same server without TLS (keep-alive both, as AWS)
        self.tls_url, self.plain_url = self.proc.stdout.readline().split()[1:3] if tls_material else (None, None)
        line = self.proc.stdout.readline()
        if not line.startswith("READY "):
            sys.exit("the emulator did not start; see target/bench/emulator.log")
        self.url = line.split()[1]

    def calls(self, account):
        with urllib.request.urlopen("%s/_ext/calls?account=%s" % (self.url, account)) as r:
            return json.load(r)

    def tls_connections(self):
        with urllib.request.urlopen("%s/_ext/tls" % self.url) as r:
            return json.load(r)["connections"]


class Account:
    """One isolated emulator account (access key ACCT<12 digits>) with boto3 clients."""
    counter = 0

    def __init__(self, emulator):
        Account.counter += 1
        self.id = "5%011d" % (int(time.time()) % 10**6 * 1000 + Account.counter)
        self.emulator = emulator
        self.session = boto3.session.Session(
            aws_access_key_id="ACCT" + self.id, aws_secret_access_key="bench", region_name=REGION)

    def client(self, service):
        return self.session.client(service, endpoint_url=self.emulator.url)

    def arn(self, service, resource):
        return "arn:aws:%s:%s:%s:%s" % (service, REGION if service != "iam" else "", self.id, resource)

    def env(self):
        return {"AWS_ACCESS_KEY_ID": "ACCT" + self.id, "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": self.emulator.url}

    def calls(self):
        return self.emulator.calls(self.id)

    # provisioning, as template.yaml would create the resources
    def guarded_function(self):
        iam = self.client("iam")
        role = iam.create_role(RoleName="guarded-function-role", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                   "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as z:
            # An empty bootstrap: the emulator answers for the function itself (status ok, the
            # version invoked) instead of starting a process, so probes and redrives cost the
            # same for both languages and nothing else runs on the 2 cores.
            z.writestr("bootstrap", "")
        lam = self.client("lambda")
        lam.create_function(FunctionName=GUARDED, Runtime="provided.al2023", Handler="bootstrap", Role=role,
                            Code={"ZipFile": code.getvalue()})
        for v in (1, 2, 3):
            lam.update_function_configuration(FunctionName=GUARDED, Description="build %d" % v)
            lam.publish_version(FunctionName=GUARDED, Description="build %d" % v)
        lam.create_alias(FunctionName=GUARDED, Name="live", FunctionVersion="1")
        lam.put_function_concurrency(FunctionName=GUARDED, ReservedConcurrentExecutions=1)

    def queue(self, name):
        return self.client("sqs").create_queue(QueueName=name)["QueueUrl"]

    def topic_with_queue(self, name):
        topic = self.client("sns").create_topic(Name=name)["TopicArn"]
        url = self.queue(name + "-inbox")
        arn = self.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        return topic

    def deployment_group(self):
        cd = self.client("codedeploy")
        cd.create_application(applicationName="trading-bot-app", computePlatform="Lambda")
        cd.create_deployment_group(applicationName="trading-bot-app", deploymentGroupName="trading-bot-group",
                                   serviceRoleArn=self.arn("iam", "role/codedeploy"))

    def deployment(self, current, target):
        appspec = {"version": 0.0, "Resources": [{"TradingBot": {"Type": "AWS::Lambda::Function", "Properties": {
            "Name": GUARDED, "Alias": "live", "CurrentVersion": current, "TargetVersion": target}}}],
            "Hooks": [{"BeforeAllowTraffic": "CodeDeployHook_pre-traffic"}]}
        return self.client("codedeploy").create_deployment(
            applicationName="trading-bot-app", deploymentGroupName="trading-bot-group",
            revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": json.dumps(appspec)}},
        )["deploymentId"]


# ---------------------------------------------------------------- scenarios (one per function)

def load_event(name):
    return json.loads((ROOT / "events" / name).read_text())


def dlq_message(i):
    body = {"signal": "buy", "symbol": "ACME", "qty": i, "api_key": "secret-%d" % i}
    attrs = {"RequestID": str(uuid.uuid4()), "ErrorCode": "200" if i % 3 else "429",
             "ErrorMessage": "Task timed out after 30.00 seconds" if i % 3 else "Rate exceeded"}
    return {"Id": str(i), "MessageBody": json.dumps(body),
            "MessageAttributes": {k: {"DataType": "String", "StringValue": v} for k, v in attrs.items()}}


class Scenario:
    """What one function needs: resources, env, the events of one run, and its unit of work."""
    unit = ""
    extras = ()  # (label, event, unit) invoked once after run 0 to count API calls

    def __init__(self, account):
        self.acct = account

    def check(self, label, response):
        return True


class Floor(Scenario):
    """No AWS at all: the event comes back as the answer."""
    unit = None
    minimum = {}

    def provision(self):
        return {}

    def events(self, count):
        return [("echo", {"ping": i}) for i in range(count)]

    def check(self, label, response):
        return '"ping"' in response


class Hook(Scenario):
    unit = "per hook run"
    # GetDeployment + GetApplicationRevision (GetDeployment names the AppSpec by its sha256
    # only), GetFunctionConcurrency (kill switch), Invoke (one probe),
    # PutLifecycleEventHookExecutionStatus, Publish (verdict)
    minimum = {"per hook run": 6}

    def provision(self):
        self.acct.guarded_function()
        self.topic = self.acct.topic_with_queue("guardian-alerts")
        self.acct.deployment_group()
        return {"GUARDED_FUNCTIONS": GUARDED, "ALERT_TOPIC_ARN": self.topic}

    def events(self, count):
        # A fresh deployment per invocation, as CodeDeploy invokes the hook once per lifecycle event.
        return [("hook", {"DeploymentId": self.acct.deployment("1", "2"),
                          "LifecycleEventHookExecutionId": str(uuid.uuid4())}) for _ in range(count)]

    def check(self, label, response):
        return "Succeeded" in response


class Fanout(Scenario):
    unit = "per alert"
    minimum = {"per alert": 1, "per 10 alerts": 1}  # one PublishBatch per topic per <= 10 alerts

    def provision(self):
        self.acct.guarded_function()
        return {"CRITICAL_TOPIC_ARN": self.acct.topic_with_queue("alerts-critical"),
                "WARNING_TOPIC_ARN": self.acct.topic_with_queue("alerts-warning"),
                "INFO_TOPIC_ARN": self.acct.topic_with_queue("alerts-info"),
                "SEVERITY_RULES": json.dumps([{"pattern": "trading-*", "severity": "critical"}])}

    def events(self, count):
        return [("alert", load_event("fanout-sns-classic-metric.json")) for _ in range(count)]

    @property
    def extras(self):
        one = load_event("fanout-sns-classic-metric.json")["Records"][0]
        return [("10 alerts (one SNS event)", {"Records": [one] * 10}, "per 10 alerts")]

    def check(self, label, response):
        return '"forwarded"' in response


class Dlq(Scenario):
    unit = "per 10 DLQ messages (inspect)"
    # inspect: ReceiveMessage + ChangeMessageVisibilityBatch per 10, plus GetQueueAttributes (depth)
    # and Publish (report) per run; redrive: ReceiveMessage + 10 async Invoke (Lambda has no batch
    # invoke) + DeleteMessageBatch per 10, plus GetFunctionConcurrency (a redrive into a function
    # the kill switch stopped is refused), depth and report per run
    minimum = {"per 10 DLQ messages (inspect)": 4, "per 10 DLQ messages (redrive)": 15}

    def provision(self):
        self.acct.guarded_function()
        self.url = self.acct.queue("trading-bot-dlq")
        return {"DLQ_URL": self.url, "GUARDED_FUNCTIONS": GUARDED,
                "ALERT_TOPIC_ARN": self.acct.topic_with_queue("guardian-alerts")}

    def events(self, count):
        # Exactly 10 messages waiting before every run (a redrive in an earlier run consumes them).
        sqs = self.acct.client("sqs")
        while True:  # PurgeQueue allows one call per 60 s, so drain instead
            left = sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
            if not left:
                break
            sqs.delete_message_batch(QueueUrl=self.url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(left)])
        sqs.send_message_batch(QueueUrl=self.url, Entries=[dlq_message(i) for i in range(10)])
        return [("inspect", {"action": "inspect", "max_messages": 10}) for _ in range(count)]

    extras = [("redrive 10 messages to the function", {"action": "redrive", "max_messages": 10},
               "per 10 DLQ messages (redrive)")]

    def check(self, label, response):
        return ('"redrive"' if label.startswith("redrive") else '"depth"') in response


class KillSwitch(Scenario):
    unit = "per stop"
    # GetFunction (ARN, record), GetFunctionConcurrency, TagResource, PutFunctionConcurrency,
    # ListDeployments, GetSchedule + UpdateSchedule, read back (GetFunction for the record,
    # GetFunctionConcurrency), Publish. No batch API applies; the read back is the design's.
    minimum = {"per stop": 10}

    def provision(self):
        self.acct.guarded_function()
        self.acct.deployment_group()
        self.acct.client("scheduler").create_schedule(
            Name="trading-bot-tick", ScheduleExpression="rate(5 minutes)", FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": self.acct.arn("lambda", "function:%s:live" % GUARDED),
                    "RoleArn": self.acct.arn("iam", "role/scheduler"), "Input": '{"source":"trading-bot.tick"}'})
        return {"GUARDED_FUNCTIONS": GUARDED, "ALERT_TOPIC_ARN": self.acct.topic_with_queue("alerts-critical"),
                "SCHEDULE_NAMES": "trading-bot-tick", "DEPLOYMENT_GROUPS": "trading-bot-app/trading-bot-group",
                "DLQ_URL": self.acct.queue("trading-bot-dlq")}

    def events(self, count):
        # stop, resume, stop, ...: every stop starts from a running function (count is even, so
        # each run ends running again). Warm figures are stops only.
        stop, resume = load_event("kill-switch-stop.json"), load_event("kill-switch-resume.json")
        return [("stop", stop) if i % 2 == 0 else ("resume", resume) for i in range(count)]

    def check(self, label, response):
        return ('"stopped"' if label == "stop" else '"running"') in response


SCENARIOS = {FLOOR: Floor, "pre-traffic-hook": Hook, "alarm-fanout": Fanout, "dlq-inspector": Dlq, "kill-switch": KillSwitch}


# ---------------------------------------------------------------- running one cold start

def process_env(account_env, function_env, api, name, lang, trace=False, transport=None):
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": ":UTC",
           "AWS_LAMBDA_RUNTIME_API": api.address, "AWS_LAMBDA_FUNCTION_NAME": name,
           "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
           "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/" + name, "AWS_LAMBDA_LOG_STREAM_NAME": "bench"}
    env.update(account_env)
    env.update(function_env)
    env.update(transport or {})
    if trace:
        env[TRACE_VAR] = "1"
    if lang == "python":
        env.update({"_HANDLER": PY_MODULE[name] + ".handler", "LAMBDA_TASK_ROOT": str(BENCH / "baseline"),
                    "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def peak_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def one_run(scenario, fn_env, command, name, lang, events, log, count_calls, trace=False, transport=None):
    """Starts the process with the first event already waiting, delivers the rest in order,
    returns the measurements. `trace`: BENCH_INIT_TRACE=1, and the init phases it prints;
    `transport`: environment choosing the endpoint and the roots (TLS runs)."""
    api = RuntimeApi(scenario.acct.arn("lambda", "function:" + name))
    env = process_env(scenario.acct.env(), fn_env, api, name, lang, trace, transport)
    before = scenario.acct.calls() if count_calls else None
    first = api.submit(events[0][1])
    stderr = tempfile.TemporaryFile() if trace else log
    started_ns = time.time_ns()
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=stderr, cwd=str(ROOT))
    try:
        waited = time.monotonic()
        while not api.ready.wait(0.05):
            if proc.poll() is not None or time.monotonic() - waited > 60:
                break
        if not api.ready.is_set() or api.init_error:
            why = api.init_error or ("exited with %s" % proc.returncode if proc.poll() is not None else "timeout")
            raise RuntimeError("%s (%s) did not reach GET /next: %s; see target/bench/logs/%s-%s.log"
                               % (name, lang, why, name, lang))
        result = {"init": api.first_next_at - started, "invocations": [], "failures": []}
        for i, (label, event) in enumerate(events):
            inv = api.wait(first) if i == 0 else api.invoke(event)
            body = inv.error or inv.response
            if inv.error or not scenario.check(label, body):
                result["failures"].append("%s #%d: %s" % (label, i, body[:300]))
            result["invocations"].append((label, inv.seconds))
            if i == 0:
                result["total"] = inv.finished_at - started
                result["rss_kib"] = peak_rss_kib(proc.pid)
                if count_calls:
                    result["calls"] = diff(before, scenario.acct.calls())
        result["extras"] = []
        if count_calls:
            for label, event, unit in scenario.extras:
                before = scenario.acct.calls()
                inv = api.invoke(event)
                if inv.error or not scenario.check(label, inv.response):
                    result["failures"].append("%s: %s" % (label, (inv.error or inv.response)[:300]))
                result["extras"].append((unit, diff(before, scenario.acct.calls())))
        if trace:
            first_next_ns = started_ns + round((api.first_next_at - started) * 1e9)
            handed_ns = started_ns + round((first.handed_at - started) * 1e9)
            result["phases"] = phases(read_marks(stderr, log), started_ns, first_next_ns, handed_ns)
        return result
    finally:
        proc.kill()
        proc.wait()
        api.close()
        if trace:
            stderr.close()


def read_marks(stderr, log):
    """The BENCH_INIT_TRACE lines of a traced run (the rest of stderr goes on to the log)."""
    stderr.flush()
    stderr.seek(0)
    marks = []
    for line in stderr.read().decode(errors="replace").splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == TRACE_VAR and parts[-1].isdigit():
            marks.append((" ".join(parts[1:-1]), int(parts[-1])))
        else:
            log.write(line + "\n")
    log.flush()
    return marks


def phases(marks, started_ns, first_next_ns, handed_ns):
    """[(phase, seconds)]: each mark ends its phase; the first starts at exec. Init ends at the
    first GET /next ("lambda_runtime until GET /next"); marks after it belong to the first
    invocation."""
    out, previous, in_init = [], started_ns, True
    for phase, ns in marks:
        if in_init and ns > first_next_ns:
            out.append(("lambda_runtime until GET /next", (first_next_ns - previous) / 1e9))
            previous, in_init = handed_ns, False
        out.append((phase if in_init else "1st invocation: " + phase, (ns - previous) / 1e9))
        previous = ns
    if in_init:
        out.append(("lambda_runtime until GET /next", (first_next_ns - previous) / 1e9))
    return out


def diff(before, after):
    return {op: n - before.get(op, 0) for op, n in sorted(after.items()) if n - before.get(op, 0)}


# ---------------------------------------------------------------- statistics and the table

def summary(values):
    values = sorted(values)
    if not values:
        return None
    deciles = statistics.quantiles(values, n=10, method="inclusive") if len(values) > 1 else [values[0]] * 9
    return {"n": len(values), "median": statistics.median(values), "p10": deciles[0], "p90": deciles[-1],
            "min": values[0], "max": values[-1]}


def fmt_ms(s):
    if s is None:
        return "n/a"
    return "%.1f ms [%.1f–%.1f]" % (s["median"] * 1e3, s["p10"] * 1e3, s["p90"] * 1e3)


def ratio(rust, python):
    if not rust or not python:
        return "n/a"
    r = rust / python
    return "%.3f (1/%.0f)" % (r, 1 / r) if r < 0.5 else "%.2f" % r


def sizes(name):
    """Stripped arm64 bootstrap and zip, from `cargo lambda build --release --arm64 -o zip`."""
    zip_path = ROOT / "target/lambda" / name / "bootstrap.zip"
    if not zip_path.exists():
        return None, None
    with zipfile.ZipFile(zip_path) as z:
        return z.getinfo("bootstrap").file_size, zip_path.stat().st_size


def python_zip_size(name):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(BENCH / "baseline" / (PY_MODULE[name] + ".py"), PY_MODULE[name] + ".py")
    return len(buf.getvalue())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="cold starts per function and language (>= 20)")
    parser.add_argument("--warm", type=int, default=5, help="warm invocations after the first one, per run")
    parser.add_argument("--functions", default=",".join(FUNCTIONS))
    parser.add_argument("--rust-dir", default=str(ROOT / "target/release"))
    parser.add_argument("--languages", default="rust,python", help="for trying the driver out; the table needs both")
    parser.add_argument("--no-trace", action="store_true",
                        help="skip the extra Rust runs with %s=1 (the init breakdown)" % TRACE_VAR)
    parser.add_argument("--tls-runs", type=int, default=10,
                        help="extra cold starts per function and language over HTTPS and, interleaved, HTTP "
                             "with the same roots (0 skips the TLS table)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "logs").mkdir(exist_ok=True)
    python = sys.executable
    material = tls.write_material(OUT / "tls") if args.tls_runs else None
    emulator = Emulator(python, material)
    count = 1 + args.warm + (1 + args.warm) % 2  # kill switch: an even count ends each run running again
    load_at_start = "%.2f %.2f %.2f" % os.getloadavg()
    results = {"machine": {}, "runs": args.runs, "invocations_per_run": count, "functions": {}}
    for name in args.functions.split(","):
        binary = Path(args.rust_dir) / name
        commands = {"rust": [str(binary)], "python": [python, str(BENCH / "python_runtime.py")]}
        commands = {lang: commands[lang] for lang in args.languages.split(",")}
        per_lang = {}
        for lang in commands:
            scenario = SCENARIOS[name](Account(emulator))
            per_lang[lang] = {"scenario": scenario, "env": scenario.provision(), "runs": []}
        print("%s: %d runs x %d invocations per language" % (name, args.runs, count), flush=True)
        traced = []
        try:
            for run in range(args.runs):
                for lang in commands:  # interleaved: both see the same machine load
                    entry = per_lang[lang]
                    events = entry["scenario"].events(count)
                    with open(OUT / "logs" / ("%s-%s.log" % (name, lang)), "w" if run == 0 else "a") as log:
                        entry["runs"].append(one_run(entry["scenario"], entry["env"], commands[lang], name, lang,
                                                     events, log, count_calls=(run == 0)))
                if "rust" in commands and not args.no_trace:  # the breakdown, kept out of the timings above
                    entry = per_lang["rust"]
                    with open(OUT / "logs" / ("%s-rust-traced.log" % name), "w" if run == 0 else "a") as log:
                        traced.append(one_run(entry["scenario"], entry["env"], commands["rust"], name, "rust",
                                              entry["scenario"].events(2), log, count_calls=False, trace=True))
            handshake = transport_runs(args.tls_runs, emulator, material, per_lang, commands, name)
        except (RuntimeError, TimeoutError) as e:  # measure the others, say why this one is missing
            print("  NOT MEASURED: %s" % e, flush=True)
            results["functions"][name] = {"error": str(e)}
            continue
        results["functions"][name] = {lang: aggregate(entry["runs"], name, lang) for lang, entry in per_lang.items()}
        if traced:
            results["functions"][name]["breakdown"] = breakdown(traced)
        if handshake:
            results["functions"][name]["tls"] = handshake
        results["functions"][name]["unit"] = SCENARIOS[name].unit
        results["functions"][name]["minimum"] = SCENARIOS[name].minimum
    results["machine"] = dict(machine(), load_at_start=load_at_start)
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    if set(commands) != {"rust", "python"}:
        return print(json.dumps(results, indent=2, default=str))
    table = render(results)
    (OUT / "table.md").write_text(table)
    print()
    print(table)


def transport_runs(count, emulator, material, per_lang, commands, name):
    """{lang: {"http"|"https": {"total", "first"}, "handshakes"}}: `count` cold starts per
    language over each transport (the emulator's keep-alive listeners, with and without TLS),
    interleaved, trusting only the bench CA in both (Rust: SSL_CERT_FILE; Python:
    AWS_CA_BUNDLE), so their difference is what TLS itself adds to the first invocation."""
    if not count:
        return None
    trust = {"SSL_CERT_FILE": str(material["ca"]), "AWS_CA_BUNDLE": str(material["ca"])}
    transports = {"http": dict(trust, AWS_ENDPOINT_URL=emulator.plain_url),
                  "https": dict(trust, AWS_ENDPOINT_URL=emulator.tls_url)}
    runs = {lang: {t: [] for t in transports} for lang in commands}
    handshakes = {lang: [] for lang in commands}  # connections the HTTPS listener accepted per cold start
    for run in range(count):
        for lang in commands:
            entry = per_lang[lang]
            for t, transport in transports.items():
                before = emulator.tls_connections()
                path = OUT / "logs" / ("%s-%s-%s.log" % (name, lang, t))
                with open(path, "w" if run == 0 else "a") as log:
                    runs[lang][t].append(one_run(entry["scenario"], entry["env"], commands[lang], name, lang,
                                                 entry["scenario"].events(2), log, count_calls=False,
                                                 transport=transport))
                if t == "https":
                    handshakes[lang].append(emulator.tls_connections() - before)
    return {lang: dict({t: {"total": summary([r["total"] for r in rs]),
                            "first": summary([r["invocations"][0][1] for r in rs]),
                            "failures": [f for r in rs for f in r["failures"]]} for t, rs in by_t.items()},
                       handshakes=statistics.median(handshakes[lang]))
            for lang, by_t in runs.items()}


def aggregate(runs, name, lang):
    first_label = runs[0]["invocations"][0][0]
    warm = [s for r in runs for label, s in r["invocations"][1:] if label == first_label]
    failures = [f for r in runs for f in r["failures"]]
    calls = runs[0].get("calls", {})
    out = {
        "init": summary([r["init"] for r in runs]),
        "total": summary([r["total"] for r in runs]),
        "first": summary([r["invocations"][0][1] for r in runs]),
        "warm": summary(warm),
        "rss_kib": summary([r["rss_kib"] for r in runs if r.get("rss_kib")]),
        "calls": calls,
        "extras": runs[0].get("extras", []),
        "failures": failures,
    }
    if lang == "rust":
        out["bootstrap_bytes"], out["zip_bytes"] = sizes(name)
    else:
        out["zip_bytes"] = python_zip_size(name)
    return out


def machine():
    load = os.getloadavg()
    with open("/proc/cpuinfo") as f:
        cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    try:
        rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        rustc = "rustc ?"
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
            "rustc": " ".join(rustc.split()[:2]),
            "boto3": boto3.__version__, "load_at_end": "%.2f %.2f %.2f" % load,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def breakdown(traced):
    """Median of every init phase over the traced runs, in the order main reaches them."""
    order, values = [], {}
    for r in traced:
        for phase, seconds in r.get("phases", []):
            if phase not in values:
                order.append(phase)
                values[phase] = []
            values[phase].append(seconds)
    return {"runs": len(traced), "phases": [(p, summary(values[p])) for p in order],
            "init": summary([r["init"] for r in traced]),
            "failures": [f for r in traced for f in r["failures"]]}


def median(s):
    return s["median"] if s else None


def render(results):
    functions = results["functions"]
    floor = functions.get(FLOOR, {})
    lines = ["| function | metric | Rust | Python | ratio (Rust/Python) |", "|---|---|---|---|---|"]
    for name, r in functions.items():
        if "error" in r:
            lines.append("| %s | NOT MEASURED | %s | | |" % (name, r["error"].replace("|", "/")))
            continue
        rust, py = r["rust"], r["python"]
        rows = [
            ("cold init (exec → first /next)", fmt_ms(rust["init"]), fmt_ms(py["init"]),
             ratio(median(rust["init"]), median(py["init"]))),
            ("**cold total** (exec → first response)", fmt_ms(rust["total"]), fmt_ms(py["total"]),
             ratio(median(rust["total"]), median(py["total"]))),
        ]
        if name != FLOOR and "rust" in floor:
            above = {lang: (median(r[lang]["init"]) - median(floor[lang]["init"]),
                            median(r[lang]["total"]) - median(floor[lang]["total"])) for lang in ("rust", "python")}
            rows.append(("above the floor: init / total", "+%.1f / +%.1f ms" % tuple(x * 1e3 for x in above["rust"]),
                         "+%.0f / +%.0f ms" % tuple(x * 1e3 for x in above["python"]),
                         ratio(above["rust"][1], above["python"][1])))
        rows += [
            ("first invocation", fmt_ms(rust["first"]), fmt_ms(py["first"]),
             ratio(median(rust["first"]), median(py["first"]))),
            ("warm invocation", fmt_ms(rust["warm"]), fmt_ms(py["warm"]),
             ratio(median(rust["warm"]), median(py["warm"]))),
            ("peak RSS after 1 invocation", "%.1f MB" % (rust["rss_kib"]["median"] / 1024),
             "%.1f MB" % (py["rss_kib"]["median"] / 1024), ratio(rust["rss_kib"]["median"], py["rss_kib"]["median"])),
            ("arm64 bootstrap, stripped", mb(rust.get("bootstrap_bytes")), "(interpreter + boto3 in the runtime)", ""),
            ("deployment zip", mb(rust.get("zip_bytes")), "%.1f KB (handler only)" % (py["zip_bytes"] / 1024), ""),
        ]
        if r["unit"]:
            rows.append(("API calls " + r["unit"], calls(rust["calls"]), calls(py["calls"]),
                         ratio(sum(rust["calls"].values()), sum(py["calls"].values()))))
        for (unit, rc), (_, pc) in zip(rust["extras"], py["extras"]):
            rows.append(("API calls " + unit, calls(rc), calls(pc), ratio(sum(rc.values()), sum(pc.values()))))
        for metric, a, b, c in rows:
            lines.append("| %s | %s | %s | %s | %s |" % (name, metric, a, b, c))
        for lang in ("rust", "python"):
            if r[lang]["failures"]:
                lines.append("| %s | FAILED invocations (%s) | %d | | |" % (name, lang, len(r[lang]["failures"])))
    lines += [""] + init_breakdown(results) + [""] + tls_table(results) + [""] + goals(results)
    m = results["machine"]
    lines.append("")
    lines.append("Medians [p10–p90] over %d cold starts per function and language (%d invocations each; warm = "
                 "the later invocations of the same kind as the first). Machine: %s, %s cores, Linux %s, %s, "
                 "Python %s, boto3 %s; load average (1/5/15 min) %s at the start, %s at the end; %s." % (
                     results["runs"], results["invocations_per_run"], m["cpu"], m["cores"], m["kernel"],
                     m.get("rustc", "rustc ?"), m["python"], m["boto3"], m["load_at_start"], m["load_at_end"],
                     m["date"]))
    return "\n".join(lines) + "\n"


def init_breakdown(results):
    """One column per function: the median of each init phase (BENCH_INIT_TRACE=1 runs)."""
    measured = {n: r["breakdown"] for n, r in results["functions"].items() if "breakdown" in r}
    if not measured:
        return []
    order = []  # every function's phases in its own order, each new one after its predecessor
    for b in sorted(measured.values(), key=lambda b: -len(b["phases"])):
        previous = None
        for phase, _ in b["phases"]:
            if phase not in order:
                order.insert(order.index(previous) + 1 if previous in order else len(order), phase)
            previous = phase
    names = list(measured)
    out = ["Init breakdown (Rust; median ms of each phase over %s extra runs with %s=1; a phase ends at its mark, "
           "the first starts at exec):" % ("/".join(sorted({str(b["runs"]) for b in measured.values()})), TRACE_VAR),
           "", "| phase | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for phase in order:
        cells = []
        for n in names:
            found = dict(measured[n]["phases"]).get(phase)
            cells.append("%.2f" % (found["median"] * 1e3) if found else "")
        out.append("| %s | %s |" % (phase, " | ".join(cells)))
    out.append("| **init, traced runs** | %s |" % " | ".join("%.2f" % (measured[n]["init"]["median"] * 1e3)
                                                          for n in names))
    failed = {n: len(b["failures"]) for n, b in measured.items() if b["failures"]}
    if failed:
        out.append("")
        out.append("FAILED invocations in traced runs: %s" % ", ".join("%s %d" % kv for kv in failed.items()))
    return out


def tls_table(results):
    """The first call's TLS handshake: cold total and first invocation over HTTPS vs HTTP."""
    measured = {n: r["tls"] for n, r in results["functions"].items() if "tls" in r}
    if not measured:
        return []
    runs = sorted({by_t[t]["total"]["n"] for m in measured.values() for by_t in m.values() for t in ("http", "https")})
    out = ["The first call's TLS handshake (median ms over %s cold starts per function, language and transport; "
           "both transports trust only the bench CA; all services share the emulator's one endpoint):"
           % "/".join(map(str, runs)), "",
           "| function | language | cold total HTTP | cold total HTTPS | TLS adds | handshakes (2 invocations) "
           "| first invocation HTTP → HTTPS |",
           "|---|---|---|---|---|---|---|"]
    for name, m in measured.items():
        for lang, by_t in m.items():
            http, https = by_t["http"], by_t["https"]
            failed = len(http["failures"]) + len(https["failures"])
            out.append("| %s | %s | %s | %s | %+.1f ms | %g | %.1f → %.1f ms |%s" % (
                name, lang, fmt_ms(http["total"]), fmt_ms(https["total"]),
                (median(https["total"]) - median(http["total"])) * 1e3, by_t["handshakes"],
                median(http["first"]) * 1e3, median(https["first"]) * 1e3,
                " FAILED invocations: %d" % failed if failed else ""))
    return out


def goals(results):
    """The issue's goals (#21), with what was reached."""
    out = ["| goal | reached (Rust) | met |", "|---|---|---|"]

    def row(goal, reached, met):
        out.append("| %s | %s | %s |" % (goal, reached, "yes" if met else "**no**"))
    for name, r in results["functions"].items():
        if name == FLOOR:
            continue
        if "error" in r:
            row("%s: all goals" % name, "not measured", False)
            continue
        rust, py = r["rust"], r["python"]
        init, py_init = median(rust["init"]), median(py["init"])
        row("%s: cold init <= 5 ms median and <= 1/40 of Python's" % name,
            "%.1f ms, 1/%.0f of Python's %.0f ms" % (init * 1e3, py_init / init, py_init * 1e3),
            init <= 0.005 and init <= py_init / 40)
        total, py_total = median(rust["total"]), median(py["total"])
        row("%s: cold total <= 1/10 of Python's" % name,
            "%.1f ms, 1/%.1f of Python's %.0f ms" % (total * 1e3, py_total / total, py_total * 1e3),
            total <= py_total / 10)
        first, warm = median(rust["first"]), median(rust["warm"])
        row("%s: first invocation <= 1.5x warm" % name,
            "%.1f ms vs %.1f ms warm (%.2fx)" % (first * 1e3, warm * 1e3, first / warm), first <= 1.5 * warm)
        if rust.get("bootstrap_bytes"):
            row("%s: stripped arm64 bootstrap <= 4.5 MB" % name, mb(rust["bootstrap_bytes"]),
                rust["bootstrap_bytes"] <= 4.5e6)
            row("%s: zip <= 2.2 MB" % name, mb(rust["zip_bytes"]), rust["zip_bytes"] <= 2.2e6)
        else:
            row("%s: stripped arm64 bootstrap <= 4.5 MB, zip <= 2.2 MB" % name, "not built (BENCH_SKIP_ARM64)", False)
        rss = rust["rss_kib"]["median"] / 1024
        row("%s: peak RSS <= 10 MB" % name, "%.1f MB" % rss, rss <= 10)
        measured = [(r["unit"], rust["calls"])] + [(u, c) for u, c in rust["extras"]]
        for unit, c in measured:
            least = r["minimum"].get(unit)
            if least is not None:
                row("%s: API calls %s at the minimum (%d)" % (name, unit, least),
                    str(sum(c.values())), sum(c.values()) <= least)
    return out


def mb(n):
    return "n/a (no arm64 build)" if n is None else "%.2f MB" % (n / 1e6)


def calls(d):
    return "%d (%s)" % (sum(d.values()), ", ".join("%s %d" % (k, v) for k, v in d.items())) if d else "0"


if __name__ == "__main__":
    main()
