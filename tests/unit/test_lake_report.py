"""The funnel report (DuckDB over the Iceberg tables) against hand-computed numbers, and
the ``smartrouter report`` / ``maintain`` commands on the same lake."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from test_lake_helpers import DAY2, decision, delivery, local_catalog
from typer.testing import CliRunner

from smartrouter.adapters.lake.report import funnel
from smartrouter.adapters.lake.writer import LakeWriter
from smartrouter.schemas.decisions import Decision
from smartrouter.schemas.delivery import DeliveryEvent


@pytest.fixture
def lake(tmp_path):
    """A small campaign, 'spring', plus one intent of 'autumn' that filters must drop."""
    catalog = local_catalog(tmp_path)
    decisions = [
        decision(1, channel="sms"), decision(2, channel="email"),
        decision(3, channel="sms", at=DAY2),
        decision(4, action="suppress", reasons=("fatigue", "quiet_hours")),
        decision(5, action="suppress", reasons=("fatigue",), at=DAY2),
        decision(6, action="holdout", reasons=("holdout",), at=DAY2),
        decision(9, campaign="autumn"),
    ]
    events = [
        delivery(1, "sent", cost="0.0075"), delivery(1, "delivered", cost="0.0081"),
        delivery(1, "clicked"), delivery(1, "opened", at=DAY2),
        delivery(2, "sent", channel="email", cost="0.0001"),
        delivery(2, "delivered", channel="email"), delivery(2, "opened", channel="email", at=DAY2),
        delivery(3, "failed", at=DAY2),
        delivery(3, "sent", channel="email", cost="0.0002", at=DAY2),
        delivery(9, "sent", campaign="autumn", cost="0.0075"),
    ]
    for name, model, records in (("decisions", Decision, decisions),
                                 ("delivery", DeliveryEvent, events)):
        writer = LakeWriter(catalog, name, model, max_rows=4)
        for offset, record in enumerate(records):
            if writer.add(name, offset % 2, offset, record):
                writer.flush()  # several files and snapshots, like a real sink
        writer.flush()
    return tmp_path, catalog


def test_funnel_matches_the_hand_computed_numbers(lake) -> None:
    _, catalog = lake
    report = funnel(catalog, campaign="spring")
    assert report["intents"] == 6
    assert report["decisions_by_action"] == {"send": 3, "suppress": 2, "holdout": 1}
    assert report["by_reason"] == {"fatigue": 2, "holdout": 1, "quiet_hours": 1}
    # engaged by the one definition (engine.engagement): i1's SMS click; i1's SMS "opened"
    # and i2's e-mail open are not engagement
    assert (report["sent"], report["delivered"], report["engaged"]) == (3, 2, 1)
    # i1: the provider's 0.0081 replaces the booked 0.0075; i2 only has its booked 0.0001;
    # i3 failed on sms (no cost) and went out by email for 0.0002
    assert report["cost"] == Decimal("0.0084")
    assert report["cost_per_engagement"] == Decimal("0.0084")
    assert report["by_channel"] == {
        "email": {"chosen": 1, "sent": 2, "delivered": 1, "engaged": 0,
                  "cost": Decimal("0.0003")},
        "sms": {"chosen": 2, "sent": 1, "delivered": 1, "engaged": 1,
                "cost": Decimal("0.0081")},
    }
    assert report["per_day"] == [
        {"day": "2025-01-30", "intents": 3, "chosen": 2, "sent": 2, "delivered": 2,
         "engaged": 1, "cost": Decimal("0.0082")},
        {"day": "2025-01-31", "intents": 3, "chosen": 1, "sent": 1, "delivered": 0,
         "engaged": 0, "cost": Decimal("0.0002")},
    ]


def test_report_and_demo_share_one_engagement_definition() -> None:
    """An e-mail open is engagement for neither; a WhatsApp read receipt is for both."""
    import pyarrow as pa

    from smartrouter.adapters.lake.report import compute_funnel
    from smartrouter.engine.engagement import ENGAGEMENTS
    from smartrouter.sim.metrics import ArmLedger

    pairs = [(str(c), str(t)) for c in ENGAGEMENTS for t in ("opened", "clicked", "replied")]
    delivery = pa.table({
        "intent_id": [f"i-{n}" for n in range(len(pairs))],
        "campaign_id": ["c"] * len(pairs), "channel": [c for c, _ in pairs],
        "type": [t for _, t in pairs], "cost": pa.array([None] * len(pairs), pa.decimal128(18, 6)),
        "day": [dt.date(2025, 1, 30)] * len(pairs)})
    decisions = pa.table({"intent_id": pa.array([], pa.string()),
                          "campaign_id": pa.array([], pa.string()),
                          "action": pa.array([], pa.string()), "channel": pa.array([], pa.string()),
                          "reasons": pa.array([], pa.string()), "day": pa.array([], pa.date32())})
    lake_engaged = compute_funnel(decisions, delivery)["engaged"]
    ledger = ArmLedger(origin=dt.datetime(2025, 1, 30, tzinfo=dt.UTC))
    for n, (channel, kind) in enumerate(pairs):
        ledger.sends[f"i-{n}"] = object()  # type: ignore[assignment]
        ledger.add_event(DeliveryEvent.model_validate(
            {"type": kind, "channel": channel, "intent_id": f"i-{n}", "customer_id": "c-1",
             "campaign_id": "c", "at": "2025-01-30T10:00:00Z", "event_id": f"e-{n}"}))
    assert lake_engaged == len(ledger.engaged_by_message) == sum(
        len(types & {"opened", "clicked", "replied"}) for types in ENGAGEMENTS.values())
    assert ("email", "opened") not in {p for n, p in enumerate(pairs)
                                       if f"i-{n}" in ledger.engaged_by_message}


def test_freshness_line_says_how_old_the_lake_is_and_why() -> None:
    from smartrouter.adapters.lake.report_format import freshness_line

    now = dt.datetime(2025, 1, 30, 12, 0, 45, tzinfo=dt.UTC)
    line = freshness_line(now - dt.timedelta(seconds=45), now, batch_seconds=60,
                          batch_rows=10_000)
    assert line.startswith("lake: newest commit 2025-01-30T12:00:00Z (45 s ago)")
    assert "commits every 60 s (or 10,000 rows)" in line
    assert freshness_line(None, now, batch_seconds=60, batch_rows=10).startswith(
        "lake: nothing committed yet")


def test_filters_campaign_and_since(lake) -> None:
    _, catalog = lake
    everything = funnel(catalog)
    assert (everything["intents"], everything["sent"]) == (7, 4)
    assert everything["cost"] == Decimal("0.0159")
    recent = funnel(catalog, campaign="spring", since=dt.date(2025, 1, 31))
    assert recent["intents"] == 3
    assert (recent["sent"], recent["delivered"], recent["engaged"]) == (1, 0, 0)
    assert recent["cost"] == Decimal("0.0002")
    assert recent["filters"] == {"campaign": "spring", "since": "2025-01-31"}


def test_an_empty_lake_reports_zeros(tmp_path) -> None:
    report = funnel(local_catalog(tmp_path))
    assert report["intents"] == 0 and report["cost"] == Decimal("0")
    assert report["cost_per_engagement"] is None and report["per_day"] == []


def test_report_command_reads_the_lake_of_the_data_dir(lake, monkeypatch) -> None:
    from smartrouter.cli.main import app

    data_dir, _ = lake
    monkeypatch.setenv("SMARTROUTER_DATA_DIR", str(data_dir))
    runner = CliRunner()
    as_json = runner.invoke(app, ["report", "--campaign", "spring", "--json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert {"intents", "decisions_by_action", "sent", "delivered", "engaged", "cost"} <= set(data)
    assert data["intents"] == 6 and data["cost"] == "0.0084"

    as_csv = runner.invoke(app, ["report", "--campaign", "spring", "--csv"])
    assert as_csv.exit_code == 0, as_csv.output
    lines = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert {"section": "funnel", "key": "", "metric": "engaged", "value": "1"} in lines
    assert {"section": "by_channel", "key": "email", "metric": "sent", "value": "2"} in lines

    table = runner.invoke(app, ["report", "--since", "2025-01-31"])
    assert table.exit_code == 0, table.output
    assert "Funnel" in table.stdout and "Channel mix" in table.stdout

    # the lake lags the topics: the report says how old its newest data is, on stderr
    assert "lake: newest commit" in as_json.stderr and "the sink commits every" in as_json.stderr
    assert data["newest_commit"].endswith("+00:00")

    both = runner.invoke(app, ["report", "--json", "--csv"])
    assert both.exit_code == 1


def test_maintain_command(lake, monkeypatch) -> None:
    from smartrouter.cli.main import app

    data_dir, _ = lake
    monkeypatch.setenv("SMARTROUTER_DATA_DIR", str(data_dir))
    result = CliRunner().invoke(app, ["maintain", "--min-files", "2", "--json"])
    assert result.exit_code == 0, result.output
    by_table = {r["table"]: r for r in json.loads(result.stdout)}
    assert set(by_table) == {"decisions", "delivery"}  # no sends table yet: skipped
    assert by_table["delivery"]["files_after"] < by_table["delivery"]["files_before"]
    unknown = CliRunner().invoke(app, ["maintain", "--table", "nope"])
    assert unknown.exit_code == 1
