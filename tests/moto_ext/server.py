#!/usr/bin/env python3
"""Local AWS for rollout-guardian tests: moto 5.2.5's own server plus the extension modules
beside this file, each closing one documented gap (README.md lists them and the /_ext control
API).

Usage: python tests/moto_ext/server.py --port 0 [--exit-with-parent] [--log-dir DIR]
                                        [--tls-cert CERT --tls-key KEY]
Prints exactly one line `READY http://127.0.0.1:<port>` once it serves. With a certificate it
also serves HTTPS, and the same server without TLS to compare against, announced first as
`TLS https://127.0.0.1:<port> http://127.0.0.1:<port>` (the benchmark measures the first
call's handshake there; AWS endpoints are HTTPS only).
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
import cross_account  # noqa: E402,F401
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


TLS_CONNECTIONS = {"accepted": 0}


def serve_keep_alive(app, cert=None, key=None):
    """The app with keep-alive, as AWS endpoints serve (werkzeug's server sends `Connection:
    close` after every response, which would make every call a new handshake), over HTTPS
    with `cert`, else HTTP (the same server without TLS, to compare against). cheroot is the
    benchmark's requirement only (bench/requirements.txt); the tests never ask for TLS.
    Returns the port."""
    from cheroot import wsgi
    from cheroot.ssl.builtin import BuiltinSSLAdapter

    class CountingAdapter(BuiltinSSLAdapter):
        def wrap(self, sock):
            TLS_CONNECTIONS["accepted"] += 1  # one handshake per accepted connection
            return super().wrap(sock)

    server = wsgi.Server(("127.0.0.1", 0), app, numthreads=8, timeout=60)
    if cert:
        server.ssl_adapter = CountingAdapter(cert, key)
    server.prepare()
    threading.Thread(target=server.serve, daemon=True).start()
    return server.bind_addr[1]


@common.route("GET", "/_ext/tls")
def tls_connections(req, body):
    return {"connections": TLS_CONNECTIONS["accepted"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--exit-with-parent", action="store_true")
    ap.add_argument("--log-dir", default=None, help="where function processes write their logs")
    ap.add_argument("--tls-cert", help="PEM certificate chain for an HTTPS listener beside the HTTP one")
    ap.add_argument("--tls-key", help="PEM private key of --tls-cert")
    args = ap.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if args.exit_with_parent:
        parent = os.getppid()

        def watch():
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    app = ExtApp()
    if args.tls_cert:
        https, http = serve_keep_alive(app, args.tls_cert, args.tls_key), serve_keep_alive(app)
        print(f"TLS https://127.0.0.1:{https} http://127.0.0.1:{http}", flush=True)
    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=MotoRequestHandler)
    common.SERVER["url"] = f"http://127.0.0.1:{server.server_port}"
    common.SERVER["log_dir"] = args.log_dir
    print(f"READY {common.SERVER['url']}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
