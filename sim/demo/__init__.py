"""``smartrouter demo``: simulated customers through the engine, next to a blast and a holdout.

``run`` orchestrates (stack, simulated clock, simulator), ``report`` formats the arms,
``plot`` draws the PNG. The sample campaign of ``examples/`` stays in ``smartrouter.cli.sample_run``
(``smartrouter demo --sample``).
"""

from smartrouter.sim.demo.run import DemoOptions, DemoResult, run_arms, run_demo

__all__ = ["DemoOptions", "DemoResult", "run_arms", "run_demo"]
