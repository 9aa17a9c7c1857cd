"""A minimal AWS Lambda Runtime API (the part a runtime client uses) for timing functions.

One server serves one function process at a time. It records when the process first asks
for work (GET .../invocation/next: the end of its cold init), hands out invocations one at a
time and times each from the moment the event is handed over to the moment the response (or
error) is posted back. Timestamps are time.perf_counter() (CLOCK_MONOTONIC), comparable with
the driver's timestamp taken just before it starts the process.
"""

import json
import queue
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"


class Invocation:
    def __init__(self, payload, timeout_s):
        self.request_id = str(uuid.uuid4())
        self.body = json.dumps(payload).encode()
        self.timeout_s = timeout_s
        self.handed_at = None
        self.finished_at = None
        self.error = None  # the posted error document, if the function failed
        self.response = None
        self.done = threading.Event()

    @property
    def seconds(self):
        return self.finished_at - self.handed_at


class RuntimeApi:
    def __init__(self, function_arn):
        self.function_arn = function_arn
        self.pending = queue.Queue()
        self.in_flight = {}
        self.first_next_at = None
        self.init_error = None
        self.ready = threading.Event()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # runtimes keep the connection alive

            def log_message(self, *args):
                pass

            def _reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path != PREFIX + "/invocation/next":
                    return self._reply(404)
                if api.first_next_at is None:
                    api.first_next_at = time.perf_counter()
                    api.ready.set()
                inv = api.pending.get()
                if inv is None:  # shutting down: leave the runtime waiting
                    return
                api.in_flight[inv.request_id] = inv
                deadline_ms = int((time.time() + inv.timeout_s) * 1000)
                headers = [
                    ("Content-Type", "application/json"),
                    ("Lambda-Runtime-Aws-Request-Id", inv.request_id),
                    ("Lambda-Runtime-Deadline-Ms", str(deadline_ms)),
                    ("Lambda-Runtime-Invoked-Function-Arn", api.function_arn),
                    ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0"),
                ]
                inv.handed_at = time.perf_counter()
                self._reply(200, inv.body, headers)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                now = time.perf_counter()
                if self.path == PREFIX + "/init/error":
                    api.init_error = body.decode(errors="replace")
                    api.ready.set()
                    return self._reply(202, b"{}")
                parts = self.path[len(PREFIX):].strip("/").split("/")
                # invocation/<id>/response | invocation/<id>/error
                if len(parts) == 3 and parts[0] == "invocation" and parts[1] in api.in_flight:
                    inv = api.in_flight.pop(parts[1])
                    inv.finished_at = now
                    if parts[2] == "error":
                        inv.error = body.decode(errors="replace")
                    else:
                        inv.response = body.decode(errors="replace")
                    self._reply(202, b"{}")
                    inv.done.set()
                    return
                self._reply(404)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # the function process is killed mid-poll at the end of every run

        self.server = Server(("127.0.0.1", 0), Handler)
        self.address = "127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def submit(self, payload, timeout_s=60):
        """Queues one event for the runtime's next GET .../next without waiting. Queued before
        the process starts, it is what Lambda does on a cold start (the invocation is waiting
        when init ends), so the first response time is the whole cold start."""
        inv = Invocation(payload, timeout_s)
        self.pending.put(inv)
        return inv

    @staticmethod
    def wait(inv):
        """Waits for the answer to a submitted invocation."""
        if not inv.done.wait(inv.timeout_s + 5):
            raise TimeoutError("no response within %ss" % inv.timeout_s)
        return inv

    def invoke(self, payload, timeout_s=60):
        """Hands one event to the runtime and waits for its answer."""
        return self.wait(self.submit(payload, timeout_s))

    def close(self):
        self.pending.put(None)
        self.server.shutdown()
        self.server.server_close()
