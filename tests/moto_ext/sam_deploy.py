#!/usr/bin/env python3
"""The client side of `sam build && sam deploy` for the local emulator (a separate process).

  python sam_deploy.py --endpoint URL --account ID [--region us-east-1] --stack-name NAME
      --template template.yaml --code-dir target/debug [--parameter-overrides K=V ...]
      [--template-text-file F] [--build-id ID] [--no-wait]

Packaging, as `sam build` + `sam package` would for each AWS::Serverless::Function with
Metadata.BuildMethod rust-cargolambda: a zip holding one executable `bootstrap` that execs
<code-dir>/<BuildProperties.Binary>, uploaded to s3://rollout-guardian-artifacts-<account>/ at a
key made of the sha256 of the script and the binary (a rebuilt binary is a new key, so the SAM
transform publishes a new version, as a new S3 key does on AWS); CodeUri points at it. The
packaged template (still SAM, Transform kept) is uploaded too, and CreateStack (or UpdateStack
when the stack exists) is called with its TemplateURL and CAPABILITY_IAM + CAPABILITY_AUTO_EXPAND.
`--template-text-file F` deploys the text of F instead of the file --template names (a mutated
copy, say); --template still names the template in messages. `--build-id ID` stands for a
rebuild: the line `# build ID` in every bootstrap changes every package's content and key.

Prints one JSON document {status, reason, outputs, resources, failed_events}. Exit 0 when the
stack ends *_COMPLETE after a create or update (or there was nothing to update), 1 otherwise,
2 for usage errors. Credentials: the account's own key ACCT<account>.
"""
import argparse
import hashlib
import io
import json
import os
import sys
import time
import zipfile

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
DONE_OK = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}


def client(args, service):
    return boto3.client(service, region_name=args.region, endpoint_url=args.endpoint,
                        aws_access_key_id=f"ACCT{args.account}", aws_secret_access_key="emulator-secret",
                        config=Config(retries={"max_attempts": 2}, read_timeout=120))


def package_function(args, s3, bucket, lid, fn):
    """Zip a bootstrap running the built binary; upload once per content; return its S3 URI."""
    binary = (fn.get("Metadata", {}).get("BuildProperties") or {}).get("Binary")
    if not binary:
        raise Failure(f"{lid}: Metadata.BuildProperties.Binary is required for rust-cargolambda")
    path = os.path.realpath(os.path.join(args.code_dir, binary))
    if not os.path.isfile(path):
        raise Failure(f"{lid}: built binary {path} not found (run cargo build first)")
    stamp = f"# build {args.build_id}\n" if args.build_id else ""     # a rebuild, without recompiling
    script = f"#!/bin/sh\n{stamp}exec {path} \"$@\"\n".encode()
    digest = hashlib.sha256(script)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    key = f"{args.stack_name}/{lid}-{digest.hexdigest()}.zip"
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        s3.put_object(Bucket=bucket, Key=key, Body=bootstrap_zip(script))
    return f"s3://{bucket}/{key}"


def bootstrap_zip(script):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))   # same bytes every time
        info.external_attr = 0o100755 << 16                                     # -rwxr-xr-x
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, script)
    return buf.getvalue()


def package(args, template, s3, bucket):
    for lid, res in (template.get("Resources") or {}).items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        method = (res.get("Metadata") or {}).get("BuildMethod")
        if method == "rust-cargolambda":
            res.setdefault("Properties", {})["CodeUri"] = package_function(args, s3, bucket, lid, res)
        elif not str((res.get("Properties") or {}).get("CodeUri", "s3://")).startswith("s3://"):
            raise Failure(f"{lid}: BuildMethod {method!r} is not packaged by sam_deploy.py")
    return template


class Failure(Exception):
    pass


def usage(message):
    print(json.dumps({"status": "USAGE_ERROR", "reason": message}))
    sys.exit(2)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.error = usage
    for flag in ("--endpoint", "--account", "--stack-name", "--template", "--code-dir"):
        ap.add_argument(flag, required=True)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--parameter-overrides", nargs="*", default=[])
    ap.add_argument("--template-text-file")
    ap.add_argument("--build-id", help="stands for rebuilt code: stamped into every bootstrap, so every package key changes")
    ap.add_argument("--no-wait", action="store_true")
    args = ap.parse_args(argv)
    try:
        args.parameters = [{"ParameterKey": k, "ParameterValue": unquote(v)}
                           for k, v in (p.split("=", 1) for p in args.parameter_overrides)]
    except ValueError:
        usage("--parameter-overrides takes Key=Value pairs")
    return args


