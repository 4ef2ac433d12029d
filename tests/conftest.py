"""Repository-wide test hooks.

``make check`` (the fast inner loop) selects ``-m "not integration and not torch"``: a test
that asks for a broker must therefore carry the ``integration`` marker, or the fast loop would
start a broker after all. Rather than trusting every author to remember, a test that uses a
broker fixture is marked here. The order of the run is set here too (see below).
"""

from __future__ import annotations

import pytest

#: Fixtures (from smartrouter.testing.plugin) that start a broker or a worker.
BROKER_FIXTURES = frozenset({"smartrouter_broker", "smartrouter_stack"})
#: The slowest files, slowest first (wall seconds under -n 3 on this 2-core machine kind).
SLOWEST_FIRST = [
    "tests/integration/test_learning_loop.py",  # ~130 s: outcome windows in real time
    "tests/integration/test_delivery_path.py",  # ~100 s: kill -9 mid-send, two workers
    "tests/e2e/test_uplift_smoke.py",  # ~90 s: two short demos
    "tests/integration/test_recovery.py",  # ~75 s: 8,000 records, kill -9, restart
    "tests/integration/test_up_supervision.py",  # ~70 s: up, a killed worker restarted
    "tests/e2e/test_demo.py",  # ~65 s: one short demo
    "tests/integration/test_sink_crash.py",  # ~50 s: two kills
    "tests/integration/test_sim_world.py",  # ~50 s: a simulated day
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BROKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
    # Longest first. ``make test`` runs ``-n 3 --dist loadfile --no-loadscope-reorder``: files
    # are handed out in this order (xdist would otherwise order them by test count, which put
    # the one-test demo files last: one process ran the then 200 s uplift smoke alone at the end).
    # The measured slowest files go first, then the other broker files, then the quick ones
    # that fill the gaps. A stable sort on a per-file key keeps every file's tests together.
    slow_files = {item.nodeid.split("::")[0] for item in items
                  if item.get_closest_marker("integration")}

    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::")[0]
        if path in SLOWEST_FIRST:
            return SLOWEST_FIRST.index(path)
        return len(SLOWEST_FIRST) + (path not in slow_files)

    items.sort(key=rank)
