"""The optimizers: hand-computed steps, PyTorch's numbers step for step (where torch is installed), param
groups, state dicts, ``zero_grad``, closures, dtype preservation, and option errors."""

from __future__ import annotations

import copy
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

import tinygrad_cnn as tc
from tinygrad_cnn import optim
from tinygrad_cnn.tensor import Tensor

NAMES = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]
SHAPES = [(3, 4), (5,)]
# Gradient scales per step: the squared-gradient averages both grow and shrink (AMSGrad's max matters).
SCALES = [1.0, 0.1, 2.0, 0.5, 0.05, 1.5, 0.2, 1.0, 3.0, 0.01]
# float32 against torch: torch fuses multiply-adds (FMA) and its vectorised sqrt is not correctly rounded on
# AVX-512, so each step can round an O(1) value differently by an ulp (~1.2e-7); ten steps stay within 1e-6.
# A wrong formula is off by far more: the grids use lrs and option values large enough to show each one.
TOL32 = {"rtol": 1e-6, "atol": 1e-6}
TOL64 = {"rtol": 1e-12, "atol": 1e-13}


def leaf(values: Any, dtype: Any = np.float32) -> Tensor:
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


def set_grad(p: Tensor, g: Any) -> None:
    p.grad = Tensor(np.array(g, dtype=p.dtype))


def gradients(steps: int, dtype: Any, seed: int = 0) -> list[list[np.ndarray]]:
    """For each step, one random gradient per shape in SHAPES."""
    rng = np.random.default_rng(seed)
    return [[(rng.standard_normal(s) * SCALES[i % len(SCALES)]).astype(dtype) for s in SHAPES] for i in range(steps)]


