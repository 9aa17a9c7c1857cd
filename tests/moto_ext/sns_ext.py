"""Gap 4: SNS rejects the subjects and JSON structures AWS rejects. Gap 4b: what e-mail and
SMS subscribers would receive is kept (moto drops it)."""
import json
from collections import defaultdict

from moto.sns.exceptions import InvalidParameterValue
from moto.sns.models import SNSBackend, Subscription

from common import LOCK, route

DELIVERIES = defaultdict(list)                  # account -> e-mail / SMS deliveries

# PublishBatch calls backend.publish per entry and already turns InvalidParameterValue into a
# Failed entry.
_orig_publish = SNSBackend.publish


def publish(self, message, arn=None, **kw):
    subject = kw.get("subject")
    if subject is not None and (not subject or len(subject) >= 100 or not subject.isascii()
                                or any(ord(c) < 32 or ord(c) == 127 for c in subject)):
        raise InvalidParameterValue("Invalid parameter: Subject")
    if kw.get("message_structure") == "json":
        try:
            doc = json.loads(message)
        except ValueError:
            doc = None
        if not isinstance(doc, dict) or not isinstance(doc.get("default"), str):
            raise InvalidParameterValue("Invalid parameter: Message Structure - No default entry in JSON message body")
    return _orig_publish(self, message, arn, **kw)


SNSBackend.publish = publish

# Keep what e-mail and SMS subscribers would get (the protocol's key of a MessageStructure=json
# message, else the message).
_orig_sub_publish = Subscription.publish


def subscription_publish(self, message, message_id, subject=None, message_attributes=None, **kw):
    if self.protocol not in ("email", "email-json", "sms"):
        return _orig_sub_publish(self, message, message_id, subject, message_attributes, **kw)
    if self._filter_policy_matcher is not None and not self._filter_policy_matcher.matches(message_attributes, message):
        return
    if kw.get("message_structure") == "json":
        message = self._parse_message_structure(message, self.protocol)
    with LOCK:
        DELIVERIES[self.account_id].append({"protocol": self.protocol, "endpoint": self.endpoint,
                                            "subject": subject, "message": message})


Subscription.publish = subscription_publish


@route("GET", "/_ext/sns/deliveries")
def _deliveries(req, j):
    q = req.args
    with LOCK:
        return [d for d in DELIVERIES[q["account"]] if d["protocol"] == q.get("protocol", d["protocol"])]


@route("POST", "/_ext/sns/deliveries/clear")
def _clear_deliveries(req, j):
    """Forget what was delivered so far (the drill reads each step's deliveries)."""
    with LOCK:
        DELIVERIES[j["account"]].clear()
    return {}
