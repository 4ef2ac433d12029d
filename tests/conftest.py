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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BROKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
    # Longest first: files with broker tests (tens of seconds to minutes each) start before
    # the rest (seconds), which then fill the gaps. Under ``-n 2 --dist loadfile`` a slow file
    # handed out last keeps one process busy long after the other has finished. A stable
    # sort on a per-file key keeps every file's tests together and in their order.
    slow_files = {item.nodeid.split("::")[0] for item in items
                  if item.get_closest_marker("integration")}
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in slow_files)
