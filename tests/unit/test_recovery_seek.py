"""streams.compat.recovery_seek: a seek Faust's recovery asks for without an offset goes to
the partition's start; every real offset is kept."""

from __future__ import annotations

from smartrouter.streams.compat.recovery_seek import seekable


def test_a_partition_without_an_offset_is_read_from_its_start() -> None:
    fixed, repaired = seekable({"a": None, "b": 17, "c": 0, "d": -1})
    assert fixed == {"a": 0, "b": 17, "c": 0, "d": 0}
    assert sorted(repaired) == ["a", "d"]


def test_offsets_that_aiokafka_accepts_are_left_alone() -> None:
    offsets = {n: n * 7 for n in range(10)}
    assert seekable(offsets) == (offsets, [])
