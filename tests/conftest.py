"""Repository-wide test hooks.

``make check`` (the fast inner loop) selects ``-m "not integration and not torch"``: a test
that asks for a broker must therefore carry the ``integration`` marker, or the fast loop would
start a broker after all. Rather than trusting every author to remember, a test that uses a
broker fixture is marked here.
"""

from __future__ import annotations

import pytest

#: Fixtures (from smartrouter.testing.plugin) that start a broker or a worker.
BROKER_FIXTURES = frozenset({"smartrouter_broker", "smartrouter_stack"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BROKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
