"""Image transforms on (C, H, W) numpy arrays: shapes, dtypes, values, seeding, reprs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_cnn as tc
from tinygrad_cnn.data import transforms as T
from tinygrad_cnn.data.transforms import _shift, affine

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - torch is optional
    torch = None

uint8_images = hnp.arrays(
    np.uint8,
    st.tuples(st.integers(1, 3), st.integers(1, 9), st.integers(1, 9)),
    elements=st.integers(0, 255),
)


def _distinct(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Float image with all-distinct values, so a crop identifies its position."""
    return np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape).astype(np.float64) + 1


def _windows(big: np.ndarray, out: np.ndarray) -> list[tuple[int, int]]:
    th, tw = out.shape[-2:]
    h, w = big.shape[-2:]
    return [
        (i, j)
        for i in range(h - th + 1)
        for j in range(w - tw + 1)
        if np.array_equal(big[..., i : i + th, j : j + tw], out)
    ]


# -- ToTensor, Normalize, Compose --------------------------------------------------------------------


@given(uint8_images)
def test_to_tensor_scales_uint8(img: np.ndarray) -> None:
    out = T.ToTensor()(img)
    assert out.dtype == np.float32 and out.shape == img.shape
    np.testing.assert_array_equal(out, img.astype(np.float32) / np.float32(255))
    assert out.min() >= 0 and out.max() <= 1


def test_to_tensor_hw_and_float_and_errors() -> None:
    img = np.arange(6, dtype=np.uint8).reshape(2, 3)
    assert T.ToTensor()(img).shape == (1, 2, 3)
    f = np.full((1, 2, 2), 3.5, np.float64)
    out = T.ToTensor()(f)
    assert out.dtype == np.float32 and np.all(out == 3.5)  # floats are not rescaled
    with pytest.raises(TypeError):
        T.ToTensor()(np.zeros((2, 2), np.int16))
    with pytest.raises(TypeError):
        T.ToTensor()([[1, 2]])
    with pytest.raises(ValueError):
        T.ToTensor()(np.zeros((1, 1, 2, 2), np.uint8))


@given(
    hnp.arrays(
        np.float32, st.tuples(st.just(3), st.integers(1, 5), st.integers(1, 5)), elements=st.floats(-2, 2, width=32)
    ),
    st.lists(st.floats(-1, 1), min_size=3, max_size=3),
    st.lists(st.floats(0.1, 2), min_size=3, max_size=3),
)
def test_normalize_matches_manual(img: np.ndarray, mean: list[float], std: list[float]) -> None:
    out = T.Normalize(mean, std)(img)
    assert out.dtype == np.float32 and out.shape == img.shape
    m = np.array(mean, np.float32)[:, None, None]
    s = np.array(std, np.float32)[:, None, None]
    np.testing.assert_allclose(out, (img - m) / s, rtol=1e-6, atol=1e-6)


def test_normalize_variants_and_errors() -> None:
    img = np.ones((2, 3, 3), np.float64)
    out = T.Normalize(0.5, 0.25)(img)
    assert out.dtype == np.float64 and np.allclose(out, 2.0)
    batch = np.ones((4, 2, 3, 3), np.float32)
    assert np.allclose(T.Normalize([0, 1], [1, 1])(batch)[:, 1], 0)
    hw = np.full((3, 3), 2.0, np.float32)
    assert np.allclose(T.Normalize([1.0], [2.0])(hw), 0.5)
    with pytest.raises(ValueError, match="3 values but the image has 2 channels"):
        T.Normalize([0, 0, 0], [1, 1, 1])(img)
    with pytest.raises(TypeError, match="floating"):
        T.Normalize([0], [1])(np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="zero"):
        T.Normalize([0], [0])
    inplace = np.ones((1, 2, 2), np.float32)
    assert T.Normalize([1], [1], inplace=True)(inplace) is inplace and np.all(inplace == 0)


def test_compose_applies_in_order_and_reprs() -> None:
    img = np.full((1, 2, 2), 255, np.uint8)
    c = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,)), T.Lambda(lambda x: x * 2)])
    assert np.allclose(c(img), 2.0)
    assert repr(c) == "Compose(\n    ToTensor()\n    Normalize(mean=(0.5,), std=(0.5,))\n    Lambda()\n)"
    assert repr(T.RandomCrop(28, padding=4)) == "RandomCrop(size=(28, 28), padding=4)"
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert repr(T.RandomShift(2)) == "RandomShift(max_shift=2)"
    assert repr(T.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1))) == (
        "RandomAffine(degrees=[-10.0, 10.0], translate=(0.1, 0.1), scale=(0.9, 1.1))"
    )