def initial_params(dtype: Any, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def run_ours(name: str, params: Any, kwargs: dict, grads: list[list[np.ndarray]]) -> tuple[list[Tensor], Any]:
    """``params``: a list of arrays (one group) or a list of per-group option dicts holding arrays."""
    if isinstance(params[0], dict):
        tensors = [Tensor(p.copy(), requires_grad=True) for g in params for p in g["params"]]
        it = iter(tensors)
        spec: Any = [{**g, "params": [next(it) for _ in g["params"]]} for g in params]
    else:
        tensors = spec = [Tensor(p.copy(), requires_grad=True) for p in params]
    opt = getattr(optim, name)(spec, **kwargs)
    for step_grads in grads:
        for p, g in zip(tensors, step_grads):
            p.grad = None if g is None else Tensor(g.copy())
        opt.step()
    return tensors, opt


def run_torch(torch: Any, name: str, params: Any, kwargs: dict, grads: list[list[np.ndarray]]) -> tuple[list, Any]:
    if isinstance(params[0], dict):
        tensors = [torch.tensor(p.copy(), requires_grad=True) for g in params for p in g["params"]]
        it = iter(tensors)
        spec: Any = [{**g, "params": [next(it) for _ in g["params"]]} for g in params]
    else:
        tensors = spec = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    opt = getattr(torch.optim, name)(spec, **kwargs)
    for step_grads in grads:
        for p, g in zip(tensors, step_grads):
            p.grad = None if g is None else torch.tensor(g.copy())
        opt.step()
    return tensors, opt


def assert_same_as_torch(ours: list[Tensor], opt: Any, theirs: list, t_opt: Any, tol: dict) -> None:
    """Same parameters, dtypes and per-parameter state (names, values; ``step`` a float32 0-d tensor)."""
    for mine, other in zip(ours, theirs):
        assert mine.dtype == other.detach().numpy().dtype
        np.testing.assert_allclose(mine.data, other.detach().numpy(), **tol)
        state, t_state = opt.state.get(mine, {}), t_opt.state.get(other, {})
        assert set(state) == set(t_state)
        for key, value in state.items():
            expected = t_state[key].numpy()
            assert isinstance(value, Tensor) and value.dtype == expected.dtype and value.shape == expected.shape
            np.testing.assert_allclose(value.data, expected, **tol)


# -- hand-computed steps (always run) --------------------------------------------------------------------------
def test_sgd_momentum_two_steps_by_hand() -> None:
    # lr 0.1, momentum 0.9, p = [1, -2]; g1 = [1, 2], g2 = [0.5, -1]
    # step 1: b = g1 = [1, 2]                          p = [1 - 0.1, -2 - 0.2]      = [0.9, -2.2]
    # step 2: b = 0.9 * [1, 2] + [0.5, -1] = [1.4, 0.8] p = [0.9 - 0.14, -2.2 - 0.08] = [0.76, -2.28]
    p = leaf([1.0, -2.0], np.float64)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    set_grad(p, [1.0, 2.0])
    opt.step()
    np.testing.assert_allclose(p.data, [0.9, -2.2], rtol=1e-15)
    set_grad(p, [0.5, -1.0])
    opt.step()
    np.testing.assert_allclose(p.data, [0.76, -2.28], rtol=1e-15)
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"].data, [1.4, 0.8], rtol=1e-15)


def test_sgd_nesterov_and_dampening_by_hand() -> None:
    # Nesterov, same run: step 1 g = g1 + 0.9 * b = [1.9, 3.8], p = [0.81, -2.38];
    # step 2: b = [1.4, 0.8], g = [0.5, -1] + 0.9 * b = [1.76, -0.28], p = [0.81 - 0.176, -2.38 + 0.028]
    p = leaf([1.0, -2.0], np.float64)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    for g in ([1.0, 2.0], [0.5, -1.0]):
        set_grad(p, g)
        opt.step()
    np.testing.assert_allclose(p.data, [0.634, -2.352], rtol=1e-15)
    # dampening 0.5 leaves the first buffer alone (b = g1, q = -g1), then b = 0.9 * b + 0.5 * g2 = [1.15, 1.3]
    q = leaf([0.0, 0.0], np.float64)
    opt = optim.SGD([q], lr=1.0, momentum=0.9, dampening=0.5)
    for g in ([1.0, 2.0], [0.5, -1.0]):
        set_grad(q, g)
        opt.step()
    np.testing.assert_allclose(q.data, [-1.0 - 1.15, -2.0 - 1.3], rtol=1e-15)


def test_sgd_weight_decay_and_maximize_by_hand() -> None:
    # g = -grad + wd * p = -[1, 1] + 0.5 * [2, -4] = [0, -3];  p = p - 0.1 * g = [2, -3.7]
    p = leaf([2.0, -4.0], np.float64)
    opt = optim.SGD([p], lr=0.1, weight_decay=0.5, maximize=True)
    set_grad(p, [1.0, 1.0])
    opt.step()
    np.testing.assert_allclose(p.data, [2.0, -3.7], rtol=1e-15)


def test_adam_first_step_is_lr_times_sign_of_grad() -> None:
    # step 1: m = (1 - b1) g, v = (1 - b2) g^2; the bias corrections undo the (1 - b) factors, so
    # m_hat = g, sqrt(v_hat) = |g| and p -= lr * g / (|g| + eps) = lr * sign(g) (a zero gradient: no move).
    p = leaf([1.0, -1.0, 0.5, 2.0], np.float64)
    opt = optim.Adam([p], lr=0.01)
    g = np.array([3.0, -0.2, 0.0, 1e-3])
    set_grad(p, g)
    opt.step()
    expected = np.array([1.0, -1.0, 0.5, 2.0]) - 0.01 * g / (np.abs(g) + 1e-8)
    np.testing.assert_allclose(p.data, expected, rtol=1e-14)
    np.testing.assert_allclose(p.data[:2], [0.99, -0.99], rtol=1e-9)
    state = opt.state[p]
    assert state["step"].dtype == np.float32 and state["step"].shape == () and state["step"].item() == 1.0
    np.testing.assert_allclose(state["exp_avg"].data, 0.1 * g, rtol=1e-15)
    np.testing.assert_allclose(state["exp_avg_sq"].data, 0.001 * g * g, rtol=1e-12)


def test_adamw_decays_the_weights_directly() -> None:
    # zero gradient: m = v = 0, so only the decay moves p: p *= 1 - lr * wd = 1 - 0.1 * 0.5
    p = leaf([2.0, -4.0], np.float64)
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    set_grad(p, [0.0, 0.0])
    opt.step()
    np.testing.assert_allclose(p.data, [1.9, -3.8], rtol=1e-15)
    # Adam's (coupled) decay goes through the gradient instead: g = 0.5 * p, and the step is lr * sign(p)
    q = leaf([2.0, -4.0], np.float64)
    opt = optim.Adam([q], lr=0.1, weight_decay=0.5)
    set_grad(q, [0.0, 0.0])
    opt.step()
    np.testing.assert_allclose(q.data, [1.9, -3.9], rtol=1e-9)


def test_rmsprop_and_adagrad_first_steps_by_hand() -> None:
    # RMSprop: v = (1 - 0.99) g^2, p -= lr * g / (sqrt(v) + eps) = lr * g / (0.1 |g| + eps) ~ 10 lr sign(g)
    g = np.array([2.0, -0.5])
    p = leaf([1.0, 1.0], np.float64)
    opt = optim.RMSprop([p], lr=0.01)
    set_grad(p, g)
    opt.step()
    np.testing.assert_allclose(p.data, 1.0 - 0.01 * g / (0.1 * np.abs(g) + 1e-8), rtol=1e-14)
    # Adagrad: s = g^2, p -= lr * g / (|g| + eps); step 2 with lr_decay 0.5: clr = lr / 1.5, s = 2 g^2
    q = leaf([1.0, 1.0], np.float64)
    opt = optim.Adagrad([q], lr=0.1, lr_decay=0.5)
    set_grad(q, g)
    opt.step()
    np.testing.assert_allclose(q.data, [0.9, 1.1], rtol=1e-9)
    opt.step()
    np.testing.assert_allclose(q.data, [0.9 - 0.1 / 1.5 / np.sqrt(2), 1.1 + 0.1 / 1.5 / np.sqrt(2)], rtol=1e-9)
    assert opt.state[q]["step"].item() == 2.0


# -- PyTorch's numbers (only where torch is installed) ---------------------------------------------------------
CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.1, "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.2, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "betas": (0.4, 0.9), "eps": 0.1}),  # lerp weight 0.6: its other form
    ("Adam", {"lr": 0.05, "betas": (0.0, 0.5)}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True, "maximize": True}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "maximize": True, "betas": (0.8, 0.95), "eps": 1e-3}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.5, "eps": 0.1}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "centered": True, "momentum": 0.5, "weight_decay": 0.1, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 0.1}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "maximize": True, "lr_decay": 0.01}),
]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{'-'.join(k) or 'defaults'}" for n, k in CASES])
def test_ten_steps_match_torch_float32(torch: Any, name: str, kwargs: dict) -> None:
    grads = gradients(10, np.float32)
    ours, opt = run_ours(name, initial_params(np.float32), kwargs, grads)
    theirs, t_opt = run_torch(torch, name, initial_params(np.float32), kwargs, grads)
    assert_same_as_torch(ours, opt, theirs, t_opt, TOL32)


