"""Pure decision logic: rules, per-customer state transitions, models. No Kafka, no Faust.

Every function here takes plain values and returns plain values, so it is unit-tested
without an event loop or a broker, and can be reused offline.
"""
