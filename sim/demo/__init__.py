"""``smartrouter demo``: simulated customers through the engine, next to a blast and a holdout.

``run`` prints and writes, ``arms`` runs the three arms (stack, simulator), ``clock_switch``
moves the workers onto the compressed clock, ``progress`` shows it, ``report`` formats the
arms, ``diagnostics`` explains the engine's figures, ``plot`` draws the PNG and ``outputs``
gives each run its own folder. The sample campaign of ``examples/`` stays in
``smartrouter.cli.sample_run`` (``smartrouter demo --sample``).
"""

from smartrouter.sim.demo.arms import run_arms
from smartrouter.sim.demo.options import DemoOptions, DemoResult
from smartrouter.sim.demo.run import run_demo

__all__ = ["DemoOptions", "DemoResult", "run_arms", "run_demo"]
