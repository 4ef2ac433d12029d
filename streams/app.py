"""The Faust app, its topics and tables: built from Settings when the worker starts.

Importing this module reads nothing and declares nothing. ``configure(settings)`` — called
once by the worker entry (``streams.worker.run_worker``) or by a test — builds the app, its
topics and tables; the module's names (``app``, ``settings``, ``topics``, ``customers`` ...)
then resolve to that build (PEP 562 ``__getattr__``), so agent modules keep writing
``from smartrouter.streams.app import app, topics``: faust imports them by autodiscovery,
after ``configure``. Using a name before ``configure`` raises, naming the fix.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from dataclasses import dataclass, fields
from typing import Any

import faust

from smartrouter.config.settings import Settings
from smartrouter.engine.clock import Clock
from smartrouter.schemas.topics import TOPICS
from smartrouter.streams.compat.global_view import GlobalView, GlobalViewService
from smartrouter.streams.compat.stall_watch import StallWatch
from smartrouter.streams.compat.transport import CompatApp
from smartrouter.streams.model_registry import ModelRegistry
from smartrouter.streams.record_writer import RecordWriter, encode_key, encode_value
from smartrouter.streams.web_auth import web_options


class SmartRouterApp(CompatApp):
    """faust.App whose transport follows the ``compat`` settings (streams.compat.transport)."""


class WriterChangelog:
    """Table writes whose changelog records go through the worker's RecordWriter
    (coalesced per key, sent in batches, the handled offset held until acknowledged)
    instead of one Faust producer message per write. Reads, recovery and the in-memory
    store stay Faust's. Mixed into a faust.Table or faust.GlobalTable."""

    writer: RecordWriter
    changelog_topic_name: str
    partition_for_key: Any

    def on_key_set(self, key: Any, value: Any) -> None:
        self.writer.put(self.changelog_topic_name, self.partition_for_key(key),
                        encode_key(key), encode_value(value), coalesce=True)

    def on_key_del(self, key: Any) -> None:
        self.writer.put(self.changelog_topic_name, self.partition_for_key(key),
                        encode_key(key), None, coalesce=True)


#: The partition whose record a service outside Faust's streams is handling (the batched
#: decide path): a partitioned table's writes go to it, as they go to the partition of
#: Faust's current event inside an agent.
handled_partition: ContextVar[int | None] = ContextVar("handled_partition", default=None)


class WriterTable(WriterChangelog, faust.Table):
    """A partitioned table written through the RecordWriter."""

    def partition_for_key(self, key: Any) -> int | None:
        partition = handled_partition.get()
        return super().partition_for_key(key) if partition is None else partition


class WriterGlobalTable(WriterChangelog, faust.GlobalTable):
    """A table every worker holds in full, written through the RecordWriter."""


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
        producer_linger=settings.producer_linger_ms / 1000,
        table_standby_replicas=0,
        **web_options(settings),  # 127.0.0.1, no table views, a token when exposed
        key_serializer="raw",
        value_serializer="raw",
        logging_config=None,
    )
    app.compat = settings.compat
    return app


@dataclass(frozen=True)
class Runtime:
    """What ``configure`` built; each field is a module-level name of this module."""

    settings: Settings
    #: wall time, or the simulator's compressed time (smartrouter.engine.clock)
    clock: Clock
    app: SmartRouterApp
    #: logical topic name → Faust topic, for every topic in smartrouter.schemas.topics
    topics: dict[str, faust.TopicT]
    #: customer_id → CustomerState dict (smartrouter.engine.customer_state has the shape)
    customers: faust.Table
    #: customer_id → the intents of that customer already decided (engine.dedupe_marks):
    #: the decide step's idempotency record
    customer_marks: faust.Table
    #: intent_id → {at, partition, offset}: the idempotency record before customer-marks,
    #: read until its entries expire
    decided_intents: faust.Table
    #: intent_id → engine.learning.Pending: a marketing send whose outcome is not known yet
    pending_outcomes: faust.Table
    #: str(partition) → engine.model_set.ModelSet checkpoint of that partition's models
    model_checkpoints: faust.Table
    #: intent_id → a decided send (waiting → released | cancelled → settled); kept a while
    #: after settling so a replay cannot release it twice, then dropped by the schedule tick
    scheduled_sends: faust.Table
    #: "<campaign_id>@<partition>" → {"charged": x, "reserved": y}: this partition's spend
    campaign_spend: faust.Table
    #: intent_id → what the send agent did with it (on the outbox partitions)
    send_log: faust.Table
    #: partition → the learned models of that partition (decide reads, feedback teaches)
    models: ModelRegistry
    #: provider message id → {intent_id, customer_id, campaign_id, channel}
    message_index: Any
    #: campaign_id → CampaignConfig as a JSON dict; every worker holds every campaign
    campaigns: Any
    #: what the agents read of those two tables (streams.compat.global_view says why)
    campaign_configs: GlobalView
    message_ids: GlobalView
    #: partitions faust stopped feeding (streams.compat.stall_watch)
    stall_watch: StallWatch
    #: every table write and step output of this worker (streams.record_writer)
    record_writer: RecordWriter


