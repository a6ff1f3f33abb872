"""Dataset, TensorDataset, Subset, ConcatDataset, random_split, DataLoader and default_collate."""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    SampleBatch,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)

try:
    import torch
    import torch.utils.data as tud
except ImportError:  # pragma: no cover - torch is optional
    torch = None


class Indices(Dataset):
    """Item i is the Python int i (no __getitems__: the per-item path)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i


class CountingBatches(Indices):
    """Like Indices but with torch's __getitems__ protocol; records the calls."""

    def __init__(self, n: int) -> None:
        super().__init__(n)
        self.calls: list[list[int]] = []

    def __getitems__(self, indices: list[int]) -> list[int]:
        self.calls.append(list(indices))
        return list(indices)


def _order(loader: DataLoader) -> list[int]:
    return [int(v) for batch in loader for v in batch.data.tolist()]


# -- TensorDataset, Subset, ConcatDataset ------------------------------------------------------------


def test_tensor_dataset_items_keep_input_types() -> None:
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = tc.tensor([0, 1, 2, 3, 4, 5])
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    a, b = ds[4]
    assert isinstance(a, np.ndarray) and a.tolist() == [8.0, 9.0]
    assert isinstance(b, tc.Tensor) and b.item() == 4 and b.dtype == tc.int64


def test_tensor_dataset_size_mismatch_names_sizes() -> None:
    with pytest.raises(ValueError, match=r"\[5, 4\]"):
        TensorDataset(np.zeros((5, 2)), tc.zeros(4))
    with pytest.raises(TypeError, match="tensors\\[1\\]"):
        TensorDataset(np.zeros(3), [1, 2, 3])
    with pytest.raises(ValueError):
        TensorDataset()


def test_tensor_dataset_getitems_matches_getitem() -> None:
    x = np.random.default_rng(0).random((7, 3))
    y = tc.arange(7)
    ds = TensorDataset(x, y)
    batch = ds.__getitems__([6, 0, 3])
    assert isinstance(batch, SampleBatch) and len(batch) == 3
    for (bx, by), i in zip(batch, [6, 0, 3], strict=True):
        ex, ey = ds[i]
        np.testing.assert_array_equal(bx, ex)
        assert by.item() == ey.item()


def test_subset_and_concat() -> None:
    base = Indices(10)
    sub = Subset(base, [7, 2, 5])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [7, 2, 5]
    assert sub.__getitems__([2, 0]) == [5, 7]
    cat = base + Indices(3)
    assert isinstance(cat, ConcatDataset) and len(cat) == 13
    assert [cat[i] for i in range(13)] == list(range(10)) + [0, 1, 2]
    assert cat[-1] == 2
    with pytest.raises(IndexError):
        cat[13]


def test_base_dataset_is_abstract() -> None:
    with pytest.raises(NotImplementedError):
        Dataset()[0]
    with pytest.raises(NotImplementedError):
        len(Dataset())


# -- DataLoader: batching, len, drop_last ------------------------------------------------------------


