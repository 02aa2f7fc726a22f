"""edunn.optim.lr_scheduler against torch.optim.lr_scheduler (torch 2.13).

Both libraries get a two-group optimizer (lrs 0.1 and 0.05) and the same step pattern:
``optimizer.step()`` then ``scheduler.step()`` (ReduceLROnPlateau gets the same metric sequence).
Every case runs 1000 steps; a second pair of schedulers is built fresh, loads the optimizer and
scheduler state saved at step 337, and runs the remaining steps.
"""

import copy
import math
import warnings
from collections import Counter
from typing import NamedTuple

import pytest
import torch
from torch.optim import lr_scheduler as torch_sched

import edunn
import edunn.optim
from edunn.optim import lr_scheduler as edunn_sched
from edunn.testing._schedulers import first_difference, make_optimizer, record_schedule

STEPS = 1000
RESUME_AT = 337
ATOL = 1e-12

LIBRARIES = {"edunn": edunn_sched, "torch": torch_sched}


class Decay:
    """A callable object: its ``__dict__`` is what LambdaLR's state_dict keeps."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate**epoch


class HalvingScale:
    """A callable object used as CyclicLR's ``scale_fn``."""

    def __init__(self, base):
        self.base = base

    def __call__(self, x):
        return self.base ** (x - 1)


