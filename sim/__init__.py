"""The simulated population the engine sends to (issue #6).

Pure and seeded (``population``, ``campaigns``, ``truth``, ``metrics``, ``blast``), plus the
I/O that plays the world against a running engine through Kafka topics (``runner`` and its
parts: ``world_writer``, ``engine_reader``, ``run_state``, ``run_progress``).
The engine never reads the hidden truth held here: only what the runner produces to topics.
"""