CASES64 = [c for c in CASES if len(c[1]) >= 3]


@pytest.mark.parametrize("name, kwargs", CASES64, ids=[f"{n}-{'-'.join(k)}" for n, k in CASES64])
def test_ten_steps_match_torch_float64(torch: Any, name: str, kwargs: dict) -> None:
    grads = gradients(10, np.float64)
    ours, opt = run_ours(name, initial_params(np.float64), kwargs, grads)
    theirs, t_opt = run_torch(torch, name, initial_params(np.float64), kwargs, grads)
    assert_same_as_torch(ours, opt, theirs, t_opt, TOL64)


def options(name: str) -> st.SearchStrategy[dict]:
    """Random valid options for each optimizer (every flag, continuous values in sensible ranges)."""
    unit = st.floats(0.0, 0.95)
    small = st.floats(0.0, 0.3)
    if name == "SGD":
        return st.builds(
            lambda lr, m, d, wd, nest, mx: {"lr": lr, "momentum": m, "dampening": 0.0 if nest else d,
                                            "weight_decay": wd, "nesterov": nest and m > 0, "maximize": mx},
            st.floats(1e-3, 0.3), unit, unit, small, st.booleans(), st.booleans(),
        )  # fmt: skip
    if name in ("Adam", "AdamW"):
        return st.builds(
            lambda lr, b1, b2, eps, wd, ams, mx: {"lr": lr, "betas": (b1, b2), "eps": eps, "weight_decay": wd,
                                                  "amsgrad": ams, "maximize": mx},
            st.floats(1e-3, 0.1), unit, st.floats(0.5, 0.999), st.floats(1e-8, 1e-2), small, st.booleans(),
            st.booleans(),
        )  # fmt: skip
    if name == "RMSprop":
        return st.builds(
            lambda lr, a, eps, wd, m, c, mx: {"lr": lr, "alpha": a, "eps": eps, "weight_decay": wd, "momentum": m,
                                              "centered": c, "maximize": mx},
            st.floats(1e-3, 0.05), st.floats(0.5, 0.99), st.floats(1e-8, 1e-2), small, unit, st.booleans(),
            st.booleans(),
        )  # fmt: skip
    return st.builds(
        lambda lr, decay, wd, acc, eps, mx: {"lr": lr, "lr_decay": decay, "weight_decay": wd,
                                             "initial_accumulator_value": acc, "eps": eps, "maximize": mx},
        st.floats(1e-3, 0.3), small, small, st.floats(0.0, 1.0), st.floats(1e-10, 1e-2), st.booleans(),
    )  # fmt: skip


