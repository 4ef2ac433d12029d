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
    assert s.compat.highwater_source == "fetch"


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
    assert Settings().compat.highwater_source == "listoffsets"
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
    assert Settings().web.bind == bind


@pytest.mark.parametrize("bind", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_binds_need_no_token(monkeypatch, bind):
    monkeypatch.setenv("SMARTROUTER_WEB_BIND", bind)
    assert Settings().web.token is None


def test_the_default_web_server_is_loopback_without_table_views():
    from smartrouter.streams.web_auth import web_options

    options = web_options(Settings())
    assert options["web_bind"] == "127.0.0.1"
    assert options["web_tables_enabled"] is False and options["web_router_enabled"] is False
    assert options["web_application_options"] == {"middlewares": []}


def test_settings_build_in_process_from_a_dict_without_the_environment(monkeypatch):
    monkeypatch.setenv("SMARTROUTER_PARTITIONS", "12")
    monkeypatch.setenv("SMARTROUTER_LAKE_ENABLED", "false")
    s = Settings.from_values({"partitions": 8, "compat": {"gap_guard": False}})
    assert s.partitions == 8 and s.compat.gap_guard is False
    assert s.lake.lake_enabled is True  # the environment was not read
    assert s.compat.highwater_source == "fetch"


def test_every_section_reads_its_existing_variables(monkeypatch):
    monkeypatch.setenv("SMARTROUTER_WEB_PORT", "7001")
    monkeypatch.setenv("SMARTROUTER_GUARDRAIL_THRESHOLD", "0.5")
    monkeypatch.setenv("SMARTROUTER_LAKE_ENABLED", "false")
    monkeypatch.setenv("SMARTROUTER_SEND_TPS", "3")
    monkeypatch.setenv("SMARTROUTER_FETCH_MAX_WAIT_MS", "40")  # the older compat names
    monkeypatch.setenv("SMARTROUTER_STALL_AFTER_S", "9")
    monkeypatch.setenv("SMARTROUTER_COMPAT_GAP_GUARD", "false")
    s = Settings()
    assert (s.web.port, s.guardrail.threshold, s.lake.lake_enabled, s.senders.send_tps) == (
        7001, 0.5, False, 3.0)
    assert (s.compat.fetch_max_wait_ms, s.compat.stall_after_s, s.compat.gap_guard) == (
        40, 9.0, False)


def test_keywords_override_the_environment_field_by_field(monkeypatch):
    monkeypatch.setenv("SMARTROUTER_COMPAT_HIGHWATER_SOURCE", "listoffsets")
    s = Settings(partitions=2, compat={"gap_guard": False})
    assert s.partitions == 2 and s.compat.gap_guard is False
    assert s.compat.highwater_source == "listoffsets"


def test_a_section_rejects_unknown_keys():
    with pytest.raises(ValueError, match="gap_gaurd"):
        Settings.from_values({"compat": {"gap_gaurd": False}})


def test_an_older_compat_name_works_the_newer_wins_keywords_win_over_both(monkeypatch):
    monkeypatch.setenv("SMARTROUTER_STALL_AFTER_S", "7")
    assert Settings().compat.stall_after_s == 7.0
    monkeypatch.setenv("SMARTROUTER_COMPAT_STALL_AFTER_S", "5")
    assert Settings().compat.stall_after_s == 5.0
    assert Settings(compat={"stall_after_s": 4}).compat.stall_after_s == 4.0


def test_the_app_module_names_the_fix_when_used_before_configure(monkeypatch):
    from smartrouter.streams import app as app_module

    monkeypatch.setattr(app_module, "_runtime", None)
    with pytest.raises(RuntimeError, match=r"configure\(settings\)"):
        _ = app_module.topics


def test_the_app_is_configured_once(monkeypatch):
    from smartrouter.streams import app as app_module

    monkeypatch.setattr(app_module, "_runtime", None)
    settings = Settings.from_values({"topic_prefix": "once-"})
    runtime = app_module.configure(settings)
    assert app_module.configure(Settings.from_values({"topic_prefix": "once-"})) is runtime
    assert app_module.topics["intents"].get_topic_name() == "once-intents"
    with pytest.raises(RuntimeError, match="other settings"):
        app_module.configure(Settings.from_values({"topic_prefix": "twice-"}))


def test_no_raw_environment_reads_or_import_time_settings_outside_the_root():
    """The environment is read by Settings() at the edge; a child process may be handed a
    copy (local/supervisor.py). Test helpers (testing/, tests/) are exempt."""
    import re

    root = Path(__file__).resolve().parents[2]
    raw = re.compile(r"os\.environ|os\.getenv|\bgetenv\(")
    at_import = re.compile(r"^\w+\s*(:[^=]+)?=\s*\w*Settings\(")
    found = []
    for folder in ("schemas", "engine", "config", "adapters", "streams", "agents", "local",
                   "sim", "cli"):
        for path in sorted((root / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                handed_to_child = "dict(os.environ)" in line
                if (raw.search(line) and not handed_to_child) or at_import.match(line):
                    found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def test_each_batched_intake_commits_in_its_own_group():
    batched = Settings.from_values({"topic_prefix": "p-"})
    assert batched.intake == "batched"
    assert batched.group_of("intents") == "p-smartrouter-decide"
    assert batched.group_of("delivery") == "p-smartrouter-feedback"
    assert batched.group_of("customer-updates") == "p-smartrouter"  # Faust's agents
    agents = Settings.from_values({"topic_prefix": "p-", "intake": "agent"})
    assert {agents.group_of(t) for t in ("intents", "delivery")} == {"p-smartrouter"}
