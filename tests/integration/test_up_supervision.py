"""``smartrouter up --workers 2`` survives a kill -9 of one worker (issue 13, finding 4).

The real CLI as a subprocess on free ports with its own data dir: intents are produced
before, during and after the kill; the dead worker is restarted by ``up`` (new pid, one
console line), the broker and the other worker keep running, the group goes back to two
members, and every intent has exactly one decision. SIGTERM then stops everything.

Every wait is a condition with a generous deadline (the machine is shared); a timeout
names what was still missing.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition

from smartrouter.config.settings import consumer_group, default_intake
from smartrouter.local.broker import free_port
from smartrouter.streams.clients import produce, read_topic
from smartrouter.streams.compat.highwater import fetch_highwaters
from smartrouter.streams.lag import wait_caught_up
from smartrouter.testing.builders import intent, profile
from tests.cli_helpers import SMARTROUTER, alive, children_of, cli_env, cmdline, group_members

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GROUP = "smartrouter"  # no topic prefix: this broker is ours alone
PARTITIONS = 4
CUSTOMERS = [f"sup-c{n:02d}" for n in range(24)]
PHASES = ("before", "during", "after")  # the kill; worker-1 ready again
PER_PHASE = 100  # at most this many intents per phase: 300 in all


def wait_until(condition: Callable[[], bool], what: Callable[[], str], timeout_s: float,
               poll_s: float = 0.2) -> None:
    """Poll ``condition``; on timeout fail with ``what()`` (what was still missing)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout_s:.0f}s: {what()}")
        time.sleep(poll_s)


def send(bootstrap: str, topic: str, values: list[dict[str, object]]) -> None:
    records = [(str(v["customer_id"]).encode(), json.dumps(v).encode()) for v in values]
    assert asyncio.run(produce(bootstrap, topic, records)) == len(records)


class IntentStream(threading.Thread):
    """Produces intents in small batches (5 every ~50 ms) until its phase's quota is
    reached, then idles until the test moves it to the next phase: a steady stream through
    the kill and the restart, bounded to PER_PHASE per phase."""

    def __init__(self, bootstrap: str) -> None:
        super().__init__(daemon=True)
        self.bootstrap = bootstrap
        self.phase = PHASES[0]
        self.produced: dict[str, list[str]] = {phase: [] for phase in PHASES}
        self.error: BaseException | None = None
        self.finish = threading.Event()

    def ids(self) -> list[str]:
        return [i for phase in PHASES for i in self.produced[phase]]

    def run(self) -> None:
        try:
            asyncio.run(self._produce())
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            self.error = exc

    async def _produce(self) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=5)
        await producer.start()
        n = 0
        try:
            while not self.finish.is_set():
                phase = self.phase
                room = PER_PHASE - len(self.produced[phase])
                batch = [intent(f"{phase}-{n + k:03d}", CUSTOMERS[(n + k) % len(CUSTOMERS)])
                         for k in range(min(5, room))]
                futures = [await producer.send("intents", json.dumps(i).encode(),
                                               key=i["customer_id"].encode()) for i in batch]
                for future in futures:
                    await future  # acks=all: on the broker before it counts as produced
                self.produced[phase].extend(i["intent_id"] for i in batch)
                n += len(batch)
                await asyncio.sleep(0.05)
        finally:
            await producer.stop()


def decisions_written(bootstrap: str) -> int:
    """Records on ``decisions`` (fetch highwaters: cheap, for deciding when to kill)."""
    tps = [TopicPartition("decisions", p) for p in range(PARTITIONS)]
    return sum(asyncio.run(fetch_highwaters(bootstrap, tps)).values())


def decided_ids(bootstrap: str) -> Counter[str]:
    """intent_id → number of decisions on the ``decisions`` topic, from the beginning."""
    async def collect() -> Counter[str]:
        counts: Counter[str] = Counter()
        async for record in read_topic(bootstrap, "decisions", idle_timeout_s=1.5):
            counts[json.loads(record.value)["intent_id"]] += 1
        return counts

    return asyncio.run(collect())


def decisions(bootstrap: str) -> list[dict[str, object]]:
    async def collect() -> list[dict[str, object]]:
        return [json.loads(r.value)
                async for r in read_topic(bootstrap, "decisions", idle_timeout_s=1.5)]

    return asyncio.run(collect())


