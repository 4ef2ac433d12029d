"""CPU time per decoded intent: the hardened decoder vs the one it replaced, same run.

    .venv/bin/python bench/decode_cost.py [--n 20000]

``before``  json.loads + validate_python (lax): what smartrouter.streams.codec did until issue 13.
``after``   streams.codec.parse: schemas.wire_json limits (depth, numbers, finite, unique
            keys, string length), then strict validate_json with the horizon context.
Both decode the schema example intent and a small transactional one; CPU time
(``time.process_time``), so a busy machine changes little. Prints µs per intent and the
ratio after/before.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from smartrouter.schemas.examples import EXAMPLES  # noqa: E402
from smartrouter.schemas.topics import topic_spec  # noqa: E402
from smartrouter.streams.codec import parse  # noqa: E402

SMALL = {"intent_id": "i-1", "campaign_id": "k", "customer_id": "c-000042",
         "kind": "transactional", "channels": ["sms", "email"]}


def cpu_us_per_item(fn, values: list[bytes]) -> float:  # noqa: ANN001
    start = time.process_time()
    for value in values:
        fn(value)
    return (time.process_time() - start) / len(values) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    args = parser.parse_args()
    adapter = topic_spec("intents").adapter
    context = {"now": datetime(2025, 3, 19, tzinfo=UTC), "horizon": timedelta(days=30)}

    def before(value: bytes) -> object:
        return adapter.validate_python(json.loads(value.decode("utf-8")))

    def after(value: bytes) -> object:
        return parse(adapter, value, context=context)

    print(f"{'intent':<10}{'bytes':>7}{'before µs':>12}{'after µs':>11}{'ratio':>8}")
    for name, payload in (("example", EXAMPLES["intents"][0]), ("small", SMALL)):
        raw = json.dumps(payload).encode()
        values = [raw] * args.n
        before(raw), after(raw)  # warm both paths
        b = min(cpu_us_per_item(before, values) for _ in range(3))
        a = min(cpu_us_per_item(after, values) for _ in range(3))
        print(f"{name:<10}{len(raw):>7}{b:>12.1f}{a:>11.1f}{a / b:>8.2f}")


if __name__ == "__main__":
    main()
