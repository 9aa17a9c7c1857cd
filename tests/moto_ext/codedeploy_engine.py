"""CodeDeploy for Lambda: runs a deployment's lifecycle (hooks, traffic shifting on the
alias, alarm watching, rollback deployments). Owner: the CodeDeploy module. INTERFACE STUB:
the signatures below are the contract other modules code against."""


def start_alias_deployment(account, region, application, group, function_name, alias,
                           current_version, target_version, before_hook=None, after_hook=None):
    """Create and start a deployment of `alias` from `current_version` to `target_version` as
    CloudFormation's CodeDeployLambdaAliasUpdate does (an AppSpec revision, hooks named by
    function name). Returns the deployment id."""
    raise NotImplementedError


def wait_deployment(account, region, deployment_id, timeout_seconds=None):
    """Block until the deployment is Succeeded, Failed or Stopped; return GetDeployment's
    deploymentInfo as a dict."""
    raise NotImplementedError
