"""With two workers, a campaign config written after both started reaches both.

The `campaigns` topic is partitioned, so each worker consumes only some of its partitions;
every worker must still see every campaign (pauses, budgets, holdouts, caps).
"""

from __future__ import annotations

from smartrouter.testing.builders import intent, profile
from smartrouter.testing.plugin import running_stack

PEOPLE = [f"mw-{i:03d}" for i in range(40)]


def test_a_pause_reaches_every_worker(smartrouter_broker, tmp_path):
    with running_stack(smartrouter_broker) as first, \
            running_stack(smartrouter_broker, data_dir=tmp_path / "second",
                          prefix=first.prefix):
        first.produce("customer-updates", [profile(c, sms="+15550100001") for c in PEOPLE])
        first.wait_processed("customer-updates")
        first.produce("campaigns", [{"campaign_id": f"camp-{k}", "status": "paused"}
                                    for k in range(8)], key_field="campaign_id")
        first.wait_processed("campaigns")
        first.produce("intents", [intent(f"mw-{c}", c, campaign_id=f"camp-{i % 8}")
                                  for i, c in enumerate(PEOPLE)])
        decisions = first.read("decisions", count=len(PEOPLE), timeout_s=90)
    reasons = {d["intent_id"]: d.get("reasons") for d in decisions}
    assert len(reasons) == len(PEOPLE)
    not_paused = {i: r for i, r in reasons.items() if "campaign_paused" not in (r or [])}
    assert not not_paused, f"{len(not_paused)} decided without the pause: {not_paused}"
