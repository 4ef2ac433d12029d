"""Kafka wiring of Smart Router: settings, the Faust app, topics, tables, broker lifecycle, CLI.

Nothing here runs at import time except declaring the Faust app and its topics
(in :mod:`smartrouter.streams.app`, which is only imported by workers and agent modules).
"""
