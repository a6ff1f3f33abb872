"""nn layers and losses: forward = the functional op with the layer's parameters; parameter names, shapes,
state_dict keys, reprs, default initialisation, outputs and gradients equal PyTorch's (after loading its
state_dict); BatchNorm running statistics over several steps; train/eval; constructor errors; gradcheck."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn.nn import functional as F

RTOL, ATOL = 1e-4, 1e-5  # float32 against PyTorch (different summation orders)


def torch_or_skip() -> Any:
    return pytest.importorskip("torch")


def rand(*shape: int, seed: int = 0, dtype: type = np.float32) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def torch_state(module: Any) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


def pair(name: str, args: tuple, kwargs: dict) -> tuple[nn.Module, Any]:
    """Our layer and PyTorch's from the same constructor arguments, ours loaded with PyTorch's state."""
    torch = torch_or_skip()
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    ours = getattr(nn, name)(*args, **kwargs)
    ours.load_state_dict(torch_state(theirs))
    return ours, theirs


# (layer name, constructor args, constructor kwargs, input shape)
CONFIGS: list[tuple[str, tuple, dict, tuple[int, ...]]] = [
    ("Identity", (3,), {"unused": 1}, (2, 3)),
    ("Linear", (5, 3), {}, (4, 5)),
    ("Linear", (5, 3), {"bias": False}, (2, 3, 5)),
    ("Linear", (5, 1), {}, (5,)),
    ("Flatten", (), {}, (2, 3, 4, 2)),
    ("Flatten", (0, 2), {}, (2, 3, 4, 2)),
    ("Conv1d", (4, 6, 3), {}, (2, 4, 9)),
    ("Conv1d", (4, 6, 3), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2, "bias": False}, (2, 4, 9)),
    ("Conv1d", (2, 3, 4), {"padding": "same"}, (3, 2, 7)),
    ("Conv1d", (2, 3, 3), {}, (2, 7)),
    ("Conv2d", (3, 4, 3), {}, (2, 3, 7, 6)),
    ("Conv2d", (4, 6, (3, 2)), {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2}, (2, 4, 7, 6)),
    ("Conv2d", (3, 4, 4), {"padding": "same", "bias": False}, (2, 3, 6, 5)),
    ("Conv2d", (3, 2, 2), {"padding": "valid", "stride": 3}, (3, 7, 6)),
    ("Conv2d", (4, 4, 3), {"groups": 4, "padding": 2, "dilation": 2}, (1, 4, 5, 5)),
    ("ConvTranspose2d", (4, 6, 3), {}, (2, 4, 4, 5)),
    ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2, "bias": False},
     (2, 4, 4, 5)),
    ("ConvTranspose2d", (4, 2, (2, 3)), {"stride": (2, 3), "dilation": (2, 1), "output_padding": (1, 2)}, (4, 3, 3)),
    ("MaxPool2d", (2,), {}, (2, 3, 6, 6)),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, (2, 3, 7, 6)),
    ("MaxPool2d", ((2, 3),), {"stride": (1, 2), "dilation": 2}, (3, 7, 8)),
    ("AvgPool2d", (2,), {}, (2, 3, 6, 6)),
    ("AvgPool2d", (3, 2, 1), {"ceil_mode": True, "count_include_pad": False}, (2, 3, 7, 6)),
    ("AvgPool2d", (3, 1, 1), {"divisor_override": 2}, (3, 5, 4)),
    ("AdaptiveAvgPool2d", ((3, None),), {}, (2, 3, 7, 5)),
    ("AdaptiveAvgPool2d", (4,), {}, (2, 3, 7, 6)),
    ("AdaptiveMaxPool2d", ((2, 3),), {}, (2, 3, 7, 8)),
    ("BatchNorm1d", (4,), {}, (8, 4)),
    ("BatchNorm1d", (4,), {"momentum": None, "eps": 1e-3}, (5, 4, 3)),
    ("BatchNorm2d", (3,), {}, (4, 3, 5, 5)),
    ("BatchNorm2d", (3,), {"affine": False}, (4, 3, 5, 5)),
    ("BatchNorm2d", (3,), {"bias": False, "track_running_stats": False}, (4, 3, 5, 5)),
    ("LayerNorm", (5,), {}, (4, 3, 5)),
    ("LayerNorm", ([4, 5],), {"elementwise_affine": False}, (2, 3, 4, 5)),
    ("LayerNorm", (5,), {"bias": False, "eps": 1e-3}, (4, 5)),
    ("GroupNorm", (2, 4), {}, (3, 4, 5, 5)),
    ("GroupNorm", (4, 4), {"affine": False}, (3, 4, 6)),
    ("GroupNorm", (1, 4), {"eps": 1e-3, "bias": False}, (3, 4)),
    ("LocalResponseNorm", (3,), {}, (2, 5, 4, 4)),
    ("LocalResponseNorm", (2,), {"alpha": 1e-2, "beta": 0.5, "k": 2.0}, (2, 5, 6)),
    ("Dropout", (), {}, (4, 5)),
    ("Dropout2d", (0.3,), {}, (2, 4, 3, 3)),
    ("ReLU", (), {}, (3, 4)),
    ("LeakyReLU", (0.2,), {}, (3, 4)),
    ("ELU", (0.5,), {}, (3, 4)),
    ("GELU", (), {}, (3, 4)),
    ("GELU", ("tanh",), {}, (3, 4)),
    ("SiLU", (), {}, (3, 4)),
    ("Sigmoid", (), {}, (3, 4)),
    ("Tanh", (), {}, (3, 4)),
    ("Softmax", (1,), {}, (3, 4, 2)),
    ("LogSoftmax", (), {"dim": -1}, (3, 4)),
]  # fmt: skip
IDS = [f"{name}-{i}" for i, (name, *_rest) in enumerate(CONFIGS)]
STOCHASTIC = {"Dropout", "Dropout2d"}  # compared with PyTorch in eval mode only


# -- (a) forward is the functional op with the layer's parameters -------------------------------------------------
def functional_reference(m: nn.Module, x: Tensor) -> Tensor:
    """What each layer's forward must compute, spelled out with ``nn.functional`` and the layer's attributes."""
    name = type(m).__name__
    if name == "Identity":
        return x
    if name == "Linear":
        return F.linear(x, m.weight, m.bias)
    if name == "Flatten":
        return x.flatten(m.start_dim, m.end_dim)
    if name in ("Conv1d", "Conv2d"):
        conv = F.conv1d if name == "Conv1d" else F.conv2d
        return conv(x, m.weight, m.bias, m.stride, m.padding, m.dilation, m.groups)
    if name == "ConvTranspose2d":
        return F.conv_transpose2d(x, m.weight, m.bias, m.stride, m.padding, m.output_padding, m.groups, m.dilation)
    if name == "MaxPool2d":
        return F.max_pool2d(x, m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode)
    if name == "AvgPool2d":
        return F.avg_pool2d(x, m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad, m.divisor_override)
    if name == "AdaptiveAvgPool2d":
        return F.adaptive_avg_pool2d(x, m.output_size)
    if name == "AdaptiveMaxPool2d":
        return F.adaptive_max_pool2d(x, m.output_size)
    if name.startswith("BatchNorm"):  # training mode, without touching the module's buffers
        return F.batch_norm(x, None, None, m.weight, m.bias, True, 0.1, m.eps)
    if name == "LayerNorm":
        return F.layer_norm(x, m.normalized_shape, m.weight, m.bias, m.eps)
    if name == "GroupNorm":
        return F.group_norm(x, m.num_groups, m.weight, m.bias, m.eps)
    if name == "LocalResponseNorm":
        return F.local_response_norm(x, m.size, m.alpha, m.beta, m.k)
    if name in STOCHASTIC:
        return (F.dropout if name == "Dropout" else F.dropout2d)(x, m.p, True)
    simple = {"ReLU": F.relu, "SiLU": F.silu, "Sigmoid": F.sigmoid, "Tanh": F.tanh}
    if name in simple:
        return simple[name](x)
    if name == "LeakyReLU":
        return F.leaky_relu(x, m.negative_slope)
    if name == "ELU":
        return F.elu(x, m.alpha)
    if name == "GELU":
        return F.gelu(x, m.approximate)
    if name == "Softmax":
        return F.softmax(x, m.dim)
    if name == "LogSoftmax":
        return F.log_softmax(x, m.dim)
    raise AssertionError(f"no functional reference for {name}")


@pytest.mark.parametrize(("name", "args", "kwargs", "shape"), CONFIGS, ids=IDS)
def test_forward_is_the_functional_op(name: str, args: tuple, kwargs: dict, shape: tuple) -> None:
    tc.manual_seed(0)
    m = getattr(nn, name)(*args, **kwargs)
    x = Tensor(rand(*shape, seed=1))
    tc.manual_seed(5)  # the same dropout mask for both
    out = m(x)
    tc.manual_seed(5)
    expected = functional_reference(m, x)
    assert isinstance(out, Tensor) and out.dtype == np.float32
    np.testing.assert_array_equal(out.data, expected.data)


def test_module_on_float64_after_double() -> None:
    m = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 2)).double()
    out = m(Tensor(rand(2, 2, 4, 4, dtype=np.float64)))
    assert out.dtype == np.float64 and out.shape == (2, 2)
    assert all(p.dtype == np.float64 for p in m.parameters())
    assert m[1].num_batches_tracked.dtype == np.int64


# -- (b) parameter names, shapes and state_dict keys equal PyTorch's -------------------------------------------------
@pytest.mark.parametrize(("name", "args", "kwargs", "shape"), CONFIGS, ids=IDS)
def test_parameters_and_state_dict_match_torch(name: str, args: tuple, kwargs: dict, shape: tuple) -> None:
    torch = torch_or_skip()
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    ours = getattr(nn, name)(*args, **kwargs)
    assert [(k, tuple(p.shape)) for k, p in ours.named_parameters()] == [
        (k, tuple(p.shape)) for k, p in theirs.named_parameters()
    ]
    assert [(k, tuple(b.shape)) for k, b in ours.named_buffers()] == [
        (k, tuple(b.shape)) for k, b in theirs.named_buffers()
    ]
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for k, v in ours_sd.items():
        assert v.shape == tuple(theirs_sd[k].shape)
        assert v.dtype == theirs_sd[k].numpy().dtype, k  # float32 parameters, int64 num_batches_tracked
    for p in ours.parameters():
        assert isinstance(p, nn.Parameter) and p.requires_grad and p.grad is None
    # the attributes PyTorch's module has, with the same values
    for attr in ("in_features", "out_features", "in_channels", "out_channels", "kernel_size", "stride", "padding",
                 "dilation", "groups", "output_padding", "padding_mode", "transposed", "num_features", "eps",
                 "momentum", "affine", "track_running_stats", "normalized_shape", "elementwise_affine", "num_groups",
                 "num_channels", "size", "alpha", "beta", "k", "p", "inplace", "negative_slope", "approximate", "dim",
                 "start_dim", "end_dim", "output_size", "ceil_mode", "count_include_pad", "divisor_override",
                 "return_indices"):  # fmt: skip
        if hasattr(theirs, attr):
            assert getattr(ours, attr) == getattr(theirs, attr), attr


# -- (c) PyTorch's state_dict gives PyTorch's outputs and gradients --------------------------------------------------
def run_both(ours: nn.Module, theirs: Any, x: np.ndarray, seed: int = 2) -> None:
    """Forward both on ``x``, backpropagate one random upstream gradient, compare output and all gradients."""
    torch = torch_or_skip()
    xo = Tensor(x.copy(), requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    np.testing.assert_allclose(yo.data, yt.detach().numpy(), rtol=RTOL, atol=ATOL)
    g = rand(*yt.shape, seed=seed)
    yo.backward(Tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), rtol=RTOL, atol=ATOL)
    theirs_params = dict(theirs.named_parameters())
    for k, p in ours.named_parameters():
        assert p.grad is not None and p.grad.dtype == np.float32, k
        np.testing.assert_allclose(p.grad.data, theirs_params[k].grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=k)


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # PyTorch's note on even kernels
@pytest.mark.parametrize(("name", "args", "kwargs", "shape"), CONFIGS, ids=IDS)
def test_outputs_and_gradients_match_torch(name: str, args: tuple, kwargs: dict, shape: tuple) -> None:
    ours, theirs = pair(name, args, kwargs)
    if name in STOCHASTIC:
        ours.eval()
        theirs.eval()
    run_both(ours, theirs, rand(*shape, seed=1))
    for k, v in torch_state(theirs).items():  # buffers updated alike (batch norm's running statistics)
        np.testing.assert_allclose(ours.state_dict()[k].data, v, rtol=RTOL, atol=ATOL, err_msg=k)


@st.composite
def conv_configs(draw: st.DrawFn) -> tuple:
    transposed = draw(st.booleans())
    groups = draw(st.sampled_from([1, 2]))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 1)), draw(st.integers(0, 2)))
    kwargs: dict = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups,
                    "bias": draw(st.booleans())}  # fmt: skip
    if transposed:
        kwargs["output_padding"] = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    hw = tuple(draw(st.integers(dilation[i] * (k[i] - 1) + 1, 6)) for i in range(2))
    if transposed:  # the output must not be empty: (h - 1) s - 2 p + d (k - 1) + output_padding + 1 >= 1
        sizes = [(hw[i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (k[i] - 1) + kwargs["output_padding"][i] + 1
                 for i in range(2)]  # fmt: skip
        assume(min(sizes) >= 1)
    return ("ConvTranspose2d" if transposed else "Conv2d"), (cin, cout, k), kwargs, (2, cin) + hw


@given(conv_configs(), st.integers(0, 2**16))
def test_conv_layers_match_torch_on_random_configs(config: tuple, seed: int) -> None:
    name, args, kwargs, shape = config
    torch = torch_or_skip()
    torch.manual_seed(seed)
    ours, theirs = pair(name, args, kwargs)
    run_both(ours, theirs, rand(*shape, seed=seed))


def test_conv_transpose2d_output_size_matches_torch() -> None:
    torch = torch_or_skip()
    ours, theirs = pair("ConvTranspose2d", (3, 2, 3), {"stride": 3, "padding": 1})
    x = rand(2, 3, 4, 5)
    for size in ([10, 13], [2, 2, 12, 15], (11, 14)):
        expected = theirs(torch.tensor(x), output_size=size).detach().numpy()
        np.testing.assert_allclose(ours(Tensor(x), output_size=size).data, expected, rtol=RTOL, atol=ATOL)
    with pytest.raises(ValueError, match="requested an output size of"):
        ours(Tensor(x), output_size=(13, 13))
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
        ours(Tensor(x), output_size=(10,))


def test_pool_return_indices_match_torch() -> None:
    torch = torch_or_skip()
    x = rand(2, 3, 7, 6)
    for name, args in (("MaxPool2d", (3, 2, 1)), ("AdaptiveMaxPool2d", ((3, 2),))):
        ours, theirs = pair(name, args, {"return_indices": True})
        (yo, io), (yt, it) = ours(Tensor(x)), theirs(torch.tensor(x))
        np.testing.assert_array_equal(yo.data, yt.numpy())
        np.testing.assert_array_equal(io.data, it.numpy())
        assert io.dtype == np.int64


# -- BatchNorm: running statistics, momentum=None, num_batches_tracked, train/eval -----------------------------------
@pytest.mark.parametrize(
    ("name", "kwargs", "shape"),
    [
        ("BatchNorm1d", {}, (6, 3)),
        ("BatchNorm1d", {"momentum": None}, (4, 3, 5)),
        ("BatchNorm1d", {"momentum": 0.5, "affine": False}, (4, 3, 2)),
        ("BatchNorm2d", {}, (3, 3, 4, 4)),
        ("BatchNorm2d", {"momentum": None, "eps": 1e-2}, (2, 3, 3, 4)),
        ("BatchNorm2d", {"track_running_stats": False}, (3, 3, 4, 4)),
        ("BatchNorm2d", {"track_running_stats": False, "momentum": None}, (3, 3, 2, 2)),
    ],
)
def test_batch_norm_steps_match_torch(name: str, kwargs: dict, shape: tuple) -> None:
    torch = torch_or_skip()
    ours, theirs = pair(name, (3,), kwargs)
    for step in range(4):  # training steps on shifted, scaled batches
        x = rand(*shape, seed=10 + step) * (step + 1) + step
        run_both(ours, theirs, x, seed=step)
        for k, v in torch_state(theirs).items():
            np.testing.assert_allclose(ours.state_dict()[k].data, v, rtol=RTOL, atol=ATOL, err_msg=f"{k} step {step}")
        if ours.track_running_stats:
            assert int(ours.num_batches_tracked) == step + 1
    ours.eval()
    theirs.eval()
    before = {k: v.data.copy() for k, v in ours.state_dict().items()}
    run_both(ours, theirs, rand(*shape, seed=99) + 3)  # eval: running stats (or batch stats when not tracked)
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(v.data, before[k])  # evaluation never updates the buffers
    del torch


def test_batch_norm_momentum_none_is_the_cumulative_average() -> None:
    bn = nn.BatchNorm1d(2, momentum=None)
    batches = [rand(5, 2, seed=s) * (s + 1) + s for s in range(3)]
    for b in batches:
        bn(Tensor(b))
    np.testing.assert_allclose(bn.running_mean.data, np.mean([b.mean(0) for b in batches], axis=0), rtol=1e-5)
    # the first batch replaces the initial running_var of 1 (factor 1 / 1)
    np.testing.assert_allclose(bn.running_var.data, np.mean([b.var(0, ddof=1) for b in batches], axis=0), rtol=1e-5)


def test_batch_norm_buffers_and_resets() -> None:
    bn = nn.BatchNorm2d(3)
    assert bn.num_batches_tracked.shape == () and bn.num_batches_tracked.dtype == np.int64
    assert not bn.running_mean.requires_grad and not bn.num_batches_tracked.requires_grad
    bn(Tensor(rand(2, 3, 2, 2)))
    bn(Tensor(rand(2, 3, 2, 2, seed=1)))
    assert int(bn.num_batches_tracked) == 2
    with tc.no_grad():
        bn.weight.fill_(3.0)
    bn.reset_running_stats()
    np.testing.assert_array_equal(bn.running_mean.data, np.zeros(3, np.float32))
    np.testing.assert_array_equal(bn.running_var.data, np.ones(3, np.float32))
    assert int(bn.num_batches_tracked) == 0
    assert bn.weight.data[0] == 3.0  # reset_running_stats leaves the parameters
    bn(Tensor(rand(2, 3, 2, 2)))
    bn.reset_parameters()
    assert int(bn.num_batches_tracked) == 0 and np.all(bn.weight.data == 1) and np.all(bn.bias.data == 0)
    bn.eval()
    bn(Tensor(rand(2, 3, 2, 2)))
    assert int(bn.num_batches_tracked) == 0  # not counted in evaluation
    untracked = nn.BatchNorm1d(3, track_running_stats=False)
    assert untracked.running_mean is None and untracked.running_var is None and untracked.num_batches_tracked is None
    assert list(untracked.state_dict()) == ["weight", "bias"]
    untracked.reset_running_stats()  # a no-op


def test_batch_norm_stops_tracking_when_the_flag_is_cleared() -> None:
    """As PyTorch: buffers kept, but training uses and updates nothing; evaluation still uses them."""
    torch = torch_or_skip()
    ours, theirs = pair("BatchNorm2d", (3,), {})
    run_both(ours, theirs, rand(4, 3, 2, 2))
    ours.track_running_stats = theirs.track_running_stats = False
    before = {k: v.data.copy() for k, v in ours.state_dict().items()}
    run_both(ours, theirs, rand(4, 3, 2, 2, seed=3) + 1)
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(v.data, before[k])
    ours.eval()
    theirs.eval()
    run_both(ours, theirs, rand(4, 3, 2, 2, seed=4) + 1)
    del torch


def test_batch_norm_input_rank_checks() -> None:
    with pytest.raises(ValueError, match=re.escape("expected 2D or 3D input (got 4D input)")):
        nn.BatchNorm1d(3)(Tensor(rand(2, 3, 2, 2)))
    with pytest.raises(ValueError, match=re.escape("expected 4D input (got 3D input)")):
        nn.BatchNorm2d(3)(Tensor(rand(2, 3, 2)))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(Tensor(rand(1, 3)))


# -- (h) train() / eval() --------------------------------------------------------------------------------------------
def test_dropout_train_and_eval() -> None:
    x = Tensor(np.ones((200, 50), np.float32))
    d = nn.Dropout(0.25)
    tc.manual_seed(0)
    y = d(x).data
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert 0.2 < (y == 0).mean() < 0.3
    d.eval()
    assert d(x) is x  # the identity in evaluation
    d2 = nn.Sequential(nn.Dropout2d(0.5))
    tc.manual_seed(1)
    y2 = d2(Tensor(np.ones((4, 8, 3, 3), np.float32))).data
    per_channel = y2.reshape(4, 8, 9)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))  # whole channels dropped or kept
    assert set(np.unique(y2)) == {0.0, 2.0}
    d2.eval()
    assert not d2[0].training
    np.testing.assert_array_equal(d2(Tensor(np.ones((4, 8, 3, 3), np.float32))).data, 1.0)
    assert nn.Dropout(0.0)(x) is x and nn.Dropout(1.0)(x).data.max() == 0


def test_batch_norm_train_and_eval_differ() -> None:
    bn = nn.BatchNorm1d(2)
    x = Tensor(rand(8, 2) * 3 + 5)
    out_train = bn(x).data
    np.testing.assert_allclose(out_train.mean(0), 0, atol=1e-5)
    bn.eval()
    out_eval = bn(x).data  # running stats after one step: mean 0.5, var ~1.9
    expected = (x.data - bn.running_mean.data) / np.sqrt(bn.running_var.data + bn.eps)
    np.testing.assert_allclose(out_eval, expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(out_train, out_eval)


# -- (d) repr ----------------------------------------------------------------------------------------------------------
REPR_EXTRA = [
    ("ReLU", (True,), {}), ("SiLU", (), {"inplace": True}), ("LeakyReLU", (0.2, True), {}), ("ELU", (), {}),
    ("ELU", (1, True), {}), ("Dropout", (0.2, True), {}), ("Dropout", (0,), {}), ("Softmax", (), {}),
    ("Conv2d", (3, 4, 3), {"stride": 2, "bias": False, "groups": 1}), ("MaxPool2d", ((2, 3), 1, (1, 0)), {}),
    ("AdaptiveAvgPool2d", ([2, 3],), {}), ("AdaptiveMaxPool2d", (None,), {}), ("LocalResponseNorm", (2, 1, 2, 3), {}),
    ("BatchNorm1d", (5, 0.001, None, False, False), {}), ("CrossEntropyLoss", (), {"label_smoothing": 0.1}),
    ("NLLLoss", (), {}), ("MSELoss", (), {"reduction": "sum"}), ("L1Loss", (), {}), ("BCELoss", (), {}),
    ("BCEWithLogitsLoss", (), {}), ("Flatten", (2, 3), {}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "args", "kwargs"), [c[:3] for c in CONFIGS] + REPR_EXTRA)
def test_repr_matches_torch(name: str, args: tuple, kwargs: dict) -> None:
    torch = torch_or_skip()
    assert repr(getattr(nn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs))


def test_nested_repr_matches_torch() -> None:
    torch = torch_or_skip()

    def build(lib: Any) -> Any:
        return lib.Sequential(
            lib.Conv2d(1, 8, 3, padding=1), lib.BatchNorm2d(8), lib.ReLU(inplace=True), lib.MaxPool2d(2),
            lib.Sequential(lib.Flatten(), lib.Dropout(0.1), lib.Linear(8 * 14 * 14, 10)),
        )  # fmt: skip

    assert repr(build(nn)) == repr(build(torch.nn))


# -- (e) default initialisation ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "fan_in"),
    [
        (lambda: nn.Linear(400, 300), 400),
        (lambda: nn.Conv2d(16, 32, 5), 16 * 25),
        (lambda: nn.Conv2d(32, 64, 3, groups=4), 8 * 9),
        (lambda: nn.Conv1d(8, 64, 7), 8 * 7),
        (lambda: nn.ConvTranspose2d(32, 64, 3, groups=2), 32 * 9),  # weight (32, 32, 3, 3): fan_in from dim 1
    ],
)
def test_default_init_bounds_and_std(make: Callable[[], nn.Module], fan_in: int) -> None:
    tc.manual_seed(0)
    m = make()
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)): gain sqrt(2/6), bound gain * sqrt(3/fan_in)
    w, b = m.weight.data, m.bias.data
    assert w.dtype == np.float32 and b.dtype == np.float32
    assert np.abs(w).max() <= np.float32(bound) and np.abs(b).max() <= np.float32(bound)
    assert np.abs(w).max() > 0.9 * bound and np.abs(b).max() > 0.8 * bound  # the whole range is used
    assert abs(w.std() - bound / math.sqrt(3)) < 0.03 * bound / math.sqrt(3)
    assert abs(w.mean()) < 0.05 * bound


def test_default_init_of_normalization_layers() -> None:
    for m in (nn.BatchNorm2d(5), nn.LayerNorm((2, 5)), nn.GroupNorm(1, 5)):
        assert np.all(m.weight.data == 1) and np.all(m.bias.data == 0)
        assert m.weight.dtype == np.float32


def test_reset_parameters_redraws_reproducibly() -> None:
    tc.manual_seed(3)
    a = nn.Conv2d(2, 4, 3)
    first = a.weight.data.copy()
    tc.manual_seed(3)
    b = nn.Conv2d(2, 4, 3)
    np.testing.assert_array_equal(b.weight.data, first)
    version = b.weight._version
    b.reset_parameters()
    assert not np.array_equal(b.weight.data, first) and b.weight._version > version
    assert b.weight.requires_grad and b.weight.grad_fn is None


def test_dtype_and_device_arguments() -> None:
    m = nn.Linear(3, 2, dtype=tc.float64, device="cpu")
    assert m.weight.dtype == np.float64 and m.bias.dtype == np.float64
    bn = nn.BatchNorm1d(2, dtype="float64")
    assert bn.running_mean.dtype == np.float64 and bn.num_batches_tracked.dtype == np.int64
    with pytest.raises(ValueError, match="device"):
        nn.Conv2d(1, 1, 1, device="cuda")
    with pytest.raises(TypeError, match="dtype"):
        nn.LayerNorm(3, dtype=tc.int64)


# -- (f) losses against PyTorch, all reductions -----------------------------------------------------------------------
def loss_case(case: str, seed: int = 0) -> tuple[dict, np.ndarray, np.ndarray]:
    """(constructor kwargs with numpy weights, input, target) for each loss configuration."""
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((6, 4)).astype(np.float32)
    idx = rng.integers(0, 4, 6)
    w4 = rng.uniform(0.5, 2, 4).astype(np.float32)
    if case == "ce":
        return {}, logits, idx
    if case == "ce_weight_ignore_smooth":
        idx[1] = 2
        return {"weight": w4, "ignore_index": 2, "label_smoothing": 0.2}, logits, idx
    if case == "ce_kdim":
        return {"weight": w4}, rng.standard_normal((2, 4, 3, 2)).astype(np.float32), rng.integers(0, 4, (2, 3, 2))
    if case == "ce_probs":
        p = rng.uniform(size=(6, 4)).astype(np.float32)
        return {"weight": w4, "label_smoothing": 0.1}, logits, p / p.sum(1, keepdims=True)
    if case == "nll":
        return {}, logits - np.log(np.exp(logits).sum(1, keepdims=True)), idx
    if case == "nll_weight_ignore":
        idx[0] = -1
        return {"weight": w4, "ignore_index": -1}, logits, idx
    if case in ("mse", "l1"):
        return {}, rng.standard_normal((3, 5)).astype(np.float32), rng.standard_normal((3, 5)).astype(np.float32)
    probs = rng.uniform(0.05, 0.95, (3, 4)).astype(np.float32)
    y = (rng.uniform(size=(3, 4)) > 0.5).astype(np.float32)
    if case == "bce":
        return {"weight": rng.uniform(0.5, 2, 4).astype(np.float32)}, probs, y
    if case == "bce_logits":
        return {"weight": rng.uniform(0.5, 2, (3, 1)).astype(np.float32),
                "pos_weight": rng.uniform(0.5, 3, 4).astype(np.float32)}, logits[:3] * 3, y  # fmt: skip
    raise AssertionError(case)


LOSS_CASES = [
    ("CrossEntropyLoss", "ce"), ("CrossEntropyLoss", "ce_weight_ignore_smooth"), ("CrossEntropyLoss", "ce_kdim"),
    ("CrossEntropyLoss", "ce_probs"), ("NLLLoss", "nll"), ("NLLLoss", "nll_weight_ignore"), ("MSELoss", "mse"),
    ("L1Loss", "l1"), ("BCELoss", "bce"), ("BCEWithLogitsLoss", "bce_logits"),
]  # fmt: skip


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("name", "case"), LOSS_CASES)
def test_losses_match_torch(name: str, case: str, reduction: str) -> None:
    torch = torch_or_skip()
    kwargs, x, target = loss_case(case)
    ours = getattr(nn, name)(**{k: Tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()},
                             reduction=reduction)  # fmt: skip
    theirs = getattr(torch.nn, name)(**{k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                                        for k, v in kwargs.items()}, reduction=reduction)  # fmt: skip
    assert list(ours.state_dict()) == list(theirs.state_dict())  # weight / pos_weight are buffers
    assert [k for k, _ in ours.named_parameters()] == []
    xo, xt = Tensor(x.copy(), requires_grad=True), torch.tensor(x, requires_grad=True)
    lo, lt = ours(xo, Tensor(target)), theirs(xt, torch.tensor(target))
    assert lo.shape == tuple(lt.shape)
    np.testing.assert_allclose(lo.data, lt.detach().numpy(), rtol=RTOL, atol=ATOL)
    g = rand(*lt.shape, seed=4)
    lo.backward(Tensor(g))
    lt.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), rtol=RTOL, atol=ATOL)


def test_loss_forward_is_the_functional_op() -> None:
    _, x, t = loss_case("ce_weight_ignore_smooth")
    w = Tensor(np.arange(1, 5, dtype=np.float32))
    loss = nn.CrossEntropyLoss(w, ignore_index=2, reduction="sum", label_smoothing=0.2)
    expected = F.cross_entropy(Tensor(x), Tensor(t), w, ignore_index=2, reduction="sum", label_smoothing=0.2)
    np.testing.assert_array_equal(loss(Tensor(x), Tensor(t)).data, expected.data)
    assert loss.weight is w and loss.state_dict()["weight"].shape == (4,)
    bce = nn.BCEWithLogitsLoss(pos_weight=w)
    assert bce.weight is None and list(bce.state_dict()) == ["pos_weight"]
    _, p, y = loss_case("bce")
    expected = F.binary_cross_entropy_with_logits(Tensor(p), Tensor(y), pos_weight=w)
    np.testing.assert_array_equal(bce(Tensor(p), Tensor(y)).data, expected.data)
    assert nn.CrossEntropyLoss().double().weight is None


@pytest.mark.parametrize(("size_average", "reduce"), [(None, False), (False, None), (True, True), (False, False)])
def test_legacy_reduction_flags_match_torch(size_average: bool | None, reduce: bool | None) -> None:
    torch = torch_or_skip()
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        ours = nn.MSELoss(size_average, reduce)
    with pytest.warns(UserWarning):
        theirs = torch.nn.MSELoss(size_average, reduce)
    assert ours.reduction == theirs.reduction


# -- (i) constructor errors -------------------------------------------------------------------------------------------
ERRORS: list[tuple[Callable[[], Any], type, str]] = [
    (lambda: nn.Linear(3.0, 2), TypeError, "in_features"),
    (lambda: nn.Linear(3, -1), ValueError, "out_features"),
    (lambda: nn.Linear(3, 2, bias=None), TypeError, "bias"),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, r"in_channels \(3\) must be divisible by groups \(2\)"),
    (lambda: nn.Conv2d(4, 3, 3, groups=2), ValueError, r"out_channels \(3\) must be divisible by groups \(2\)"),
    (lambda: nn.Conv2d(4, 4, 0), ValueError, "kernel_size"),
    (lambda: nn.Conv2d(4, 4, (3, 3, 3)), TypeError, "kernel_size"),
    (lambda: nn.Conv2d(4, 4, 3, stride=0), ValueError, "stride"),
    (lambda: nn.Conv2d(4, 4, 3, padding=-1), ValueError, "padding"),
    (lambda: nn.Conv2d(4, 4, 3, dilation=0), ValueError, "dilation"),
    (lambda: nn.Conv2d(4, 4, 3, groups=0), ValueError, "groups"),
    (lambda: nn.Conv2d(0, 4, 3), ValueError, "in_channels"),
    (lambda: nn.Conv2d(4, 4, 3, padding="full"), ValueError, "padding"),
    (lambda: nn.Conv2d(4, 4, 3, padding="same", stride=2), ValueError, "strided"),
    (lambda: nn.Conv2d(4, 4, 3, padding_mode="reflect"), ValueError, "only 'zeros' is supported"),
    (lambda: nn.Conv1d(4, 4, 3, padding_mode="circular"), ValueError, "padding_mode"),
    (lambda: nn.ConvTranspose2d(4, 4, 3, padding="same"), ValueError, "padding"),
    (lambda: nn.ConvTranspose2d(4, 4, 3, stride=2, output_padding=2), ValueError, "output_padding"),
    (lambda: nn.ConvTranspose2d(4, 4, 3, padding_mode="replicate"), ValueError, "padding_mode"),
    (lambda: nn.MaxPool2d(0), ValueError, "kernel_size"),
    (lambda: nn.MaxPool2d(2, padding=2), ValueError, "padding"),
    (lambda: nn.MaxPool2d(2, stride=0), ValueError, "stride"),
    (lambda: nn.AvgPool2d(2, divisor_override=0), ValueError, "divisor_override"),
    (lambda: nn.AvgPool2d(2, divisor_override=1.5), ValueError, "divisor_override"),
    (lambda: nn.AdaptiveAvgPool2d(-1), ValueError, "output_size"),
    (lambda: nn.AdaptiveAvgPool2d((2, 1.5)), ValueError, "output_size"),
    (lambda: nn.AdaptiveMaxPool2d((1, 2, 3)), ValueError, "output_size"),
    (lambda: nn.BatchNorm2d(0), ValueError, "num_features"),
    (lambda: nn.BatchNorm2d(3, eps=-1), ValueError, "eps"),
    (lambda: nn.BatchNorm1d(3, momentum="x"), TypeError, "momentum"),
    (lambda: nn.LayerNorm([]), ValueError, "normalized_shape"),
    (lambda: nn.LayerNorm("5"), TypeError, "normalized_shape"),
    (lambda: nn.GroupNorm(3, 4), ValueError, r"num_channels \(4\) must be divisible by num_groups \(3\)"),
    (lambda: nn.GroupNorm(0, 4), ValueError, "num_groups"),
    (lambda: nn.LocalResponseNorm(0), ValueError, "size"),
    (lambda: nn.Dropout(1.5), ValueError, "between 0 and 1"),
    (lambda: nn.Dropout2d(-0.1), ValueError, "between 0 and 1"),
    (lambda: nn.Dropout(float("nan")), ValueError, "p"),
    (lambda: nn.Dropout("0.5"), TypeError, "p"),
    (lambda: nn.GELU("erf"), ValueError, "approximate"),
    (lambda: nn.Softmax(1.0), TypeError, "dim"),
    (lambda: nn.Flatten(1.5), TypeError, "start_dim"),
    (lambda: nn.ReLU(inplace=1), TypeError, "inplace"),
    (lambda: nn.CrossEntropyLoss(reduction="avg"), ValueError, "reduction"),
    (lambda: nn.CrossEntropyLoss(label_smoothing=1.5), ValueError, "label_smoothing"),
    (lambda: nn.NLLLoss(weight=[1.0, 2.0]), TypeError, "weight"),
    (lambda: nn.BCEWithLogitsLoss(pos_weight=np.ones(3)), TypeError, "pos_weight"),
    (lambda: nn.MSELoss(reduction=None), ValueError, "reduction"),
]


@pytest.mark.parametrize(("make", "exc", "pattern"), ERRORS)
def test_constructor_errors(make: Callable[[], Any], exc: type, pattern: str) -> None:
    with pytest.raises(exc, match=pattern):
        make()


def test_call_time_errors_come_from_the_functional_ops() -> None:
    # (the error kinds are the functional ops' own, PyTorch's: ValueError or RuntimeError)
    with pytest.raises((ValueError, RuntimeError), match="in_features"):
        nn.Linear(3, 2)(Tensor(rand(2, 4)))
    with pytest.raises((ValueError, RuntimeError), match="channels"):
        nn.Conv2d(3, 2, 1)(Tensor(rand(1, 2, 3, 3)))
    with pytest.raises(TypeError, match="dim"):
        nn.Softmax()(Tensor(rand(2, 3)))  # PyTorch's implicit dim is not reproduced


# -- gradient check through a small model, in float64 -----------------------------------------------------------------
def functional_call(model: nn.Module, names: list[str], values: tuple, x: Tensor) -> Tensor:
    """``model(x)`` with its parameters ``names`` temporarily replaced by ``values`` (gradcheck's leaves)."""
    saved = []
    for name, value in zip(names, values):
        owner, _, pname = name.rpartition(".")
        mod = model.get_submodule(owner)
        saved.append((mod, pname, mod._parameters[pname]))
        mod._parameters[pname] = value
    try:
        return model(x)
    finally:
        for mod, pname, p in saved:
            mod._parameters[pname] = p


def test_gradcheck_through_a_small_model() -> None:
    tc.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.GroupNorm(2, 4), nn.ELU(), nn.AvgPool2d(2), nn.Flatten(),
        nn.LayerNorm(16), nn.Tanh(), nn.Linear(16, 3), nn.LogSoftmax(dim=1),
    ).double()  # fmt: skip
    names = [k for k, _ in model.named_parameters()]
    params = tuple(p for _, p in model.named_parameters())
    x = Tensor(rand(2, 2, 4, 4, dtype=np.float64), requires_grad=True)
    assert tc.gradcheck(lambda inp, *ps: functional_call(model, names, ps, inp), (x, *params), seed=0)


def test_gradcheck_batch_norm_layer_in_training() -> None:
    bn = nn.BatchNorm2d(2).double()
    with tc.no_grad():
        bn.weight.copy_(np.array([0.5, 2.0]))
    x = Tensor(rand(3, 2, 2, 2, dtype=np.float64), requires_grad=True)
    assert tc.gradcheck(lambda inp, w, b: functional_call(bn, ["weight", "bias"], (w, b), inp),
                        (x, bn.weight, bn.bias), seed=0)  # fmt: skip
