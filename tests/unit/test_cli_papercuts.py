"""Issue 14, item 6: the CLI's papercuts, each checked without a broker where it can be."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smartrouter.cli.main import app
from smartrouter.cli.stack_state import clear_state, running_stack, write_state
from smartrouter.sim.demo.diagnostics import clock_note
from smartrouter.sim.demo.outputs import new_run_dir


@pytest.fixture
def env(tmp_path, monkeypatch) -> Iterator[Path]:
    for name in list(os.environ):
        if name.upper().startswith("SMARTROUTER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SMARTROUTER_DATA_DIR", str(tmp_path / "data"))
    yield tmp_path


def test_schema_export_to_a_bad_path_is_one_error_line(env) -> None:
    blocker = env / "a-file"
    blocker.write_text("")
    result = CliRunner().invoke(app, ["schema", "export", str(blocker / "schemas")])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert "cannot write schemas to" in result.stderr and "not a folder" in result.stderr


def test_models_before_the_first_checkpoint_says_so(env, monkeypatch) -> None:
    import smartrouter.cli.model_status as status

    async def nothing(settings: object) -> dict[int, dict[str, object]]:
        return {}

    monkeypatch.setattr(status, "latest_checkpoints", nothing)
    result = CliRunner().invoke(app, ["models"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("no checkpoint yet")
    assert "partition" not in result.stdout  # no empty table with cut headers
    assert CliRunner().invoke(app, ["models", "--json"]).stdout == ""


def test_produce_all_or_nothing_sends_nothing_when_a_line_is_rejected(env) -> None:
    source = env / "intents.jsonl"
    good = {"intent_id": "i-1", "campaign_id": "c", "customer_id": "c-1",
            "kind": "transactional"}
    source.write_text(json.dumps(good) + "\n" + '{"intent_id": "broken", \n')
    # No broker runs: reaching the send step would fail with "cannot produce".
    result = CliRunner().invoke(app, ["produce", "intents", str(source), "--all-or-nothing"])
    assert result.exit_code == 2, result.output
    assert "0 sent (--all-or-nothing): 1 valid, 1 rejected" in result.stdout
    assert "line 2: rejected" in result.stderr


def test_produce_help_documents_the_default_and_the_flag() -> None:
    text = " ".join(CliRunner().invoke(app, ["produce", "--help"]).output.split())
    assert "the valid lines go out" in text and "--all-or-nothing" in text


def test_up_state_file_is_found_while_its_process_lives(tmp_path) -> None:
    assert running_stack(tmp_path) is None
    path = write_state(tmp_path, "kafka://127.0.0.1:19092")
    # This test process is a pytest, not a smartrouter: /proc says the pid is not ours.
    found = running_stack(tmp_path)
    assert found is None or found.broker == "kafka://127.0.0.1:19092"
    clear_state(tmp_path)
    assert not path.exists()


def test_client_commands_use_the_running_up_broker(env) -> None:
    """A live ``smartrouter``-named process recorded in stack.json is used when
    SMARTROUTER_BROKER is unset; an explicit SMARTROUTER_BROKER wins."""
    data = env / "data"
    code = ("import os, sys, time\n"
            "from smartrouter.cli.stack_state import write_state\n"
            "from pathlib import Path\n"
            f"write_state(Path({str(data)!r}), 'kafka://127.0.0.1:1')\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, "smartrouter-up-stand-in"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        from smartrouter.cli.common import load_settings

        assert load_settings(find_stack=True).broker == "kafka://127.0.0.1:1"
        assert load_settings().broker != "kafka://127.0.0.1:1"
        os.environ["SMARTROUTER_BROKER"] = "kafka://127.0.0.1:2"
        try:
            assert load_settings(find_stack=True).broker == "kafka://127.0.0.1:2"
        finally:
            del os.environ["SMARTROUTER_BROKER"]
    finally:
        proc.kill()
        proc.wait()
    from smartrouter.cli.common import load_settings

    assert load_settings(find_stack=True).broker != "kafka://127.0.0.1:1"  # dead: ignored


def test_each_demo_run_gets_its_own_folder(tmp_path) -> None:
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    first = new_run_dir(tmp_path, "seed7", now=now)
    (first / "report.png").write_bytes(b"png")
    second = new_run_dir(tmp_path, "seed7", now=now)
    sample = new_run_dir(tmp_path, "sample", now=now)
    assert first.name == "20260302T100000Z-seed7" and second.name == "20260302T100000Z-seed7-2"
    assert sample.parent == first.parent == tmp_path / "demo"
    assert (first / "report.png").read_bytes() == b"png"  # nothing earlier is deleted


def test_the_compressed_clock_note_explains_late_stamped_sends() -> None:
    assert clock_note({"raw_quiet_hour_sends": 0}) is None
    note = clock_note({"raw_quiet_hour_sends": 8593, "speed": 1000})
    assert note is not None and "8,593" in note and "not quiet-hour violations" in note
    assert "1,000×" in note
