"""The simulated population the engine sends to (issue #6).

Pure and seeded (``population``, ``campaigns``, ``truth``, ``metrics``, ``blast``), plus one
I/O module (``runner``) that plays the world against a running engine through Kafka topics.
The engine never reads the hidden truth held here: only what the runner produces to topics.
"""
