"""The template's Transform section, as CloudFormation processes it: AWS::Serverless-2016-10-31
runs aws-sam-translator (the library CloudFormation's hosted SAM transform is built from),
offline, with the stack's parameter values (defaults overridden by the call's); any other
transform is an error naming it. Same library and loader stand-in as tests/template/translate.py.
"""
import copy
import os
import threading

from cfn_intrinsics import TemplateError

SAM = "AWS::Serverless-2016-10-31"
_LOCK = threading.Lock()    # samtranslator keeps module-level state (ArnGenerator region)


class OfflinePolicyLoader:
    """Managed-policy name -> ARN without calling IAM: the template names none; SAM builds the
    ARNs of the policies it adds itself (the CodeDeploy role's) from the partition."""

    def load(self):
        return {}

    def get_arn(self, name):
        return None


def transforms(template):
    t = template.get("Transform")
    return [] if t is None else [t] if isinstance(t, (str, dict)) else list(t)


def process(template, parameters, account, region):
    """The processed template (a new dict). `parameters`: name -> value of the stack."""
    names = transforms(template)
    if not names:
        return template
    other = [n if isinstance(n, str) else n.get("Name") for n in names if n != SAM]
    if other:
        # CloudFormation looks custom macros up in the account and finds none here.
        raise TemplateError(f"No transform named {account}::{other[0]} found.")
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.translator.arn_generator import ArnGenerator
    from samtranslator.translator.transform import transform
    values = {k: (",".join(v) if isinstance(v, list) else v) for k, v in parameters.items()}
    values["AWS::Region"] = region
    with _LOCK:
        os.environ.setdefault("AWS_DEFAULT_REGION", region)
        ArnGenerator.BOTO_SESSION_REGION_NAME = region
        try:
            return transform(copy.deepcopy(template), values, OfflinePolicyLoader())
        except InvalidDocumentException as e:
            causes = " ".join(c.message for c in e.causes)
            raise TemplateError(f"Transform {SAM} failed with: Invalid Serverless Application Specification document. "
                                f"Number of errors found: {len(e.causes)}. {causes}") from None
