"""Image transforms in the style of ``torchvision.transforms``, on numpy arrays.

Images are numpy arrays of shape (C, H, W) (channels first, as our data sets return them; torchvision
takes PIL images or (H, W, C) ndarrays instead); most transforms also take (H, W). Transforms return
numpy arrays; the ``DataLoader`` turns batches into Tensors. Random transforms draw from the global
generator (``tinygrad_cnn.random.numpy_generator()``), so ``tinygrad_cnn.manual_seed(s)`` makes them
reproducible.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np

from tinygrad_cnn.random import numpy_generator

__all__ = [
    "Compose",
    "Lambda",
    "Normalize",
    "RandomAffine",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomShift",
    "ToTensor",
    "affine",
]


_NUMBER = (int, float, np.integer, np.floating)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_number(value: Any) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, (bool, np.bool_))


def _is_sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _numbers(value: Any, name: str, lengths: tuple[int, ...]) -> tuple[float, ...]:
    """A sequence of ``lengths`` numbers (TypeError for another type, ValueError for another length)."""
    if not _is_sequence(value) or not all(_is_number(v) for v in value):
        raise TypeError(f"{name}: expected a sequence of {' or '.join(map(str, lengths))} numbers, got {value!r}")
    if len(value) not in lengths:
        raise ValueError(f"{name}: expected a sequence of {' or '.join(map(str, lengths))} numbers, got {value!r}")
    return tuple(float(v) for v in value)


def _check_image(img: Any, name: str) -> np.ndarray:
    if not isinstance(img, np.ndarray):
        raise TypeError(f"{name}: expected a numpy array of shape (C, H, W) or (H, W), got {type(img).__name__}")
    if img.ndim not in (2, 3):
        raise ValueError(f"{name}: expected an image of shape (C, H, W) or (H, W), got shape {img.shape}")
    return img


def _pair(value: Any, name: str) -> tuple[int, int]:
    """An int or a sequence of 1 or 2 ints as a pair: TypeError for anything but ints (floats and bools
    included), ValueError for a sequence of another length."""
    if _is_int(value):
        return int(value), int(value)
    if not _is_sequence(value) or not all(_is_int(v) for v in value):
        raise TypeError(f"{name}: expected an int or a sequence of 1 or 2 ints, got {value!r}")
    if len(value) == 1:
        return int(value[0]), int(value[0])
    if len(value) == 2:
        return int(value[0]), int(value[1])
    raise ValueError(f"{name}: expected an int or a sequence of 1 or 2 ints, got {value!r}")


class Compose:
    """Apply ``transforms`` in order: ``Compose([t1, t2])(x) == t2(t1(x))``."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        if not _is_sequence(transforms):
            raise TypeError(f"Compose: transforms: expected a list of callables, got {type(transforms).__name__}")
        for i, t in enumerate(transforms):
            if not callable(t):
                raise TypeError(f"Compose: transforms[{i}]: expected a callable, got {type(t).__name__}")
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class Lambda:
    """Apply a user function: ``Lambda(f)(x) == f(x)``."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ToTensor:
    """uint8 image (C, H, W) or (H, W) -> float32 (C, H, W) scaled to [0, 1] (divided by 255).

    Floating input is cast to float32 without scaling. Unlike torchvision this returns a numpy array,
    not a Tensor (the ``DataLoader`` makes the Tensors), and the input is channels first already.
    """

    def __call__(self, img: np.ndarray) -> np.ndarray:
        img = _check_image(img, "ToTensor")
        if img.ndim == 2:
            img = img[None]
        if img.dtype == np.uint8:
            return img.astype(np.float32) / np.float32(255)
        if img.dtype.kind == "f":
            return img.astype(np.float32)
        raise TypeError(f"ToTensor: expected a uint8 or floating image, got dtype {img.dtype}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Normalize:
    """``(img - mean[c]) / std[c]`` for each channel c of a floating image (C, H, W) (or (N, C, H, W)).

    ``mean`` and ``std`` are numbers or sequences of length 1 or C. The result has the image's dtype
    (float32 stays float32). A (H, W) image counts as one channel.
    """

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float], inplace: bool = False) -> None:
        self.mean = mean
        self.std = std
        self.inplace = inplace
        for name, value in (("mean", mean), ("std", std)):
            if np.asarray(value).dtype.kind not in "iuf":
                raise TypeError(f"Normalize: {name}: expected a number or a sequence of numbers, got {value!r}")
        m = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        s = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if m.ndim != 1 or s.ndim != 1:
            raise ValueError(f"Normalize: mean and std must be numbers or flat sequences, got {mean!r} and {std!r}")
        if np.any(s == 0):
            raise ValueError(f"Normalize: std evaluated to zero, leading to division by zero (std={std!r})")
        self._mean, self._std = m, s

    def __call__(self, img: np.ndarray) -> np.ndarray:
        if not isinstance(img, np.ndarray):
            raise TypeError(f"Normalize: expected a numpy array, got {type(img).__name__}")
        if img.dtype.kind != "f":
            raise TypeError(f"Normalize: expected a floating image (apply ToTensor first), got dtype {img.dtype}")
        if img.ndim < 2:
            raise ValueError(f"Normalize: expected an image of shape (C, H, W) or (H, W), got shape {img.shape}")
        channels = 1 if img.ndim == 2 else img.shape[-3]
        for name, v in (("mean", self._mean), ("std", self._std)):
            if v.size not in (1, channels):
                raise ValueError(f"Normalize: {name} has {v.size} values but the image has {channels} channels")
        shape = (-1, 1, 1) if img.ndim >= 3 else (-1, 1)
        mean = self._mean.astype(img.dtype).reshape(shape)
        std = self._std.astype(img.dtype).reshape(shape)
        if self.inplace:
            img -= mean
            img /= std
            return img
        return (img - mean) / std

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


def _padding4(padding: Any) -> tuple[int, int, int, int]:
    """torchvision's padding argument -> (left, top, right, bottom): an int or a sequence of 1, 2 or 4 ints
    (TypeError for other types, floats and bools included; ValueError for another length)."""
    if _is_int(padding):
        p = int(padding)
        return p, p, p, p
    if not _is_sequence(padding) or not all(_is_int(v) for v in padding):
        raise TypeError(f"padding: expected an int or a sequence of 1, 2 or 4 ints, got {padding!r}")
    if len(padding) in (1, 2, 4):
        vals = [int(v) for v in padding]
        if len(vals) == 1:
            return vals[0], vals[0], vals[0], vals[0]
        if len(vals) == 2:
            return vals[0], vals[1], vals[0], vals[1]
        return vals[0], vals[1], vals[2], vals[3]
    raise ValueError(f"padding: expected an int or a sequence of 1, 2 or 4 ints, got {padding!r}")


def _pad(img: np.ndarray, padding: tuple[int, int, int, int], fill: float, mode: str) -> np.ndarray:
    left, top, right, bottom = padding
    widths = [(0, 0)] * (img.ndim - 2) + [(top, bottom), (left, right)]
    if mode == "constant":  # np.full + a slice copy: several times faster than np.pad on small images
        h, w = img.shape[-2:]
        out = np.full((*img.shape[:-2], h + top + bottom, w + left + right), fill, dtype=img.dtype)
        out[..., top : top + h, left : left + w] = img
        return out
    return np.pad(img, widths, mode=mode)  # type: ignore[call-overload]


class RandomCrop:
    """Crop a random ``size`` = (h, w) window of the image (C, H, W) or (H, W).

    Args:
        size: an int (square) or (h, w).
        padding: optional border added first: an int, (left/right, top/bottom) or (left, top, right, bottom).
        pad_if_needed: pad an image smaller than ``size`` (as torchvision: by the shortfall on both sides).
        fill: value of constant padding.
        padding_mode: ``"constant"``, ``"edge"``, ``"reflect"`` or ``"symmetric"`` (numpy's ``np.pad`` modes).

    The offsets are drawn uniformly from all valid positions with the global generator.
    """

    def __init__(
        self,
        size: int | Sequence[int],
        padding: int | Sequence[int] | None = None,
        pad_if_needed: bool = False,
        fill: float = 0,
        padding_mode: str = "constant",
    ) -> None:
        self.size = _pair(size, "RandomCrop: size")
        if min(self.size) <= 0:
            raise ValueError(f"RandomCrop: size must be positive, got {size!r}")
        self.padding = padding
        try:
            self._padding = None if padding is None else _padding4(padding)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"RandomCrop: {exc}") from None
        if self._padding is not None and min(self._padding) < 0:
            raise ValueError(f"RandomCrop: padding must be non-negative, got {padding!r}")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(
                f"RandomCrop: padding_mode must be constant, edge, reflect or symmetric, got {padding_mode!r}"
            )
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def __call__(self, img: np.ndarray) -> np.ndarray:
        img = _check_image(img, "RandomCrop")
        if self._padding is not None:
            img = _pad(img, self._padding, self.fill, self.padding_mode)
        th, tw = self.size
        h, w = img.shape[-2:]
        if self.pad_if_needed and w < tw:
            img = _pad(img, (tw - w, 0, tw - w, 0), self.fill, self.padding_mode)
        if self.pad_if_needed and h < th:
            img = _pad(img, (0, th - h, 0, th - h), self.fill, self.padding_mode)
        h, w = img.shape[-2:]
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than input image size {(h, w)}")
        rng = numpy_generator()
        i = int(rng.integers(0, h - th + 1))
        j = int(rng.integers(0, w - tw + 1))
        return img[..., i : i + th, j : j + tw].copy()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror the image left-right (last axis) with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        if not _is_number(p):
            raise TypeError(f"RandomHorizontalFlip: p must be a number in [0, 1], got {p!r}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = p

    def __call__(self, img: np.ndarray) -> np.ndarray:
        img = _check_image(img, "RandomHorizontalFlip")
        if numpy_generator().random() < self.p:
            return img[..., ::-1].copy()
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


def _shift(img: np.ndarray, dy: int, dx: int, fill: float) -> np.ndarray:
    """Translate content by (dy, dx) pixels (down, right); uncovered pixels get ``fill``."""
    h, w = img.shape[-2:]
    out = np.full_like(img, fill)
    if abs(dy) >= h or abs(dx) >= w:
        return out
    src_y, dst_y = slice(max(0, -dy), h - max(0, dy)), slice(max(0, dy), h - max(0, -dy))
    src_x, dst_x = slice(max(0, -dx), w - max(0, dx)), slice(max(0, dx), w - max(0, -dx))
    out[..., dst_y, dst_x] = img[..., src_y, src_x]
    return out


class RandomShift:
    """Translate the image by a random integer offset, filling uncovered pixels with ``fill`` (default 0).

    ``max_shift`` is an int or (max_dy, max_dx); dy and dx are drawn uniformly from
    ``[-max, max]`` with the global generator. Positive dy moves the content down, dx right. Meant for
    small shifts of centred digits (not in torchvision; ``RandomAffine(0, translate=...)`` is the
    nearest equivalent).
    """

    def __init__(self, max_shift: int | Sequence[int], fill: float = 0) -> None:
        self.max_shift = max_shift
        self._max = _pair(max_shift, "RandomShift: max_shift")
        if min(self._max) < 0:
            raise ValueError(f"RandomShift: max_shift must be non-negative, got {max_shift!r}")
        self.fill = fill

    def __call__(self, img: np.ndarray) -> np.ndarray:
        img = _check_image(img, "RandomShift")
        rng = numpy_generator()
        dy = int(rng.integers(-self._max[0], self._max[0] + 1))
        dx = int(rng.integers(-self._max[1], self._max[1] + 1))
        return _shift(img, dy, dx, self.fill)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_shift={self.max_shift})"


def affine(
    img: np.ndarray,
    angle: float,
    translate: tuple[float, float] = (0.0, 0.0),
    scale: float = 1.0,
    interpolation: str = "nearest",
    fill: float = 0,
) -> np.ndarray:
    """Rotate by ``angle`` degrees (counter-clockwise as displayed), scale by ``scale`` and then
    translate by ``translate`` = (tx, ty) pixels (right, down), about the image centre.

    Each output pixel is the input sampled at the inverse-mapped point: ``"nearest"`` takes the nearest
    pixel, ``"bilinear"`` interpolates the four neighbours (integer images are rounded back to their
    dtype). Points outside the image read ``fill``. Shape and dtype are kept.
    """
    img = _check_image(img, "affine")
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"affine: interpolation must be 'nearest' or 'bilinear', got {interpolation!r}")
    if scale <= 0:
        raise ValueError(f"affine: scale must be positive, got {scale}")
    h, w = img.shape[-2:]
    gx, gy = _centred_grid(h, w)
    theta = math.radians(angle)
    cos, sin = math.cos(theta) / scale, math.sin(theta) / scale
    u = gx - translate[0]
    v = gy - translate[1]
    # forward map (y axis down, counter-clockwise on screen): x' = cos*x + sin*y, y' = -sin*x + cos*y;
    # sample the inverse, shifted by the centre and by 1 for the border added below
    src_x = np.clip(cos * u - sin * v + ((w - 1) / 2.0 + 1), 0, w + 1)
    src_y = np.clip(sin * u + cos * v + ((h - 1) / 2.0 + 1), 0, h + 1)
    # a one-pixel border of ``fill`` makes every point outside the image read ``fill``
    padded = np.full((*img.shape[:-2], h + 2, w + 2), fill, dtype=img.dtype)
    padded[..., 1:-1, 1:-1] = img
    flat = padded.reshape(*padded.shape[:-2], -1)
    if interpolation == "nearest":
        iy = np.floor(src_y + 0.5).astype(np.intp)
        ix = np.floor(src_x + 0.5).astype(np.intp)
        return flat[..., iy * (w + 2) + ix]
    y0 = np.minimum(src_y.astype(np.intp), h)  # src >= 0, so truncation is floor
    x0 = np.minimum(src_x.astype(np.intp), w)
    wy = src_y - y0
    wx = src_x - x0
    i00 = y0 * (w + 2) + x0
    p = flat.astype(np.float64)
    out = (p[..., i00] * (1 - wx) + p[..., i00 + 1] * wx) * (1 - wy) + (
        p[..., i00 + w + 2] * (1 - wx) + p[..., i00 + w + 3] * wx
    ) * wy
    if img.dtype.kind in "iub":
        out = np.rint(out)
        if img.dtype.kind != "b":
            info = np.iinfo(img.dtype)
            out = np.clip(out, info.min, info.max)
    return out.astype(img.dtype)


@functools.lru_cache(maxsize=16)
def _centred_grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (x, y) relative to the image centre, each of shape (h, w), read-only."""
    gy, gx = np.meshgrid(np.arange(h) - (h - 1) / 2.0, np.arange(w) - (w - 1) / 2.0, indexing="ij")
    gx.flags.writeable = False
    gy.flags.writeable = False
    return gx, gy


class RandomAffine:
    """Random rotation, translation and scaling about the image centre (no shear).

    Args:
        degrees: the angle is drawn from [-degrees, degrees] (a number) or [min, max] (a pair), in
            degrees, counter-clockwise as displayed.
        translate: optional (a, b) fractions: tx is drawn from [-a * W, a * W], ty from [-b * H, b * H]
            and both are rounded to whole pixels, as in torchvision.
        scale: optional (lo, hi): the scale factor is drawn from [lo, hi].
        interpolation: ``"nearest"`` (default, as torchvision) or ``"bilinear"``.
        fill: value of pixels that come from outside the image.

    All parameters are drawn with the global generator. A simple numpy implementation: it matches
    torchvision's geometry but not necessarily its pixel values bit for bit.
    """

    def __init__(
        self,
        degrees: float | Sequence[float],
        translate: Sequence[float] | None = None,
        scale: Sequence[float] | None = None,
        interpolation: str = "nearest",
        fill: float = 0,
    ) -> None:
        if _is_number(degrees):
            number = cast(float, degrees)
            if not number >= 0:
                raise ValueError(f"RandomAffine: if degrees is a single number, it must be non-negative, got {degrees}")
            self.degrees = [-float(number), float(number)]
        else:
            self.degrees = list(_numbers(degrees, "RandomAffine: degrees", (2,)))
        if translate is not None:
            translate = _numbers(translate, "RandomAffine: translate", (2,))
            if not all(0.0 <= t <= 1.0 for t in translate):
                raise ValueError(f"RandomAffine: translate should be 2 values between 0 and 1, got {translate!r}")
        if scale is not None:
            scale = _numbers(scale, "RandomAffine: scale", (2,))
            if not all(s > 0 for s in scale):
                raise ValueError(f"RandomAffine: scale should be 2 positive values, got {scale!r}")
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"RandomAffine: interpolation must be 'nearest' or 'bilinear', got {interpolation!r}")
        self.translate = translate
        self.scale = scale
        self.interpolation = interpolation
        self.fill = fill

    def get_params(self, height: int, width: int) -> tuple[float, tuple[int, int], float]:
        """Draw (angle, (tx, ty), scale) for an image of the given size."""
        rng = numpy_generator()
        angle = float(rng.uniform(self.degrees[0], self.degrees[1]))
        tx = ty = 0
        if self.translate is not None:
            max_dx, max_dy = self.translate[0] * width, self.translate[1] * height
            tx = int(round(rng.uniform(-max_dx, max_dx)))
            ty = int(round(rng.uniform(-max_dy, max_dy)))
        s = 1.0 if self.scale is None else float(rng.uniform(self.scale[0], self.scale[1]))
        return angle, (tx, ty), s

    def __call__(self, img: np.ndarray) -> np.ndarray:
        img = _check_image(img, "RandomAffine")
        angle, shift, s = self.get_params(*img.shape[-2:])
        return affine(img, angle, shift, s, self.interpolation, self.fill)

    def __repr__(self) -> str:
        parts = [f"degrees={self.degrees}"]
        if self.translate is not None:
            parts.append(f"translate={self.translate}")
        if self.scale is not None:
            parts.append(f"scale={self.scale}")
        if self.interpolation != "nearest":
            parts.append(f"interpolation={self.interpolation}")
        if self.fill != 0:
            parts.append(f"fill={self.fill}")
        return f"{type(self).__name__}({', '.join(parts)})"
