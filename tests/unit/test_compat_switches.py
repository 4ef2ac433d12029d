"""Each workaround in streams/compat is switched off by its compat setting, and then the
worker gets Faust's or the broker's own behaviour (docs/broker-notes.md)."""

from __future__ import annotations

from faust.transport.drivers import aiokafka as faust_aiokafka

from smartrouter.config.settings import Settings
from smartrouter.streams.app import create_app
from smartrouter.streams.compat.current_event import current_event
from smartrouter.streams.compat.global_view import GlobalView
from smartrouter.streams.compat.replay_zone import ReplayZone
from smartrouter.streams.compat.transport import CompatTransport
from smartrouter.streams.pipeline import gap_guard

OFF = {"highwater_source": "listoffsets", "fetch_wait": False, "gap_guard": False,
       "replay_read_back": False, "batch_current_event": False, "global_view": False,
       "stall_watch": False, "recovery_seek_guard": False}


def settings(**compat: object) -> Settings:
    return Settings.from_values({"compat": compat})


def test_the_transport_is_faust_s_own_with_its_workarounds_off() -> None:
    assert type(create_app(settings())._new_transport()) is CompatTransport
    assert type(create_app(settings(highwater_source="fetch", fetch_wait=False))
                ._new_transport()) is CompatTransport
    assert type(create_app(settings(highwater_source="listoffsets", fetch_wait=False))
                ._new_transport()) is CompatTransport  # the recovery seek guard is on
    plain = create_app(settings(highwater_source="listoffsets", fetch_wait=False,
                                recovery_seek_guard=False))
    transport = plain._new_transport()
    assert type(transport) is faust_aiokafka.Transport


def test_no_gap_guard_when_off() -> None:
    assert gap_guard(settings()) is not None
    assert gap_guard(settings(gap_guard=False)) is None


async def test_no_replay_read_back_when_off() -> None:
    zone = ReplayZone("intents", "decisions")
    # with the read-back on this would need a broker; off, it answers at once
    assert await zone.records(settings(replay_read_back=False), 0) == {}


def test_no_current_event_set_when_off() -> None:
    from faust.streams import _current_event

    before = _current_event.get(None)
    with current_event(object(), enabled=False):
        assert _current_event.get(None) is before


def test_a_table_only_view_is_ready_and_reads_the_table() -> None:
    view = GlobalView.table_only({"c-1": {"status": "paused"}})
    assert view.ready and view.get("c-1") == {"status": "paused"} and view.get("c-2") is None


def test_every_switch_can_be_set_from_the_environment(monkeypatch) -> None:
    for name, value in OFF.items():
        monkeypatch.setenv(f"SMARTROUTER_COMPAT_{name.upper()}", str(value).lower())
    assert Settings().compat.model_dump(include=set(OFF)) == OFF
