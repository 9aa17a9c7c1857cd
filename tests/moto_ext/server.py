#!/usr/bin/env python3
"""Local AWS for rollout-guardian tests: moto 5.2.5's own server plus the extension modules
beside this file, each closing one documented gap (README.md lists them and the /_ext control
API).

Usage: python tests/moto_ext/server.py --port 0 [--exit-with-parent] [--log-dir DIR]
Prints exactly one line `READY http://127.0.0.1:<port>` once it serves.
"""
import argparse
import json
import logging
import os
import sys
import threading
import time

# AWS managed policies (AWSCodeDeployRoleForLambda, which SAM attaches to CodeDeploy's role)
# must exist to be attached and evaluated; moto loads them only when asked (~0.1 s per account).
os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
# Each module applies its patches and registers its control routes when imported.
import accounts  # noqa: E402,F401
import faults  # noqa: E402,F401
import iam_authz  # noqa: E402,F401
import lambda_api  # noqa: E402,F401
import codedeploy_api  # noqa: E402,F401
import sns_ext  # noqa: E402,F401
import cloudwatch_ext  # noqa: E402
import cloudformation_ext  # noqa: E402,F401
import events_ext  # noqa: E402,F401


def control(req):
    handler = common.ROUTES.get((req.method, req.path))
    if handler is None:
        return Response(json.dumps({"error": f"unknown {req.method} {req.path}"}), 404, mimetype="application/json")
    return handler(req, req.get_json(silent=True) or {})


class ExtApp:
    def __init__(self):
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_ext/"):
            out = control(Request(environ))
            resp = out if isinstance(out, Response) else Response(json.dumps(out), mimetype="application/json")
            return resp(environ, start_response)
        if path.startswith(cloudwatch_ext.CBOR_PREFIX):
            return cloudwatch_ext.cbor_bridge(self.moto, environ, start_response)
        return self.moto(environ, start_response)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--exit-with-parent", action="store_true")
    ap.add_argument("--log-dir", default=None, help="where function processes write their logs")
    args = ap.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if args.exit_with_parent:
        parent = os.getppid()

        def watch():
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    server = make_server("127.0.0.1", args.port, ExtApp(), threaded=True, request_handler=MotoRequestHandler)
    common.SERVER["url"] = f"http://127.0.0.1:{server.server_port}"
    common.SERVER["log_dir"] = args.log_dir
    print(f"READY {common.SERVER['url']}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