def plateau_metrics(sign=1.0):
    """Loss-like values: plateaus 50 steps long with a small oscillation on top."""
    return [sign * (1.0 / (1 + t // 50) + 0.002 * math.sin(0.9 * t)) for t in range(STEPS)]


class Case(NamedTuple):
    name: str
    build: object  # build(lr_scheduler_module, optimizer) -> scheduler
    optimizer: str = "sgd"
    metrics: list = None


CASES = [
    # LambdaLR
    Case("lambda_shared", lambda L, o: L.LambdaLR(o, lambda e: 0.995**e)),
    Case("lambda_per_group", lambda L, o: L.LambdaLR(o, [lambda e: 1 / (1 + e), lambda e: (e % 50) / 50 + 0.1])),
    Case("lambda_callable_object", lambda L, o: L.LambdaLR(o, [Decay(0.999), Decay(0.99)])),
    # MultiplicativeLR
    Case("multiplicative_shared", lambda L, o: L.MultiplicativeLR(o, lambda e: 0.995)),
    Case("multiplicative_per_group", lambda L, o: L.MultiplicativeLR(o, [lambda e: 0.999, lambda e: 1.0 if e % 100 else 0.5])),
    Case("multiplicative_callable_object", lambda L, o: L.MultiplicativeLR(o, Decay(0.99999))),
    # StepLR
    Case("step_size_1", lambda L, o: L.StepLR(o, 1, gamma=0.99)),
    Case("step_size_7_gamma_half", lambda L, o: L.StepLR(o, 7, gamma=0.5)),
    Case("step_size_100_default_gamma", lambda L, o: L.StepLR(o, 100)),
    # MultiStepLR
    Case("multistep_sorted", lambda L, o: L.MultiStepLR(o, [50, 200, 600], gamma=0.3)),
    Case("multistep_repeated_milestone", lambda L, o: L.MultiStepLR(o, [10, 10, 30, 900])),
    Case("multistep_unsorted_milestones", lambda L, o: L.MultiStepLR(o, [600, 50, 300], gamma=0.5)),
    # ConstantLR
    Case("constant_default", lambda L, o: L.ConstantLR(o)),
    Case("constant_half_for_20", lambda L, o: L.ConstantLR(o, factor=0.5, total_iters=20)),
    Case("constant_factor_one", lambda L, o: L.ConstantLR(o, factor=1.0, total_iters=3)),
    Case("constant_past_horizon", lambda L, o: L.ConstantLR(o, factor=0.25, total_iters=2000)),
    # LinearLR
    Case("linear_default", lambda L, o: L.LinearLR(o)),
    Case("linear_warmup_100", lambda L, o: L.LinearLR(o, start_factor=0.01, end_factor=1.0, total_iters=100)),
    Case("linear_decay_to_zero", lambda L, o: L.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=500)),
    Case("linear_flat", lambda L, o: L.LinearLR(o, start_factor=0.5, end_factor=0.5, total_iters=10)),
    # ExponentialLR
    Case("exponential_099", lambda L, o: L.ExponentialLR(o, gamma=0.99)),
    Case("exponential_09999", lambda L, o: L.ExponentialLR(o, gamma=0.9999)),
    # PolynomialLR
    Case("polynomial_default", lambda L, o: L.PolynomialLR(o)),
    Case("polynomial_linear_800", lambda L, o: L.PolynomialLR(o, total_iters=800, power=1.0)),
    Case("polynomial_power_2_5", lambda L, o: L.PolynomialLR(o, total_iters=300, power=2.5)),
    Case("polynomial_sqrt", lambda L, o: L.PolynomialLR(o, total_iters=999, power=0.5)),
    # CosineAnnealingLR (chainable recursion, including past T_max where it rises again)
    Case("cosine_tmax_1000", lambda L, o: L.CosineAnnealingLR(o, T_max=1000)),
    Case("cosine_tmax_100_eta_min", lambda L, o: L.CosineAnnealingLR(o, T_max=100, eta_min=0.001)),
    Case("cosine_tmax_37", lambda L, o: L.CosineAnnealingLR(o, T_max=37, eta_min=1e-5)),
    Case("cosine_tmax_1", lambda L, o: L.CosineAnnealingLR(o, T_max=1)),
    # CosineAnnealingWarmRestarts
    Case("warm_restarts_t0_10", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=10)),
    Case("warm_restarts_tmult_2", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=7, T_mult=2, eta_min=1e-4)),
    Case("warm_restarts_t0_1_tmult_3", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=1, T_mult=3)),
    # CyclicLR: three modes, asymmetric cycles, custom scale functions, momentum on SGD and Adam
    Case("cyclic_triangular", lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=50)),
    Case("cyclic_triangular2_asymmetric", lambda L, o: L.CyclicLR(o, 0.001, 0.05, step_size_up=30, step_size_down=70, mode="triangular2")),
    Case("cyclic_exp_range", lambda L, o: L.CyclicLR(o, [0.01, 0.005], [0.1, 0.02], step_size_up=40, mode="exp_range", gamma=0.998)),
    Case("cyclic_scale_fn_cycle", lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=25, scale_fn=lambda x: 0.8**x)),
    Case("cyclic_scale_fn_iterations", lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=25, scale_fn=lambda x: 1 / (1 + x / 300), scale_mode="iterations")),
    Case("cyclic_scale_fn_object", lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=60, scale_fn=HalvingScale(0.7))),
    Case("cyclic_no_momentum", lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=33, cycle_momentum=False)),
    Case("cyclic_momentum_lists", lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=20, base_momentum=[0.7, 0.8], max_momentum=[0.95, 0.9])),
    Case("cyclic_adam_beta1", lambda L, o: L.CyclicLR(o, 1e-4, 1e-3, step_size_up=45, mode="triangular2"), optimizer="adam"),
    Case("cyclic_adam_no_momentum", lambda L, o: L.CyclicLR(o, 1e-4, 1e-3, step_size_up=45, cycle_momentum=False), optimizer="adam"),
    # OneCycleLR
    Case("one_cycle_cos", lambda L, o: L.OneCycleLR(o, 0.1, total_steps=STEPS)),
    Case("one_cycle_linear", lambda L, o: L.OneCycleLR(o, [0.1, 0.05], total_steps=STEPS + 200, anneal_strategy="linear")),
    Case("one_cycle_three_phase", lambda L, o: L.OneCycleLR(o, 0.1, total_steps=STEPS, three_phase=True)),
    Case("one_cycle_three_phase_linear", lambda L, o: L.OneCycleLR(o, 0.2, total_steps=STEPS, pct_start=0.1, anneal_strategy="linear", three_phase=True)),
    Case("one_cycle_epochs", lambda L, o: L.OneCycleLR(o, 0.1, epochs=10, steps_per_epoch=100, pct_start=0.45, div_factor=10.0, final_div_factor=100.0)),
    Case("one_cycle_momentum_lists", lambda L, o: L.OneCycleLR(o, 0.1, total_steps=STEPS, base_momentum=[0.8, 0.85], max_momentum=[0.9, 0.99])),
    Case("one_cycle_no_momentum", lambda L, o: L.OneCycleLR(o, 0.1, total_steps=STEPS, cycle_momentum=False)),
    Case("one_cycle_adam_beta1", lambda L, o: L.OneCycleLR(o, 1e-3, total_steps=STEPS, three_phase=True), optimizer="adam"),
    # ReduceLROnPlateau
    Case("plateau_default", lambda L, o: L.ReduceLROnPlateau(o), metrics=plateau_metrics()),
    Case("plateau_patience_cooldown", lambda L, o: L.ReduceLROnPlateau(o, factor=0.5, patience=3, cooldown=5), metrics=plateau_metrics()),
    Case("plateau_abs_threshold", lambda L, o: L.ReduceLROnPlateau(o, factor=0.7, patience=2, threshold=0.01, threshold_mode="abs"), metrics=plateau_metrics()),
    Case("plateau_max_rel", lambda L, o: L.ReduceLROnPlateau(o, mode="max", factor=0.5, patience=4), metrics=plateau_metrics(-1.0)),
    Case("plateau_max_abs", lambda L, o: L.ReduceLROnPlateau(o, mode="max", threshold_mode="abs", threshold=1e-3, patience=0), metrics=plateau_metrics(-1.0)),
    Case("plateau_min_lr_per_group", lambda L, o: L.ReduceLROnPlateau(o, factor=0.5, patience=1, min_lr=[1e-3, 4e-3]), metrics=plateau_metrics()),
    Case("plateau_large_eps", lambda L, o: L.ReduceLROnPlateau(o, factor=0.9, patience=1, eps=2e-3), metrics=plateau_metrics()),
    # ChainedScheduler
    Case("chained_constant_exponential", lambda L, o: L.ChainedScheduler([L.ConstantLR(o, factor=0.5, total_iters=20), L.ExponentialLR(o, gamma=0.995)])),
    Case("chained_with_optimizer_argument", lambda L, o: L.ChainedScheduler([L.StepLR(o, 30, gamma=0.7), L.MultiplicativeLR(o, lambda e: 0.999), L.CosineAnnealingLR(o, T_max=200)], optimizer=o)),
    # SequentialLR
    Case("sequential_warmup_cosine", lambda L, o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.1, total_iters=50), L.CosineAnnealingLR(o, T_max=300)], milestones=[50])),
    Case("sequential_three_stages", lambda L, o: L.SequentialLR(o, [L.ConstantLR(o, factor=0.2, total_iters=100), L.ExponentialLR(o, gamma=0.997), L.StepLR(o, 40)], milestones=[100, 400])),
    Case("sequential_lambda_then_polynomial", lambda L, o: L.SequentialLR(o, [L.LambdaLR(o, lambda e: (e + 1) / 30), L.PolynomialLR(o, total_iters=700, power=2.0)], milestones=[30])),
    Case("sequential_unsorted_milestones", lambda L, o: L.SequentialLR(o, [L.ExponentialLR(o, gamma=0.99), L.StepLR(o, 10), L.ConstantLR(o, 0.5)], milestones=[300, 100])),
    Case("sequential_nested_chained", lambda L, o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.5, total_iters=20), L.ChainedScheduler([L.ExponentialLR(o, gamma=0.999), L.StepLR(o, 100)])], milestones=[20])),
]