@given(data=st.data(), name=st.sampled_from(NAMES), seed=st.integers(0, 2**16))
def test_random_options_match_torch(torch: Any, data: st.DataObject, name: str, seed: int) -> None:
    kwargs = data.draw(options(name), label="options")
    grads = gradients(6, np.float32, seed)
    ours, opt = run_ours(name, initial_params(np.float32, seed + 1), kwargs, grads)
    theirs, t_opt = run_torch(torch, name, initial_params(np.float32, seed + 1), kwargs, grads)
    assert_same_as_torch(ours, opt, theirs, t_opt, TOL32)


@pytest.mark.parametrize("name", NAMES)
def test_param_groups_with_their_own_options_match_torch(torch: Any, name: str) -> None:
    a, b = initial_params(np.float32)
    extra = {"SGD": {"momentum": 0.9}, "RMSprop": {"momentum": 0.5}, "Adagrad": {"lr_decay": 0.1}}
    groups = [{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.01, "weight_decay": 0.2, **extra.get(name, {})}]
    grads = gradients(10, np.float32)
    ours, opt = run_ours(name, groups, {"lr": 0.05}, grads)
    theirs, t_opt = run_torch(torch, name, groups, {"lr": 0.05}, grads)
    assert_same_as_torch(ours, opt, theirs, t_opt, TOL32)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]


