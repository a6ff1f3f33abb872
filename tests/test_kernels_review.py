"""The one-GEMM-per-group convolution kernels under buffer reuse: im2col blocks of one input shape but other
output sizes (a conv as the adjoint of conv_transpose2d with output_padding), both input-gradient paths with
non-finite weights and gradients, the channel-major gradient shared by both GEMMs when dtypes differ, arrays
held by the caller, the pool's largest block, and pooled conv2d / conv_transpose2d against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, kernels
from tinygrad_cnn.autograd import grad
from tinygrad_cnn.kernels import Window

pytestmark = pytest.mark.usefixtures("small_pool")  # every array pooled (tests/conftest.py)


def ref_im2col(x: np.ndarray, win: Window, ho: int, wo: int) -> np.ndarray:
    """im2col's (C * kh * kw, N * ho * wo) layout from a zero-padded copy (ho, wo may be below the full size)."""
    xp = np.pad(x, ((0, 0), (0, 0), (win.ph, win.ph), (win.pw, win.pw)))
    views = [xp[:, :, rows, cols] for _, _, rows, cols in win.offsets(ho, wo)]
    return np.stack(views).transpose(2, 0, 1, 3, 4).reshape(-1, x.shape[0] * ho * wo)


def ref_grads(x: np.ndarray, w: np.ndarray, gy: np.ndarray, win: Window, groups: int) -> tuple[np.ndarray, ...]:
    """conv2d's input and weight gradients in float64, one einsum per kernel offset and group (non-finite values
    give what a sum of products gives: inf * 0 is NaN where a weight or a padded input meets an inf)."""
    x, w, gy = (np.asarray(a, np.float64) for a in (x, w, gy))
    (c, h, wd), o = x.shape[1:], w.shape[0]
    cg, og = c // groups, o // groups
    xp = np.pad(x, ((0, 0), (0, 0), (win.ph, win.ph), (win.pw, win.pw)))
    gxp, gw = np.zeros_like(xp), np.zeros(w.shape)
    for i, j, rows, cols in win.offsets(*gy.shape[2:]):
        for g in range(groups):
            xs, gys = xp[:, g * cg : (g + 1) * cg, rows, cols], gy[:, g * og : (g + 1) * og]
            gw[g * og : (g + 1) * og, :, i, j] = np.einsum("nchw,nohw->oc", xs, gys)
            with np.errstate(invalid="ignore"):
                gxp[:, g * cg : (g + 1) * cg, rows, cols] += np.einsum(
                    "oc,nohw->nchw", w[g * og : (g + 1) * og, :, i, j], gys
                )
    return gxp[:, :, win.ph : win.ph + h, win.pw : win.pw + wd], gw


# -- im2col's tagged blocks ------------------------------------------------------------------------------------
# (x shape, window, full output size, limited output size): rows of 8 against 7 columns; two images of 20 against 19
LIMITED = [
    ((1, 2, 8, 8), Window(3, 3, 1, 1, 1, 1), (8, 8), (8, 7)),
    ((2, 3, 1, 20), Window(1, 3, 1, 1, 0, 1), (1, 20), (1, 19)),
]


@pytest.mark.parametrize("case", LIMITED, ids=lambda c: str(c[0]))
@pytest.mark.parametrize("full_first", [True, False])
def test_im2col_of_one_input_shape_at_two_output_sizes_reads_no_stale_columns(case: tuple, full_first: bool) -> None:
    """``out_hw`` (conv as the adjoint of conv_transpose2d with output_padding) asks im2col for fewer output
    columns than the input gives: its reused block must not hold the other size's columns where the zero padding
    goes (the padded row stride gives both sizes' matrices the same shape)."""
    shape, win, full, limited = case
    rng = np.random.default_rng(0)
    for ho, wo in [full, limited] if full_first else [limited, full]:
        x = rng.standard_normal(shape).astype(np.float32)
        np.testing.assert_array_equal(kernels.im2col(x, win, ho, wo), ref_im2col(x, win, ho, wo))


