"""The step logic of the agents, with its collaborators passed in.

A layer between ``adapters`` and ``streams``: a step may import schemas, engine, config and
adapters, never faust, mode, aiokafka or ``smartrouter.streams`` / ``smartrouter.agents``.
Tables come in as mappings, the producer as an ``Emit``, the replay zone as a
``ReplayReader`` (``steps.ports``), so every step runs in a unit test without a broker;
the agents only wire the real ones in.
"""
