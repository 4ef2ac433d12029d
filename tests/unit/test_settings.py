"""config.settings: defaults, SMARTROUTER_* variables, broker URL parsing, topic prefix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smartrouter.config.settings import DEFAULT_PORT, Settings, bootstrap_servers


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings() reads the real environment: start every test from none of our variables."""
    for name in list(os.environ):
        if name.upper().startswith("SMARTROUTER_"):
            monkeypatch.delenv(name)


def test_defaults():
    s = Settings()
    assert s.broker == "kafka://127.0.0.1:9092"
    assert s.bootstrap == "127.0.0.1:9092"
    assert s.data_dir == Path(".smartrouter")
    assert s.topic_prefix == ""
    assert s.partitions == 4
    assert s.app_id == "smartrouter"
    assert s.topic("intents") == "intents"
    assert s.highwater_source == "fetch"


def test_environment_variables_are_read(monkeypatch, tmp_path):
    monkeypatch.setenv("SMARTROUTER_BROKER", "kafka://broker-1:19092")
    monkeypatch.setenv("SMARTROUTER_DATA_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SMARTROUTER_TOPIC_PREFIX", "team-a.")
    monkeypatch.setenv("SMARTROUTER_PARTITIONS", "12")
    s = Settings()
    assert s.broker == "kafka://broker-1:19092"
    assert s.bootstrap == "broker-1:19092"
    assert s.data_dir == tmp_path / "state"
    assert s.topic_prefix == "team-a."
    assert s.partitions == 12


def test_prefix_is_used_by_topic_and_app_id(monkeypatch):
    monkeypatch.setenv("SMARTROUTER_TOPIC_PREFIX", "t1_x-")
    s = Settings()
    assert s.topic("intents") == "t1_x-intents"
    assert s.topic("dead-letters") == "t1_x-dead-letters"
    assert s.app_id == "t1_x-smartrouter"


def test_settings_are_frozen():
    s = Settings()
    with pytest.raises(ValueError):
        s.partitions = 8  # type: ignore[misc]


@pytest.mark.parametrize("url, expected", [
    ("kafka://a:1,b:2", ["a:1", "b:2"]),
    ("kafka://a:1, b:2/", ["a:1", "b:2"]),
    ("aiokafka://h:7", ["h:7"]),
    ("host", [f"host:{DEFAULT_PORT}"]),
    ("kafka://host", ["host:9092"]),
    ("a:1,b", ["a:1", "b:9092"]),
    ("  kafka://127.0.0.1:19092  ", ["127.0.0.1:19092"]),
])
def test_bootstrap_servers_parsing(url, expected):
    assert bootstrap_servers(url) == expected


def test_bootstrap_property_joins_hosts(monkeypatch):
    monkeypatch.setenv("SMARTROUTER_BROKER", "kafka://a:1,b")
    assert Settings().bootstrap == "a:1,b:9092"


@pytest.mark.parametrize("url", ["http://a:1", "ssl://a:1", "kafka://", "kafka://,,", " , "])
def test_bad_broker_urls_raise_value_error(url):
    with pytest.raises(ValueError):
        bootstrap_servers(url)


def test_bad_scheme_in_environment_raises_value_error(monkeypatch):
    monkeypatch.setenv("SMARTROUTER_BROKER", "http://a:1")
    with pytest.raises(ValueError, match="kafka://"):
        Settings()


@pytest.mark.parametrize("prefix", ["team a-", "x/y", "ü-", "a:b", "p*"])
def test_bad_prefix_chars_raise_value_error(monkeypatch, prefix):
    monkeypatch.setenv("SMARTROUTER_TOPIC_PREFIX", prefix)
    with pytest.raises(ValueError, match="topic prefix"):
        Settings()


@pytest.mark.parametrize("partitions", ["0", "1025", "four"])
def test_bad_partition_counts_raise_value_error(monkeypatch, partitions):
    monkeypatch.setenv("SMARTROUTER_PARTITIONS", partitions)
    with pytest.raises(ValueError):
        Settings()


def test_highwater_source_is_checked(monkeypatch):
    monkeypatch.setenv("SMARTROUTER_HIGHWATER_SOURCE", "listoffsets")
    assert Settings().highwater_source == "listoffsets"
    monkeypatch.setenv("SMARTROUTER_HIGHWATER_SOURCE", "guess")
    with pytest.raises(ValueError, match="highwater_source"):
        Settings()


def test_ipv6_literal_keeps_its_brackets():
    assert bootstrap_servers("kafka://[::1]:19092") == ["[::1]:19092"]


@pytest.mark.parametrize("bind", ["0.0.0.0", "192.0.2.10", "::", "worker.example"])
def test_a_non_loopback_web_bind_needs_a_token(monkeypatch, bind):
    monkeypatch.setenv("SMARTROUTER_WEB_BIND", bind)
    with pytest.raises(ValueError, match="SMARTROUTER_WEB_TOKEN"):
        Settings()
    monkeypatch.setenv("SMARTROUTER_WEB_TOKEN", "t0ken")
    assert Settings().web_bind == bind


@pytest.mark.parametrize("bind", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_binds_need_no_token(monkeypatch, bind):
    monkeypatch.setenv("SMARTROUTER_WEB_BIND", bind)
    assert Settings().web_token is None


def test_the_default_web_server_is_loopback_without_table_views():
    from smartrouter.streams.web_auth import web_options

    options = web_options(Settings())
    assert options["web_bind"] == "127.0.0.1"
    assert options["web_tables_enabled"] is False and options["web_router_enabled"] is False
    assert options["web_application_options"] == {"middlewares": []}
