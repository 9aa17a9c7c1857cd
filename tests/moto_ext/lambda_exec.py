"""Lambda's execution side: runs a function's real code (the `bootstrap` in its package) as a
process behind a Lambda Runtime API, with the function's configuration, environment and
role credentials, its concurrency, its asynchronous event queue (retries, dead-letter queue,
destinations), its metrics and its logs. Owner: the Lambda module. INTERFACE STUB: the
signatures below are the contract other modules code against."""


def invoke_sync(account, region, function, qualifier, payload, log_tail=False):
    """A RequestResponse invocation as Lambda's Invoke API performs it. `function` is a name or
    ARN (qualified or not); `payload` bytes. Returns {"status": 200, "payload": bytes,
    "function_error": None | "Handled" | "Unhandled", "executed_version": str,
    "log_result": base64 str | None}. Raises common.ExtError for ResourceNotFoundException
    (404) and TooManyRequestsException (429, with Reason)."""
    raise NotImplementedError


def invoke_async(account, region, function, qualifier, payload):
    """An Event invocation: the event enters the function's asynchronous queue and is handled
    as Lambda does (throttle retries, function-error retries, then the on-failure destination
    or dead-letter queue). Returns the request id. Raises common.ExtError for
    ResourceNotFoundException (404). This is what AWS services (CodeDeploy hooks, EventBridge
    rules, Scheduler, SNS) use after their own authorisation."""
    raise NotImplementedError
