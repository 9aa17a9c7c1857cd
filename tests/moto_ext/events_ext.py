"""Events delivered as AWS delivers them: CloudWatch alarm evaluation and actions, EventBridge
rule targets (Lambda), EventBridge Scheduler firings, SNS deliveries to Lambda. Owner: the
events module. INTERFACE STUB: the signatures below are the contract other modules code
against."""


def put_service_event(account, region, source, detail_type, detail, resources=()):
    """An event an AWS service emits to the account's default event bus (e.g. source
    "aws.codedeploy", detail-type "CodeDeploy Deployment State-change Notification"): matched
    against the bus's rules and delivered to their targets as EventBridge does."""
    raise NotImplementedError
