"""edunn.optim.lr_scheduler against torch.optim.lr_scheduler (torch 2.13).

Both libraries get a two-group optimizer (lrs 0.1 and 0.05) and the same step pattern:
``optimizer.step()`` then ``scheduler.step()`` (ReduceLROnPlateau gets the same metric sequence).
Every case runs 1000 steps. A second, freshly built pair then loads the optimizer and scheduler
state saved at step 337 and runs the remaining steps.
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
    Case("sequential_chained_first", lambda L, o: L.SequentialLR(o, [L.ChainedScheduler([L.ConstantLR(o, factor=0.5, total_iters=40), L.ExponentialLR(o, gamma=0.999)]), L.CosineAnnealingLR(o, T_max=150)], milestones=[200])),
]


def run_case(library, case):
    """Return (uninterrupted record, resumed record, state at RESUME_AT, warnings raised)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        full, resumed, state = _run_case(library, case)
    return full, resumed, state, [(w.category, str(w.message)) for w in caught]


def _run_case(library, case):
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
    # torch's CyclicLR.load_state_dict pops a key from the dict it is given, so give it a copy.
    fresh_scheduler.load_state_dict(copy.deepcopy(scheduler_state))
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
    ours_full, ours_resumed, ours_state, ours_warnings = run_case("edunn", case)
    torch_full, torch_resumed, torch_state, torch_warnings = run_case("torch", case)

    assert first_difference(ours_full["lr"], torch_full["lr"], ATOL) is None
    assert first_difference(ours_full["momentum"], torch_full["momentum"], ATOL) is None
    assert first_difference(ours_resumed["lr"], torch_resumed["lr"], ATOL) is None
    assert first_difference(ours_resumed["momentum"], torch_resumed["momentum"], ATOL) is None
    assert_same_state(ours_state, torch_state)
    assert ours_warnings == torch_warnings


def test_cases_cover_every_scheduler():
    built = set()
    for case in CASES:
        optimizer = make_optimizer("edunn", case.optimizer)
        with warnings.catch_warnings():
            # Building SequentialLR steps its first scheduler before any optimizer step.
            warnings.simplefilter("ignore")
            scheduler = case.build(edunn_sched, optimizer)
        built.add(type(scheduler).__name__)
        for child in getattr(scheduler, "_schedulers", []):
            built.add(type(child).__name__)
    public = {name for name in edunn_sched.__all__ if name != "LRScheduler"}
    assert public <= built
    assert set(edunn_sched.__all__) == set(torch_sched.__all__)


# ---------------------------------------------------------------------------
# warnings
# ---------------------------------------------------------------------------


def caught_warnings(action):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action()
    return [(w.category, str(w.message)) for w in caught]


def scheduler_before_optimizer(L, o):
    scheduler = L.StepLR(o, 3)
    scheduler.step()
    o.step()
    scheduler.step()


def correct_order(L, o):
    scheduler = L.CosineAnnealingLR(o, T_max=10)
    for _ in range(5):
        o.step()
        scheduler.step()


def optimizer_step_replaced(L, o):
    scheduler = L.ExponentialLR(o, gamma=0.9)
    o.step = lambda closure=None: None
    o.step()
    scheduler.step()


def deprecated_epoch_argument(L, o):
    scheduler = L.StepLR(o, 3)
    o.step()
    scheduler.step(5)


def get_lr_outside_step(L, o):
    L.LinearLR(o).get_lr()


def plateau_epoch_argument(L, o):
    scheduler = L.ReduceLROnPlateau(o)
    scheduler.step(1.0, epoch=4)


def plateau_before_optimizer(L, o):
    L.ReduceLROnPlateau(o).step(1.0)


def two_schedulers_one_optimizer(L, o):
    first = L.ExponentialLR(o, gamma=0.9)
    second = L.StepLR(o, 2)
    o.step()
    first.step()
    second.step()


def second_scheduler_before_optimizer(L, o):
    first = L.ExponentialLR(o, gamma=0.9)
    o.step()
    first.step()
    second = L.StepLR(o, 2)
    second.step()


def repeated_scheduler_steps(L, o):
    scheduler = L.MultiStepLR(o, [2, 4])
    for _ in range(4):
        scheduler.step()


def chained_before_optimizer(L, o):
    L.ChainedScheduler([L.ConstantLR(o), L.ExponentialLR(o, gamma=0.9)]).step()


def sequential_before_optimizer(L, o):
    L.SequentialLR(o, [L.ConstantLR(o), L.ExponentialLR(o, gamma=0.9)], milestones=[3]).step()