def members_now(bootstrap: str) -> int:
    """Members of the group, or -1 while a rebalance makes the broker answer an error."""
    try:
        return asyncio.run(group_members(bootstrap, GROUP))
    except Exception:  # noqa: BLE001 - a rebalance in progress: ask again
        return -1


def test_up_restarts_a_killed_worker_and_every_intent_is_decided_once(tmp_path):
    data_dir = tmp_path / "data"
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    env = cli_env(data_dir, web_port=str(free_port()))
    console, errors = tmp_path / "up.out", tmp_path / "up.err"

    def printed() -> str:
        return console.read_text(errors="replace")

    def pid_file(index: int) -> int | None:
        try:
            return int((data_dir / f"worker-{index}" / "worker.pid").read_text())
        except (OSError, ValueError):
            return None

    seen: set[int] = set()
    new_pid: int | None = None
    with console.open("wb") as out, errors.open("wb") as err:
        up = subprocess.Popen([*SMARTROUTER, "up", "--workers", "2", "--port", str(port)],
                              env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        wait_until(lambda: "up:" in printed() or up.poll() is not None,
                   lambda: f"no 'up:' line yet:\n{printed()}", timeout_s=180)
        assert up.poll() is None, f"up exited {up.returncode}:\n{printed()}\n{errors.read_text()}"
        children = children_of(up.pid)
        seen.update(children)
        [broker_pid] = [pid for pid in children if "tansu" in cmdline(pid)]
        [sink_pid] = [pid for pid in children if cmdline(pid).rstrip().endswith("cli.main sink")]
        first_pids = {0: pid_file(0), 1: pid_file(1)}
        assert set(first_pids.values()) <= set(children), (first_pids, children)
        assert f"pids {first_pids[0]}, {first_pids[1]}" in printed(), printed()

        # A profile per customer, applied before any intent (transactional intents: no
        # consent or quiet hours involved, so every one of them is a send).
        send(bootstrap, "customer-updates",
             [profile(c, sms=f"+1555010{n:04d}", email=f"{c}@example.com")
              for n, c in enumerate(CUSTOMERS)])
        asyncio.run(wait_caught_up(bootstrap, GROUP, ["customer-updates"], PARTITIONS,
                                   timeout_s=180))

        stream = IntentStream(bootstrap)

        def missing() -> list[str]:
            done = decided_ids(bootstrap)
            return [i for i in stream.ids() if i not in done]

        def stream_at(phase: str) -> Callable[[], bool]:
            def reached() -> bool:
                assert stream.error is None, f"producing intents failed: {stream.error!r}"
                return len(stream.produced[phase]) >= PER_PHASE
            return reached

        stream.start()
        try:
            # Kill mid-stream: once decisions flow, while intents keep arriving.
            wait_until(lambda: decisions_written(bootstrap) >= 10,
                       lambda: f"{decisions_written(bootstrap)} decisions after "
                       f"{len(stream.ids())} intents; console:\n{printed()}", timeout_s=180)
            victim = first_pids[1]
            assert victim is not None and alive(victim)
            os.kill(victim, signal.SIGKILL)
            stream.phase = "during"  # while worker-1 is dead, backing off, restarting
            print(f"killed worker-1 after {len(stream.ids())} intents, "
                  f"{decisions_written(bootstrap)} decisions")

            def restarted() -> bool:
                new = pid_file(1)
                return (new not in (None, victim) and alive(new)
                        and "worker-1 ready again" in printed())

            wait_until(restarted, lambda: f"worker-1 not restarted and ready (pid file "
                       f"{pid_file(1)}, killed {victim}); console:\n{printed()}",
                       timeout_s=240)
            new_pid = pid_file(1)
            assert new_pid is not None
            seen.update(children_of(up.pid))
            wait_until(stream_at("during"), lambda: f"{len(stream.produced['during'])} produced "
                       "while worker-1 was down", timeout_s=120)
            print(f"worker-1 ready again with {len(missing())} of {len(stream.ids())} "
                  "intents undecided")
            stream.phase = "after"
            wait_until(stream_at("after"), lambda: f"{len(stream.produced['after'])} produced "
                       "after the restart", timeout_s=120)
        finally:
            stream.finish.set()
            stream.join(timeout=60)
        assert stream.error is None, repr(stream.error)
        produced = stream.ids()

        wait_until(lambda: not missing(),
                   lambda: (f"{len(missing())} of {len(produced)} intents without a decision, "
                            f"e.g. {missing()[:10]}; console:\n{printed()}"),
                   timeout_s=300, poll_s=1.0)
        # Everything committed, so no replay can still add a duplicate; then count.
        intents_group = consumer_group(GROUP, "intents", default_intake())
        asyncio.run(wait_caught_up(bootstrap, intents_group, ["intents"], PARTITIONS,
                                   timeout_s=180))
        counts = decided_ids(bootstrap)
        duplicates = {i: n for i, n in counts.items() if n > 1}
        assert not duplicates, f"{len(duplicates)} intents decided more than once: {duplicates}"
        assert sorted(counts) == sorted(produced), set(counts) ^ set(produced)
        assert len(produced) == len(set(produced))
        assert [len(stream.produced[p]) > 0 for p in PHASES] == [True] * len(PHASES)
        not_sent = [d for d in decisions(bootstrap) if d["action"] != "send"]
        assert not not_sent, f"customer state lost through the kill: {not_sent[:5]}"

        wait_until(lambda: members_now(bootstrap) == 2,
                   lambda: f"group has {members_now(bootstrap)} members, not 2",
                   timeout_s=120, poll_s=1.0)

        text = printed()
        assert re.search(rf"worker-1 \(pid {victim}\) exited: killed by SIGKILL", text), text
        assert re.search(rf"worker-1 restarted \(restart 1\): pid {new_pid} \(was {victim}\)",
                         text), text
        assert len(re.findall(r"restarted \(restart", text)) == 1, text  # worker-0 untouched
        assert "broker exited" not in text and "error" not in errors.read_text()
        assert up.poll() is None, "up exited after the worker was killed"
        assert alive(broker_pid), "the broker did not survive"
        now = children_of(up.pid)
        assert [p for p in now if "tansu" in cmdline(p)] == [broker_pid], "broker restarted"
        assert sorted(now) == sorted({broker_pid, sink_pid, first_pids[0], new_pid}), now
        assert pid_file(0) == first_pids[0]

        print(text)  # shown with -rP or on failure: what the console said
        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=120) == 0, f"{printed()}\n{errors.read_text()}"
        assert printed().rstrip().endswith("stopped"), printed()
        survivors = [pid for pid in seen | {new_pid} if alive(pid)]
        assert survivors == [], [cmdline(pid) for pid in survivors]
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait()
        for pid in seen | set(filter(None, (pid_file(0), pid_file(1)))):
            if alive(pid):  # workers and broker run in sessions of their own
                os.kill(pid, signal.SIGKILL)