# -- RandomCrop --------------------------------------------------------------------------------------


@given(
    c=st.integers(1, 3),
    h=st.integers(3, 8),
    w=st.integers(3, 8),
    pad=st.integers(0, 3),
    seed=st.integers(0, 2**16),
)
def test_random_crop_with_padding_is_a_window_of_the_padded_image(c: int, h: int, w: int, pad: int, seed: int) -> None:
    img = _distinct((c, h, w), seed)
    tc.manual_seed(seed)
    out = T.RandomCrop((h, w), padding=pad)(img)
    assert out.shape == img.shape and out.dtype == img.dtype
    padded = np.pad(img, ((0, 0), (pad, pad), (pad, pad)))
    assert len(_windows(padded, out)) == 1


def test_random_crop_covers_all_offsets_and_is_reproducible() -> None:
    img = _distinct((1, 4, 4))
    crop = T.RandomCrop(4, padding=1)
    padded = np.pad(img, ((0, 0), (1, 1), (1, 1)))
    tc.manual_seed(0)
    seen = {_windows(padded, crop(img))[0] for _ in range(200)}
    assert seen == {(i, j) for i in range(3) for j in range(3)}
    tc.manual_seed(11)
    a = [crop(img) for _ in range(5)]
    tc.manual_seed(11)
    b = [crop(img) for _ in range(5)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_random_crop_padding_forms_and_modes() -> None:
    img = _distinct((2, 3, 4))
    # (left, top, right, bottom), cropped to the full padded size: deterministic
    out = T.RandomCrop((3 + 2 + 4, 4 + 1 + 3), padding=(1, 2, 3, 4), fill=-1)(img)
    np.testing.assert_array_equal(out, np.pad(img, ((0, 0), (2, 4), (1, 3)), constant_values=-1))
    out = T.RandomCrop((3 + 2, 4 + 2), padding=1, padding_mode="reflect")(img)
    np.testing.assert_array_equal(out, np.pad(img, ((0, 0), (1, 1), (1, 1)), mode="reflect"))
    hw = _distinct((5, 5))
    assert T.RandomCrop(3)(hw).shape == (3, 3)


def test_random_crop_pad_if_needed_and_errors() -> None:
    img = np.ones((1, 3, 3), np.uint8)
    with pytest.raises(ValueError, match=r"\(5, 5\) is larger than input image size \(3, 3\)"):
        T.RandomCrop(5)(img)
    out = T.RandomCrop(5, pad_if_needed=True)(img)
    assert out.shape == (1, 5, 5) and out.dtype == np.uint8
    with pytest.raises(ValueError):
        T.RandomCrop(0)
    with pytest.raises(ValueError):
        T.RandomCrop(3, padding_mode="wrap")


# -- flips and shifts --------------------------------------------------------------------------------


@given(uint8_images, st.integers(0, 1000))
def test_flip_twice_is_identity(img: np.ndarray, seed: int) -> None:
    flip = T.RandomHorizontalFlip(p=1.0)
    once = flip(img)
    np.testing.assert_array_equal(once, img[..., ::-1])
    np.testing.assert_array_equal(flip(once), img)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(img), img)


def test_flip_probability_and_seeding() -> None:
    img = np.arange(4, dtype=np.uint8).reshape(1, 1, 4)
    flip = T.RandomHorizontalFlip()
    tc.manual_seed(2)
    a = [bool(flip(img)[0, 0, 0] == 3) for _ in range(400)]
    tc.manual_seed(2)
    b = [bool(flip(img)[0, 0, 0] == 3) for _ in range(400)]
    assert a == b and 150 < sum(a) < 250
    with pytest.raises(ValueError):
        T.RandomHorizontalFlip(1.5)


@given(uint8_images, st.integers(0, 3), st.integers(0, 1000))
def test_random_shift_is_a_bounded_translation(img: np.ndarray, m: int, seed: int) -> None:
    tc.manual_seed(seed)
    out = T.RandomShift(m)(img)
    assert out.shape == img.shape and out.dtype == img.dtype
    candidates = [_shift(img, dy, dx, 0) for dy in range(-m, m + 1) for dx in range(-m, m + 1)]
    assert any(np.array_equal(out, c) for c in candidates)


def test_shift_moves_content_and_fills_zero() -> None:
    img = np.zeros((1, 5, 5), np.uint8)
    img[0, 2, 2] = 9
    out = _shift(img, 1, -2, 0)
    assert out[0, 3, 0] == 9 and out.sum() == 9
    assert np.array_equal(T.RandomShift(0)(img), img)
    digit = np.zeros((1, 8, 8), np.uint8)
    digit[0, 3:5, 3:5] = 200
    tc.manual_seed(0)
    assert all(int(T.RandomShift(2)(digit).sum()) == 800 for _ in range(30))  # nothing leaves the frame
    tc.manual_seed(0)
    shifts = {tuple(np.argwhere(T.RandomShift(1)(img)[0])[0]) for _ in range(200)}
    assert shifts == {(2 + dy, 2 + dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)}


