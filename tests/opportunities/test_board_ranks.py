"""Fractional ranks: a key strictly between any two, short keys, no renumbering."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opportunities.services.board import (
    RankError,
    rank_between,
    rank_is_valid,
    ranks_between,
)


def test_first_key_and_keys_either_side() -> None:
    first = rank_between(None, None)
    assert rank_is_valid(first)
    above, below = rank_between(None, first), rank_between(first, None)
    assert above < first < below


def test_appending_a_thousand_times_keeps_keys_short() -> None:
    key = rank_between(None, None)
    for _ in range(1000):
        nxt = rank_between(key, None)
        assert nxt > key
        key = nxt
    assert len(key) <= 4


def test_inserting_at_the_same_place_repeatedly_stays_ordered() -> None:
    low, high = rank_between(None, None), None
    high = rank_between(low, None)
    keys = [low, high]
    for _ in range(200):
        mid = rank_between(keys[0], keys[1])
        assert keys[0] < mid < keys[1]
        keys[1] = mid
    assert len(keys[1]) < 48


def test_demo_seed_keys_are_usable_neighbours() -> None:
    # The demo seed writes "a" + five base-36 digits + two more; they sort as strings.
    a, b = "a0000016", "a0000116"
    mid = rank_between(a, b)
    assert a < mid < b


@pytest.mark.parametrize(
    ("a", "b"),
    [("a1", "a1"), ("a2", "a1"), ("n", None), (None, "a10"), ("a0!", None), ("", None)],
)
def test_equal_out_of_order_or_malformed_neighbours_are_refused(a, b) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RankError):
        rank_between(a, b)


def test_n_keys_between_are_increasing_and_inside() -> None:
    keys = ranks_between("a1", "a2", 50)
    assert keys == sorted(keys) and len(set(keys)) == 50
    assert all("a1" < k < "a2" for k in keys)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=60))
def test_any_sequence_of_insertions_keeps_a_strict_order(positions: list[int]) -> None:
    keys: list[str] = []
    for position in positions:
        i = position % (len(keys) + 1)
        low = keys[i - 1] if i > 0 else None
        high = keys[i] if i < len(keys) else None
        key = rank_between(low, high)
        assert rank_is_valid(key)
        keys.insert(i, key)
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_python_order_matches_byte_order() -> None:
    # The column is collation "C": the database must sort the keys exactly as Python does.
    keys = ranks_between(None, None, 300)
    shuffled = keys[:]
    random.Random(1).shuffle(shuffled)
    assert sorted(shuffled, key=lambda k: k.encode("ascii")) == keys
