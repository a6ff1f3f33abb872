"""The learning-rate schedulers: closed forms by hand, PyTorch's lrs (and momentums) step for step where torch
is installed, chaining, state dicts mid-run, and argument errors."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

from tinygrad_cnn import optim
from tinygrad_cnn.optim import lr_scheduler as sched
from tinygrad_cnn.tensor import Tensor

STEPS = 30


def sgd(lrs: tuple[float, ...] = (1.0,), **kwargs: Any) -> optim.SGD:
    """A dummy optimizer: one param group (one parameter) per lr."""
    groups = [{"params": [Tensor(np.zeros(1, np.float32), requires_grad=True)], "lr": lr} for lr in lrs]
    return optim.SGD(groups, **kwargs)


def lrs_over(scheduler: Any, steps: int, metrics: list[float] | None = None) -> list[list[float]]:
    """``get_last_lr()`` after construction and after each step (checked against the groups' ``lr``)."""
    out = [scheduler.get_last_lr()]
    for i in range(steps):
        scheduler.optimizer.step()
        scheduler.step() if metrics is None else scheduler.step(metrics[i])
        out.append(scheduler.get_last_lr())
        assert out[-1] == [g["lr"] for g in scheduler.optimizer.param_groups]
    return out


# -- closed forms by hand (always run) ----------------------------------------------------------------------------
def test_step_lr_follows_its_closed_form() -> None:
    # base_lr * gamma ** (epoch // step_size): 1, 1, 1, 0.5, 0.5, 0.5, 0.25, ...
    lrs = lrs_over(sched.StepLR(sgd((1.0, 0.2)), step_size=3, gamma=0.5), 12)
    assert [lr[0] for lr in lrs] == [0.5 ** (e // 3) for e in range(13)]
    assert [lr[1] for lr in lrs] == pytest.approx([0.2 * 0.5 ** (e // 3) for e in range(13)], rel=1e-15)


def test_multistep_lr_follows_its_closed_form() -> None:
    # milestones 2, 5, 5 (twice: gamma squared there): 1 (epochs 0-1), 0.1 (2-4), 0.001 (5 on)
    lrs = lrs_over(sched.MultiStepLR(sgd(), milestones=[5, 2, 5], gamma=0.1), 8)
    assert [lr[0] for lr in lrs] == pytest.approx([1, 1, 0.1, 0.1, 0.1, 1e-3, 1e-3, 1e-3, 1e-3], rel=1e-14)


def test_exponential_and_linear_lr_follow_their_closed_forms() -> None:
    lrs = lrs_over(sched.ExponentialLR(sgd((2.0,)), gamma=0.9), 10)
    assert [lr[0] for lr in lrs] == pytest.approx([2.0 * 0.9**e for e in range(11)], rel=1e-14)
    # factor start + (end - start) * min(epoch, total) / total: 0.25, 0.4, 0.55, 0.7, 0.85, 1, 1, ...
    lrs = lrs_over(sched.LinearLR(sgd((2.0,)), start_factor=0.25, end_factor=1.0, total_iters=5), 8)
    assert [lr[0] for lr in lrs] == pytest.approx([2.0 * (0.25 + 0.15 * min(e, 5)) for e in range(9)], rel=1e-14)


def test_cosine_annealing_follows_its_closed_form_over_several_periods() -> None:
    # eta_min + (base - eta_min) * (1 + cos(pi * epoch / T_max)) / 2: down to eta_min at T_max, back up at 2 T_max
    lrs = lrs_over(sched.CosineAnnealingLR(sgd((1.0,)), T_max=10, eta_min=0.1), STEPS)
    expected = [0.1 + 0.9 * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(STEPS + 1)]
    assert [lr[0] for lr in lrs] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert lrs[10][0] == pytest.approx(0.1) and lrs[20][0] == pytest.approx(1.0)


def test_one_cycle_lr_and_momentum_at_the_phase_ends() -> None:
    # 100 steps, pct_start 0.25: lr from max_lr / 25 up to max_lr at step 24, then down to max_lr / 25 / 1e4
    # at step 99; the momentum moves the other way, from 0.95 down to 0.85 at the peak and back.
    opt = sgd((1.0,), momentum=0.9)
    scheduler = sched.OneCycleLR(opt, max_lr=1.0, total_steps=100, pct_start=0.25)
    lrs, momenta = [scheduler.get_last_lr()[0]], [opt.param_groups[0]["momentum"]]
    for _ in range(99):
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
        momenta.append(opt.param_groups[0]["momentum"])
    assert lrs[0] == pytest.approx(0.04) and lrs[24] == pytest.approx(1.0) and lrs[99] == pytest.approx(4e-6)
    assert momenta[0] == pytest.approx(0.95) and momenta[24] == pytest.approx(0.85)
    assert momenta[99] == pytest.approx(0.95)
    assert max(lrs) == lrs[24] and min(momenta) == momenta[24]
    # cos anneal: half way up (step 12) the lr is the mean of the two ends
    assert lrs[12] == pytest.approx((0.04 + 1.0) / 2)
    scheduler.step()  # step 100 is still allowed (as PyTorch), 101 is not
    with pytest.raises(ValueError, match="Tried to step 101 times. The specified number of total steps is 100"):
        scheduler.step()


def test_reduce_lr_on_plateau_by_hand() -> None:
    # patience 2: the third epoch in a row without a 1% improvement cuts the lr by 10x; cooldown 1 then
    # ignores the next epoch's count. min_lr stops the cuts at 1e-3.
    opt = sgd((1.0,))
    scheduler = sched.ReduceLROnPlateau(opt, factor=0.1, patience=2, threshold=0.01, cooldown=1, min_lr=1e-3)
    metrics = [10, 9, 8.95, 8.93, 8.92] + [8.0] * 12
    lrs = [lr[0] for lr in lrs_over(scheduler, len(metrics), metrics)][1:]
    # bad epochs: 8.95 (1), 8.93 (2), 8.92 (3 > 2: cut to 0.1, cooldown 1); 8.0 best; then 8.0 x3 -> epoch 9
    # (cooldown over since epoch 6) cut to 0.01; cooldown at 10; three more bad at 11, 12, 13 -> 1e-3 at 13;
    # the next cut (epoch 17) would go below min_lr: stays 1e-3.
    expected = [1, 1, 1, 1, 0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.01, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3]
    assert lrs == pytest.approx(expected, rel=1e-12)
    assert scheduler.best == 8.0 and scheduler.last_epoch == len(metrics)


def test_a_scheduler_sets_initial_lr_once_and_second_one_chains() -> None:
    opt = sgd((1.0,))
    first = sched.StepLR(opt, step_size=2, gamma=0.5)
    opt.param_groups[0]["lr"] = 3.0  # a second scheduler keeps the first initial_lr and base_lrs
    second = sched.ExponentialLR(opt, gamma=0.5)
    assert opt.param_groups[0]["initial_lr"] == 1.0 and second.base_lrs == first.base_lrs == [1.0]
    first.step()
    second.step()
    assert opt.param_groups[0]["lr"] == 1.5


# -- PyTorch's lrs (only where torch is installed) ------------------------------------------------------------------
def torch_sgd(torch: Any, lrs: tuple[float, ...] = (1.0,), **kwargs: Any) -> Any:
    return torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs], **kwargs)


def twin_runs(torch: Any, make: Callable[[Any, Any], list], steps: int = STEPS, lrs: tuple[float, ...] = (0.1, 0.03),
              opt_name: str = "SGD", opt_kwargs: dict | None = None,
              metrics: list[float] | None = None) -> tuple[list, list]:  # fmt: skip
    """``make(module, optimizer)`` builds the schedulers in either library on the same optimizer; they are stepped
    ``steps`` times (after ``optimizer.step()``). Returns, per library, the lrs, momentum and betas of every group
    after construction and after each step."""
    runs = []
    for lib, tensor in ((optim, lambda: Tensor(np.zeros(1, np.float32), requires_grad=True)),
                        (torch.optim, lambda: torch.zeros(1, requires_grad=True))):  # fmt: skip
        opt = getattr(lib, opt_name)([{"params": [tensor()], "lr": lr} for lr in lrs], **(opt_kwargs or {}))
        schedulers = make(lib.lr_scheduler, opt)

        def record() -> list:
            return [(g["lr"], g.get("momentum"), g.get("betas")) for g in opt.param_groups]  # noqa: B023

        out = [record()]
        for i in range(steps):
            opt.step()
            for s in schedulers:
                s.step() if metrics is None else s.step(metrics[i])
            out.append(record())
        assert schedulers[-1].get_last_lr() == [g["lr"] for g in opt.param_groups]
        runs.append(out)
    return runs[0], runs[1]


SCHEDULERS = {
    "step": lambda m, o: [m.StepLR(o, step_size=4, gamma=0.3)],
    "step-1": lambda m, o: [m.StepLR(o, step_size=1, gamma=0.9)],
    "multistep": lambda m, o: [m.MultiStepLR(o, milestones=[3, 7, 7, 20], gamma=0.5)],
    "exponential": lambda m, o: [m.ExponentialLR(o, gamma=0.93)],
    "cosine": lambda m, o: [m.CosineAnnealingLR(o, T_max=12)],
    "cosine-eta_min": lambda m, o: [m.CosineAnnealingLR(o, T_max=7, eta_min=0.01)],
    "linear": lambda m, o: [m.LinearLR(o)],
    "linear-down": lambda m, o: [m.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=20)],
    "onecycle-cos": lambda m, o: [m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=STEPS)],
    "onecycle-linear-3phase": lambda m, o: [
        m.OneCycleLR(
            o,
            max_lr=0.7,
            epochs=3,
            steps_per_epoch=10,
            anneal_strategy="linear",
            three_phase=True,
            pct_start=0.4,
            div_factor=10.0,
            final_div_factor=100.0,
            base_momentum=[0.8, 0.7],
        )
    ],  # fmt: skip
    "onecycle-no-momentum": lambda m, o: [m.OneCycleLR(o, max_lr=0.5, total_steps=40, cycle_momentum=False)],
    "chained-exp-cosine": lambda m, o: [m.ExponentialLR(o, gamma=0.9), m.CosineAnnealingLR(o, T_max=7)],
    "chained-linear-step": lambda m, o: [m.LinearLR(o, total_iters=10), m.StepLR(o, step_size=3, gamma=0.5)],
    "chained-multistep-cosine": lambda m, o: [m.MultiStepLR(o, [4, 9]), m.CosineAnnealingLR(o, 5, eta_min=0.001)],
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_matches_torch_with_sgd_momentum(torch: Any, name: str) -> None:
    ours, theirs = twin_runs(torch, SCHEDULERS[name], opt_kwargs={"momentum": 0.9})
    assert ours == theirs  # the same Python float arithmetic: exactly equal


@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("opt_name", ["Adam", "AdamW", "RMSprop"])
def test_one_cycle_cycles_adam_beta1_or_rmsprop_momentum_like_torch(torch: Any, opt_name: str, three_phase: bool):
    def make(m: Any, o: Any) -> list:
        return [m.OneCycleLR(o, max_lr=0.01, total_steps=25, three_phase=three_phase, base_momentum=0.5)]

    ours, theirs = twin_runs(torch, make, steps=25, opt_name=opt_name)
    assert ours == theirs
    key = 2 if opt_name.startswith("Adam") else 1
    assert ours[0][0][key] in (0.95, (0.95, 0.999)) and len({step[0][key] for step in ours}) > 5


def test_one_cycle_drives_adam_updates_like_torch(torch: Any) -> None:
    """The betas[0] the scheduler sets are the ones Adam uses: parameters match torch over a 1cycle run."""
    rng = np.random.default_rng(0)
    p0, grads = rng.standard_normal(6).astype(np.float32), rng.standard_normal((20, 6)).astype(np.float32)
    p, t_p = Tensor(p0.copy(), requires_grad=True), torch.tensor(p0.copy(), requires_grad=True)
    opt, t_opt = optim.Adam([p]), torch.optim.Adam([t_p])
    s = sched.OneCycleLR(opt, max_lr=0.1, total_steps=20, base_momentum=0.3)
    t_s = torch.optim.lr_scheduler.OneCycleLR(t_opt, max_lr=0.1, total_steps=20, base_momentum=0.3)
    for g in grads:
        p.grad, t_p.grad = Tensor(g.copy()), torch.tensor(g.copy())
        opt.step()
        t_opt.step()
        s.step()
        t_s.step()
    np.testing.assert_allclose(p.data, t_p.detach().numpy(), rtol=1e-6, atol=1e-6)


PLATEAU_METRICS = [5, 4, 4.1, 3.9, 3.9, 3.9, 3.9, 3.9, 3.5, 3.6, 3.7, 3.8, 3.9, 4.0, 4.1] + [3.0] * 15
PLATEAUS = [
    {},
    {"patience": 2},
    {"patience": 1, "cooldown": 2, "factor": 0.5},
    {"mode": "max", "patience": 1, "factor": 0.5},
    {"patience": 0, "threshold": 0.05, "threshold_mode": "abs", "min_lr": [0.01, 0.02]},
    {"mode": "max", "patience": 1, "threshold": 0.2, "threshold_mode": "abs", "cooldown": 1},
    {"patience": 0, "factor": 0.9, "eps": 0.005},
]


@pytest.mark.parametrize("kwargs", PLATEAUS, ids=[str(k) for k in PLATEAUS])
def test_reduce_lr_on_plateau_matches_torch(torch: Any, kwargs: dict) -> None:
    ours, theirs = twin_runs(torch, lambda m, o: [m.ReduceLROnPlateau(o, **kwargs)], metrics=PLATEAU_METRICS)
    assert ours == theirs
    assert len({step[0][0] for step in ours}) > 1  # the scripted metrics do cut the lr


def scheduler_configs() -> st.SearchStrategy[Callable[[Any, Any], list]]:
    """Random scheduler arguments, as ``make(module, optimizer)`` functions for ``twin_runs``."""
    gamma = st.floats(0.05, 1.5)
    return st.one_of(
        st.builds(lambda n, g: lambda m, o: [m.StepLR(o, n, g)], st.integers(1, 8), gamma),
        st.builds(
            lambda ms, g: lambda m, o: [m.MultiStepLR(o, ms, g)], st.lists(st.integers(0, 35), max_size=6), gamma
        ),
        st.builds(lambda g: lambda m, o: [m.ExponentialLR(o, g)], gamma),
        st.builds(
            lambda t, eta: lambda m, o: [m.CosineAnnealingLR(o, t, eta)], st.integers(1, 20), st.floats(0.0, 0.05)
        ),
        st.builds(
            lambda a, b, n: lambda m, o: [m.LinearLR(o, a, b, n)],
            st.floats(0.01, 1.0),
            st.floats(0.0, 1.0),
            st.integers(1, 40),
        ),  # fmt: skip
        st.builds(
            lambda lr, pct, how, three, div, final: (
                lambda m, o: [
                    m.OneCycleLR(
                        o,
                        lr,
                        total_steps=STEPS,
                        pct_start=pct,
                        anneal_strategy=how,
                        three_phase=three,
                        div_factor=div,
                        final_div_factor=final,
                    )
                ]
            ),
            st.floats(0.01, 2.0),
            st.floats(0.1, 0.45),
            st.sampled_from(["cos", "linear"]),
            st.booleans(),
            st.floats(1.5, 50.0),
            st.floats(1.5, 1e4),
        ),  # fmt: skip
    )


@given(make=scheduler_configs())
def test_random_scheduler_arguments_match_torch(torch: Any, make: Callable[[Any, Any], list]) -> None:
    ours, theirs = twin_runs(torch, make, opt_kwargs={"momentum": 0.9})
    assert ours == theirs


@given(
    metrics=st.lists(st.sampled_from([1.0, 0.99, 0.9, 0.5, 1.1, 2.0]), min_size=STEPS, max_size=STEPS),
    mode=st.sampled_from(["min", "max"]),
    threshold_mode=st.sampled_from(["rel", "abs"]),
    threshold=st.sampled_from([0.0, 1e-4, 0.05, 0.3]),
    patience=st.integers(0, 4),
    cooldown=st.integers(0, 3),
    factor=st.sampled_from([0.1, 0.5, 0.9]),
)
def test_random_plateau_runs_match_torch(torch: Any, metrics: list[float], **kwargs: Any) -> None:
    ours, theirs = twin_runs(torch, lambda m, o: [m.ReduceLROnPlateau(o, min_lr=1e-3, **kwargs)], metrics=metrics)
    assert ours == theirs


# -- state dicts ----------------------------------------------------------------------------------------------------
RESUMABLE = {
    "step": lambda o: sched.StepLR(o, step_size=4, gamma=0.3),
    "multistep": lambda o: sched.MultiStepLR(o, milestones=[3, 14, 20], gamma=0.5),
    "cosine": lambda o: sched.CosineAnnealingLR(o, T_max=9, eta_min=0.001),
    "linear": lambda o: sched.LinearLR(o, total_iters=20),
    "onecycle": lambda o: sched.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=STEPS, three_phase=True),
    "plateau": lambda o: sched.ReduceLROnPlateau(o, patience=1, cooldown=1),
}


@pytest.mark.parametrize("name", list(RESUMABLE))
def test_state_dict_round_trip_mid_run(name: str) -> None:
    """Save optimizer and scheduler after 12 steps, load both into fresh ones: the rest of the run is the same."""
    metrics = PLATEAU_METRICS if name == "plateau" else None
    straight_opt = sgd((0.1, 0.03), momentum=0.9)
    straight = lrs_over(RESUMABLE[name](straight_opt), STEPS, metrics)
    opt = sgd((0.1, 0.03), momentum=0.9)
    first = RESUMABLE[name](opt)
    head = lrs_over(first, 12, metrics)
    opt_sd, sched_sd = copy.deepcopy(opt.state_dict()), copy.deepcopy(first.state_dict())
    assert "optimizer" not in sched_sd and sched_sd["last_epoch"] == 12
    fresh_opt = sgd((0.5, 0.5), momentum=0.9)
    fresh = RESUMABLE[name](fresh_opt)  # scheduler first, then the optimizer's state (PyTorch's order)
    fresh_opt.load_state_dict(opt_sd)
    fresh.load_state_dict(sched_sd)
    assert fresh.optimizer is fresh_opt and fresh.get_last_lr() == head[-1]
    tail = lrs_over(fresh, STEPS - 12, None if metrics is None else metrics[12:])
    assert head + tail[1:] == straight
    assert [g["momentum"] for g in fresh_opt.param_groups] == [g["momentum"] for g in straight_opt.param_groups]


def test_resuming_with_last_epoch_needs_initial_lr_and_matches_torch(torch: Any) -> None:
    with pytest.raises(KeyError, match="initial_lr"):
        sched.StepLR(sgd(), step_size=2, last_epoch=3)
    # resumed at epoch 5: the constructor's step goes to epoch 6 and keeps the current lr, later steps chain
    for make in (
        lambda m, o: m.CosineAnnealingLR(o, T_max=10, last_epoch=5),
        lambda m, o: m.StepLR(o, 2, last_epoch=5),
    ):
        opt, t_opt = sgd((0.1,)), torch_sgd(torch, (0.1,))
        for group in opt.param_groups + t_opt.param_groups:
            group["initial_lr"] = 0.2
        ours, theirs = make(sched, opt), make(torch.optim.lr_scheduler, t_opt)
        assert ours.last_epoch == theirs.last_epoch == 6
        for _ in range(8):
            t_opt.step()
            ours.step()
            theirs.step()
            assert ours.get_last_lr() == theirs.get_last_lr()


# -- errors ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, message",
    [
        (lambda o: sched.StepLR(o, step_size=0), "step_size must be a positive int, got 0"),
        (lambda o: sched.StepLR(o, step_size=2.5), "step_size must be a positive int"),
        (lambda o: sched.StepLR(o, step_size=2, gamma=-0.1), "gamma must be a positive number, got -0.1"),
        (lambda o: sched.StepLR(o, step_size=2, last_epoch=-2), "last_epoch must be an int >= -1"),
        (lambda o: sched.MultiStepLR(o, milestones=[2, -1]), "milestones must be non-negative ints"),
        (lambda o: sched.MultiStepLR(o, milestones=[2.5]), "milestones must be non-negative ints"),
        (lambda o: sched.ExponentialLR(o, gamma=0), "gamma must be a positive number"),
        (lambda o: sched.CosineAnnealingLR(o, T_max=0), "T_max must be a positive number"),
        (lambda o: sched.CosineAnnealingLR(o, T_max=5, eta_min=-1), "eta_min must be a number >= 0"),
        (lambda o: sched.LinearLR(o, start_factor=0), "start_factor expected to be greater than 0"),
        (lambda o: sched.LinearLR(o, start_factor=1.5), "start_factor expected to be greater than 0"),
        (lambda o: sched.LinearLR(o, end_factor=1.5), "end_factor expected to be between 0 and 1"),
        (lambda o: sched.LinearLR(o, total_iters=0), "total_iters must be a positive int"),
        (lambda o: sched.OneCycleLR(o, max_lr=1.0), "either total_steps OR \\(epochs AND steps_per_epoch\\)"),
        (lambda o: sched.OneCycleLR(o, max_lr=1.0, total_steps=0), "positive integer total_steps"),
        (lambda o: sched.OneCycleLR(o, max_lr=1.0, epochs=0, steps_per_epoch=2), "positive integer epochs"),
        (lambda o: sched.OneCycleLR(o, max_lr=1.0, epochs=2, steps_per_epoch=1.5), "positive integer steps_per_epoch"),
        (lambda o: sched.OneCycleLR(o, max_lr=1.0, total_steps=9, pct_start=1.1), "between 0 and 1 pct_start"),
        (lambda o: sched.OneCycleLR(o, max_lr=1.0, total_steps=9, anneal_strategy="exp"), "anneal_strategy must be"),
        (lambda o: sched.OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=9), "max_lr must have the same length"),
        (lambda o: sched.OneCycleLR(o, max_lr=1.0, total_steps=9, div_factor=0), "div_factor must be positive"),
        (lambda o: sched.OneCycleLR(o, 1.0, total_steps=9, final_div_factor=-1), "final_div_factor must be positive"),
        (lambda o: sched.OneCycleLR(o, 1.0, total_steps=9, max_momentum=[0.9, 0.9]), "max_momentum must have"),
        (lambda o: sched.ReduceLROnPlateau(o, factor=1.0), "factor should be in \\[0, 1.0\\), got 1.0"),
        (lambda o: sched.ReduceLROnPlateau(o, mode="avg"), "mode must be 'min' or 'max', got 'avg'"),
        (lambda o: sched.ReduceLROnPlateau(o, threshold_mode="pct"), "threshold_mode must be 'rel' or 'abs'"),
        (lambda o: sched.ReduceLROnPlateau(o, patience=-1), "patience must be an int >= 0"),
        (lambda o: sched.ReduceLROnPlateau(o, cooldown=0.5), "cooldown must be an int >= 0"),
        (lambda o: sched.ReduceLROnPlateau(o, threshold=-1), "threshold must be a number >= 0"),
        (lambda o: sched.ReduceLROnPlateau(o, eps=-1), "eps must be a number >= 0"),
        (lambda o: sched.ReduceLROnPlateau(o, min_lr=[0.1, 0.1]), "min_lr: expected 1 min_lrs, got 2"),
        (lambda o: sched.ReduceLROnPlateau(o, min_lr=-0.1), "min_lr must be >= 0"),
    ],
)
def test_invalid_arguments_raise_naming_the_argument(make: Callable[[Any], Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make(sgd(momentum=0.9))


def test_schedulers_need_an_optimizer_and_one_cycle_needs_momentum() -> None:
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        sched.StepLR([], step_size=1)
    with pytest.raises(TypeError, match="dict is not an Optimizer"):
        sched.ReduceLROnPlateau({})
    adagrad = optim.Adagrad([Tensor(np.zeros(1, np.float32), requires_grad=True)])
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        sched.OneCycleLR(adagrad, max_lr=1.0, total_steps=10)
    sched.OneCycleLR(adagrad, max_lr=1.0, total_steps=10, cycle_momentum=False)
