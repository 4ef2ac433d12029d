"""Faust agents of Smart Router: one thin module per agent, found by autodiscovery.

Each agent is wiring only: it subscribes, decodes (streams.pipeline) and calls its step
(``smartrouter.steps``) with the real tables, producer and clock. Partition revocation is
handled once for all of them (streams.partitions). Nothing imports these modules directly,
and no agent imports another (tests/unit/test_steps_layer.py).
"""