def warm_restarts_before_optimizer_and_epoch(L, o):
    scheduler = L.CosineAnnealingWarmRestarts(o, T_0=5)
    scheduler.step()
    scheduler.step(2.5)


def cyclic_before_optimizer(L, o):
    L.CyclicLR(o, 0.01, 0.1, step_size_up=4).step()


def one_cycle_epoch_argument(L, o):
    scheduler = L.OneCycleLR(o, 0.1, total_steps=10)
    o.step()
    scheduler.step(3)


WARNING_SCENARIOS = [
    scheduler_before_optimizer,
    correct_order,
    optimizer_step_replaced,
    deprecated_epoch_argument,
    get_lr_outside_step,
    plateau_epoch_argument,
    plateau_before_optimizer,
    two_schedulers_one_optimizer,
    second_scheduler_before_optimizer,
    repeated_scheduler_steps,
    chained_before_optimizer,
    sequential_before_optimizer,
    warm_restarts_before_optimizer_and_epoch,
    cyclic_before_optimizer,
    one_cycle_epoch_argument,
]


@pytest.mark.parametrize("scenario", WARNING_SCENARIOS, ids=[s.__name__ for s in WARNING_SCENARIOS])
def test_warnings_match_torch(scenario):
    ours = caught_warnings(lambda: scenario(edunn_sched, make_optimizer("edunn")))
    theirs = caught_warnings(lambda: scenario(torch_sched, make_optimizer("torch")))

    assert ours == theirs


def test_step_order_warning_text_and_category():
    ours = caught_warnings(lambda: scheduler_before_optimizer(edunn_sched, make_optimizer("edunn")))

    assert len(ours) == 1
    assert ours[0][0] is UserWarning
    assert ours[0][1].startswith("Detected call of `lr_scheduler.step()` before `optimizer.step()`.")


def test_optimizer_step_replaced_warning():
    ours = caught_warnings(lambda: optimizer_step_replaced(edunn_sched, make_optimizer("edunn")))

    assert len(ours) == 1
    assert ours[0][1].startswith("Seems like `optimizer.step()` has been overridden")


def test_correct_order_is_silent():
    assert caught_warnings(lambda: correct_order(edunn_sched, make_optimizer("edunn"))) == []


def test_optimizer_step_wrapped_once_and_still_works():
    optimizer = make_optimizer("edunn")
    edunn_sched.StepLR(optimizer, 2)
    wrapped = optimizer.step
    edunn_sched.ExponentialLR(optimizer, gamma=0.5)

    assert optimizer.step is wrapped
    assert wrapped._wrapped_by_lr_sched is True
    assert not getattr(optimizer, "_opt_called", False)
    optimizer.step()
    assert optimizer._opt_called is True


def test_first_value_lost_when_order_reversed():
    # Stepping the scheduler first moves the lr before the optimizer ever used the initial one.
    for library, lr_scheduler in LIBRARIES.items():
        optimizer = make_optimizer(library)
        scheduler = lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            scheduler.step()
        assert optimizer.param_groups[0]["lr"] == pytest.approx(0.05), library


def test_verbose_argument_removed_like_torch():
    for lr_scheduler in LIBRARIES.values():
        assert not hasattr(lr_scheduler.LRScheduler, "print_lr")
    with pytest.raises(TypeError) as ours:
        edunn_sched.StepLR(make_optimizer("edunn"), 3, verbose=True)
    with pytest.raises(TypeError) as theirs:
        torch_sched.StepLR(make_optimizer("torch"), 3, verbose=True)

    assert str(ours.value) == str(theirs.value)


# ---------------------------------------------------------------------------
# bad input: torch's exception type and message
# ---------------------------------------------------------------------------


class PlainOptimizerMixin:
    """An optimizer whose defaults have neither momentum nor betas."""

    def __init__(self, params, lr=0.1):
        super().__init__(params, {"lr": lr})

    def step(self, closure=None):
        return None


class EdunnPlain(PlainOptimizerMixin, edunn.optim.Optimizer):
    pass


class TorchPlain(PlainOptimizerMixin, torch.optim.Optimizer):
    pass


def plain_optimizer(library):
    lib, cls = (edunn, EdunnPlain) if library == "edunn" else (torch, TorchPlain)
    return cls([{"params": [lib.zeros(2, requires_grad=True)], "lr": 0.1}])


def step_one_cycle_past_total(L, o):
    scheduler = L.OneCycleLR(o, 0.1, total_steps=5)
    for _ in range(6):
        o.step()
        scheduler.step()