def test_batches_in_order() -> None:
    loader = DataLoader(TensorDataset(np.arange(10)), batch_size=3)
    batches = [b[0].data.tolist() for b in loader]
    assert batches == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert len(loader) == 4
    loader = DataLoader(TensorDataset(np.arange(10)), batch_size=3, drop_last=True)
    assert [b[0].data.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert len(loader) == 3


@given(
    n=st.integers(0, 40),
    batch_size=st.integers(1, 12),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    fast=st.booleans(),
)
def test_every_index_once_per_epoch(n: int, batch_size: int, shuffle: bool, drop_last: bool, fast: bool) -> None:
    ds = CountingBatches(n) if fast else Indices(n)
    loader = DataLoader(ds, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last)
    batches = [b.data.tolist() for b in loader]
    assert len(batches) == len(loader)
    expected_len = n // batch_size if drop_last else math.ceil(n / batch_size)
    assert len(loader) == expected_len
    assert all(len(b) == batch_size for b in batches[:-1])
    if batches and drop_last:
        assert len(batches[-1]) == batch_size
    flat = [i for b in batches for i in b]
    assert len(flat) == len(set(flat))
    if drop_last:
        assert len(flat) == (n // batch_size) * batch_size
    else:
        assert sorted(flat) == list(range(n))
    if not shuffle:
        assert flat == list(range(len(flat)))
    if fast:
        assert ds.calls == batches  # one __getitems__ call per batch


@pytest.mark.skipif(torch is None, reason="torch not installed")
@given(n=st.integers(0, 60), batch_size=st.integers(1, 16), drop_last=st.booleans())
def test_len_matches_torch(n: int, batch_size: int, drop_last: bool) -> None:
    ours = DataLoader(Indices(n), batch_size=batch_size, drop_last=drop_last)
    theirs = tud.DataLoader(list(range(n)), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)


def test_shuffle_reproducible_with_manual_seed() -> None:
    loader = DataLoader(Indices(50), batch_size=8, shuffle=True)
    tc.manual_seed(123)
    a1, a2 = _order(loader), _order(loader)
    tc.manual_seed(123)
    b1, b2 = _order(loader), _order(loader)
    assert a1 == b1 and a2 == b2
    assert a1 != a2  # a fresh permutation every epoch
    assert sorted(a1) == list(range(50))
    tc.manual_seed(124)
    assert _order(loader) != a1


def test_shuffle_with_generator_leaves_global_alone() -> None:
    ds = Indices(40)
    a = _order(DataLoader(ds, batch_size=5, shuffle=True, generator=tc.Generator(7)))
    tc.manual_seed(0)
    state = tc.get_rng_state()
    b = _order(DataLoader(ds, batch_size=5, shuffle=True, generator=tc.Generator(7)))
    assert a == b
    assert tc.get_rng_state()["bit_generator"] == state["bit_generator"]
    assert a != _order(DataLoader(ds, batch_size=5, shuffle=True, generator=tc.Generator(8)))


def test_permutation_drawn_at_iter_time() -> None:
    loader = DataLoader(Indices(30), batch_size=4, shuffle=True)
    tc.manual_seed(5)
    expected = _order(loader)
    tc.manual_seed(5)
    it = iter(loader)
    tc.manual_seed(999)  # reseeding after iter() does not change this epoch
    got = [int(v) for batch in it for v in batch.data.tolist()]
    assert got == expected
    it = iter(loader)
    assert len(it) == len(loader)
    next(it)
    assert len(it) == len(loader) - 1


def test_fast_path_equals_item_path() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 255, size=(23, 2, 3), dtype=np.uint8)
    y = rng.integers(0, 10, size=23)
    fast = TensorDataset(x, y)
    slow = Subset(fast, list(range(23)))
    slow_items = [fast[i] for i in range(23)]  # plain list: the per-item path
    for ds in (fast, slow, slow_items):
        tc.manual_seed(3)
        out = list(DataLoader(ds, batch_size=5, shuffle=True))
        tc.manual_seed(3)
        ref = list(DataLoader(fast, batch_size=5, shuffle=True))
        assert len(out) == len(ref)
        for (ox, oy), (rx, ry) in zip(out, ref, strict=True):
            assert ox.dtype == rx.dtype == np.uint8 and oy.dtype == ry.dtype == np.int64
            np.testing.assert_array_equal(ox.data, rx.data)
            np.testing.assert_array_equal(oy.data, ry.data)


def test_custom_collate_gets_list_of_samples() -> None:
    seen = []

    def collate(samples: list) -> int:
        seen.append(samples)
        return len(samples)

    ds = TensorDataset(np.arange(7), np.arange(7) * 10)
    assert list(DataLoader(ds, batch_size=3, collate_fn=collate)) == [3, 3, 1]
    assert [(int(a), int(b)) for a, b in seen[1]] == [(3, 30), (4, 40), (5, 50)]


def test_num_workers_accepted_and_ignored() -> None:
    loader = DataLoader(Indices(5), batch_size=2, num_workers=4)
    assert loader.num_workers == 4 and _order(loader) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("bad", [0, -3])
def test_batch_size_value_error(bad: int) -> None:
    with pytest.raises(ValueError, match=f"batch_size={bad}"):
        DataLoader(Indices(3), batch_size=bad)


@pytest.mark.parametrize("bad", [1.5, "2", True, None])
def test_batch_size_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="batch_size"):
        DataLoader(Indices(3), batch_size=bad)


def test_other_argument_errors() -> None:
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(Indices(3), num_workers=-1)
    with pytest.raises(TypeError, match="num_workers"):
        DataLoader(Indices(3), num_workers=1.0)
    with pytest.raises(TypeError, match="dataset"):
        DataLoader(iter(range(3)))
    with pytest.raises(TypeError, match="dataset"):
        DataLoader(5)
    with pytest.raises(TypeError, match="generator"):
        DataLoader(Indices(3), shuffle=True, generator=np.random.default_rng(0))
    with pytest.raises(TypeError, match="collate_fn"):
        DataLoader(Indices(3), collate_fn=3)


# -- default_collate ---------------------------------------------------------------------------------