def run_case(library, case):
    """Return (uninterrupted record, record of a fresh scheduler resumed at RESUME_AT)."""
    lr_scheduler = LIBRARIES[library]
    metrics = case.metrics
    head_metrics = metrics[:RESUME_AT] if metrics else None
    tail_metrics = metrics[RESUME_AT:] if metrics else None

    optimizer = make_optimizer(library, case.optimizer)
    scheduler = case.build(lr_scheduler, optimizer)
    head = record_schedule(scheduler, RESUME_AT, head_metrics)
    optimizer_state = copy.deepcopy(optimizer.state_dict())
    scheduler_state = copy.deepcopy(scheduler.state_dict())
    tail = record_schedule(scheduler, STEPS - RESUME_AT, tail_metrics)
    full = {key: head[key] + tail[key] for key in head}

    # A checkpoint is restored in this order: a fresh scheduler first (its constructor writes
    # param_groups), then the optimizer's state, then the scheduler's state.
    fresh_optimizer = make_optimizer(library, case.optimizer)
    fresh_scheduler = case.build(lr_scheduler, fresh_optimizer)
    fresh_optimizer.load_state_dict(optimizer_state)
    fresh_scheduler.load_state_dict(scheduler_state)
    resumed = record_schedule(fresh_scheduler, STEPS - RESUME_AT, tail_metrics)
    return full, resumed, scheduler_state