def constant_factor_zero(L, o):
    scheduler = L.ConstantLR(o, factor=0.0, total_iters=2)
    for _ in range(2):
        o.step()
        scheduler.step()


def plateau_group_added(L, o):
    scheduler = L.ReduceLROnPlateau(o, patience=0, min_lr=[0.0, 0.0])
    lib = edunn if L is edunn_sched else torch
    o.add_param_group({"params": [lib.zeros(1, requires_grad=True)], "lr": 0.2})
    scheduler.step(1.0)
    scheduler.step(2.0)


def sequential_chained_after_milestone(L, o):
    scheduler = L.SequentialLR(o, [L.ConstantLR(o), L.ChainedScheduler([L.ExponentialLR(o, gamma=0.9)])], milestones=[1])
    o.step()
    scheduler.step()


BAD_INPUT = {
    "not_an_optimizer": (TypeError, lambda L, o: L.StepLR(object(), 3)),
    "missing_initial_lr": (KeyError, lambda L, o: L.StepLR(o, 3, last_epoch=5)),
    "missing_initial_lr_cyclic": (KeyError, lambda L, o: L.CyclicLR(o, 0.01, 0.1, last_epoch=3)),
    "lambda_list_length": (ValueError, lambda L, o: L.LambdaLR(o, [lambda e: 1.0])),
    "multiplicative_list_length": (ValueError, lambda L, o: L.MultiplicativeLR(o, [lambda e: 1.0] * 3)),
    "multiplicative_not_callable": (TypeError, lambda L, o: L.MultiplicativeLR(o, 0.9)),
    "constant_factor_above_one": (ValueError, lambda L, o: L.ConstantLR(o, factor=1.5)),
    "constant_factor_negative": (ValueError, lambda L, o: L.ConstantLR(o, factor=-0.1)),
    "constant_factor_zero_divides": (ZeroDivisionError, constant_factor_zero),
    "linear_start_zero": (ValueError, lambda L, o: L.LinearLR(o, start_factor=0.0)),
    "linear_start_above_one": (ValueError, lambda L, o: L.LinearLR(o, start_factor=1.5)),
    "linear_end_negative": (ValueError, lambda L, o: L.LinearLR(o, end_factor=-0.5)),
    "linear_end_above_one": (ValueError, lambda L, o: L.LinearLR(o, end_factor=2.0)),
    "warm_restarts_t0_zero": (ValueError, lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=0)),
    "warm_restarts_t0_negative": (ValueError, lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=-3)),
    "warm_restarts_t0_float": (ValueError, lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2.5)),
    "warm_restarts_tmult_zero": (ValueError, lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=0)),
    "warm_restarts_tmult_float": (ValueError, lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=1.5)),
    "warm_restarts_eta_min_string": (ValueError, lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5, eta_min="0")),
    "warm_restarts_negative_epoch": (ValueError, lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5).step(-1)),
    "cyclic_bad_mode": (ValueError, lambda L, o: L.CyclicLR(o, 0.01, 0.1, mode="triangle")),
    "cyclic_base_lr_length": (ValueError, lambda L, o: L.CyclicLR(o, [0.01], 0.1)),
    "cyclic_max_lr_length": (ValueError, lambda L, o: L.CyclicLR(o, 0.01, [0.1, 0.2, 0.3])),
    "cyclic_base_momentum_length": (ValueError, lambda L, o: L.CyclicLR(o, 0.01, 0.1, base_momentum=[0.8])),
    "cyclic_max_momentum_length": (ValueError, lambda L, o: L.CyclicLR(o, 0.01, 0.1, max_momentum=(0.9, 0.9, 0.9))),
    "one_cycle_total_steps_zero": (ValueError, lambda L, o: L.OneCycleLR(o, 0.1, total_steps=0)),
    "one_cycle_total_steps_negative": (ValueError, lambda L, o: L.OneCycleLR(o, 0.1, total_steps=-10)),
    "one_cycle_total_steps_float": (ValueError, lambda L, o: L.OneCycleLR(o, 0.1, total_steps=10.0)),
    "one_cycle_epochs_zero": (ValueError, lambda L, o: L.OneCycleLR(o, 0.1, epochs=0, steps_per_epoch=10)),
    "one_cycle_steps_per_epoch_zero": (ValueError, lambda L, o: L.OneCycleLR(o, 0.1, epochs=3, steps_per_epoch=0)),
    "one_cycle_no_length": (ValueError, lambda L, o: L.OneCycleLR(o, 0.1, epochs=3)),
    "one_cycle_pct_start_above_one": (ValueError, lambda L, o: L.OneCycleLR(o, 0.1, total_steps=10, pct_start=1.5)),
    "one_cycle_pct_start_int": (ValueError, lambda L, o: L.OneCycleLR(o, 0.1, total_steps=10, pct_start=1)),
    "one_cycle_bad_anneal": (ValueError, lambda L, o: L.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="exp")),
    "one_cycle_max_lr_length": (ValueError, lambda L, o: L.OneCycleLR(o, [0.1, 0.2, 0.3], total_steps=10)),
    "one_cycle_past_total_steps": (ValueError, step_one_cycle_past_total),
    "plateau_bad_mode": (ValueError, lambda L, o: L.ReduceLROnPlateau(o, mode="avg")),
    "plateau_bad_threshold_mode": (ValueError, lambda L, o: L.ReduceLROnPlateau(o, threshold_mode="ratio")),
    "plateau_factor_one": (ValueError, lambda L, o: L.ReduceLROnPlateau(o, factor=1.0)),
    "plateau_factor_above_one": (ValueError, lambda L, o: L.ReduceLROnPlateau(o, factor=2.0)),
    "plateau_min_lr_length": (ValueError, lambda L, o: L.ReduceLROnPlateau(o, min_lr=[0.1])),
    "plateau_group_added_with_min_lr_list": (RuntimeError, plateau_group_added),
    "chained_empty": (ValueError, lambda L, o: L.ChainedScheduler([])),
    "chained_with_plateau": (ValueError, lambda L, o: L.ChainedScheduler([L.StepLR(o, 3), L.ReduceLROnPlateau(o)])),
    "chained_without_optimizer": (TypeError, lambda L, o: L.ChainedScheduler([L.StepLR(o, 3), object()])),
    "sequential_empty": (ValueError, lambda L, o: L.SequentialLR(o, [], milestones=[])),
    "sequential_milestone_count": (ValueError, lambda L, o: L.SequentialLR(o, [L.StepLR(o, 3), L.ExponentialLR(o, 0.9)], milestones=[2, 5])),
    "sequential_with_plateau": (ValueError, lambda L, o: L.SequentialLR(o, [L.StepLR(o, 3), L.ReduceLROnPlateau(o)], milestones=[2])),
    "sequential_chained_after_milestone": (NotImplementedError, sequential_chained_after_milestone),
}


