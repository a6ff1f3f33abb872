"""``DataLoader`` and ``default_collate``: batches of samples from a map-style data set, as Tensors."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from tinygrad_cnn.data.dataset import SampleBatch
from tinygrad_cnn.functions.array import stack
from tinygrad_cnn.random import Generator, numpy_generator
from tinygrad_cnn.tensor import Tensor

__all__ = ["DataLoader", "default_collate"]


def _stack_arrays(arrays: Sequence[np.ndarray]) -> Tensor:
    first = arrays[0]
    for i, a in enumerate(arrays):
        if a.shape != first.shape:
            raise RuntimeError(
                f"default_collate: stack expects each sample to be equal size, but got {first.shape} at entry 0 and "
                f"{a.shape} at entry {i}"
            )
        if a.dtype.kind not in "fiub":
            raise TypeError(f"default_collate: batch must contain numbers or arrays of numbers; found dtype {a.dtype}")
    return Tensor(np.stack(arrays))


def _collate_columns(elem: Any, column: Any) -> Any:
    """Wrap an already stacked field (from ``SampleBatch``) the way collating ``elem``-like samples would."""
    if isinstance(column, Tensor):
        return column
    if isinstance(column, np.ndarray):
        if isinstance(elem, float) and column.dtype.kind == "f":
            return Tensor(column.astype(np.float64))
        return Tensor(column)
    return default_collate(list(column))


def default_collate(batch: Sequence[Any]) -> Any:
    """Merge a list of samples into a batch, following ``torch.utils.data.default_collate``.

    * Tensors and numpy arrays are stacked along a new first dim (dtype kept);
    * Python ints become an int64 Tensor, floats a float64 Tensor, bools a bool Tensor; numpy scalars
      keep their dtype;
    * strings and bytes are returned as the list;
    * a dict (any Mapping) gives a dict of the collated values per key; a namedtuple gives the same
      namedtuple of collated fields; a tuple or list of fields gives a *list* of collated fields
      (torch does the same: ``for x, y in loader`` unpacks it).

    Stacking Tensors that require grad keeps the graph (``tinygrad_cnn.stack``); otherwise the result
    is a plain Tensor.
    """
    if isinstance(batch, SampleBatch) and batch:
        elem = batch[0]
        if isinstance(elem, tuple) and len(elem) == len(batch.columns) and not hasattr(elem, "_fields"):
            return [_collate_columns(e, c) for e, c in zip(elem, batch.columns)]
    if len(batch) == 0:
        raise ValueError("default_collate: got an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        if not all(isinstance(b, Tensor) for b in batch):
            raise TypeError("default_collate: a batch mixes Tensors with other types")
        if any(b.requires_grad for b in batch):
            return stack(list(batch))
        return _stack_arrays([b.data for b in batch])
    if isinstance(elem, np.ndarray):
        return _stack_arrays([np.asarray(b) for b in batch])
    if isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        return _stack_arrays([np.asarray(b) for b in batch])
    if isinstance(elem, bool):
        return Tensor(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    elem_type: Any = type(elem)
    if isinstance(elem, Mapping):
        try:
            return elem_type({key: default_collate([d[key] for d in batch]) for key in elem})
        except TypeError:
            return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(default_collate(list(samples)) for samples in zip(*batch)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of equal size")
        transposed = [default_collate(list(samples)) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return transposed
        try:
            return elem_type(transposed)
        except TypeError:
            return transposed
    raise TypeError(
        "default_collate: batch must contain Tensors, numpy arrays, numbers, dicts or lists; "
        f"found {type(elem).__name__}"
    )


class DataLoader:
    """Iterate over a map-style data set in batches.

    Args:
        dataset: anything with ``__len__`` and ``__getitem__``; if it also has ``__getitems__(indices)``
            (torch's batch protocol) a whole batch is fetched with one call.
        batch_size: samples per batch, a positive int.
        shuffle: draw a new random order at the start of every epoch (every ``iter(loader)``).
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        generator: the ``tinygrad_cnn.Generator`` shuffling draws from; by default the global one, so
            ``tinygrad_cnn.manual_seed(s)`` makes the order reproducible.
        collate_fn: merges a list of samples into a batch; default ``default_collate`` (Tensors out).
        num_workers: accepted for PyTorch compatibility (an int >= 0) but ignored: loading always
            happens in the main process, in order.

    ``len(loader)`` is the number of batches: ``ceil(len(dataset) / batch_size)``, or the floor with
    ``drop_last=True``.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: Generator | None = None,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        num_workers: int = 0,
    ) -> None:
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                f"DataLoader: dataset: expected a map-style data set with __len__ and __getitem__, "
                f"got {type(dataset).__name__}"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"DataLoader: batch_size should be a positive integer value, got batch_size={batch_size!r}")
        if batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size should be a positive integer value, got batch_size={batch_size}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)):
            raise TypeError(f"DataLoader: num_workers should be an int >= 0, got num_workers={num_workers!r}")
        if num_workers < 0:
            raise ValueError(f"DataLoader: num_workers should be an int >= 0, got num_workers={num_workers}")
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(f"DataLoader: generator: expected a tinygrad_cnn.Generator, got {type(generator).__name__}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn: expected a callable, got {type(collate_fn).__name__}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.collate_fn = default_collate if collate_fn is None else collate_fn
        self.num_workers = int(num_workers)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> _LoaderIterator:
        n = len(self.dataset)
        order = numpy_generator(self.generator).permutation(n) if self.shuffle else np.arange(n)
        return _LoaderIterator(self, order)

    def __repr__(self) -> str:
        return (
            f"DataLoader(dataset={type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last})"
        )


class _LoaderIterator(Iterator):
    """One epoch of a ``DataLoader``; its order is fixed when ``iter(loader)`` is called."""

    def __init__(self, loader: DataLoader, order: np.ndarray) -> None:
        self._loader = loader
        self._order = order
        self._pos = 0
        self._end = len(order) - len(order) % loader.batch_size if loader.drop_last else len(order)
        self._getitems = getattr(loader.dataset, "__getitems__", None)

    def __len__(self) -> int:
        return -(-(self._end - self._pos) // self._loader.batch_size)

    def __next__(self) -> Any:
        if self._pos >= self._end:
            raise StopIteration
        stop = min(self._pos + self._loader.batch_size, self._end)
        indices = self._order[self._pos : stop].tolist()
        self._pos = stop
        if self._getitems is not None:
            samples = self._getitems(indices)
        else:
            dataset = self._loader.dataset
            samples = [dataset[i] for i in indices]
        return self._loader.collate_fn(samples)
