"""Stable holdout assignment: which customers of a campaign get a ``holdout`` decision.

A campaign's ``holdout_share`` is its control group. Membership must not flip between
intents, restarts, workers or Python processes (Python's ``hash`` is salted per process),
and one campaign's control group must not predict another's — otherwise the same
customers would be held out of everything. So the bucket is sha256 over both ids, read as
a uniform number in [0, 1), and a customer is held out when it falls below the share.
Raising the share only adds customers; nobody leaves the control group.
"""

from __future__ import annotations

import hashlib
import math

_DOMAIN = b"smartrouter/holdout/v1\x00"


def holdout_bucket(customer_id: str, campaign_id: str) -> float:
    """The customer's fixed position in [0, 1) for this campaign (53 uniform bits)."""
    # Length-prefixed so ("ab", "c") and ("a", "bc") cannot collide.
    key = f"{len(campaign_id)}:{campaign_id}{customer_id}".encode()
    digest = hashlib.sha256(_DOMAIN + key).digest()
    return (int.from_bytes(digest[:8], "big") >> 11) / float(1 << 53)


def in_holdout(customer_id: str, campaign_id: str, share: float) -> bool:
    """True when this customer is in the campaign's control group of size ``share``."""
    if math.isnan(share) or not 0.0 <= share <= 1.0:
        raise ValueError(f"holdout share must be within [0, 1], got {share!r}")
    return holdout_bucket(customer_id, campaign_id) < share