def test_conv2d_and_conv_transpose2d_with_output_padding_past_the_stride_share_no_im2col_block() -> None:
    """conv_transpose2d's backward runs conv2d on its output gradient limited to the input's size (here one
    column fewer than conv2d gives, output_padding 1 with dilation 2); a plain conv2d of an input of that shape
    and window, before or after, gets the right values."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    u, w = rng.standard_normal((1, 2, 2, 3)), rng.standard_normal((2, 2, 1, 3))
    kw = dict(padding=(0, 1), dilation=(1, 2))
    for _ in range(2):  # conv_transpose2d, conv2d, then conv_transpose2d again after the conv2d
        ut, ut_torch = Tensor(u, requires_grad=True), torch.tensor(u, requires_grad=True)
        z = F.conv_transpose2d(ut, Tensor(w), output_padding=(0, 1), **kw)
        z_torch = torch.nn.functional.conv_transpose2d(ut_torch, torch.tensor(w), output_padding=(0, 1), **kw)
        gz = rng.standard_normal(z.shape)
        z.backward(Tensor(gz))
        z_torch.backward(torch.tensor(gz))
        np.testing.assert_allclose(ut.grad.data, ut_torch.grad.numpy(), rtol=1e-12, atol=1e-12)
        x = rng.standard_normal(z.shape)
        y = F.conv2d(Tensor(x), Tensor(w), **kw).data
        np.testing.assert_allclose(y, torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), **kw).numpy(),
                                   rtol=1e-12, atol=1e-12)  # fmt: skip


# -- input-gradient paths ---------------------------------------------------------------------------------------
# (path, x shape, out channels, window): row shifts (stride 1, C * kh * kw > O), col2im with the shared
# channel-major gradient (stride 1, C * kh * kw <= O), col2im for a strided, dilated, asymmetric window.
PATHS = {
    "by rows": ((2, 4, 5, 6), 6, Window(3, 3, 1, 1, 1, 1)),
    "col2im, shared g": ((2, 2, 5, 6), 18, Window(3, 3, 1, 1, 1, 1)),
    "strided": ((2, 4, 7, 6), 6, Window(3, 2, 2, 1, 2, 1, 1, 2)),
}


def _spy_rows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    by_rows = kernels._input_grad_by_rows

    def spy(*args: object) -> np.ndarray:
        calls.append(1)
        return by_rows(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(kernels, "_input_grad_by_rows", spy)
    return calls


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("kind", ["inf weight", "nan weight", "inf grad", "nan grad", "finite"])
@pytest.mark.parametrize("groups", [1, 2])
def test_input_and_weight_gradients_with_non_finite_values_on_every_path(
    path: str, kind: str, groups: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """inf * 0 only where a sum of products has it: never from the zero columns of the row-shift layout."""
    rows_calls = _spy_rows(monkeypatch)
    shape, o, win = PATHS[path]
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape)
    w = rng.standard_normal((o, shape[1] // groups, win.kh, win.kw))
    gy = rng.standard_normal((shape[0], o, *win.out_size(*shape[2:])))
    w[rng.random(w.shape) < 0.3] = 0
    gy[rng.random(gy.shape) < 0.3] = 0
    bad = {"inf weight": (w, np.inf), "nan weight": (w, np.nan), "inf grad": (gy, -np.inf), "nan grad": (gy, np.nan)}
    if kind in bad:
        a, value = bad[kind]
        a.flat[[1, a.size // 2]] = value
    want_x, want_w = ref_grads(x, w, gy, win, groups)
    with np.errstate(invalid="ignore"):
        _, cols = kernels.conv2d_forward(x, w, win, groups)
        gx, gw = kernels.conv2d_backward(gy, w, cols, win, groups, x.shape, True, True)
        alone = kernels.conv2d_input_grad(gy, w, win, groups, x.shape)  # no shared g: row shifts for stride 1
    np.testing.assert_allclose(gx, want_x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(alone, want_x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw, want_w, rtol=1e-12, atol=1e-12)
    finite_w = kind not in ("inf weight", "nan weight")
    expected_rows = (path != "strided" and finite_w) + (path == "by rows" and finite_w)
    assert len(rows_calls) == expected_rows  # both paths were taken where they apply


DTYPES = [
    (np.float32, np.float32, np.float32),
    (np.float16, np.float16, np.float16),
    (np.float32, np.float64, np.float16),
    (np.float64, np.float16, np.float32),
    (np.float16, np.float32, np.float64),
]


@pytest.mark.parametrize("dtypes", DTYPES, ids=lambda d: "-".join(np.dtype(t).name for t in d))
@pytest.mark.parametrize("path", list(PATHS))
def test_the_shared_channel_major_gradient_with_mixed_dtypes(dtypes: tuple[type, ...], path: str) -> None:
    """conv2d_backward relays the output gradient out once, in its own dtype, for both GEMMs: each gradient
    comes out in the promoted dtype of its operands and as close to float64 as the narrowest of them allows."""
    shape, o, win = PATHS[path]
    rng = np.random.default_rng(3)
    x64 = rng.standard_normal(shape)
    w64 = rng.standard_normal((o, shape[1], win.kh, win.kw))
    gy64 = rng.standard_normal((shape[0], o, *win.out_size(*shape[2:])))
    x, w, gy = (a.astype(t) for a, t in zip((x64, w64, gy64), dtypes))
    want_x, want_w = ref_grads(x, w, gy, win, 1)
    _, cols = kernels.conv2d_forward(x, w, win, 1)
    gx, gw = kernels.conv2d_backward(gy, w, cols, win, 1, x.shape, True, True)
    assert gx.dtype == np.result_type(w, gy) and gw.dtype == np.result_type(x, gy)
    for got, want in [(gx, want_x), (gw, want_w)]:
        tol = 50 * np.finfo(got.dtype).eps * np.abs(want).max()
        np.testing.assert_allclose(got, want, rtol=0, atol=tol)


# -- buffer reuse ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", list(PATHS))
def test_gradients_and_channel_major_copies_held_by_the_caller_are_never_overwritten(path: str) -> None:
    shape, o, win = PATHS[path]
    rng = np.random.default_rng(4)
    w = rng.standard_normal((o, shape[1], win.kh, win.kw))
    held, copies = [], []
    for _ in range(3):
        x = rng.standard_normal(shape)
        y, cols = kernels.conv2d_forward(x, w, win, 1)
        gy = rng.standard_normal(y.shape)
        arrays = (y, cols, kernels.channels_first(gy), kernels.conv2d_input_grad(gy, w, win, 1, shape),
                  *kernels.conv2d_backward(gy, w, cols, win, 1, shape, True, True))  # fmt: skip
        held.append(arrays)
        copies.append([a.copy() for a in arrays])
    for arrays, saved in zip(held, copies):
        for a, b in zip(arrays, saved):
            np.testing.assert_array_equal(a, b)


def test_the_pool_keeps_a_block_of_up_to_half_its_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """_POOL_MAX_BYTES: "one block up to half of it" (a quarter would leave the 80 MB input-gradient columns of
    a (64, 32, 32, 32) conv to fresh memory each call)."""
    monkeypatch.setattr(kernels, "_POOL_MAX_BYTES", 8 << 20)
    for nbytes, pooled in [(3 << 20, True), (5 << 20, False)]:
        a, new = kernels._buffer((nbytes // 4,), np.float32)
        address = a.ctypes.data
        del a
        b, new = kernels._buffer((nbytes // 4,), np.float32)
        assert (not new and b.ctypes.data == address) == pooled, nbytes
        del b


# -- pooled conv2d / conv_transpose2d against PyTorch --------------------------------------------------------------
CONFIGS = [  # (x shape, out channels, kernel, stride, padding, dilation, groups, bias, output_padding)
    ((2, 4, 5, 6), 6, (3, 3), (1, 1), (1, 1), (1, 1), 2, True, (0, 0)),
    ((2, 4, 5, 6), 6, (3, 2), (2, 1), (0, 2), (1, 2), 2, False, (1, 1)),
    ((3, 2, 1, 7), 4, (1, 3), (1, 2), (0, 1), (1, 1), 1, True, (0, 1)),
    ((2, 3, 6, 1), 3, (2, 1), (1, 1), (1, 0), (2, 1), 3, True, (1, 0)),
    ((0, 2, 4, 4), 4, (3, 3), (1, 1), (1, 1), (1, 1), 1, True, (0, 0)),
]


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_pooled_conv2d_and_conv_transpose2d_match_torch_including_double_backward(config: tuple) -> None:
    torch = pytest.importorskip("torch")
    shape, o, kernel, stride, padding, dilation, groups, bias, output_padding = config
    rng = np.random.default_rng(5)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    for _ in range(2):  # the second round runs on reused blocks
        arrays = [rng.standard_normal(shape), rng.standard_normal((o, shape[1] // groups, *kernel))]
        transposed = [rng.standard_normal(shape), rng.standard_normal((shape[1], o // groups, *kernel))]
        if bias:
            arrays.append(rng.standard_normal(o))
            transposed.append(rng.standard_normal(o))
        for ours, theirs, leaves, extra in [
            (F.conv2d, torch.nn.functional.conv2d, arrays, {}),
            (F.conv_transpose2d, torch.nn.functional.conv_transpose2d, transposed, {"output_padding": output_padding}),
        ]:
            mine = [Tensor(a, requires_grad=True) for a in leaves]
            ref = [torch.tensor(a, requires_grad=True) for a in leaves]
            y, y_torch = ours(*mine, **kw, **extra), theirs(*ref, **kw, **extra)
            np.testing.assert_allclose(y.data, y_torch.detach().numpy(), rtol=1e-10, atol=1e-10)
            gy = rng.standard_normal(y.shape)
            got = grad([(y * Tensor(gy)).sum()], mine, create_graph=True)
            want = torch.autograd.grad((y_torch * torch.tensor(gy)).sum(), ref, create_graph=True)
            for g, g_torch in zip(got, want):
                np.testing.assert_allclose(g.data, g_torch.detach().numpy(), rtol=1e-10, atol=1e-10)
            sum(((g * g).sum() for g in got), start=Tensor(np.zeros(()))).backward()  # through the gradients
            sum((g * g).sum() for g in want).backward()
            for t, t_torch in zip(mine[:2], ref[:2]):
                want_grad = np.zeros(t.shape) if t_torch.grad is None else t_torch.grad.numpy()  # None: empty batch
                np.testing.assert_allclose(t.grad.data, want_grad, rtol=1e-10, atol=1e-10)