def unquote(v):
    """samconfig.toml style values: AlertEmail="" is the empty string."""
    return v[1:-1] if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'" else v


def stack_status(cf, name):
    try:
        return cf.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as e:
        if "does not exist" in e.response["Error"]["Message"]:
            return None
        raise


def submit(args, cf, url, declared):
    """CreateStack or UpdateStack; returns (stack id, event ids seen before, nothing-to-do)."""
    existing = stack_status(cf, args.stack_name)
    call = dict(StackName=args.stack_name, TemplateURL=url, Parameters=args.parameters, Capabilities=CAPABILITIES)
    if existing is None:
        return cf.create_stack(**call)["StackId"], set(), False
    # As the SAM CLI does (deployer.merge_parameters): a parameter not overridden keeps its value.
    given = {p["ParameterKey"] for p in args.parameters}
    call["Parameters"] = args.parameters + [{"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
                                            for p in existing.get("Parameters", []) if p["ParameterKey"] not in given
                                            and p["ParameterKey"] in declared]
    seen = {e["EventId"] for e in events(cf, existing["StackId"])}
    try:
        return cf.update_stack(**call)["StackId"], seen, False
    except ClientError as e:
        if e.response["Error"]["Message"] == "No updates are to be performed.":
            return existing["StackId"], seen, True      # `sam deploy`: "No changes to deploy"
        raise


def events(cf, stack_id):
    out, token = [], None
    while True:
        page = cf.describe_stack_events(StackName=stack_id, **({"NextToken": token} if token else {}))
        out += page["StackEvents"]
        token = page.get("NextToken")
        if not token:
            return out


def report(cf, stack_id, seen, note=None):
    s = cf.describe_stacks(StackName=stack_id)["Stacks"][0]
    res = cf.describe_stack_resources(StackName=stack_id)["StackResources"]
    failed = [e for e in reversed(events(cf, stack_id)) if e["EventId"] not in seen and e["ResourceStatus"].endswith("_FAILED")]
    return {"status": s["StackStatus"], "reason": note or s.get("StackStatusReason"), "stack_id": stack_id,
            "outputs": {o["OutputKey"]: o["OutputValue"] for o in s.get("Outputs", [])},
            "resources": [{"logical_id": r["LogicalResourceId"], "type": r["ResourceType"],
                           "physical_id": r.get("PhysicalResourceId"), "status": r["ResourceStatus"],
                           "reason": r.get("ResourceStatusReason")} for r in res],
            "failed_events": [{"logical_id": e["LogicalResourceId"], "type": e["ResourceType"], "status": e["ResourceStatus"],
                               "reason": e.get("ResourceStatusReason"), "timestamp": e["Timestamp"].isoformat()} for e in failed]}


def main(argv):
    args = parse_args(argv)
    from samtranslator.yaml_helper import yaml_parse
    try:
        with open(args.template_text_file or args.template, encoding="utf-8") as f:
            template = yaml_parse(f.read())
    except OSError as e:
        usage(str(e))
    s3, cf = client(args, "s3"), client(args, "cloudformation")
    bucket = f"rollout-guardian-artifacts-{args.account}"
    try:
        if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
            s3.create_bucket(Bucket=bucket)
        body = json.dumps(package(args, template, s3, bucket), indent=1, default=str).encode()
        key = f"{args.stack_name}/template-{hashlib.sha256(body).hexdigest()}.json"
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        stack_id, seen, nothing = submit(args, cf, f"{args.endpoint.rstrip('/')}/{bucket}/{key}", template.get("Parameters") or {})
    except (Failure, ClientError) as e:
        msg = e.response["Error"]["Message"] if isinstance(e, ClientError) else str(e)
        print(json.dumps({"status": "FAILED", "reason": msg, "outputs": {}, "resources": [], "failed_events": []}))
        return 1
    if nothing:
        doc = report(cf, stack_id, seen, "No updates are to be performed.")
        print(json.dumps(doc, indent=1))
        return 0        # samconfig.toml: fail_on_empty_changeset = false
    while not args.no_wait:
        status = cf.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            break
        time.sleep(0.5)
    doc = report(cf, stack_id, seen)
    print(json.dumps(doc, indent=1))
    return 0 if args.no_wait or doc["status"] in DONE_OK else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