@pytest.mark.parametrize("name", list(BAD_INPUT))
def test_bad_input_raises_like_torch(name):
    expected_type, build = BAD_INPUT[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(expected_type) as ours:
            build(edunn_sched, make_optimizer("edunn"))
        with pytest.raises(expected_type) as theirs:
            build(torch_sched, make_optimizer("torch"))

    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("name", ["CyclicLR", "OneCycleLR"])
def test_cycle_momentum_needs_momentum_or_betas(name):
    messages = []
    for library, lr_scheduler in LIBRARIES.items():
        optimizer = plain_optimizer(library)
        with pytest.raises(ValueError) as raised:
            if name == "CyclicLR":
                lr_scheduler.CyclicLR(optimizer, 0.01, 0.1)
            else:
                lr_scheduler.OneCycleLR(optimizer, 0.1, total_steps=10)
        messages.append(str(raised.value))

    assert messages[0] == messages[1]
    assert "momentum or beta1" in messages[0]


def test_schedulers_from_different_optimizers_rejected():
    messages = []
    for library, lr_scheduler in LIBRARIES.items():
        first, second = make_optimizer(library), make_optimizer(library)
        with pytest.raises(ValueError) as raised:
            lr_scheduler.ChainedScheduler([lr_scheduler.StepLR(first, 3), lr_scheduler.StepLR(second, 3)])
        messages.append(str(raised.value))

    # The message ends with the optimizer's repr, which differs between the libraries.
    prefix = "ChainedScheduler expects all schedulers to belong to the same optimizer, but got scheduler StepLR at index 1 has "
    assert messages[0].startswith(prefix)
    assert messages[1].startswith(prefix)
    assert messages[0].endswith("which is different from SGD.")


def test_failed_constructor_leaves_param_groups_unchanged():
    for build in (
        lambda o: edunn_sched.CyclicLR(o, 0.01, [0.1, 0.2, 0.3]),
        lambda o: edunn_sched.CyclicLR(o, 0.01, 0.1, max_momentum=[0.9]),
        lambda o: edunn_sched.OneCycleLR(o, 0.1, total_steps=10, base_momentum=[0.9]),
    ):
        optimizer = make_optimizer("edunn")
        before = copy.deepcopy([{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups])
        with pytest.raises(ValueError):
            build(optimizer)
        after = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
        assert after == before


def test_one_cycle_failed_step_changes_nothing():
    optimizer = make_optimizer("edunn")
    scheduler = edunn_sched.OneCycleLR(optimizer, 0.1, total_steps=3)
    for _ in range(3):
        optimizer.step()
        scheduler.step()
    lrs = [group["lr"] for group in optimizer.param_groups]

    for _ in range(2):
        with pytest.raises(ValueError, match="Tried to step 4 times"):
            scheduler.step()
        assert scheduler.last_epoch == 3
        assert scheduler._step_count == 4
        assert [group["lr"] for group in optimizer.param_groups] == lrs


# ---------------------------------------------------------------------------
# the deprecated epoch argument: closed forms and fractional epochs
# ---------------------------------------------------------------------------

EPOCH_PATTERN = [1, 2, 3, 5, 4, 10, 37, 36, 100, 250, 7, 0, 999]

CLOSED_FORM_BUILDS = {
    "StepLR": lambda L, o: L.StepLR(o, 4, gamma=0.5),
    "MultiStepLR": lambda L, o: L.MultiStepLR(o, [3, 10, 10, 90], gamma=0.5),
    "ConstantLR": lambda L, o: L.ConstantLR(o, factor=0.3, total_iters=5),
    "LinearLR": lambda L, o: L.LinearLR(o, start_factor=0.2, total_iters=40),
    "ExponentialLR": lambda L, o: L.ExponentialLR(o, gamma=0.98),
    "PolynomialLR": lambda L, o: L.PolynomialLR(o, total_iters=200, power=1.7),
    "CosineAnnealingLR": lambda L, o: L.CosineAnnealingLR(o, T_max=60, eta_min=0.001),
    "LambdaLR": lambda L, o: L.LambdaLR(o, lambda e: 1 / (1 + e)),
    "MultiplicativeLR": lambda L, o: L.MultiplicativeLR(o, lambda e: 0.9),
    "CyclicLR": lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=6, mode="triangular2"),
    "OneCycleLR": lambda L, o: L.OneCycleLR(o, 0.1, total_steps=1000),
    "CosineAnnealingWarmRestarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
}


def drive_with_epochs(library, build, epochs):
    optimizer = make_optimizer(library)
    scheduler = build(LIBRARIES[library], optimizer)
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in epochs:
            optimizer.step()
            scheduler.step(epoch)
            lrs.append([float(group["lr"]) for group in optimizer.param_groups])
            lrs.append([float(lr) for lr in scheduler.get_last_lr()])
    return lrs


@pytest.mark.parametrize("name", list(CLOSED_FORM_BUILDS))
def test_epoch_argument_matches_torch(name):
    ours = drive_with_epochs("edunn", CLOSED_FORM_BUILDS[name], EPOCH_PATTERN)
    theirs = drive_with_epochs("torch", CLOSED_FORM_BUILDS[name], EPOCH_PATTERN)

    assert first_difference(ours, theirs, ATOL) is None


@pytest.mark.parametrize("t_mult", [1, 2, 3])
def test_warm_restarts_fractional_epochs_match_torch(t_mult):
    epochs = [epoch + batch / 7 for epoch in range(60) for batch in range(7)]
    build = lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=t_mult, eta_min=1e-3)  # noqa: E731
    ours = drive_with_epochs("edunn", build, epochs)
    theirs = drive_with_epochs("torch", build, epochs)

    assert first_difference(ours, theirs, ATOL) is None


