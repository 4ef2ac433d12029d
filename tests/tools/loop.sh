#!/usr/bin/env bash
# Run one pytest node N times beside a one-core busy loop (CI's neighbours), to catch what
# fails 1 run in 6-12: both exactly-once bugs of issue 15's last sessions showed only so.
#
#   tests/tools/loop.sh TEST [N=10] [PER_RUN_TIMEOUT_S=600]
#   make loop T='tests/integration/test_rebalance_decide.py::test_exactly_one_decision_while_workers_join_leave_and_die[batched]' N=10
#
# Bounded: N runs of at most PER_RUN_TIMEOUT_S each; the busy loop ends with the script.
# Each run's output and worker logs stay under .smartrouter/loop/<stamp>/run-<i>/.
set -uo pipefail
cd "$(dirname "$0")/../.."

test_id=${1:-}
if [[ -z $test_id ]]; then
  echo "usage: tests/tools/loop.sh TEST [N] [PER_RUN_TIMEOUT_S]  (make loop T=<pytest node> N=10)" >&2
  exit 2
fi
runs=${2:-10}
per_run=${3:-600}
[[ $runs =~ ^[1-9][0-9]*$ && $runs -le 100 ]] || { echo "N must be 1..100, got '$runs'" >&2; exit 2; }
[[ $per_run =~ ^[1-9][0-9]*$ ]] || { echo "PER_RUN_TIMEOUT_S must be a positive number" >&2; exit 2; }

out=".smartrouter/loop/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
( while :; do :; done ) &
burner=$!
trap 'kill "$burner" 2>/dev/null' EXIT

failed=0
for i in $(seq 1 "$runs"); do
  started=$SECONDS
  timeout "$per_run" .venv/bin/python -m pytest -q -x -p no:cacheprovider \
      --basetemp="$out/run-$i" "$test_id" > "$out/run-$i.log" 2>&1
  rc=$?
  [[ $rc -eq 0 ]] || failed=$((failed + 1))
  echo "run $i/$runs: rc=$rc in $((SECONDS - started)) s ($(tail -1 "$out/run-$i.log"))"
done
echo "$((runs - failed)) of $runs passed; logs in $out"
[[ $failed -eq 0 ]]