@pytest.mark.parametrize("name", NAMES)
def test_parameters_without_grad_are_skipped_like_torch(torch: Any, name: str) -> None:
    # the second parameter has a gradient only at steps 3 and 4: no state before, frozen otherwise
    grads = [[g[0], g[1] if i in (3, 4) else None] for i, g in enumerate(gradients(8, np.float32))]
    ours, opt = run_ours(name, initial_params(np.float32), {"lr": 0.05}, grads)
    theirs, t_opt = run_torch(torch, name, initial_params(np.float32), {"lr": 0.05}, grads)
    assert_same_as_torch(ours, opt, theirs, t_opt, TOL32)
    assert ours[1]._version == 2


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_has_torchs_layout(torch: Any, name: str) -> None:
    grads = gradients(2, np.float32)
    kwargs = {"lr": 0.1, "momentum": 0.9} if name in ("SGD", "RMSprop") else {"lr": 0.1}
    _, opt = run_ours(name, initial_params(np.float32), kwargs, grads)
    _, t_opt = run_torch(torch, name, initial_params(np.float32), kwargs, grads)
    sd, t_sd = opt.state_dict(), t_opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sorted(sd["state"]) == sorted(t_sd["state"]) == [0, 1]
    for i in sd["state"]:
        assert set(sd["state"][i]) == set(t_sd["state"][i])
        for key, value in sd["state"][i].items():
            assert isinstance(value, Tensor)
            assert value.dtype == t_sd["state"][i][key].numpy().dtype
            assert value.shape == tuple(t_sd["state"][i][key].shape)
    (group,), (t_group,) = sd["param_groups"], t_sd["param_groups"]
    assert group["params"] == t_group["params"] == [0, 1]
    torch_only = {"foreach", "fused", "capturable", "differentiable"}
    assert set(group) <= set(t_group) and set(t_group) - set(group) <= torch_only
    assert all(group[k] == t_group[k] for k in group)


# -- state dicts --------------------------------------------------------------------------------------------------
ROUND_TRIP = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.05, "betas": (0.8, 0.99)}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1, "initial_accumulator_value": 0.2}),
]


@pytest.mark.parametrize("name, kwargs", ROUND_TRIP, ids=[n for n, _ in ROUND_TRIP])
def test_state_dict_round_trip_mid_run_continues_exactly(name: str, kwargs: dict) -> None:
    grads = gradients(10, np.float32)
    straight, _ = run_ours(name, initial_params(np.float32), kwargs, grads)
    first, opt = run_ours(name, initial_params(np.float32), kwargs, grads[:3])
    sd = opt.state_dict()
    resumed = [Tensor(p.data.copy(), requires_grad=True) for p in first]
    # other options at construction: the loaded groups replace them
    fresh = getattr(optim, name)(resumed, lr=0.5)
    fresh.load_state_dict(sd)
    assert fresh.param_groups[0]["lr"] == kwargs["lr"] and fresh.param_groups[0]["params"][0] is resumed[0]
    for step_grads in grads[3:]:
        for p, g in zip(resumed, step_grads):
            p.grad = Tensor(g.copy())
        fresh.step()
        for p, g in zip(first, step_grads):  # the saved optimizer goes on too: the loaded state is a copy
            p.grad = Tensor(g.copy())
        opt.step()
    for mine, expected in zip(resumed, straight):
        np.testing.assert_array_equal(mine.data, expected.data)
    for mine, expected in zip(first, straight):
        np.testing.assert_array_equal(mine.data, expected.data)


def test_state_dict_refers_to_live_state_and_survives_deepcopy() -> None:
    p = leaf([1.0, 2.0])
    opt = optim.Adam([p], lr=0.1)
    set_grad(p, [1.0, 1.0])
    opt.step()
    sd = opt.state_dict()
    snapshot = copy.deepcopy(sd)
    opt.step()
    assert sd["state"][0]["step"].item() == 2.0  # as PyTorch: the state dict holds the live tensors
    assert snapshot["state"][0]["step"].item() == 1.0


def test_load_state_dict_casts_floating_state_to_the_param_dtype_but_not_step() -> None:
    p64 = leaf([1.0, 2.0], np.float64)
    opt64 = optim.Adam([p64], lr=0.1)
    set_grad(p64, [1.0, -1.0])
    opt64.step()
    p32 = leaf([1.0, 2.0], np.float32)
    opt32 = optim.Adam([p32], lr=0.1)
    opt32.load_state_dict(opt64.state_dict())
    state = opt32.state[p32]
    assert state["exp_avg"].dtype == np.float32 and state["exp_avg_sq"].dtype == np.float32
    assert state["step"].dtype == np.float32 and state["step"].item() == 1.0
    assert state["exp_avg"] is not opt64.state[p64]["exp_avg"]
    set_grad(p32, [1.0, -1.0])
    opt32.step()
    assert p32.dtype == np.float32 and state["step"].item() == 2.0


