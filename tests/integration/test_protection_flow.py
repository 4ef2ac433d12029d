"""Customer protection through the broker: consent, STOP/START, anger, erasure, campaigns."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from smartrouter.testing.builders import consent, daytime_zone, intent, profile

pytestmark = pytest.mark.integration


def marketing(intent_id: str, customer_id: str, **fields) -> dict:
    return intent(intent_id, customer_id, kind="marketing", campaign_id=intent_id, **fields)


def said(customer_id: str, text: str, channel: str = "sms") -> dict:
    return {"customer_id": customer_id, "channel": channel, "text": text,
            "received_at": datetime.now(UTC).isoformat()}


def test_protection_rules_through_the_broker(smartrouter_stack):
    stack = smartrouter_stack
    zone = daytime_zone()
    people = ["ok", "stopper", "angry", "erased", "silent"]
    updates = [{**profile(c, sms="+15550100001", email=f"{c}@example.com"), "timezone": zone}
               for c in people]
    updates += [consent(c, ch) for c in people if c != "silent" for ch in ("sms", "email")]
    updates += [{"type": "erase", "customer_id": "erased"},
                {"type": "ticket", "customer_id": "angry", "status": "opened"}]
    stack.produce("customer-updates", updates)
    stack.wait_processed("customer-updates")  # opted in first, then texted STOP
    stack.produce("inbound", [said("stopper", "STOP"),
                              said("angry", "3 hours on hold, again. This is unacceptable"),
                              said("angry", "still no refund, worst service ever!!!")])
    stack.produce("campaigns", [{"campaign_id": "paused-camp", "status": "paused"}],
                  key_field="campaign_id")
    stack.wait_processed("inbound", "campaigns")

    stack.produce("intents", [
        marketing("m-ok", "ok"),
        marketing("m-stopper", "stopper"),        # STOP on sms → falls back to email
        marketing("m-stopper-sms", "stopper", channels=["sms"]),
        marketing("m-angry", "angry"),
        intent("t-angry", "angry"),               # transactional: anger does not hold it
        marketing("m-erased", "erased"),
        intent("t-erased", "erased"),
        marketing("m-silent", "silent"),          # never granted consent
        intent("t-silent", "silent"),
        {**marketing("m-paused", "ok"), "campaign_id": "paused-camp"},
    ])
    decisions = {d["intent_id"]: d for d in stack.read("decisions", count=10)}
    summary = {i: (d["action"], d["channel"], d["reasons"]) for i, d in decisions.items()}

    assert summary["m-ok"][0::2] == ("send", [])  # model A picks between sms and email
    assert summary["m-ok"][1] in ("sms", "email")
    assert summary["m-stopper"] == ("send", "email", [])
    assert summary["m-stopper-sms"] == ("suppress", None, ["no_consent"])
    assert summary["m-angry"] == ("suppress", None, ["angry"])
    assert summary["t-angry"] == ("send", "sms", [])
    assert summary["m-erased"] == ("suppress", None, ["erased"])
    assert summary["t-erased"] == ("suppress", None, ["erased"])
    assert summary["m-silent"] == ("suppress", None, ["no_consent"])
    assert summary["t-silent"] == ("send", "sms", [])
    assert summary["m-paused"] == ("suppress", None, ["campaign_paused"])

    [ack] = stack.read("keyword-acks", count=1)
    assert (ack["customer_id"], ack["channel"], ack["keyword"], ack["consent"]) == (
        "stopper", "sms", "stop", "revoked")


def test_fatigue_cap_counts_marketing_sends_through_the_broker(smartrouter_stack):
    stack = smartrouter_stack
    stack.produce("customer-updates", [{**profile("busy", email="busy@example.com"),
                                        "timezone": daytime_zone()},
                                       consent("busy", "email")])
    stack.wait_processed("customer-updates")
    stack.produce("intents", [marketing(f"m-{n}", "busy") for n in range(5)])
    decisions = sorted(stack.read("decisions", count=5), key=lambda d: d["intent_id"])
    assert [d["action"] for d in decisions] == ["send"] * 3 + ["suppress"] * 2
    assert [d["reasons"] for d in decisions[3:]] == [["fatigue"], ["fatigue"]]


def night_zone() -> str:
    """An Etc/GMT zone where it is about 02:00 now."""
    offset = 2 - datetime.now(UTC).hour
    offset = offset - 24 if offset > 12 else offset + 24 if offset < -12 else offset
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def test_start_restores_and_night_moves_marketing_to_the_morning(smartrouter_stack):
    stack = smartrouter_stack
    zone = night_zone()
    stack.produce("customer-updates", [
        {**profile("back", sms="+15550100001"), "timezone": daytime_zone()},
        {**profile("sleepy", sms="+15550100002"), "timezone": zone},
        consent("back", "sms"), consent("sleepy", "sms")])
    stack.wait_processed("customer-updates")
    stack.produce("inbound", [said("back", "STOP")])
    stack.wait_processed("inbound")
    stack.produce("intents", [marketing("m-after-stop", "back")])
    stack.wait_processed("intents")
    stack.produce("inbound", [said("back", " Start ")])
    stack.wait_processed("inbound")
    stack.produce("intents", [marketing("m-after-start", "back"),
                              marketing("m-sleepy", "sleepy"), intent("t-sleepy", "sleepy")])
    decisions = {d["intent_id"]: d for d in stack.read("decisions", count=4)}

    assert decisions["m-after-stop"]["reasons"] == ["no_consent"]
    assert decisions["m-after-start"]["action"] == "send"
    sleepy = decisions["m-sleepy"]
    assert (sleepy["action"], sleepy["reasons"]) == ("send", ["quiet_hours"])
    local = datetime.fromisoformat(sleepy["send_at"]).astimezone(ZoneInfo(zone))
    assert 8 <= local.hour < 21  # out of quiet hours; model B picks the hour inside the day
    assert sleepy["send_time_reason"].startswith("best_hour=")
    assert decisions["t-sleepy"]["reasons"] == []  # transactional ignores quiet hours
    acks = stack.read("keyword-acks", count=2)
    assert [a["consent"] for a in acks] == ["revoked", "granted"]


def test_fatigue_counts_survive_a_worker_restart(smartrouter_stack):
    stack = smartrouter_stack
    stack.produce("customer-updates", [{**profile("tired", email="t@example.com"),
                                        "timezone": daytime_zone()}, consent("tired", "email")])
    stack.wait_processed("customer-updates")
    stack.produce("intents", [marketing(f"m-{n}", "tired") for n in range(2)])
    stack.wait_processed("intents")
    stack.kill_worker()
    stack.start_worker()
    stack.produce("intents", [marketing(f"m-{n}", "tired") for n in range(2, 4)])
    decisions = sorted(stack.read("decisions", count=4), key=lambda d: d["intent_id"])
    assert [d["action"] for d in decisions] == ["send", "send", "send", "suppress"]
    assert decisions[3]["reasons"] == ["fatigue"]
