"""Which Iceberg catalog the lake uses, and the lake's tables in it.

* ``sql`` (default): a SQLite catalog at ``<data_dir>/lake/catalog.db`` and a warehouse
  folder ``<data_dir>/lake/warehouse`` — nothing to run, and the same files the demo fills
  are what ``smartrouter report`` reads. ``SMARTROUTER_LAKE_URI`` / ``_WAREHOUSE`` move it
  (e.g. onto Postgres and ``s3://``).
* ``rest``: an Iceberg REST catalog (compose mode, Polaris, Nessie, S3 Tables).
* ``glue``: AWS Glue with an ``s3://`` warehouse (the AWS mode).

``aws_region`` / ``aws_endpoint_url`` feed both the Glue client and the S3 file IO, so one
endpoint override points everything at a local emulator.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from smartrouter.adapters.lake.schema import (
    LAKE_TABLES,
    TableSpec,
    derive_schema,
    evolve,
    partition_spec,
)

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

__all__ = [
    "TABLE_PROPERTIES",
    "catalog_properties",
    "ensure_table",
    "lake_catalog",
    "load_lake_table",
]

#: Set on every lake table (also on tables found without them).
TABLE_PROPERTIES: dict[str, str] = {
    # We retry ourselves, recomputing the offsets property (see smartrouter.adapters.lake.retry).
    "commit.retry.num-retries": "0",
    # One metadata.json per commit would pile up (a commit a minute is 1,440 a day).
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": "100",
    # Appends merge manifests once 100 pile up; a fast append per batch would leave one
    # manifest per commit for scans to open (1,440 a day at one commit a minute).
    "commit.manifest-merge.enabled": "true",
}


class LakeSettingsLike(Protocol):
    """What the catalog needs from settings (``LakeSettings`` has it all)."""

    data_dir: Path
    lake_catalog: str
    lake_catalog_name: str
    lake_uri: str | None
    lake_warehouse: str | None
    lake_properties: dict[str, str]
    aws_region: str
    aws_endpoint_url: str | None


def catalog_properties(settings: LakeSettingsLike) -> dict[str, str]:
    """pyiceberg catalog properties for the configured catalog (pure: creates nothing)."""
    kind = settings.lake_catalog
    lake_dir = Path(getattr(settings, "lake_dir", None) or Path(settings.data_dir) / "lake")
    lake_dir = lake_dir.resolve()
    props: dict[str, str] = {"type": kind}
    if kind == "sql":
        props["uri"] = settings.lake_uri or f"sqlite:///{lake_dir / 'catalog.db'}"
        props["warehouse"] = settings.lake_warehouse or (lake_dir / "warehouse").as_uri()
    elif kind == "rest":
        if not settings.lake_uri:
            raise ValueError("SMARTROUTER_LAKE_URI must name the REST catalog")
        props["uri"] = settings.lake_uri
        if settings.lake_warehouse:
            props["warehouse"] = settings.lake_warehouse
    elif kind == "glue":
        if not (settings.lake_warehouse or "").startswith("s3://"):
            raise ValueError("the glue catalog needs SMARTROUTER_LAKE_WAREHOUSE=s3://bucket/...")
        props["warehouse"] = str(settings.lake_warehouse)
        props["glue.region"] = settings.aws_region
        if settings.aws_endpoint_url:
            props["glue.endpoint"] = settings.aws_endpoint_url
    else:
        raise ValueError(f"unknown lake catalog {kind!r} (sql, rest or glue)")
    if props.get("warehouse", "").startswith("s3://") or kind == "glue":
        props["s3.region"] = settings.aws_region
        if settings.aws_endpoint_url:
            props["s3.endpoint"] = settings.aws_endpoint_url
    props.update(settings.lake_properties)
    return props


def lake_catalog(settings: LakeSettingsLike) -> Catalog:
    """The lake's catalog (``settings``: the root's ``lake`` section); a local SQLite
    catalog gets its folders created first."""
    from pyiceberg.catalog import load_catalog

    props = catalog_properties(settings)
    if props["type"] == "sql" and props["uri"].startswith("sqlite:///"):
        Path(props["uri"].removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        if props["warehouse"].startswith("file://"):
            from urllib.parse import unquote, urlparse

            Path(unquote(urlparse(props["warehouse"]).path)).mkdir(parents=True, exist_ok=True)
    for attempt in range(5):
        try:
            return load_catalog(settings.lake_catalog_name, **props)
        except Exception as exc:  # workers starting together on a fresh SQLite catalog
            if attempt == 4 or "already exists" not in str(exc):
                raise
            time.sleep(0.1 * (attempt + 1))  # another process created its tables first
    raise AssertionError("unreachable")


def ensure_namespace(catalog: Catalog, namespace: str) -> None:
    """Create the namespace unless it exists; safe when several sinks start at once.

    pyiceberg's SQL catalog checks, then inserts: two sinks opening a fresh SQLite lake
    together failed 4 times in 30 on a busy machine with an IntegrityError (not its
    "already exists" error), and the losing sink died before joining its group.
    """
    for attempt in range(5):
        try:
            catalog.create_namespace_if_not_exists(namespace)
            return
        except Exception:  # the race's error type depends on the catalog backend
            if catalog.namespace_exists(namespace):
                return
            if attempt == 4:
                raise
            time.sleep(0.1 * (attempt + 1))


def ensure_table(catalog: Catalog, spec: TableSpec | str, *,
                 namespace: str = "smartrouter") -> Table:
    """The lake table, created from its contract if missing and evolved if the contract
    gained fields; safe when several workers start at once."""
    if isinstance(spec, str):
        spec = LAKE_TABLES[spec]
    ensure_namespace(catalog, namespace)
    schema = derive_schema(spec)
    table = catalog.create_table_if_not_exists(
        (namespace, spec.name), schema=schema, partition_spec=partition_spec(schema),
        properties=TABLE_PROPERTIES,
    )
    missing = {k: v for k, v in TABLE_PROPERTIES.items() if table.properties.get(k) != v}
    if missing:
        from pyiceberg.exceptions import CommitFailedException

        try:
            with table.transaction() as tx:
                tx.set_properties(missing)
        except CommitFailedException:
            table.refresh()  # someone else set them (or wrote); next start checks again
    evolve(table, spec)
    return table


def load_lake_table(catalog: Catalog, name: str, *, namespace: str = "smartrouter") -> Table | None:
    """The table if it exists (reports and maintenance never create tables)."""
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    try:
        return catalog.load_table((namespace, name))
    except (NoSuchTableError, NoSuchNamespaceError):
        return None