def test_collate_numbers_follow_torch() -> None:
    assert default_collate([1, 2, 3]).dtype == np.int64
    assert default_collate([1.0, 2.5]).dtype == np.float64
    assert default_collate([True, False]).dtype == np.bool_
    assert default_collate([np.float32(1), np.float32(2)]).dtype == np.float32
    assert default_collate([np.int16(1), np.int16(2)]).dtype == np.int16
    out = default_collate([np.zeros((2, 3), np.uint8), np.ones((2, 3), np.uint8)])
    assert isinstance(out, tc.Tensor) and out.shape == (2, 2, 3) and out.dtype == np.uint8
    out = default_collate([tc.ones(2), tc.zeros(2)])
    assert out.shape == (2, 2) and out.dtype == np.float32 and out.data.tolist() == [[1, 1], [0, 0]]
    assert default_collate(["a", "b"]) == ["a", "b"]


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize(
    "batch",
    [[1, 2], [1.5, 2.0], [True, False], [np.float32(1), np.float32(2)], [np.arange(3, dtype=np.int32)] * 2,
     [np.zeros(2, np.uint8)] * 2, [np.float64(3.0)] * 2],
)  # fmt: skip
def test_collate_dtypes_match_torch(batch: list) -> None:
    ours = default_collate(batch)
    theirs = tud.default_collate(batch)
    assert str(theirs.dtype).removeprefix("torch.") == ("bool" if ours.dtype == np.bool_ else ours.dtype.name)
    np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_collate_structures() -> None:
    Point = namedtuple("Point", ["x", "y"])
    out = default_collate([(np.zeros(2), 1, {"a": 1.0, "b": [1, 2]}), (np.ones(2), 2, {"a": 2.0, "b": [3, 4]})])
    assert isinstance(out, list) and len(out) == 3  # tuples collate to a list, as in torch
    assert out[0].shape == (2, 2) and out[1].data.tolist() == [1, 2]
    assert set(out[2]) == {"a", "b"} and out[2]["a"].data.tolist() == [1.0, 2.0]
    assert [t.data.tolist() for t in out[2]["b"]] == [[1, 3], [2, 4]]
    p = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(p, Point) and p.x.data.tolist() == [1, 3] and p.y.dtype == np.float64
    lists = default_collate([[1, 2], [3, 4]])
    assert isinstance(lists, list) and [t.data.tolist() for t in lists] == [[1, 3], [2, 4]]


def test_collate_errors() -> None:
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([(1, 2), (1, 2, 3)])
    with pytest.raises(TypeError):
        default_collate([object(), object()])
    with pytest.raises(TypeError):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_loader_yields_dicts() -> None:
    class Dicts(Indices):
        def __getitem__(self, i: int) -> dict:
            return {"x": np.full(2, i, np.float32), "y": i}

    batches = list(DataLoader(Dicts(5), batch_size=2))
    assert [b["y"].data.tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert batches[0]["x"].dtype == np.float32 and batches[0]["x"].shape == (2, 2)


# -- random_split ------------------------------------------------------------------------------------


def test_random_split_int_lengths_disjoint_covering() -> None:
    tc.manual_seed(0)
    parts = random_split(Indices(20), [5, 10, 5])
    assert [len(p) for p in parts] == [5, 10, 5]
    items = [p[i] for p in parts for i in range(len(p))]
    assert sorted(items) == list(range(20))
    assert items != list(range(20))


def test_random_split_reproducible() -> None:
    tc.manual_seed(4)
    a = [list(p.indices) for p in random_split(Indices(30), [0.5, 0.5])]
    tc.manual_seed(4)
    b = [list(p.indices) for p in random_split(Indices(30), [0.5, 0.5])]
    assert a == b
    c = [list(p.indices) for p in random_split(Indices(30), [15, 15], generator=tc.Generator(1))]
    d = [list(p.indices) for p in random_split(Indices(30), [15, 15], generator=tc.Generator(1))]
    assert c == d


@given(
    n=st.integers(0, 200),
    weights=st.lists(st.integers(1, 20), min_size=1, max_size=5),
)
def test_random_split_fractions_like_torch(n: int, weights: list[int]) -> None:
    fractions = [w / sum(weights) for w in weights]
    if not (math.isclose(sum(fractions), 1) and sum(fractions) <= 1):
        fractions[-1] = 1 - sum(fractions[:-1])
    if not (math.isclose(sum(fractions), 1) and sum(fractions) <= 1):
        return
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parts = random_split(Indices(n), fractions, generator=tc.Generator(0))
        sizes = [len(p) for p in parts]
        assert sum(sizes) == n
        floors = [math.floor(n * f) for f in fractions]
        assert all(s - f in (0, 1) for s, f in zip(sizes, floors, strict=True))
        flat = [i for p in parts for i in p.indices]
        assert sorted(flat) == list(range(n))
        if torch is not None:
            theirs = tud.random_split(range(n), fractions, generator=torch.Generator().manual_seed(0))
            assert sizes == [len(p) for p in theirs]


def test_random_split_errors() -> None:
    with pytest.raises(ValueError, match="sum of input lengths"):
        random_split(Indices(10), [3, 3])
    with pytest.raises(ValueError):
        random_split(Indices(10), [-1, 11])
    with pytest.raises(ValueError):
        random_split(Indices(10), [0.3, 0.3])  # fractions not summing to 1
    with pytest.raises(TypeError):
        random_split(Indices(10), ["5", "5"])
    with pytest.raises(TypeError, match="generator"):
        random_split(Indices(10), [5, 5], generator=1)