def assert_same_state(ours, theirs, path="state"):
    """Compare two state_dicts recursively: same keys, same strings, numbers within ATOL."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), f"{path}: {type(ours).__name__} is not a dict"
        assert sorted(map(str, ours)) == sorted(map(str, theirs)), f"{path}: keys differ"
        for key in theirs:
            assert_same_state(ours[key], theirs[key], f"{path}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)), f"{path}: {type(ours).__name__} is not a sequence"
        assert len(ours) == len(theirs), f"{path}: length {len(ours)} != {len(theirs)}"
        for index, (mine, reference) in enumerate(zip(ours, theirs)):
            assert_same_state(mine, reference, f"{path}[{index}]")
    elif isinstance(theirs, bool) or theirs is None or isinstance(theirs, str):
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"
    elif isinstance(theirs, (int, float)):
        assert isinstance(ours, (int, float)) and not isinstance(ours, bool), f"{path}: {ours!r}"
        if math.isinf(theirs):
            assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"
        else:
            assert math.isclose(ours, theirs, rel_tol=0.0, abs_tol=ATOL), f"{path}: {ours!r} != {theirs!r}"
    else:
        raise AssertionError(f"{path}: unexpected value {theirs!r} in torch's state_dict")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_schedule_matches_torch(case):
    ours_full, ours_resumed, ours_state = run_case("edunn", case)
    torch_full, torch_resumed, torch_state = run_case("torch", case)

    assert first_difference(ours_full["lr"], torch_full["lr"], ATOL) is None
    assert first_difference(ours_full["momentum"], torch_full["momentum"], ATOL) is None
    assert first_difference(ours_resumed["lr"], torch_resumed["lr"], ATOL) is None
    assert first_difference(ours_resumed["momentum"], torch_resumed["momentum"], ATOL) is None
    assert_same_state(ours_state, torch_state)


def test_cases_cover_every_scheduler():
    built = set()
    for case in CASES:
        optimizer = make_optimizer("edunn", case.optimizer)
        scheduler = case.build(edunn_sched, optimizer)
        built.add(type(scheduler).__name__)
        for child in getattr(scheduler, "_schedulers", []):
            built.add(type(child).__name__)
    public = {name for name in edunn_sched.__all__ if name != "LRScheduler"}
    assert public <= built
    assert set(edunn_sched.__all__) == set(torch_sched.__all__)
