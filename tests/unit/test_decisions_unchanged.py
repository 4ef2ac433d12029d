"""Speed-ups of the decide path must not move a single decision.

The corpus (``smartrouter.testing.decision_corpus``) is 1,500 seeded intents over 300
customers in 16 zones, across daylight-saving changes, with budgets, fatigue and learned
models; the digests were written before the optimisations of the decide path.
"""

from __future__ import annotations

import json
from pathlib import Path

from smartrouter.testing import decision_corpus

EXPECTED = Path(__file__).resolve().parents[1] / "fixtures" / "decision-digests.json"


def test_every_decision_of_the_corpus_is_unchanged():
    expected = json.loads(EXPECTED.read_text())
    got = decision_corpus.digests()
    changed = sorted(i for i, d in expected["digests"].items() if got["digests"].get(i) != d)
    assert not changed, (
        f"{len(changed)} of {len(expected['digests'])} decisions changed, first "
        f"{changed[:10]}; actions now {got['actions']}, were {expected['actions']}. If the "
        f"change is meant to move decisions, regenerate {EXPECTED.name} (see the corpus module)")
    assert got["actions"] == expected["actions"]