#: Runtime field → (table name, what it holds): the partitioned tables.
TABLES = {
    "customers": ("customers", "Per-customer state fed by customer-updates."),
    "customer_marks": ("customer-marks", "Per customer: the intents already decided (dedupe)."),
    "decided_intents": ("decided-intents", "intent_ids already decided (dedupe, before"
                        " customer-marks; read until they expire)."),
    "pending_outcomes": ("pending-outcomes", "Sends waiting for an engagement or a timeout."),
    "model_checkpoints": ("model-checkpoints", "Learned models, one record per partition."),
    "scheduled_sends": ("scheduled-sends", "Decided sends: waiting, released, settled."),
    "campaign_spend": ("campaign-spend", "Per-partition campaign spend (engine.budget)."),
    "send_log": ("send-log", "Sends already handed to a provider (dedupe on outbox)."),
}
_runtime: Runtime | None = None
_NAMES = frozenset(f.name for f in fields(Runtime))


def configure(settings: Settings) -> Runtime:
    """Build the app, topics and tables for ``settings``: once per process. Again with equal
    settings returns the same build; with other settings it raises (faust has one app)."""
    global _runtime
    if _runtime is None:
        _runtime = _build(settings)
    elif _runtime.settings != settings:
        raise RuntimeError("smartrouter.streams.app is already configured with other settings")
    return _runtime


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _runtime is None:
        raise RuntimeError(
            f"smartrouter.streams.app.{name} used before configure(settings): the worker entry"
            " (streams.worker.run_worker) calls it; a test calls it with Settings.from_values")
    return getattr(_runtime, name)


def _build(settings: Settings) -> Runtime:
    app = create_app(settings)
    writer = _record_writer(app, settings)
    topics = {spec.name: _declare_topic(app, settings, spec.name) for spec in TOPICS}

    tables = {attr: _writer_table(app, settings, writer, name, help_text)
              for attr, (name, help_text) in TABLES.items()}
    message_index = _global_table(app, settings, writer, "message-index",
                                  "Provider message id → intent, written by the send agent.")
    campaigns = _global_table(app, settings, writer, "campaigns", "Campaign configs (status,"
                              " fatigue overrides, budget) from the campaigns topic.")
    campaign_configs = _view(app, settings, campaigns)
    message_ids = _view(app, settings, message_index)
    # The outbox until it first delivers: a held throttled send keeps its commit behind on
    # purpose once the partition runs.
    stall_watch = StallWatch(frozenset(settings.topic(spec.name) for spec in TOPICS),
                             stall_s=settings.compat.stall_after_s,
                             until_first_delivery=frozenset({settings.topic("outbox")}))
    if settings.compat.stall_watch:
        _watch_stalls(app, settings, stall_watch)
    return Runtime(
        settings=settings, clock=settings.clock, app=app, topics=topics, **tables,
        models=ModelRegistry(tables["model_checkpoints"], settings.checkpoint_every,
                             settings.checkpoint_interval_s),
        message_index=message_index, campaigns=campaigns, campaign_configs=campaign_configs,
        message_ids=message_ids, stall_watch=stall_watch, record_writer=writer,
    )


def _declare_topic(app: faust.App, settings: Settings, name: str) -> faust.TopicT:
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


def _writer_table(app: faust.App, settings: Settings, writer: RecordWriter, name: str,
                  help_text: str, kind: type[WriterChangelog] = WriterTable,
                  **options: Any) -> Any:
    """A changelogged table of JSON dicts keyed by a string (customer_id, intent_id…),
    written through ``writer``."""
    table = kind(  # type: ignore[call-arg]  # the faust table class mixed into ``kind``
        app,
        name=name,
        default=None,
        beacon=app.tables.beacon,
        partitions=settings.partitions,
        # JSON both ways and no model types: str keys and dict values round-trip through
        # the changelog unchanged (faust would call Model.from_data on a value_type).
        schema=faust.Schema(key_serializer="json", value_serializer="json"),
        help=help_text,
        **options,
    )
    table.writer = writer
    return app.tables.add(table)


def _record_writer(app: faust.App, settings: Settings) -> RecordWriter:
    """The worker's RecordWriter, flushed and closed when the app stops."""
    from faust import current_event
    from mode import Service

    def crash(exc: BaseException) -> None:
        asyncio.ensure_future(app.crash(exc))

    writer = RecordWriter(
        settings.bootstrap, linger_s=settings.record_linger_ms / 1000,
        max_records=settings.record_batch_max, client_id=settings.app_id,
        current=current_event, pin=lambda event: event.message.incref(),
        unpin=lambda event: event.ack(), on_error=crash,
    )  # fmt: skip

    @app.service
    class RecordWriterService(Service):
        async def on_stop(self) -> None:
            await writer.stop()

    return writer


def _global_table(app: faust.App, settings: Settings, writer: RecordWriter, name: str,
                  help_text: str) -> WriterGlobalTable:
    """Every worker's full copy of a table (options as ``app.GlobalTable`` sets them)."""
    return _writer_table(app, settings, writer, name, help_text, WriterGlobalTable,
                         standby_buffer_size=1, is_global=True)


def _view(app: faust.App, settings: Settings, table: Any) -> GlobalView:
    """Every worker's full copy of ``table`` (``compat.global_view``), or the table alone."""
    if not settings.compat.global_view:
        return GlobalView.table_only(table)
    view = GlobalView(table.changelog_topic.get_topic_name(), fallback=table)
    app.service(GlobalViewService.following(view, settings.bootstrap, settings.partitions))
    return view


def _watch_stalls(app: faust.App, settings: Settings, watch: StallWatch) -> None:
    @app.on_partitions_assigned.connect
    async def _watch_assigned(sender: object, assigned: set, **kwargs: object) -> None:
        watch.assigned(assigned)

    @app.timer(interval=max(settings.compat.stall_after_s / 3, 1.0))
    async def _resume_stalled_partitions() -> None:
        await watch.check(app, settings.bootstrap, settings.app_id)