def test_up_stops_with_an_error_when_its_embedded_broker_dies(tmp_path):
    """Restarting a memory:// broker would bring back none of the topics: up says so and
    stops its workers instead of supervising workers that have nothing to talk to."""
    data_dir = tmp_path / "data"
    env = cli_env(data_dir, web_port=str(free_port()))
    console, errors = tmp_path / "up.out", tmp_path / "up.err"
    with console.open("wb") as out, errors.open("wb") as err:
        up = subprocess.Popen([*SMARTROUTER, "up", "--workers", "1", "--port", str(free_port())],
                              env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                              start_new_session=True)
    children: list[int] = []
    try:
        wait_until(lambda: "up:" in console.read_text() or up.poll() is not None,
                   lambda: f"no 'up:' line yet:\n{console.read_text()}", timeout_s=180)
        children = children_of(up.pid)
        [broker_pid] = [pid for pid in children if "tansu" in cmdline(pid)]
        os.kill(broker_pid, signal.SIGKILL)
        assert up.wait(timeout=120) == 1, console.read_text()
        message = " ".join(errors.read_text().split())
        assert "embedded broker exited (killed by SIGKILL)" in message, message
        assert "Traceback" not in message
        survivors = [pid for pid in children if alive(pid)]
        assert survivors == [], [cmdline(pid) for pid in survivors]
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait()
        for pid in children:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
