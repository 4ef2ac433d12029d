"""The ``lake`` section of the settings root (``Settings.lake``): ``SMARTROUTER_LAKE_*``.

Its own class so the lake code (and its heavy imports) takes only what it needs;
``data_dir``, ``aws_region`` and ``aws_endpoint_url`` read the same variables as the root,
so one environment points the demo and ``smartrouter report`` at the same lake.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from smartrouter.config.section import Section


class LakeSettings(Section):
    """Which catalog and warehouse, how big a batch, how long snapshots live."""

    env_prefix: ClassVar[str] = "SMARTROUTER_"

    data_dir: Path = Field(default=Path(".smartrouter"), description="Same as the worker's.")
    lake_dir: Path | None = Field(
        default=None,
        description="Folder of the default SQLite lake (catalog.db + warehouse/); default "
        "<data_dir>/lake. `smartrouter up` sets it to <its data dir>/lake for every worker "
        "(each worker has its own data dir), so all of them fill one lake and `smartrouter "
        "report` with the same SMARTROUTER_DATA_DIR reads it.",
    )
    lake_catalog: Literal["sql", "rest", "glue"] = Field(
        default="sql",
        description="'sql' (SQLite file under the data dir unless lake_uri says otherwise), "
        "'rest' (an Iceberg REST catalog at lake_uri) or 'glue' (AWS Glue + S3 warehouse).",
    )
    lake_catalog_name: str = Field(default="smartrouter", description="pyiceberg catalog name.")
    lake_namespace: str = Field(default="smartrouter", description="Namespace / Glue database.")
    lake_uri: str | None = Field(
        default=None,
        description="sql: SQLAlchemy URL (default sqlite:///<data_dir>/lake/catalog.db); "
        "rest: the REST catalog URL (required).",
    )
    lake_warehouse: str | None = Field(
        default=None,
        description="Warehouse location: file://<data_dir>/lake/warehouse by default for sql; "
        "s3://bucket/prefix for glue (required); optional for rest.",
    )
    lake_properties: dict[str, str] = Field(
        default_factory=dict,
        description="Extra pyiceberg catalog properties as JSON (REST token, s3.* options).",
    )
    lake_enabled: bool = Field(
        default=True,
        description="Run the sink (agents/sink.py) in every worker: decisions, delivery and "
        "sends into the lake, erasures, hourly maintenance. false: no lake at all.",
    )
    lake_sink_in_worker: bool = Field(
        default=True,
        description="Run the sink inside the worker (agents/sink.py). false: the worker"
        " leaves it to a `smartrouter sink` process, which `up` and the demo start (the"
        " sink's writes then stop competing with the decide path for the worker's GIL).",
    )
    lake_maintain_interval_s: float = Field(
        default=3600.0, gt=0,
        description="The worker owning partition 0 of the sink's decisions runs maintain "
        "(compaction, snapshot expiry, orphans) this often.",
    )
    lake_erase_interval_s: float = Field(
        default=600.0, gt=0,
        description="Erasure requests read from customer-updates are applied to the lake in "
        "batches this often (one delete commit per table per batch).",
    )
    lake_batch_rows: int = Field(
        default=10_000, ge=1, description="A sink batch commits at this many rows…"
    )
    lake_batch_seconds: float = Field(
        default=60.0, gt=0, description="…or this many seconds after its first row."
    )
    lake_snapshot_retention_hours: float = Field(
        default=6.0, ge=0,
        description="maintain expires snapshots older than this; it is also how long erased "
        "rows survive in old files (time travel) after an erasure. Keep it short and run "
        "maintain hourly: pyiceberg copies the whole snapshot list several times per commit, "
        "so a sink commit slows down as snapshots pile up (bench/lake_write.py).",
    )
    lake_orphan_age_hours: float = Field(
        default=24.0, gt=0,
        description="maintain deletes unreferenced files only when older than this, so a "
        "writer's files that are not committed yet are never touched.",
    )
    lake_compact_min_files: int = Field(
        default=4, ge=2, description="maintain compacts a day partition from this many files."
    )
    aws_region: str = Field(default="us-east-1")
    aws_endpoint_url: str | None = Field(default=None, description="Tests, local emulators.")
