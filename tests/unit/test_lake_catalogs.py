"""Catalog choice from settings; S3 (SQL catalog) and Glue on a moto server; REST wiring
against a local REST-catalog endpoint. All traffic stays on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from test_lake_helpers import DAY2, decision, rows

from smartrouter.adapters.lake.catalog import catalog_properties, lake_catalog
from smartrouter.adapters.lake.maintain import maintain
from smartrouter.adapters.lake.offsets import committed_offsets
from smartrouter.adapters.lake.report import funnel
from smartrouter.adapters.lake.writer import LakeWriter
from smartrouter.config.lake import LakeSettings
from smartrouter.config.settings import Settings
from smartrouter.schemas.decisions import Decision

CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
         "AWS_SESSION_TOKEN": "testing", "AWS_EC2_METADATA_DISABLED": "true"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_default_is_sqlite_under_the_data_dir(tmp_path) -> None:
    props = catalog_properties(LakeSettings(data_dir=tmp_path))
    lake = tmp_path.resolve() / "lake"
    assert props == {"type": "sql", "uri": f"sqlite:///{lake / 'catalog.db'}",
                     "warehouse": (lake / "warehouse").as_uri()}


def test_settings_come_from_the_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SMARTROUTER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SMARTROUTER_LAKE_CATALOG", "glue")
    monkeypatch.setenv("SMARTROUTER_LAKE_WAREHOUSE", "s3://lake/prod")
    monkeypatch.setenv("SMARTROUTER_AWS_REGION", "eu-west-1")
    monkeypatch.setenv("SMARTROUTER_LAKE_BATCH_ROWS", "500")
    settings = Settings().lake  # the root reads the lake section's variables
    assert settings.lake_batch_rows == 500
    props = catalog_properties(settings)
    assert props == {"type": "glue", "warehouse": "s3://lake/prod", "glue.region": "eu-west-1",
                     "s3.region": "eu-west-1"}


@pytest.mark.parametrize("changes, message", [
    ({"lake_catalog": "rest"}, "REST"),
    ({"lake_catalog": "glue"}, "s3://"),
])
def test_incomplete_settings_are_refused(tmp_path, changes, message) -> None:
    with pytest.raises(ValueError, match=message):
        catalog_properties(LakeSettings(data_dir=tmp_path, **changes))


@pytest.fixture
def moto(monkeypatch):
    """A moto server on 127.0.0.1 with one bucket; credentials that can only reach it."""
    import boto3
    from moto.server import ThreadedMotoServer

    for key, value in CREDS.items():
        monkeypatch.setenv(key, value)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
    s3.create_bucket(Bucket="lake")
    try:
        yield url, s3
    finally:
        server.stop()


def aws_settings(tmp_path: Path, url: str, **changes) -> LakeSettings:
    keys = {"s3.access-key-id": "testing", "s3.secret-access-key": "testing",
            "glue.access-key-id": "testing", "glue.secret-access-key": "testing"}
    return LakeSettings(data_dir=tmp_path, aws_endpoint_url=url, lake_properties=keys,
                        **changes)


def write_some(catalog, start: int, count: int) -> LakeWriter:
    writer = LakeWriter(catalog, "decisions", Decision)
    for offset in range(start, start + count):
        writer.add("decisions", 0, offset, decision(offset, at=DAY2))
    writer.flush()
    return writer


def test_sql_catalog_with_an_s3_warehouse_on_moto(tmp_path, moto) -> None:
    url, s3 = moto
    settings = aws_settings(tmp_path, url, lake_warehouse="s3://lake/warehouse")
    catalog = lake_catalog(settings)
    for start in (0, 3, 6):
        write_some(catalog, start, 3)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="lake")["Contents"]]
    parquet = [k for k in keys if k.endswith(".parquet")]
    assert len(parquet) == 3 and all(k.startswith("warehouse/smartrouter/") for k in parquet)

    again = lake_catalog(settings).load_table("smartrouter.decisions")
    assert committed_offsets(again) == {("decisions", 0): 9}
    assert funnel(lake_catalog(settings))["intents"] == 9

    result = maintain(catalog, tables=["decisions"], min_files=2, retention=dt.timedelta(0),
                      orphan_age=dt.timedelta(0), now=dt.datetime.now(dt.UTC)
                      + dt.timedelta(seconds=5))[0]
    assert (result.files_before, result.files_after) == (3, 1)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="lake")["Contents"]]
    assert len([k for k in keys if k.endswith(".parquet")]) == 1  # replaced files deleted
    assert [r["_offset"] for r in rows(again)] == list(range(9))


def test_glue_catalog_on_moto(tmp_path, moto) -> None:
    url, s3 = moto
    settings = aws_settings(tmp_path, url, lake_catalog="glue", lake_warehouse="s3://lake/glue")
    write_some(lake_catalog(settings), 0, 4)
    write_some(lake_catalog(settings), 4, 2)  # a second process: restart rule via Glue
    table = lake_catalog(settings).load_table("smartrouter.decisions")
    assert committed_offsets(table) == {("decisions", 0): 6}
    assert [r["_offset"] for r in rows(table)] == list(range(6))
    import boto3

    glue = boto3.client("glue", endpoint_url=url, region_name="us-east-1")
    stored = glue.get_table(DatabaseName="smartrouter", Name="decisions")["Table"]
    assert stored["Parameters"]["table_type"].upper() == "ICEBERG"
    assert stored["Parameters"]["metadata_location"].startswith("s3://lake/glue/")


class _RestCatalog(BaseHTTPRequestHandler):
    """Just enough of the Iceberg REST catalog API to prove the wiring."""

    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.seen.append(self.path.split("?")[0])
        if self.path.startswith("/v1/config"):
            body = {"defaults": {}, "overrides": {}}
        elif self.path.startswith("/v1/namespaces"):
            body = {"namespaces": [["smartrouter"]]}
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def test_rest_catalog_is_reached_at_the_configured_uri(tmp_path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RestCatalog)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        uri = f"http://127.0.0.1:{server.server_address[1]}"
        catalog = lake_catalog(LakeSettings(data_dir=tmp_path, lake_catalog="rest", lake_uri=uri))
        assert catalog.list_namespaces() == [("smartrouter",)]
        assert _RestCatalog.seen[:2] == ["/v1/config", "/v1/namespaces"]
    finally:
        server.shutdown()
        server.server_close()