def test_load_state_dict_accepts_a_plain_number_step() -> None:
    p = leaf([1.0, 2.0])
    opt = optim.Adam([p])
    sd = {
        "state": {0: {"step": 4, "exp_avg": Tensor(np.zeros(2)), "exp_avg_sq": Tensor(np.ones(2))}},
        "param_groups": [{**opt.defaults, "params": [0]}],
    }
    opt.load_state_dict(sd)
    step = opt.state[p]["step"]
    assert isinstance(step, Tensor) and step.dtype == np.float32 and step.item() == 4.0


def test_load_state_dict_validates_groups_and_shapes() -> None:
    a, b = leaf([1.0, 2.0]), leaf([3.0])
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    for p in (a, b):
        set_grad(p, np.ones(p.shape))
    opt.step()
    sd = opt.state_dict()
    two_groups = optim.SGD([{"params": [leaf([1.0, 2.0])]}, {"params": [leaf([3.0])]}], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        two_groups.load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group: group 0 has 2"):
        optim.SGD([leaf([1.0, 2.0])], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="state 'momentum_buffer' of parameter 1 has shape \\(1,\\)"):
        optim.SGD([leaf([1.0, 2.0]), leaf([3.0, 4.0])], lr=0.1).load_state_dict(sd)


def test_adamw_loading_an_adam_state_keeps_its_decay_decoupled() -> None:
    p = leaf([1.0])
    sd = optim.Adam([leaf([1.0])], weight_decay=0.1).state_dict()
    opt = optim.AdamW([p])
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True


# -- behaviour: in place, dtype, zero_grad, closure, groups ---------------------------------------------------
@pytest.mark.parametrize("name, kwargs", ROUND_TRIP, ids=[n for n, _ in ROUND_TRIP])
def test_steps_update_in_place_and_keep_float32(name: str, kwargs: dict) -> None:
    grads = gradients(4, np.float32)
    reference, _ = run_ours(name, initial_params(np.float32), kwargs, grads)
    params = [leaf(p) for p in initial_params(np.float32)]
    arrays = [p.data for p in params]
    # numpy float64 hyperparameters (as a scheduler might set) must not promote the update to float64
    numpy_kwargs = {k: (np.float64(v) if isinstance(v, float) else v) for k, v in kwargs.items()}
    if "betas" in numpy_kwargs:
        numpy_kwargs["betas"] = tuple(np.float64(b) for b in numpy_kwargs["betas"])
    opt = getattr(optim, name)(params, **numpy_kwargs)
    for i, step_grads in enumerate(grads):
        for p, g in zip(params, step_grads):
            p.grad = Tensor(g.copy())
        opt.step()
        assert all(p._version == i + 1 for p in params)
    for p, a, expected in zip(params, arrays, reference):
        assert p.data is a and p.dtype == np.float32
        np.testing.assert_array_equal(p.data, expected.data)
        assert all(v.dtype == np.float32 for v in opt.state[p].values())


def test_zero_grad_sets_none_or_zeros_in_place() -> None:
    p = leaf([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad and grad._version == 1
    np.testing.assert_array_equal(grad.data, [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None
    opt.zero_grad()  # no grad: nothing to do


def test_zero_grad_detaches_a_grad_that_requires_grad() -> None:
    p = leaf([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1)
    (p * p * p).sum().backward(create_graph=True)
    assert p.grad.requires_grad
    opt.zero_grad(set_to_none=False)
    assert not p.grad.requires_grad and p.grad.grad_fn is None
    np.testing.assert_array_equal(p.grad.data, [0.0, 0.0])


@pytest.mark.parametrize("name", NAMES)
def test_step_with_closure_returns_the_loss_and_records_under_no_grad(name: str) -> None:
    p = leaf([1.0, -2.0])
    opt = getattr(optim, name)([p], lr=0.1)
    calls = []

    def closure() -> Tensor:
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        calls.append(loss.item())
        return loss

    with tc.no_grad():  # the closure runs with gradients enabled anyway
        loss = opt.step(closure)
    assert isinstance(loss, Tensor) and loss.item() == 5.0 and calls == [5.0]
    assert opt.step() is None
    assert np.all(np.abs(p.data) < [1.0, 2.0])


def test_add_param_group_fills_defaults_and_rejects_shared_params() -> None:
    a, b = leaf([1.0]), leaf([2.0])
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1] == {
        "params": [b], "lr": 0.01, "momentum": 0.9, "dampening": 0, "weight_decay": 0, "nesterov": False,
        "maximize": False,
    }  # fmt: skip
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {leaf([3.0])}})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([leaf([3.0])])
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        opt.add_param_group({"params": [leaf([3.0])], "lr": -1})
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([b, b])


def test_adagrad_creates_its_state_at_construction_and_for_added_groups() -> None:
    a, b = leaf([1.0, 2.0]), leaf([3.0])
    opt = optim.Adagrad([a], initial_accumulator_value=0.5)
    assert opt.state[a]["step"].item() == 0.0
    np.testing.assert_array_equal(opt.state[a]["sum"].data, [0.5, 0.5])
    opt.add_param_group({"params": [b], "initial_accumulator_value": 2.0})
    set_grad(b, [1.0])
    opt.step()  # as PyTorch: a group added later starts from the defaults' accumulator value
    np.testing.assert_allclose(opt.state[b]["sum"].data, [1.5])


def test_repr_lists_the_groups() -> None:
    text = repr(optim.Adam([leaf([1.0])], lr=0.5))
    assert text.startswith("Adam (\nParameter Group 0\n") and "    lr: 0.5\n" in text and text.endswith(")")


# -- errors --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, kwargs, message",
    [
        ("SGD", {"lr": -1}, "Invalid learning rate: -1"),
        ("SGD", {"lr": float("nan")}, "Invalid learning rate: nan"),
        ("SGD", {"momentum": -0.5}, "Invalid momentum value: -0.5"),
        ("SGD", {"weight_decay": -1e-4}, "Invalid weight_decay value"),
        ("SGD", {"nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
        ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "dampening=0.1"),
        ("Adam", {"lr": -0.1}, "Invalid learning rate"),
        ("Adam", {"eps": -1e-8}, "Invalid epsilon value"),
        ("Adam", {"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
        ("Adam", {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
        ("Adam", {"betas": (0.9,)}, "betas must be a pair"),
        ("AdamW", {"weight_decay": -0.01}, "Invalid weight_decay value"),
        ("RMSprop", {"alpha": -0.1}, "Invalid alpha value"),
        ("RMSprop", {"momentum": -1}, "Invalid momentum value"),
        ("RMSprop", {"eps": -1}, "Invalid epsilon value"),
        ("Adagrad", {"lr_decay": -1}, "Invalid lr_decay value"),
        ("Adagrad", {"initial_accumulator_value": -1}, "Invalid initial_accumulator_value value"),
        ("Adagrad", {"eps": -1}, "Invalid epsilon value"),
    ],
)
def test_invalid_options_raise_naming_the_option(name: str, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        getattr(optim, name)([leaf([1.0])], **kwargs)


def test_invalid_params_raise() -> None:
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([])
    with pytest.raises(TypeError, match="one of the params is ndarray"):
        optim.SGD([np.zeros(2)])
    with pytest.raises(TypeError, match="iterable of Tensors or dicts, but got Tensor"):
        optim.Adam(leaf([1.0]))
    x = leaf([1.0])
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([x * 2])
    with pytest.raises(ValueError, match="Invalid learning rate: -2"):
        optim.SGD([{"params": [x], "lr": -2}])
    with pytest.raises(NotImplementedError):
        optim.Optimizer([x], {}).step()