def test_closed_form_is_not_the_chainable_form():
    # A chained scheduler's closed form ignores the other scheduler's factor; the chainable form keeps it.
    optimizer = make_optimizer("edunn")
    constant = edunn_sched.ConstantLR(optimizer, factor=0.5, total_iters=100)
    step = edunn_sched.StepLR(optimizer, 2, gamma=0.1)
    optimizer.step()
    constant.step()
    step.step()
    optimizer.step()
    constant.step()
    step.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 * 0.1)
    assert step._get_closed_form_lr()[0] == pytest.approx(0.1 * 0.1)


# ---------------------------------------------------------------------------
# state_dict details
# ---------------------------------------------------------------------------


def test_lambda_state_keeps_callable_objects_only():
    states = {}
    for library, lr_scheduler in LIBRARIES.items():
        scheduler = lr_scheduler.LambdaLR(make_optimizer(library), [Decay(0.9), lambda e: 1.0])
        states[library] = scheduler.state_dict()

    assert states["edunn"]["lr_lambdas"] == [{"rate": 0.9}, None]
    assert states["torch"]["lr_lambdas"] == [{"rate": 0.9}, None]


def test_lambda_load_updates_callable_object_in_place():
    for library, lr_scheduler in LIBRARIES.items():
        source = lr_scheduler.MultiplicativeLR(make_optimizer(library), Decay(0.7))
        target_fn = Decay(0.2)
        target = lr_scheduler.MultiplicativeLR(make_optimizer(library), target_fn)
        state = source.state_dict()
        target.load_state_dict(state)

        assert target_fn.rate == 0.7, library
        assert "lr_lambdas" in state, library


