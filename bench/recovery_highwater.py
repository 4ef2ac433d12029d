"""What a kill -9 costs the worker's tables, per changelog-highwater source, same broker.

    .venv/bin/python bench/recovery_highwater.py [--customers 3000] [--runs 2]

`fetch` (the default) reads highwaters from Fetch responses; `listoffsets` is faust's own
path, which trusts the embedded broker's wrong ListOffsets answer (docs/broker-notes.md).
Counts of lost state are per run: customers with no profile after the restart, replayed
intents decided a second time, and duplicate decisions from the at-least-once window.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from smartrouter.testing.crash_scenario import run_crash_scenario  # noqa: E402
from smartrouter.testing.plugin import broker_from_env, running_stack  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    header = (f"{'source':<12} {'run':>3} {'decided@kill':>12} {'lost profiles':>13} "
              f"{'re-decided':>10} {'duplicates':>10} {'missing':>7} {'recovery s':>10}")
    rows = []
    with broker_from_env() as broker:
        for source in ("fetch", "listoffsets"):
            for run in range(1, args.runs + 1):
                env = {"SMARTROUTER_HIGHWATER_SOURCE": source}
                with running_stack(broker, extra_env=env) as stack:
                    r = run_crash_scenario(stack, customers=args.customers)
                rows.append(f"{source:<12} {run:>3} {r.decided_before_kill:>12} "
                            f"{r.no_contact_after_restart:>13} {r.redecided_after_restart:>10} "
                            f"{r.duplicates:>10} {r.first_round_missing:>7} {r.recovery_s:>10}")
                print(rows[-1], file=sys.stderr)
    print(f"customers per run: {args.customers}, broker: {broker.kind}")
    print(header)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
