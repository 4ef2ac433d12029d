"""The campaign funnel, computed by DuckDB over the lake's Iceberg tables.

pyiceberg scans the tables (partition pruning on ``day`` for ``--since``, a pushed-down
filter for ``--campaign``) into Arrow, and DuckDB runs SQL on those Arrow tables in
process. DuckDB's own iceberg extension would read the tables directly but is downloaded
on first use, which offline machines cannot do.

Definitions (every count is of distinct intents, so replays and fallbacks count once):

* ``intents``: intents with a decision; ``decisions_by_action`` / ``by_reason`` split them
  (an intent with two reasons counts under both reasons);
* ``sent`` / ``delivered``: intents with a ``sent`` / ``delivered`` event;
* ``engaged``: intents with an engagement event, by the one definition the engine learns
  from and the demo counts (``smartrouter.engine.engagement.ENGAGEMENTS``, per channel:
  e-mail ``clicked``/``replied`` but not ``opened``, which mail privacy proxies fake);
* ``cost``: per intent and channel, the provider's charge when an event after the send
  reports one, else the price booked on the ``sent`` event (never both); booked on the day
  of the first event of that send. ``cost_per_engagement`` = cost / engaged.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from smartrouter.adapters.lake.catalog import load_lake_table
from smartrouter.adapters.lake.schema import LAKE_TABLES, derive_schema
from smartrouter.engine.engagement import ENGAGEMENTS

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.catalog import Catalog

__all__ = ["ENGAGED_SQL", "compute_funnel", "funnel", "load_tables", "newest_commit"]

#: ENGAGEMENTS as a SQL condition on the delivery table's ``channel`` and ``type``.
ENGAGED_SQL = "(" + " OR ".join(
    f"(channel = '{channel}' AND type IN ({', '.join(sorted(repr(str(t)) for t in types))}))"
    for channel, types in sorted(ENGAGEMENTS.items())) + ")"
_COLUMNS = {
    "decisions": ("intent_id", "campaign_id", "action", "channel", "reasons", "day"),
    "delivery": ("intent_id", "campaign_id", "channel", "type", "cost", "day"),
}
_STEP = Decimal("0.000001")


def funnel(catalog: Catalog, *, namespace: str = "smartrouter", campaign: str | None = None,
           since: dt.date | None = None) -> dict[str, Any]:
    """The report for one campaign (or all) from ``since`` (a UTC day) on."""
    tables = load_tables(catalog, namespace=namespace, campaign=campaign, since=since)
    report = compute_funnel(tables["decisions"], tables["delivery"])
    report["filters"] = {"campaign": campaign, "since": since.isoformat() if since else None}
    report["newest_commit"] = newest_commit(catalog, namespace=namespace)
    return report


def newest_commit(catalog: Catalog, *, namespace: str = "smartrouter") -> dt.datetime | None:
    """When the sink last committed to ``decisions`` or ``delivery`` (UTC); None: never.

    The report can only be as fresh as this: the sink commits in batches, so events younger
    than the batch interval are not in the lake yet.
    """
    stamps = []
    for name in _COLUMNS:
        table = load_lake_table(catalog, name, namespace=namespace)
        snapshot = table.current_snapshot() if table is not None else None
        if snapshot is not None:
            stamps.append(snapshot.timestamp_ms)
    if not stamps:
        return None
    return dt.datetime.fromtimestamp(max(stamps) / 1000, tz=dt.UTC)


def load_tables(catalog: Catalog, *, namespace: str = "smartrouter", campaign: str | None = None,
                since: dt.date | None = None) -> dict[str, pa.Table]:
    """The report's columns of ``decisions`` and ``delivery`` as Arrow (empty if missing)."""
    from pyiceberg.expressions import AlwaysTrue, And, BooleanExpression, EqualTo
    from pyiceberg.expressions import GreaterThanOrEqual as AtLeast

    row_filter: BooleanExpression = AlwaysTrue()
    if campaign is not None:
        row_filter = And(row_filter, EqualTo("campaign_id", campaign))
    if since is not None:
        row_filter = And(row_filter, AtLeast("day", since.isoformat()))
    out = {}
    for name, columns in _COLUMNS.items():
        table = load_lake_table(catalog, name, namespace=namespace)
        if table is None:
            out[name] = derive_schema(LAKE_TABLES[name]).as_arrow().empty_table().select(columns)
        else:
            out[name] = table.scan(row_filter=row_filter, selected_fields=columns).to_arrow()
    return out


