"""Gap 0: one isolated account per test. The access key id `ACCT<12 digits>` maps to that
account; other keys (moto's, and the assumed-role keys STS issues) keep moto's lookup."""
import re

import moto.iam.models as iam_models
from moto.core.responses import BaseResponse

_orig_account_from = iam_models.get_account_id_from


def account_from(access_key):
    m = re.fullmatch(r"ACCT(\d{12})", access_key or "")
    return m.group(1) if m else _orig_account_from(access_key)


iam_models.get_account_id_from = account_from  # BaseResponse.get_current_account imports it per call
BaseResponse.access_key_regex = re.compile(  # moto only extracts 20-character key ids
    r"AWS.*(?P<access_key>(?<![A-Z0-9])(?:[A-Z0-9]{20}|ACCT\d{12})(?![A-Z0-9]))[:/]")


def is_admin_key(access_key):
    """The test's / deployer's own key (ACCT<id>): the account itself, never IAM-checked."""
    return bool(re.fullmatch(r"ACCT\d{12}", access_key or ""))