def test_cyclic_state_keeps_scale_fn_object_state():
    for library, lr_scheduler in LIBRARIES.items():
        source = lr_scheduler.CyclicLR(make_optimizer(library), 0.01, 0.1, scale_fn=HalvingScale(0.3))
        state = source.state_dict()
        assert state["_scale_fn_custom"] == {"base": 0.3}, library
        assert "_scale_fn_ref" not in state, library

        target_fn = HalvingScale(0.9)
        target = lr_scheduler.CyclicLR(make_optimizer(library), 0.01, 0.1, scale_fn=target_fn)
        target.load_state_dict(state)
        assert target_fn.base == 0.3, library
        assert target._scale_fn_custom is target_fn, library


def test_cyclic_load_leaves_given_state_dict_intact():
    # torch pops "_scale_fn_custom" from the dict it is given; edunn copies it first.
    scheduler = edunn_sched.CyclicLR(make_optimizer("edunn"), 0.01, 0.1, mode="exp_range", gamma=0.99)
    state = scheduler.state_dict()
    fresh = edunn_sched.CyclicLR(make_optimizer("edunn"), 0.01, 0.1)
    fresh.load_state_dict(state)
    fresh.load_state_dict(state)

    assert "_scale_fn_custom" in state
    assert fresh.mode == "exp_range"
    assert fresh.scale_fn(2) == pytest.approx(0.99**2)


def test_plateau_state_roundtrip_restores_comparison():
    for library, lr_scheduler in LIBRARIES.items():
        source = lr_scheduler.ReduceLROnPlateau(make_optimizer(library), mode="max", threshold_mode="abs")
        source.step(3.0)
        target = lr_scheduler.ReduceLROnPlateau(make_optimizer(library))
        target.load_state_dict(source.state_dict())

        assert target.mode_worse == -math.inf, library
        assert target.best == 3.0, library
        assert target._is_better(3.5, 3.0), library


def test_plateau_counters_match_torch():
    metrics = plateau_metrics()
    trace = {}
    for library, lr_scheduler in LIBRARIES.items():
        optimizer = make_optimizer(library)
        scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=2, cooldown=3)
        rows = []
        for metric in metrics[:300]:
            optimizer.step()
            scheduler.step(metric)
            rows.append((scheduler.num_bad_epochs, scheduler.cooldown_counter, scheduler.best, scheduler.in_cooldown))
        trace[library] = rows

    assert trace["edunn"] == trace["torch"]


def test_plateau_accepts_tensor_metric():
    optimizer = make_optimizer("edunn")
    scheduler = edunn_sched.ReduceLROnPlateau(optimizer, patience=0)
    scheduler.step(edunn.tensor(1.0))
    scheduler.step(edunn.tensor(2.0))

    assert scheduler.best == 1.0
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.01)


def test_plateau_default_min_lr_grows_with_new_group():
    for library, lr_scheduler in LIBRARIES.items():
        lib = edunn if library == "edunn" else torch
        optimizer = make_optimizer(library)
        scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, min_lr=0.04)
        optimizer.add_param_group({"params": [lib.zeros(1, requires_grad=True)], "lr": 0.2})
        scheduler.step(1.0)
        scheduler.step(2.0)

        assert scheduler.min_lrs == [0.04, 0.04, 0.04], library
        assert [float(g["lr"]) for g in optimizer.param_groups] == pytest.approx([0.04, 0.04, 0.04]), library


def test_resume_writes_initial_lr_once():
    optimizer = make_optimizer("edunn")
    edunn_sched.StepLR(optimizer, 3)
    optimizer.param_groups[0]["lr"] = 0.5
    scheduler = edunn_sched.ExponentialLR(optimizer, gamma=0.9)

    # setdefault: the first scheduler's initial_lr stays.
    assert optimizer.param_groups[0]["initial_lr"] == 0.1
    assert scheduler.base_lrs == [0.1, 0.05]


