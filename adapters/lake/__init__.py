"""The lake: Iceberg tables of decisions, delivery events and sends (issue #7).

Modules, one job each: ``config`` (settings), ``schema`` (Iceberg schemas derived from the
pydantic contracts, PII guard), ``rows`` (record -> row), ``offsets`` (Kafka offsets in
snapshot properties), ``catalog`` (which catalog, tables), ``writer`` (exactly-once batches),
``erase``, ``maintain`` / ``orphans`` (compaction, expiry), ``report`` (DuckDB funnel) and
``cli``. Nothing is imported here, so ``import smartrouter.adapters.lake`` stays cheap.
"""
