"""The due-time index the tick agents use instead of scanning their tables."""

from smartrouter.engine.due_index import DueIndex


def test_pops_only_what_is_due_oldest_first_per_partition() -> None:
    index = DueIndex()
    index.build(0, [("late", 300.0), ("early", 100.0), ("mid", 200.0)])
    index.build(1, [("other", 50.0)])
    assert index.pop_due(0, 99.0) == []
    assert index.pop_due(0, 200.0) == ["early", "mid"]
    assert index.pop_due(0, 1e9) == ["late"]
    assert index.pop_due(1, 1e9) == ["other"]


def test_adds_before_the_build_are_left_to_the_builds_scan() -> None:
    index = DueIndex()
    index.add(3, "written-before-first-tick", 10.0)
    assert not index.is_built(3) and index.size(3) == 0
    index.build(3, [("written-before-first-tick", 10.0)])
    index.add(3, "after", 5.0)
    assert index.pop_due(3, 20.0) == ["after", "written-before-first-tick"]


def test_forgotten_partitions_are_rebuilt_not_merged() -> None:
    index = DueIndex()
    index.build(0, [("a", 1.0)])
    index.forget({0, 7})
    assert not index.is_built(0)
    assert index.pop_due(0, 10.0) == []
    index.build(0, [("b", 2.0)])
    assert index.pop_due(0, 10.0) == ["b"]


def test_many_entries_cost_only_the_due_ones() -> None:
    index = DueIndex()
    index.build(0, [(f"k{i}", float(i)) for i in range(50_000)])
    assert index.pop_due(0, 9.0) == [f"k{i}" for i in range(10)]
    assert index.size(0) == 49_990
