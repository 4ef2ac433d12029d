"""Faust agents of Smart Router: one thin module per agent, found by autodiscovery.

Each agent decodes (streams.pipeline), calls pure logic from ``engine``, writes the table
back and sends what the logic returned. Nothing imports these modules directly.
"""