def test_resume_with_last_epoch_matches_torch():
    for name, build in {
        "StepLR": lambda L, o, e: L.StepLR(o, 4, gamma=0.5, last_epoch=e),
        "CosineAnnealingLR": lambda L, o, e: L.CosineAnnealingLR(o, T_max=30, last_epoch=e),
        "ExponentialLR": lambda L, o, e: L.ExponentialLR(o, 0.9, last_epoch=e),
        "CyclicLR": lambda L, o, e: L.CyclicLR(o, 0.01, 0.1, step_size_up=5, last_epoch=e),
        "OneCycleLR": lambda L, o, e: L.OneCycleLR(o, 0.1, total_steps=100, last_epoch=e),
        "CosineAnnealingWarmRestarts": lambda L, o, e: L.CosineAnnealingWarmRestarts(o, T_0=6, last_epoch=e),
    }.items():
        runs = {}
        for library, lr_scheduler in LIBRARIES.items():
            optimizer = make_optimizer(library)
            build(lr_scheduler, optimizer, -1)
            resumed = build(lr_scheduler, optimizer, 12)
            runs[library] = record_schedule(resumed, 40)
        assert first_difference(runs["edunn"]["lr"], runs["torch"]["lr"], ATOL) is None, name
        assert first_difference(runs["edunn"]["momentum"], runs["torch"]["momentum"], ATOL) is None, name


# ---------------------------------------------------------------------------
# Adam's betas, tensor learning rates
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["CyclicLR", "OneCycleLR"])
def test_adam_beta2_untouched_by_momentum_cycling(name):
    betas = {}
    for library, lr_scheduler in LIBRARIES.items():
        optimizer = make_optimizer(library, "adam")
        if name == "CyclicLR":
            scheduler = lr_scheduler.CyclicLR(optimizer, 1e-4, 1e-3, step_size_up=5)
        else:
            scheduler = lr_scheduler.OneCycleLR(optimizer, 1e-3, total_steps=20)
        for _ in range(7):
            optimizer.step()
            scheduler.step()
        assert all(isinstance(group["betas"], tuple) for group in optimizer.param_groups), library
        betas[library] = [[float(b) for b in group["betas"]] for group in optimizer.param_groups]

    assert first_difference(betas["edunn"], betas["torch"], ATOL) is None
    assert all(beta2 == 0.999 for _, beta2 in betas["edunn"])


TENSOR_LR_BUILDS = {
    "StepLR": lambda L, o: L.StepLR(o, 3, gamma=0.5),
    "CosineAnnealingLR": lambda L, o: L.CosineAnnealingLR(o, T_max=20, eta_min=0.001),
    "LinearLR": lambda L, o: L.LinearLR(o, start_factor=0.25, total_iters=8),
    "ReduceLROnPlateau": lambda L, o: L.ReduceLROnPlateau(o, patience=1),
}


@pytest.mark.parametrize("name", list(TENSOR_LR_BUILDS))
def test_tensor_lr_matches_torch_in_place(name):
    records = {}
    for library, lr_scheduler in LIBRARIES.items():
        lib = edunn if library == "edunn" else torch
        groups = [
            {"params": [lib.zeros(2, requires_grad=True)], "lr": lib.tensor(lr, dtype=lib.float64)}
            for lr in (0.1, 0.05)
        ]
        optimizer = (edunn.optim.SGD if library == "edunn" else torch.optim.SGD)(groups, lr=0.1)
        lr_objects = [group["lr"] for group in optimizer.param_groups]
        scheduler = TENSOR_LR_BUILDS[name](lr_scheduler, optimizer)
        metrics = plateau_metrics()[:50] if name == "ReduceLROnPlateau" else None
        records[library] = record_schedule(scheduler, 50, metrics)
        last = scheduler.get_last_lr()

        assert all(group["lr"] is obj for group, obj in zip(optimizer.param_groups, lr_objects)), library
        assert all(value is not obj for value, obj in zip(last, lr_objects)), library

    assert first_difference(records["edunn"]["lr"], records["torch"]["lr"], ATOL) is None


def test_get_last_lr_copies_tensor_lr():
    optimizer = edunn.optim.SGD([{"params": [edunn.zeros(1, requires_grad=True)], "lr": edunn.tensor(0.1)}])
    scheduler = edunn_sched.ExponentialLR(optimizer, gamma=0.5)
    scheduler.get_last_lr()[0].fill_(7.0)

    assert float(optimizer.param_groups[0]["lr"]) == pytest.approx(0.1)


