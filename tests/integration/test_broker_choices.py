"""The fixture's three broker choices all carry an intent to its decision.

``testcontainers`` builds the ``FROM scratch`` Tansu image locally (nothing is pulled) and
skips with the reason when no Docker engine can be started; ``kafka://`` points at a
broker the test started itself, standing in for an external cluster.
"""

from __future__ import annotations

import pytest

from smartrouter.local.broker import embedded_broker
from smartrouter.testing.builders import intent, profile
from smartrouter.testing.plugin import broker_from_env, running_stack

pytestmark = pytest.mark.integration


def round_trip(broker) -> dict:
    with running_stack(broker) as stack:
        stack.produce("customer-updates", [profile("bc-1", sms="+15550100001")])
        stack.wait_processed("customer-updates")
        stack.produce("intents", [intent("bc-i", "bc-1")])
        [decision] = stack.read("decisions", count=1)
    return decision


@pytest.mark.docker
def test_testcontainers_broker():
    with broker_from_env("testcontainers") as broker:
        assert broker.kind == "testcontainers"
        assert round_trip(broker)["action"] == "send"


def test_external_broker_url():
    with embedded_broker() as external, broker_from_env(external.url) as broker:
        assert broker.kind == "external"
        assert round_trip(broker)["channel"] == "sms"


def test_unknown_choice_is_a_usage_error():
    with pytest.raises(pytest.UsageError), broker_from_env("zookeeper://nope"):
        pass