def compute_funnel(decisions: pa.Table, delivery: pa.Table) -> dict[str, Any]:
    """The funnel from Arrow tables with the lake's columns (DuckDB, in memory)."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        con.register("decisions", decisions)
        con.register("delivery", delivery)
        con.execute(_COST_LINES)
        outcome = f"""
            count(DISTINCT intent_id) FILTER (WHERE type = 'sent') AS sent,
            count(DISTINCT intent_id) FILTER (WHERE type = 'delivered') AS delivered,
            count(DISTINCT intent_id) FILTER (WHERE {ENGAGED_SQL}) AS engaged"""
        intents = con.execute("SELECT count(DISTINCT intent_id) FROM decisions").fetchone()[0]
        by_action = dict(con.execute(
            "SELECT action, count(DISTINCT intent_id) FROM decisions GROUP BY action "
            "ORDER BY 2 DESC, 1").fetchall())
        by_reason = dict(con.execute(
            "SELECT reason, count(DISTINCT intent_id) FROM (SELECT intent_id, "
            "unnest(from_json(reasons, '[\"VARCHAR\"]')) AS reason FROM decisions) "
            "GROUP BY reason ORDER BY 2 DESC, 1").fetchall())
        sent, delivered, engaged = con.execute(f"SELECT {outcome} FROM delivery").fetchone()
        cost = _money(con.execute("SELECT sum(cost) FROM cost_lines").fetchone()[0])
        by_channel = _by_key(con, "channel", outcome)
        per_day = _by_key(con, "day", outcome)
    finally:
        con.close()
    return {
        "intents": intents,
        "decisions_by_action": by_action,
        "by_reason": by_reason,
        "sent": sent,
        "delivered": delivered,
        "engaged": engaged,
        "cost": cost,
        "cost_per_engagement": (cost / engaged).quantize(_STEP) if engaged else None,
        "by_channel": dict(sorted(by_channel.items())),
        "per_day": [{"day": day.isoformat(), **row} for day, row in sorted(per_day.items())],
    }


_COST_LINES = """
CREATE VIEW cost_lines AS
SELECT intent_id, channel, min(day) AS day,
       coalesce(max(cost) FILTER (WHERE type <> 'sent'), max(cost) FILTER (WHERE type = 'sent'))
           AS cost
FROM delivery WHERE cost IS NOT NULL GROUP BY intent_id, channel
"""


def _by_key(con: Any, key: str, outcome: str) -> dict[Any, dict[str, Any]]:
    """Decisions, outcomes and cost grouped by ``channel`` or ``day``."""
    rows: dict[Any, dict[str, Any]] = {}

    def slot(value: Any) -> dict[str, Any]:
        return rows.setdefault(value, {"intents": 0, "chosen": 0, "sent": 0, "delivered": 0,
                                       "engaged": 0, "cost": Decimal("0")})

    decided = con.execute(
        f"SELECT {key}, count(DISTINCT intent_id), "
        f"count(DISTINCT intent_id) FILTER (WHERE action = 'send') "
        f"FROM decisions WHERE {key} IS NOT NULL GROUP BY {key}").fetchall()
    for value, intents, chosen in decided:
        slot(value).update(intents=intents, chosen=chosen)
    for value, sent, delivered, engaged in con.execute(
            f"SELECT {key}, {outcome} FROM delivery GROUP BY {key}").fetchall():
        slot(value).update(sent=sent, delivered=delivered, engaged=engaged)
    for value, cost in con.execute(
            f"SELECT {key}, sum(cost) FROM cost_lines GROUP BY {key}").fetchall():
        slot(value)["cost"] = _money(cost)
    if key == "channel":
        for row in rows.values():
            del row["intents"]  # an intent has no channel until one is chosen
    return rows


def _money(value: Any) -> Decimal:
    return Decimal("0") if value is None else Decimal(value).quantize(_STEP)
