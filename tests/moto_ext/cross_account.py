"""Cross-account SNS publish: a role of one account publishing to a topic another account owns
(a central alerts topic, README "Alerts at organisation scale").

moto 5.2.5 looks every SNS call's topic up in the caller's own account, so a Publish to another
account's topic fails with NotFound, and nothing would check the owner's topic policy. AWS
(IAM user guide, "Cross-account policy evaluation logic"): a request across accounts is allowed
only if the caller's identity-based policies allow it *and* the resource-based policy of the
resource's account allows the caller; for an encrypted topic the publisher also needs
kms:GenerateDataKey and kms:Decrypt on the topic's key ("Encryption at rest", permissions for
publishers), which for a key of another account again takes both the caller's policies and
the key policy (KMS developer guide, "Allowing users in other accounts to use a KMS key"; an
AWS managed key such as alias/aws/sns cannot be used across accounts).

Here:
* Publish and PublishBatch whose TopicArn names another account are served by that account's
  SNS backend (subscriptions, deliveries and filter policies are the owner's, as on AWS);
* `resource_denial` is the owner's half of the decision, for `iam_authz.guard`: the topic
  policy for sns:Publish, the key policy for the KMS actions. The caller's half (its identity
  policies) is `iam_authz`'s usual evaluation.
"""
from moto.kms.models import kms_backends
from moto.sns.models import sns_backends
from moto.sns.responses import SNSResponse

import iam_policy

PUBLISH = {"Publish", "PublishBatch"}


def arn_account_region(arn):
    """(account, region) of an ARN, else (None, None)."""
    parts = (arn or "").split(":")
    if len(parts) < 6 or parts[0] != "arn":
        return None, None
    return parts[4], parts[3]


def owner_of_topic(resp):
    """(account, region) owning the topic of a Publish/PublishBatch, when it is not the caller's."""
    if resp._get_action() not in PUBLISH:
        return None
    account, region = arn_account_region(resp._get_param("TopicArn") or resp._get_param("TargetArn"))
    if account and account != resp.current_account:
        return account, region
    return None


_backend = SNSResponse.backend


def _owner_backend(self):
    owner = owner_of_topic(self)
    if owner is None:
        return _backend.fget(self)
    return sns_backends[owner[0]][owner[1]]


SNSResponse.backend = property(_owner_backend)


def topic_key_arn(topic_arn):
    """The ARN of the KMS key of a topic in any account (None: unencrypted or unknown topic)."""
    account, region = arn_account_region(topic_arn)
    if account is None:
        return None
    topic = sns_backends[account][region].topics.get(topic_arn)
    key_id = getattr(topic, "kms_master_key_id", None) if topic else None
    if not key_id:
        return None
    key_account, key_region = arn_account_region(key_id) if key_id.startswith("arn:") else (account, region)
    try:
        return kms_backends[key_account][key_region].describe_key(key_id).arn
    except Exception:  # e.g. alias/aws/sns: named in the owner's account, where no policy allows others
        return key_id if key_id.startswith("arn:") else f"arn:aws:kms:{key_region}:{key_account}:{key_id}"


def resource_denial(caller_account, principal_arn, action, resource, context):
    """None when `resource` is the caller's own or its owner's policy allows `principal_arn`,
    else AWS's reason. Only SNS topics and KMS keys are modelled across accounts."""
    account, region = arn_account_region(resource)
    if account is None or account == caller_account:
        return None
    policy = None
    if action == "sns:Publish":
        topic = sns_backends[account][region].topics.get(resource)
        policy = topic.policy if topic else None
    elif action.startswith("kms:"):
        try:
            key = kms_backends[account][region].describe_key(resource)
            policy = key.policy if key.key_state == "Enabled" else None
        except Exception:
            policy = None
    principal = {"AWS": principal_arn}
    if policy and iam_policy.evaluate_resource_policy(policy, principal, action, resource, context).allowed:
        return None
    return "because no resource-based policy allows the %s action" % action
