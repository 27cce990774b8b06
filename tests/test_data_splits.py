"""The one seeded random split (ctlib.data.splits.random_split) and its two orders.

Stored runs are found by a hash that includes their split's indices, so both
orders are pinned here to the exact arrays the code has always produced.
"""
import numpy as np
import pytest

from ctlib.data.splits import random_split


def _cuts(n, seed, first, counts):
    """Reference: cut default_rng(seed).permutation(n) into runs of ``counts`` (the last
    run takes the rest), named in the order ``first``."""
    perm = np.random.default_rng(seed).permutation(n)
    a, b = counts
    return {first[0]: np.sort(perm[:a]), first[1]: np.sort(perm[a:a + b]),
            first[2]: np.sort(perm[a + b:])}


@pytest.mark.parametrize("n", [0, 1, 5, 9, 15, 25, 101, 3334])
@pytest.mark.parametrize("seed", [0, 42])
def test_orders_match_their_reference_cuts(n, seed):
    tenth = int(round(0.1 * n))
    test_first = _cuts(n, seed, ("test", "val", "train"), (tenth, tenth))
    train_first = _cuts(n, seed, ("train", "val", "test"), (int(round(0.8 * n)), tenth))
    for got, want in ((random_split(n, seed), test_first),
                      (random_split(n, seed, order="train_first"), train_first)):
        assert set(got) == {"train", "val", "test"}
        for k in want:
            assert got[k].dtype == np.int64
            np.testing.assert_array_equal(got[k], want[k])
        assert np.array_equal(np.sort(np.concatenate(list(got.values()))), np.arange(n))


def test_orders_are_pinned():
    """Literal arrays of the code before the two splits were merged (n=12, seed 42)."""
    got = {k: v.tolist() for k, v in random_split(12, 42).items()}
    assert got == {"train": [1, 2, 3, 4, 5, 6, 8, 9, 10, 11], "val": [7], "test": [0]}
    got = {k: v.tolist() for k, v in random_split(12, 42, order="train_first").items()}
    assert got == {"train": [0, 2, 3, 4, 5, 6, 7, 9, 10, 11], "val": [1], "test": [8]}
    # the rounding remainder goes to different parts: n=15 -> 11/2/2 vs 12/2/1
    assert [len(v) for v in random_split(15, 0).values()] == [11, 2, 2]
    assert [len(v) for v in random_split(15, 0, order="train_first").values()] == [12, 2, 1]


def test_unknown_order_is_rejected():
    with pytest.raises(ValueError, match="unknown random split order"):
        random_split(10, 0, order="val_first")
