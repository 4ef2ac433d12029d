"""The Faust app, its topics and tables: declared here, configured from Settings.

Importing this module declares the app and the topics (the only import-time effect);
nothing connects until a worker starts. Agents live in ``agents/`` and are found by
autodiscovery, so nothing imports them directly.
"""

from __future__ import annotations

from typing import Any

import faust

from smartrouter.config.settings import Settings, get_settings
from smartrouter.schemas.topics import TOPICS
from smartrouter.streams.compat.global_view import GlobalView, GlobalViewService
from smartrouter.streams.compat.stall_watch import StallWatch
from smartrouter.streams.compat.transport import FetchHighwaterTransport
from smartrouter.streams.model_registry import ModelRegistry
from smartrouter.streams.web_auth import web_options


class SmartRouterApp(faust.App):
    """faust.App whose transport reads changelog highwaters from Fetch
    (streams.compat.highwater)."""

    highwater_source: str = "fetch"

    def _new_transport(self) -> Any:
        if self.highwater_source == "fetch":
            return FetchHighwaterTransport(self.conf.broker_consumer, self)
        return super()._new_transport()


def create_app(settings: Settings) -> SmartRouterApp:
    """A configured app for ``settings`` (one per process; tests may build their own)."""
    app = SmartRouterApp(
        settings.app_id,
        broker=settings.broker,
        store=settings.store,
        datadir=str(settings.data_dir),
        autodiscover=["smartrouter.agents"],
        origin="smartrouter.streams.app",
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=max(settings.session_timeout_s / 6, 0.5),
        broker_rebalance_timeout=max(settings.session_timeout_s * 2, 10),
        producer_acks=-1,
        table_standby_replicas=0,
        **web_options(settings),  # 127.0.0.1, no table views, a token when exposed
        key_serializer="raw",
        value_serializer="raw",
        logging_config=None,
    )
    app.highwater_source = settings.highwater_source
    return app


settings = get_settings()
clock = settings.clock  # wall time, or the simulator's compressed time (smartrouter.engine.clock)
app = create_app(settings)


def _declare_topic(name: str) -> faust.TopicT:
    # The retention / cleanup policy of the topic (schemas.topics, streams.admin): the
    # worker creates the topics with it (ensure_topics) before faust starts; faust gets the
    # same configs for any topic it would declare itself.
    from smartrouter.schemas.topics import topic_spec
    from smartrouter.streams.admin import topic_configs

    return app.topic(
        settings.topic(name),
        key_type=bytes,
        value_type=bytes,
        partitions=settings.partitions,
        internal=False,
        config=topic_configs(topic_spec(name), settings),
    )


#: Logical topic name → Faust topic, for every topic of the topology in smartrouter.schemas.topics.
topics: dict[str, faust.TopicT] = {spec.name: _declare_topic(spec.name) for spec in TOPICS}


def table(name: str, help_text: str) -> faust.Table:
    """A changelogged table of JSON dicts keyed by a string (customer_id, intent_id…)."""
    return app.Table(
        name,
        default=None,
        partitions=settings.partitions,
        # JSON both ways and no model types: str keys and dict values round-trip through
        # the changelog unchanged (faust would call Model.from_data on a value_type).
        schema=faust.Schema(key_serializer="json", value_serializer="json"),
        help=help_text,
    )


#: customer_id → CustomerState dict (smartrouter.engine.customer_state documents the shape).
customers = table("customers", "Per-customer state fed by customer-updates.")
#: intent_id → epoch seconds it was decided: the idempotency record of the decide agent.
decided_intents = table("decided-intents", "intent_ids already decided (dedupe).")

#: intent_id → smartrouter.engine.learning.Pending: a marketing send whose outcome is not known yet.
pending_outcomes = table("pending-outcomes", "Sends waiting for an engagement or a timeout.")
#: str(partition) → engine.model_set.ModelSet checkpoint of that partition's learned models.
model_checkpoints = table("model-checkpoints", "Learned models, one record per partition.")

#: intent_id → a decided send: {"send": ScheduledSend, "content": {...}, "state": ...}
#: (waiting → released | cancelled → settled); kept a while after settling so a replay
#: cannot release it twice, then dropped by the schedule agent's tick.
scheduled_sends = table("scheduled-sends", "Decided sends: waiting, released, settled.")
#: "<campaign_id>@<partition>" → {"charged": x, "reserved": y}: this partition's spend.
campaign_spend = table("campaign-spend", "Per-partition campaign spend (engine.budget).")
#: intent_id → what the send agent did with it (on the outbox partitions).
send_log = table("send-log", "Sends already handed to a provider (dedupe on outbox).")

#: partition → the learned models of that partition (decide reads, feedback teaches).
models = ModelRegistry(model_checkpoints, settings.checkpoint_every,
                       settings.checkpoint_interval_s)

#: provider message id → {intent_id, customer_id, campaign_id, channel}: lets the
#: normalize agent (keyed by provider message id) resolve events that carry no ids.
message_index = app.GlobalTable(
    "message-index",
    default=None,
    partitions=settings.partitions,
    schema=faust.Schema(key_serializer="json", value_serializer="json"),
    help="Provider message id → intent, written by the send agent.",
)

#: campaign_id → CampaignConfig as a JSON dict; global: every worker holds every campaign.
campaigns = app.GlobalTable(
    "campaigns",
    default=None,
    partitions=settings.partitions,
    schema=faust.Schema(key_serializer="json", value_serializer="json"),
    help="Campaign configs (status, fatigue overrides, budget) from the campaigns topic.",
)


#: What the agents read: every worker's full copy of those two tables (streams.compat.global_view
#: says why a GlobalTable alone is not enough with several workers).
campaign_configs = GlobalView(campaigns.changelog_topic.get_topic_name(), fallback=campaigns)
message_ids = GlobalView(message_index.changelog_topic.get_topic_name(), fallback=message_index)
for _view in (campaign_configs, message_ids):
    app.service(GlobalViewService.following(_view, settings.bootstrap, settings.partitions))


#: Partitions whose agent has been fed nothing for a while although they are behind
#: (streams.compat.stall_watch); the outbox is left out: a held throttled send keeps its commit
#: behind on purpose.
stall_watch = StallWatch(frozenset(settings.topic(spec.name) for spec in TOPICS
                                   if spec.name != "outbox"),
                         stall_s=settings.stall_after_s)


@app.on_partitions_assigned.connect
async def _watch_assigned(sender: object, assigned: set, **kwargs: object) -> None:
    stall_watch.assigned(assigned)


@app.timer(interval=max(settings.stall_after_s / 3, 1.0))
async def _resume_stalled_partitions() -> None:
    await stall_watch.check(app, settings.bootstrap, settings.app_id)