# -- RandomAffine ------------------------------------------------------------------------------------


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_affine_identity_and_rotations(interpolation: str) -> None:
    img = np.random.default_rng(0).integers(0, 256, size=(2, 7, 7), dtype=np.uint8)
    np.testing.assert_array_equal(affine(img, 0.0, interpolation=interpolation), img)
    np.testing.assert_array_equal(affine(img, 90.0, interpolation=interpolation), np.rot90(img, 1, axes=(1, 2)))
    np.testing.assert_array_equal(affine(img, -90.0, interpolation=interpolation), np.rot90(img, -1, axes=(1, 2)))
    np.testing.assert_array_equal(affine(img, 180.0, interpolation=interpolation), img[:, ::-1, ::-1])
    out = affine(img, 0.0, (2, -1), interpolation=interpolation)
    np.testing.assert_array_equal(out, _shift(img, -1, 2, 0))
    assert T.RandomAffine(0)(img[0]).shape == (7, 7)


@pytest.mark.skipif(torch is None, reason="torch not installed")
@given(angle=st.floats(-180, 180), tx=st.integers(-3, 3), ty=st.integers(-3, 3), scale=st.floats(0.6, 1.5))
def test_affine_bilinear_matches_torch_grid_sample(angle: float, tx: int, ty: int, scale: float) -> None:
    size = 9
    img = np.random.default_rng(1).random((2, size, size))
    out = affine(img, angle, (tx, ty), scale, interpolation="bilinear")
    th = np.deg2rad(angle)
    a = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]]) / scale
    t_norm = np.array([2 * tx / size, 2 * ty / size])
    theta = torch.tensor(np.concatenate([a, (-a @ t_norm)[:, None]], axis=1)[None])
    grid = F.affine_grid(theta, [1, 2, size, size], align_corners=False)
    ref = F.grid_sample(torch.from_numpy(img)[None], grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    np.testing.assert_allclose(out, ref[0].numpy(), atol=1e-9)


def test_random_affine_parameters_seeding_and_errors() -> None:
    img = np.random.default_rng(0).integers(0, 256, size=(1, 10, 10), dtype=np.uint8)
    aff = T.RandomAffine(20, translate=(0.2, 0.1), scale=(0.8, 1.2))
    tc.manual_seed(0)
    for _ in range(100):
        angle, (tx, ty), s = aff.get_params(10, 10)
        assert -20 <= angle <= 20 and abs(tx) <= 2 and abs(ty) <= 1 and 0.8 <= s <= 1.2
        assert isinstance(tx, int) and isinstance(ty, int)
    tc.manual_seed(3)
    a = aff(img)
    tc.manual_seed(3)
    b = aff(img)
    assert a.dtype == np.uint8 and a.shape == img.shape and np.array_equal(a, b)
    shift_only = T.RandomAffine(0, translate=(0.2, 0.2))
    tc.manual_seed(1)
    out = shift_only(img)
    assert any(np.array_equal(out, _shift(img, dy, dx, 0)) for dy in range(-2, 3) for dx in range(-2, 3))
    assert np.array_equal(T.RandomAffine((30, 30), interpolation="bilinear")(img.astype(np.float32)).shape, img.shape)
    for kwargs in ({"degrees": -1}, {"degrees": 5, "translate": (1.5, 0)}, {"degrees": 5, "scale": (0, 1)},
                   {"degrees": (1, 2, 3)}, {"degrees": 5, "interpolation": "cubic"}):  # fmt: skip
        with pytest.raises(ValueError):
            T.RandomAffine(**kwargs)


def test_pipeline_reproducible_under_manual_seed() -> None:
    pipe = T.Compose(
        [T.RandomCrop(8, padding=2), T.RandomHorizontalFlip(), T.RandomShift(1), T.RandomAffine(15), T.ToTensor()]
    )
    img = np.random.default_rng(0).integers(0, 256, size=(3, 8, 8), dtype=np.uint8)
    tc.manual_seed(42)
    a = [pipe(img) for _ in range(10)]
    tc.manual_seed(42)
    b = [pipe(img) for _ in range(10)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert a[0].dtype == np.float32 and a[0].shape == (3, 8, 8)
    assert not all(np.array_equal(a[0], x) for x in a[1:])
