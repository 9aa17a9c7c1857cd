"""A tiny Python Lambda runtime: what the managed python3.x runtime does, minus its extras.

Imports the handler module named by _HANDLER (module init: import boto3, build clients), then
polls the Runtime API at AWS_LAMBDA_RUNTIME_API forever. Being leaner than the managed
runtime's bootstrap, it slightly favours the Python baseline.
"""

import http.client
import json
import os
import sys
import time
import traceback

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
BASE = "/2018-06-01/runtime"


class Context:
    def __init__(self, headers):
        self.aws_request_id = headers["Lambda-Runtime-Aws-Request-Id"]
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn", "")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self._deadline_ms = int(headers["Lambda-Runtime-Deadline-Ms"])

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


def post(conn, path, document):
    body = json.dumps(document).encode()
    conn.request("POST", BASE + path, body, {"Content-Type": "application/json"})
    conn.getresponse().read()


def main():
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", "."))
    module_name, function_name = os.environ["_HANDLER"].rsplit(".", 1)
    conn = http.client.HTTPConnection(API)
    try:
        module = __import__(module_name)
        handler = getattr(module, function_name)
    except Exception as e:  # the managed runtime reports init errors the same way
        post(conn, "/init/error", {"errorMessage": str(e), "errorType": type(e).__name__})
        raise
    while True:
        conn.request("GET", BASE + "/invocation/next")
        resp = conn.getresponse()
        event = json.loads(resp.read())
        context = Context(resp.headers)
        try:
            result = handler(event, context)
            post(conn, "/invocation/%s/response" % context.aws_request_id, result)
        except Exception as e:
            post(
                conn,
                "/invocation/%s/error" % context.aws_request_id,
                {
                    "errorMessage": str(e),
                    "errorType": type(e).__name__,
                    "stackTrace": traceback.format_exc().splitlines(),
                },
            )


if __name__ == "__main__":
    main()
