"""The send path, measured: rate held per sender identity (1 and 2 workers) and the width of
the window in which a crash leaves a send's outcome unknown.

Sends go through the real worker and real botocore requests to a local sms-voice v2
endpoint (tests/aws_fakes.py) on the embedded broker. The unknown-outcome window is read
from the send agent's own write-ahead log: from the ``attempt`` record (acknowledged
before the provider call) to the ``done`` record (acknowledged after it). A crash inside
it reports the send as ``failed / unconfirmed_after_crash`` instead of resending it.

    .venv/bin/python bench/send_path.py [--sends 60] [--tps 10] [--latency-ms 0,50]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from smartrouter.testing.aws_fakes import FakeAws, Reply  # noqa: E402
from smartrouter.testing.plugin import broker_from_env, running_stack  # noqa: E402


def run(broker, sends: int, tps: float, latency_ms: float, workers: int) -> dict:
    fake = FakeAws()
    fake.start()
    fake.script("SendTextMessage", then=Reply(body={"MessageId": "m"}, delay_s=latency_ms / 1e3))
    env = {"SMARTROUTER_SENDER": "aws", "SMARTROUTER_AWS_ENDPOINT_URL": fake.url,
           "SMARTROUTER_SMS_ORIGINATION_IDENTITY": "pool-bench",
           "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
           "AWS_DEFAULT_REGION": "us-east-1", "SMARTROUTER_TICK_INTERVAL_S": "1",
           "SMARTROUTER_SEND_TPS": str(tps), "SMARTROUTER_SEND_BURST": "1"}
    people = [f"c-{i:05d}" for i in range(sends)]
    with tempfile.TemporaryDirectory() as tmp, \
            running_stack(broker, data_dir=Path(tmp) / "w0", extra_env=env) as stack:
        extra = [running_stack(broker, data_dir=Path(tmp) / f"w{i}", extra_env=env,
                               prefix=stack.prefix) for i in range(1, workers)]
        for ctx in extra:
            ctx.__enter__()
        try:
            stack.produce("customer-updates", [
                {"type": "profile", "customer_id": c, "contacts": {"sms": "+15550100001"},
                 "timezone": "UTC"} for c in people])
            stack.wait_processed("customer-updates")
            stack.produce("intents", [
                {"intent_id": f"i-{c}", "campaign_id": "bench", "customer_id": c,
                 "kind": "transactional", "channels": ["sms"],
                 "content": {"sms": {"body": "code 1234"}}} for c in people])
            stack.read("delivery", count=sends, timeout_s=sends / tps + 120)
            attempts = stack.read("send-attempts", count=2 * sends)
        finally:
            for ctx in extra:
                ctx.__exit__(None, None, None)
    fake.stop()
    arrivals = sorted(r.at for r in fake.of("SendTextMessage"))
    busiest = max(sum(1 for t in arrivals if s <= t < s + 1) for s in arrivals)
    at = {(a["intent_id"], a["phase"]): datetime.fromisoformat(a["at"]) for a in attempts}
    windows = sorted((at[(i, "done")] - at[(i, "attempt")]).total_seconds() * 1e3
                     for i, phase in at if phase == "attempt" and (i, "done") in at)
    return {"workers": workers, "tps": tps, "latency_ms": latency_ms, "sends": len(arrivals),
            "measured_tps": round((len(arrivals) - 1) / (arrivals[-1] - arrivals[0]), 3),
            "busiest_1s": busiest,
            "window_p50_ms": round(statistics.median(windows), 1),
            "window_p99_ms": round(windows[int(0.99 * (len(windows) - 1))], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sends", type=int, default=60)
    parser.add_argument("--tps", type=float, default=10.0)
    parser.add_argument("--latency-ms", default="0,50")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    with broker_from_env() as broker:
        for workers in (1, 2):
            for latency in (float(x) for x in args.latency_ms.split(",")):
                rows.append(run(broker, args.sends, args.tps, latency, workers))
                print(json.dumps(rows[-1]), flush=True)
    print(f"\n{'workers':>7} {'tps':>5} {'lat ms':>6} {'measured':>9} {'busiest 1s':>10} "
          f"{'window p50':>10} {'p99 ms':>7}")
    for r in rows:
        print(f"{r['workers']:>7} {r['tps']:>5} {r['latency_ms']:>6} {r['measured_tps']:>9} "
              f"{r['busiest_1s']:>10} {r['window_p50_ms']:>10} {r['window_p99_ms']:>7}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    print(f"(run at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")


if __name__ == "__main__":
    main()