def test_counter_milestones_like_torch():
    scheduler = edunn_sched.MultiStepLR(make_optimizer("edunn"), [30, 10, 10])

    assert scheduler.milestones == Counter({10: 2, 30: 1})


def test_sequential_failed_step_keeps_last_epoch():
    optimizer = make_optimizer("edunn")
    scheduler = edunn_sched.SequentialLR(
        optimizer,
        [edunn_sched.ConstantLR(optimizer), edunn_sched.ChainedScheduler([edunn_sched.ExponentialLR(optimizer, 0.9)])],
        milestones=[1],
    )
    optimizer.step()
    with pytest.raises(NotImplementedError):
        scheduler.step()

    assert scheduler.last_epoch == 0


def test_plateau_failed_step_keeps_counters():
    optimizer = make_optimizer("edunn")
    scheduler = edunn_sched.ReduceLROnPlateau(optimizer, patience=0, min_lr=[0.0, 0.0])
    scheduler.step(1.0)
    optimizer.add_param_group({"params": [edunn.zeros(1, requires_grad=True)], "lr": 0.2})
    before = (scheduler.last_epoch, scheduler.best, scheduler.num_bad_epochs, scheduler.cooldown_counter)
    with pytest.raises(RuntimeError, match="differs from when `ReduceLROnPlateau` was initialized"):
        scheduler.step(2.0)

    assert (scheduler.last_epoch, scheduler.best, scheduler.num_bad_epochs, scheduler.cooldown_counter) == before
    assert [float(g["lr"]) for g in optimizer.param_groups] == [0.1, 0.05, 0.2]


# ---------------------------------------------------------------------------
# random options (hypothesis)
# ---------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def assert_runs_match(build, steps):
    """Run both libraries; they must record the same values or raise the same exception type."""
    runs = {}
    for library, lr_scheduler in LIBRARIES.items():
        try:
            runs[library] = record_schedule(build(lr_scheduler, make_optimizer(library)), steps)
        except ArithmeticError as error:
            runs[library] = type(error)
    if isinstance(runs["torch"], type):
        assert runs["edunn"] is runs["torch"]
        return
    assert first_difference(runs["edunn"]["lr"], runs["torch"]["lr"], ATOL) is None
    assert first_difference(runs["edunn"]["momentum"], runs["torch"]["momentum"], ATOL) is None


@settings(max_examples=15, deadline=None)
@given(
    up=st.integers(1, 60),
    down=st.one_of(st.none(), st.integers(1, 60)),
    mode=st.sampled_from(["triangular", "triangular2", "exp_range"]),
    gamma=st.floats(0.9, 1.0),
    max_factor=st.floats(1.0, 20.0),
)
def test_cyclic_random_options_match_torch(up, down, mode, gamma, max_factor):
    assert_runs_match(
        lambda L, o: L.CyclicLR(o, [0.01, 0.005], [0.01 * max_factor, 0.005 * max_factor], step_size_up=up, step_size_down=down, mode=mode, gamma=gamma),
        200,
    )


@settings(max_examples=15, deadline=None)
@given(
    total_steps=st.integers(200, 400),
    pct_start=st.floats(0.0, 1.0),
    anneal_strategy=st.sampled_from(["cos", "linear"]),
    three_phase=st.booleans(),
    div_factor=st.floats(1.0, 100.0),
    final_div_factor=st.floats(1.0, 1e5),
)
def test_one_cycle_random_options_match_torch(total_steps, pct_start, anneal_strategy, three_phase, div_factor, final_div_factor):
    def build(L, o):
        return L.OneCycleLR(
            o, 0.1, total_steps=total_steps, pct_start=pct_start, anneal_strategy=anneal_strategy,
            three_phase=three_phase, div_factor=div_factor, final_div_factor=final_div_factor,
        )  # fmt: skip

    # A pct_start that makes a phase zero steps long divides by zero in both libraries alike.
    assert_runs_match(build, 200)


@settings(max_examples=15, deadline=None)
@given(T_0=st.integers(1, 50), T_mult=st.integers(1, 4), eta_min=st.floats(0.0, 0.01))
def test_warm_restarts_random_options_match_torch(T_0, T_mult, eta_min):
    assert_runs_match(lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=T_0, T_mult=T_mult, eta_min=eta_min), 300)


@settings(max_examples=15, deadline=None)
@given(T_max=st.integers(1, 300), eta_min=st.floats(0.0, 0.01))
def test_cosine_random_options_match_torch(T_max, eta_min):
    assert_runs_match(lambda L, o: L.CosineAnnealingLR(o, T_max=T_max, eta_min=eta_min), 600)
