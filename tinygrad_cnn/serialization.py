"""Weights and checkpoint files in the safetensors format: no pickle, atomic writes.

File format
-----------
Every file written here is a plain `safetensors <https://huggingface.co/docs/safetensors>`_ file:
an 8-byte little-endian header length ``N``, ``N`` bytes of JSON header (names, dtypes, shapes, byte
offsets and an optional ``__metadata__`` map of str to str), then the raw little-endian tensor bytes.
``safetensors.torch.load_file`` reads them in PyTorch, and files written by ``safetensors.torch.save_file``
(in the dtypes listed below) load here.

* ``save(tensors, path, metadata=None)`` / ``load(path)`` / ``load_metadata(path)``: a flat mapping
  of names to tensors, like a model's ``state_dict()``.
* ``save_state(obj, path)`` / ``load_state(path)``: a nested training checkpoint (model and optimizer
  state, epoch, RNG state, metrics, ...). Tensors and arrays are stored as safetensors tensors named
  ``t0``, ``t1``, ...; the structure around them is JSON in the metadata key ``"tinygrad_cnn.state"``,
  with type tags so that tuples, int dict keys, Tensors, ndarrays and numpy scalars come back as such.

Guarantees
----------
* No pickle: loading a file never runs code from it; it only parses JSON and copies bytes.
* Atomic writes: the bytes go to a temporary file in the target's folder (``.<name>.<random>.tmp``),
  which is flushed and ``fsync``-ed, then renamed over the target with ``os.replace``; the folder is
  ``fsync``-ed afterwards (best effort). A reader, or a program killed at any moment (even by SIGKILL),
  sees either the complete old file or the complete new one, never a mix or a truncated file. On an
  exception the temporary file is removed and the old file is untouched; after a hard kill a stray
  ``.<name>.*.tmp`` file may remain (it is never at the target path, and is safe to delete).
* Loading validates the file (header length against the file size, the header, the byte ranges)
  and raises ``ValueError`` naming the file for a truncated, corrupted, empty or foreign file.
  The format has no checksum: flipped bits inside the tensor data are not detected.

Dtypes: float16/32/64, int8/16/32/64, uint8/16/32/64 and bool. bfloat16, float8 and complex tensors
(which numpy or ``Tensor`` cannot hold) are refused with a ``ValueError`` naming the tensor.

Differences from PyTorch: ``torch.save`` pickles arbitrary objects; here ``save`` takes a flat mapping
of tensors (``safetensors.torch.save_file``'s contract) and ``save_state`` a fixed set of plain types.
Loaded tensors are fresh, writable copies; ``load`` returns tensors that do not require grad, while
``save_state`` keeps each Tensor's ``requires_grad`` flag (not its ``.grad``).
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import secrets
import stat
import struct
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import safetensors.numpy
from safetensors import safe_open

try:
    from safetensors import SafetensorError
except ImportError:  # pragma: no cover - older safetensors
    from safetensors._safetensors_rust import SafetensorError  # type: ignore[import-not-found,no-redef]  # no stub

from tinygrad_cnn.tensor import Tensor

__all__ = ["load", "load_metadata", "load_state", "save", "save_state"]

PathLike = str | os.PathLike

STATE_KEY = "tinygrad_cnn.state"  # metadata key holding a save_state checkpoint's JSON structure
STATE_VERSION = 1

# safetensors dtype names <-> numpy dtypes that both numpy and Tensor hold.
_FROM_SAFETENSORS: dict[str, np.dtype] = {
    "F16": np.dtype(np.float16), "F32": np.dtype(np.float32), "F64": np.dtype(np.float64),
    "I8": np.dtype(np.int8), "I16": np.dtype(np.int16), "I32": np.dtype(np.int32), "I64": np.dtype(np.int64),
    "U8": np.dtype(np.uint8), "U16": np.dtype(np.uint16), "U32": np.dtype(np.uint32), "U64": np.dtype(np.uint64),
    "BOOL": np.dtype(np.bool_),
}  # fmt: skip
_SUPPORTED_DTYPES = frozenset(_FROM_SAFETENSORS.values())
_SUPPORTED_NAMES = "float16/32/64, int8/16/32/64, uint8/16/32/64, bool"
_WRITE_CHUNK = 1 << 24


# -- writing ------------------------------------------------------------------------------------------
def save(tensors: Mapping[str, Tensor | np.ndarray], path: PathLike, metadata: Mapping[str, str] | None = None) -> None:
    """Write ``tensors`` (name -> Tensor or ndarray) to ``path`` as a safetensors file, atomically.

    Each tensor is stored as a contiguous little-endian copy of its data, with its dtype and shape
    (``requires_grad`` and ``.grad`` are not stored). ``metadata`` (str -> str) goes to the header's
    ``__metadata__``. The file is complete or absent: see the module docstring.

    Raises ``TypeError`` for a key that is not a str, a value that is not a Tensor/ndarray, or an
    unsupported dtype (each message names the key); ``FileNotFoundError`` when the parent folder is missing.
    Unlike ``torch.save`` it takes a flat mapping of tensors, not arbitrary objects (see ``save_state``).
    """
    if not isinstance(tensors, Mapping):
        raise TypeError(f"tensors: expected a mapping of str to Tensor or numpy.ndarray, got {type(tensors).__name__}")
    arrays: dict[str, np.ndarray] = {}
    for key, value in tensors.items():
        if not isinstance(key, str):
            raise TypeError(f"tensors: key {key!r} is of type {type(key).__name__}; keys must be str")
        if key == "__metadata__":
            raise ValueError("tensors: the key '__metadata__' is reserved by the safetensors format")
        if isinstance(value, Tensor):
            array = value.data
        elif isinstance(value, np.ndarray):
            array = value
        else:
            raise TypeError(
                f"tensors[{key!r}]: expected a Tensor or numpy.ndarray, got an object of type {type(value).__name__}"
            )
        arrays[key] = _storable_copy(array, f"tensors[{key!r}]")
    _atomic_write(path, safetensors.numpy.save(arrays, metadata=_check_metadata(metadata)))


def _check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str] | None:
    if metadata is None:
        return None
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata: expected a mapping of str to str, got {type(metadata).__name__}")
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(
                f"metadata: entries must be str -> str; got {key!r} ({type(key).__name__}) -> {type(value).__name__}"
            )
    return dict(metadata)


def _storable_copy(array: np.ndarray, where: str) -> np.ndarray:
    """A C-contiguous, little-endian copy of ``array`` (never a view: later writes can't change the file)."""
    if array.dtype.newbyteorder("=") not in _SUPPORTED_DTYPES:
        raise TypeError(f"{where}: cannot save dtype {array.dtype}; supported dtypes are {_SUPPORTED_NAMES}")
    return np.array(array, dtype=array.dtype.newbyteorder("<"), order="C", copy=True)


def _atomic_write(path: PathLike, data: bytes) -> None:
    """Replace the file at ``path`` by ``data``: temp file in the same folder, fsync, ``os.replace``, fsync folder.

    On any exception (including KeyboardInterrupt) the temp file is removed and ``path`` is untouched.
    """
    target = os.path.realpath(os.fspath(path))  # through a symlink, like open(path, "wb")
    directory, name = os.path.split(target)
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            errno.ENOENT, f"cannot save {os.fspath(path)!r}: the parent folder does not exist", directory
        )
    fd, tmp = _create_temp(directory, name)
    try:
        try:
            with contextlib.suppress(OSError):  # keep the mode of the file being replaced
                if hasattr(os, "fchmod"):
                    os.fchmod(fd, stat.S_IMODE(os.stat(target).st_mode))
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _create_temp(directory: str, name: str) -> tuple[int, str]:
    """Create a new, empty ``.<name>.<random>.tmp`` in ``directory`` (mode 0o666 minus the umask)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "could not create a unique temporary file", directory)  # pragma: no cover


def _write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to the file descriptor ``fd`` (``os.write`` may write less than asked)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view[:_WRITE_CHUNK])
        view = view[written:]


def _fsync_directory(directory: str) -> None:
    """Make the rename durable (best effort: not every OS or file system can fsync a folder)."""
    if os.name == "nt":  # pragma: no cover
        return
    with contextlib.suppress(OSError):
        dfd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


# -- reading ------------------------------------------------------------------------------------------
def load(path: PathLike) -> dict[str, Tensor]:
    """Read a safetensors file: name -> Tensor (fresh writable arrays, ``requires_grad=False``).

    Raises ``FileNotFoundError`` when the file is missing; ``ValueError`` naming the file when it is not a
    valid safetensors file (truncated, corrupted, empty, another format), or naming the tensor when its
    dtype (e.g. bfloat16) is not supported.
    """
    _metadata, arrays = _read(path)
    return {key: Tensor(array) for key, array in arrays.items()}


def load_metadata(path: PathLike) -> dict[str, str]:
    """The ``__metadata__`` (str -> str) of a safetensors file; ``{}`` when it has none. Errors as ``load``."""
    return _read(path, tensors=False)[0]


def _invalid(path: PathLike, reason: str) -> ValueError:
    return ValueError(f"{os.fspath(path)!r} is not a valid safetensors file: {reason}")


def _read(path: PathLike, tensors: bool = True) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """Validate the file at ``path`` and read its metadata and (if ``tensors``) its arrays."""
    _check_header_length(path)
    try:
        with safe_open(os.fspath(path), framework="np") as f:
            metadata = dict(f.metadata() or {})
            arrays: dict[str, np.ndarray] = {}
            if tensors:
                for key in f.keys():
                    dtype = f.get_slice(key).get_dtype()
                    if dtype not in _FROM_SAFETENSORS:
                        raise ValueError(
                            f"{os.fspath(path)!r}: tensor {key!r} has dtype {dtype}, which cannot be loaded here "
                            f"(supported: {_SUPPORTED_NAMES})"
                        )
                    array = f.get_tensor(key)
                    # A fresh, writable array that owns its memory (independent of the file and of the others).
                    arrays[key] = np.require(
                        array.astype(array.dtype.newbyteorder("="), copy=False), None, ["C", "W", "O"]
                    )
    except SafetensorError as exc:
        raise _invalid(path, str(exc)) from exc
    return metadata, arrays


def _check_header_length(path: PathLike) -> None:
    """Check the 8-byte header length against the file size (catches truncation before safetensors does)."""
    with open(path, "rb") as f:  # FileNotFoundError / IsADirectoryError name the path
        size = os.fstat(f.fileno()).st_size
        head = f.read(8)
    if size < 8 or len(head) < 8:
        raise _invalid(path, f"the file has {size} bytes, fewer than the 8-byte header length")
    n = int.from_bytes(head, "little")
    if n < 2 or n > size - 8:
        raise _invalid(path, f"the header length {n} does not fit in the file ({size} bytes): truncated or corrupted")


# -- nested checkpoints --------------------------------------------------------------------------------
def save_state(obj: Any, path: PathLike) -> None:
    """Save a nested training checkpoint to ``path`` as a safetensors file, atomically and without pickle.

    ``obj`` may nest dict (str or int keys; subclasses such as OrderedDict load as dict), list, tuple,
    Tensor, numpy.ndarray, numpy scalars, int (any size), float (nan/inf included), bool, str and None.
    Tensors and arrays become safetensors tensors ``t0``, ``t1``, ... (contiguous copies, dtype and
    shape kept); the structure is JSON in the metadata key ``"tinygrad_cnn.state"``. ``load_state``
    returns an equal structure: tuples as tuples, int keys as ints, Tensors (with their
    ``requires_grad``) as Tensors, ndarrays as ndarrays, numpy scalars with their dtype; an object that
    appears several times comes back as one shared object.

    Raises ``TypeError`` naming the place of an unsupported object, e.g.
    ``state['optimizer']['param_groups'][0]['fn']: cannot save object of type function``, and
    ``ValueError`` for a circular reference.
    """
    encoder = _Encoder()
    root = encoder.encode(obj, "state")
    document = json.dumps({"format": STATE_KEY, "version": STATE_VERSION, "root": root}, allow_nan=False)
    _atomic_write(path, safetensors.numpy.save(encoder.arrays, metadata={STATE_KEY: document}))


def load_state(path: PathLike) -> Any:
    """Load a checkpoint written by ``save_state``.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the file for an invalid
    safetensors file or one that is not a tinygrad_cnn checkpoint (no ``"tinygrad_cnn.state"`` metadata).
    """
    metadata, arrays = _read(path)
    if STATE_KEY not in metadata:
        raise ValueError(
            f"{os.fspath(path)!r} is not a tinygrad_cnn checkpoint (no {STATE_KEY!r} metadata); "
            "use tinygrad_cnn.load() for a plain safetensors file"
        )
    try:
        document = json.loads(metadata[STATE_KEY])
        if not isinstance(document, dict) or document.get("format") != STATE_KEY or "root" not in document:
            raise _CorruptState("the structure has no 'format'/'root' entries")
        if document.get("version") != STATE_VERSION:
            raise _CorruptState(f"unsupported checkpoint version {document.get('version')!r}")
        return _Decoder(arrays).decode(document["root"])
    except (_CorruptState, ValueError, RecursionError) as exc:
        raise ValueError(f"{os.fspath(path)!r} is a corrupted tinygrad_cnn checkpoint: {exc}") from exc


class _CorruptState(Exception):
    pass


_INT_JSON_BITS = 4000  # larger ints go as hex: json.loads refuses ints of over 4300 digits by default


class _Encoder:
    """Turns a nested object into JSON-able nodes, collecting arrays in ``self.arrays``.

    Nodes: null, true/false, JSON int, finite JSON float, str, a JSON list (a Python list), or a tagged
    object ``{"$": tag, ...}`` for dict (``items``: [key, node] pairs), tuple (``items``), big int
    (``hex``), non-finite float (``bits``: the IEEE 754 big-endian hex), tensor (``key``, ``requires_grad``),
    ndarray (``key``) and numpy scalar (``key``: a 0-d array).
    """

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self._keys: dict[int, tuple[str, Any]] = {}  # id(Tensor/ndarray) -> (key, object): shared objects
        self._active: set[int] = set()  # ids of the containers being encoded: cycle detection

    def _store(self, array: np.ndarray, where: str, obj: Any) -> str:
        if obj is not None and id(obj) in self._keys:
            return self._keys[id(obj)][0]
        key = f"t{len(self.arrays)}"
        self.arrays[key] = _storable_copy(array, where)
        if obj is not None:
            self._keys[id(obj)] = (key, obj)
        return key

    def encode(self, obj: Any, where: str) -> Any:
        kind = type(obj)
        if obj is None or kind is bool or kind is str:
            return obj
        if kind is int:
            return obj if obj.bit_length() <= _INT_JSON_BITS else {"$": "int", "hex": hex(obj)}
        if kind is float:
            return obj if math.isfinite(obj) else {"$": "float", "bits": struct.pack(">d", obj).hex()}
        if isinstance(obj, np.generic):
            return {"$": "scalar", "key": self._store(np.asarray(obj), where, None)}
        if isinstance(obj, Tensor):
            return {"$": "tensor", "key": self._store(obj.data, where, obj), "requires_grad": obj.requires_grad}
        if kind is np.ndarray:
            return {"$": "ndarray", "key": self._store(obj, where, obj)}
        if isinstance(obj, dict) or kind is list or kind is tuple:
            if id(obj) in self._active:
                raise ValueError(f"{where}: cannot save a circular reference (the {kind.__name__} contains itself)")
            self._active.add(id(obj))
            try:
                if isinstance(obj, dict):
                    return {"$": "dict", "items": [self._item(k, v, where) for k, v in obj.items()]}
                items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
                return items if kind is list else {"$": "tuple", "items": items}
            finally:
                self._active.discard(id(obj))
        hint = ""
        for base in (int, float, str, list, tuple, np.ndarray):
            if isinstance(obj, base):
                hint = f" (a subclass of {base.__name__}: convert it to {base.__name__} first)"
                break
        raise TypeError(f"{where}: cannot save object of type {kind.__name__}{hint}")

    def _item(self, key: Any, value: Any, where: str) -> list[Any]:
        if type(key) is not str and type(key) is not int:
            raise TypeError(
                f"{where}: cannot save dict key {key!r} of type {type(key).__name__}; keys must be str or int"
            )
        if type(key) is int and key.bit_length() > _INT_JSON_BITS:
            raise TypeError(f"{where}: cannot save dict key {key!r}: int keys must have at most 4000 bits")
        return [key, self.encode(value, f"{where}[{key!r}]")]


class _Decoder:
    """The inverse of ``_Encoder``; every malformed node raises ``_CorruptState``."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays
        self._objects: dict[tuple[str, str], Any] = {}  # shared Tensors/ndarrays come back shared

    def _array(self, node: dict[str, Any]) -> np.ndarray:
        key = node.get("key")
        if not isinstance(key, str) or key not in self.arrays:
            raise _CorruptState(f"reference to a missing tensor {key!r}")
        return self.arrays[key]

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(item) for item in node]
        if not isinstance(node, dict):
            raise _CorruptState(f"unexpected JSON value of type {type(node).__name__}")
        tag = node.get("$")
        if tag == "dict":
            result = {}
            for pair in self._items(node):
                if not (isinstance(pair, list) and len(pair) == 2 and type(pair[0]) in (str, int)):
                    raise _CorruptState(f"malformed dict item {pair!r}")
                result[pair[0]] = self.decode(pair[1])
            return result
        if tag == "tuple":
            return tuple(self.decode(item) for item in self._items(node))
        if tag == "int":
            return int(self._text(node, "hex"), 16)
        if tag == "float":
            bits = bytes.fromhex(self._text(node, "bits"))
            if len(bits) != 8:
                raise _CorruptState("a float needs 8 bytes")
            return struct.unpack(">d", bits)[0]
        if tag == "scalar":
            array = self._array(node)
            if array.ndim != 0:
                raise _CorruptState(f"scalar {node['key']!r} has shape {array.shape}")
            return array[()]
        if tag == "ndarray":
            return self._shared(node, "ndarray", lambda a: a)
        if tag == "tensor":
            requires_grad = node.get("requires_grad", False)
            if not isinstance(requires_grad, bool) or (requires_grad and self._array(node).dtype.kind != "f"):
                raise _CorruptState("'requires_grad' must be a bool, and true only for a floating tensor")
            return self._shared(node, "tensor", lambda a: Tensor(a, requires_grad=requires_grad))
        raise _CorruptState(f"unknown node tag {tag!r}")

    def _shared(self, node: dict[str, Any], kind: str, build: Callable[[np.ndarray], Any]) -> Any:
        array = self._array(node)
        memo = (kind, node["key"])
        if memo not in self._objects:
            self._objects[memo] = build(array)
        return self._objects[memo]

    @staticmethod
    def _items(node: dict[str, Any]) -> list[Any]:
        items = node.get("items")
        if not isinstance(items, list):
            raise _CorruptState(f"{node.get('$')} node without an 'items' list")
        return items

    @staticmethod
    def _text(node: dict[str, Any], field: str) -> str:
        value = node.get(field)
        if not isinstance(value, str):
            raise _CorruptState(f"{node.get('$')} node without a {field!r} string")
        return value
