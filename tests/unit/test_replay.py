"""Offline evaluation (engine/replay.py) and ``smartrouter policy replay``."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from smartrouter.cli.policy import policy_app
from smartrouter.engine.policy import BanditPolicy
from smartrouter.engine.replay import evaluate, evaluate_file, parse_event

CHANNELS = ["sms", "whatsapp", "email", "push"]
ENGAGE = {
    "s0": {"sms": 0.30, "whatsapp": 0.10, "email": 0.08, "push": 0.05},
    "s1": {"sms": 0.08, "whatsapp": 0.30, "email": 0.10, "push": 0.05},
    "s2": {"sms": 0.05, "whatsapp": 0.08, "email": 0.10, "push": 0.30},
}
SEGMENTS = sorted(ENGAGE)


class FixedPolicy:
    """A non-learning target policy with a known value: 80 % on one channel per segment."""

    TARGET = {"s0": "sms", "s1": "email", "s2": "push"}

    def __init__(self) -> None:
        self.learned = 0

    def probabilities(self, context: Mapping[str, Any], actions: Sequence[str]) -> dict[str, float]:
        main = self.TARGET[context["segment"]]
        rest = 0.2 / (len(actions) - 1)
        return {a: 0.8 if a == main else rest for a in actions}

    def learn(self, context: Mapping[str, Any], action: str, reward: float) -> None:
        self.learned += 1

    def true_value(self) -> float:
        """Segments are equally likely: the mean over segments of Σ π(a|s)·P(engage|s,a)."""
        total = 0.0
        for seg in SEGMENTS:
            probs = self.probabilities({"segment": seg}, CHANNELS)
            total += sum(probs[a] * ENGAGE[seg][a] for a in CHANNELS)
        return total / len(SEGMENTS)


def logged_lines(events: int, seed: int, logging: str = "uniform") -> list[str]:
    """Decisions logged by a uniform (or sms-heavy) policy, with their propensities."""
    env = random.Random(seed)
    skew = {"sms": 0.55, "whatsapp": 0.15, "email": 0.15, "push": 0.15}
    lines = []
    for _ in range(events):
        seg = env.choice(SEGMENTS)
        if logging == "uniform":
            action, p = env.choice(CHANNELS), 1 / len(CHANNELS)
        else:
            action = env.choices(CHANNELS, weights=[skew[c] for c in CHANNELS])[0]
            p = skew[action]
        reward = int(env.random() < ENGAGE[seg][action])
        lines.append(
            json.dumps(
                {
                    "context": {"segment": seg},
                    "actions": CHANNELS,
                    "action": action,
                    "reward": reward,
                    "propensity": p,
                }
            )
        )
    return lines


@pytest.mark.parametrize("logging", ["uniform", "skewed"])
def test_ips_recovers_a_fixed_policy_value_within_the_ci(logging: str) -> None:
    target = FixedPolicy()
    truth = target.true_value()  # 0.2064
    result = evaluate(target, logged_lines(20000, seed=11, logging=logging))
    lo, hi = result.ci
    assert result.estimator == "ips" and result.events == result.used == 20000
    assert lo <= truth <= hi, (result, truth)
    assert hi - lo < 0.03  # informative, not a vacuous interval
    assert target.learned == 20000  # learns from every logged event after scoring it
    # The logged (mostly uniform) policy is measurably worse than the target.
    assert result.logged_reward < lo
    assert result.snips is not None and abs(result.snips - truth) < 0.02


def test_replay_method_recovers_the_value_on_uniform_logs() -> None:
    target = FixedPolicy()
    truth = target.true_value()
    result = evaluate(target, logged_lines(20000, seed=12), estimator="replay", seed=3)
    lo, hi = result.ci
    assert result.estimator == "replay"
    assert 4000 < result.used < 6000  # about 1/|A| of events match
    assert target.learned == result.used  # learns only from matched events
    assert lo <= truth <= hi
    assert result.non_uniform == 0 and not result.notes


def test_replay_method_flags_non_uniform_logs() -> None:
    result = evaluate(FixedPolicy(), logged_lines(200, seed=1, logging="skewed"),
                      estimator="replay")  # fmt: skip
    assert result.non_uniform == 200
    assert result.notes and "not logged uniformly" in result.notes[0]


def test_learning_bandit_beats_the_uniform_logger() -> None:
    result = evaluate(BanditPolicy(seed=0), logged_lines(6000, seed=13))
    assert result.ci[0] > result.logged_reward + 0.02, result


def test_malformed_lines_are_counted_not_fatal() -> None:
    good = logged_lines(3, seed=2)
    base = {"context": {}, "actions": ["sms"], "action": "sms", "reward": 1, "propensity": 1}
    bad = [
        "{not json",
        "[1, 2]",
        json.dumps({**base, "actions": []}),
        json.dumps({**base, "action": "fax"}),
        json.dumps({**base, "reward": 2}),
        json.dumps({**base, "propensity": 0}),
        json.dumps({**base, "propensity": 1.5}),
        json.dumps({**base, "context": "x"}),
    ]
    lines = [good[0], *bad, "", good[1], "   ", good[2]]
    result = evaluate(FixedPolicyAnySegment(), lines)
    assert result.events == 3
    assert result.skipped == len(bad)
    assert [n for n, _ in result.skipped_lines] == list(range(2, 2 + len(bad)))
    reasons = " ".join(r for _, r in result.skipped_lines)
    assert "invalid JSON" in reasons and "(0, 1]" in reasons and "0 or 1" in reasons
    assert parse_event(good[0]).actions == CHANNELS


class FixedPolicyAnySegment(FixedPolicy):
    def probabilities(self, context: Mapping[str, Any], actions: Sequence[str]) -> dict[str, float]:
        return {a: 1 / len(actions) for a in actions}


def test_empty_log_gives_no_estimate() -> None:
    result = evaluate(FixedPolicy(), [])
    assert result.events == 0
    assert result.to_dict()["policy_reward"] is None
    assert result.to_dict()["ci"] == [None, None]


def write_log(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_evaluate_file_reports_bytes_read(tmp_path: Path) -> None:
    path = write_log(tmp_path, logged_lines(50, seed=4))
    seen: list[int] = []
    result = evaluate_file(FixedPolicy(), path, on_bytes=seen.append)
    assert result.events == 50
    assert sum(seen) == path.stat().st_size


def test_cli_json_output(tmp_path: Path) -> None:
    path = write_log(tmp_path, [*logged_lines(300, seed=5), "{broken"])
    result = CliRunner().invoke(policy_app, ["replay", str(path), "--json", "--seed", "1"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert {"estimator", "policy_reward", "logged_reward", "ci", "events"} <= set(out)
    assert out["estimator"] == "ips" and out["events"] == 300 and out["skipped"] == 1
    assert len(out["ci"]) == 2 and out["ci"][0] <= out["policy_reward"] <= out["ci"][1]
    assert out["policy_version"] == "bandit-ts@300"
    assert "line 301: skipped" in result.stderr

    replayed = CliRunner().invoke(policy_app, ["replay", str(path), "--json",
                                               "--estimator", "replay"])  # fmt: skip
    assert json.loads(replayed.stdout)["estimator"] == "replay"


def test_cli_table_and_errors(tmp_path: Path) -> None:
    path = write_log(tmp_path, logged_lines(100, seed=6))
    table = CliRunner().invoke(policy_app, ["replay", str(path)])
    assert table.exit_code == 0
    assert "logged policy" in table.stdout and "95% CI" in table.stdout

    missing = CliRunner().invoke(policy_app, ["replay", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2
    assert "no such file" in missing.stderr

    wrong = CliRunner().invoke(policy_app, ["replay", str(path), "--estimator", "dm"])
    assert wrong.exit_code == 2
    assert "--estimator" in wrong.stderr


def test_cli_a_log_of_only_malformed_lines_is_an_error(tmp_path: Path) -> None:
    path = write_log(tmp_path, ["{broken", "[1, 2]", '{"actions": []}'])
    result = CliRunner().invoke(policy_app, ["replay", str(path)])
    assert result.exit_code == 1
    assert "no valid logged decision" in result.stderr and "3 malformed" in result.stderr
    assert "n/a" not in result.stdout
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert CliRunner().invoke(policy_app, ["replay", str(empty), "--json"]).exit_code == 1


def test_cli_runs_on_the_shipped_example_log() -> None:
    log = Path(__file__).resolve().parents[2] / "examples" / "policy-log.jsonl"
    result = CliRunner().invoke(policy_app, ["replay", str(log), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["events"] == 400 and out["skipped"] == 0


def test_replay_interval_is_not_degenerate_without_any_reward() -> None:
    lines = [json.dumps({"context": {"segment": "s0"}, "actions": CHANNELS, "action": a,
                         "reward": 0, "propensity": 0.25}) for a in CHANNELS * 50]  # fmt: skip
    result = evaluate(FixedPolicy(), lines, estimator="replay", seed=1)
    assert result.policy_reward == 0.0 and result.used > 20
    lo, hi = result.ci
    assert lo == 0.0 and 0.01 < hi < 0.2  # Wilson: "zero of n" still leaves room above 0
