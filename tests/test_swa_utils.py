"""edunn.optim.swa_utils against torch.optim.swa_utils: AveragedModel, the averaging functions, SWALR and
update_bn, each option on the same float64 inputs, plus the whole SWA training recipe."""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as torch_data
from torch.optim import swa_utils as torch_swa

import edunn
import edunn.nn as nn
import edunn.utils.data as edunn_data
from edunn.optim import swa_utils
from edunn.testing import assert_close, copy_weights, from_torch

RTOL = 1e-10
ATOL = 1e-12


def close(actual, expected):
    assert_close(actual, expected, rtol=RTOL, atol=ATOL)


def make_mlp_pair(bias=True):
    """Return (torch, edunn) float64 MLPs with a BatchNorm1d and identical weights."""
    torch_model = torch.nn.Sequential(
        torch.nn.Linear(4, 6, bias=bias), torch.nn.BatchNorm1d(6), torch.nn.ReLU(), torch.nn.Linear(6, 3)
    ).double()
    model = nn.Sequential(nn.Linear(4, 6, bias=bias), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3)).double()
    copy_weights(torch_model, model)
    return torch_model, model


def set_same_state(torch_model, model, rng, counter):
    """Write the same random parameters and buffers into both models (num_batches_tracked = counter)."""
    with torch.no_grad(), edunn.no_grad():
        for (name, t), (_, e) in zip(torch_model.state_dict().items(), model.state_dict().items()):
            if t.is_floating_point():
                values = rng.standard_normal(tuple(t.shape))
                if name.endswith("running_var"):
                    values = np.abs(values) + 0.1
            else:
                values = np.full(tuple(t.shape), counter)
            t.copy_(torch.tensor(values, dtype=t.dtype))
            e.copy_(edunn.tensor(values, dtype=e.dtype))


def assert_same_state(module, torch_module):
    state, torch_state = module.state_dict(), torch_module.state_dict()
    assert list(state) == list(torch_state)
    for key, value in state.items():
        expected = from_torch(torch_state[key])
        assert value.dtype == expected.dtype, key
        close(value, expected)


def snapshot(module):
    return {key: value.clone() for key, value in module.state_dict().items()}


def assert_unchanged(module, saved):
    state = module.state_dict()
    assert list(state) == list(saved)
    for key, value in saved.items():
        assert_close(state[key], value, rtol=0, atol=0)


# ---------------------------------------------------------------------------
# AveragedModel with every averaging option
# ---------------------------------------------------------------------------

AVERAGING_OPTIONS = {
    "swa_default": lambda lib: {},
    "swa_avg_fn": lambda lib: {"avg_fn": lib.get_swa_avg_fn()},
    "swa_multi_avg_fn": lambda lib: {"multi_avg_fn": lib.get_swa_multi_avg_fn()},
    "ema_avg_fn_0.5": lambda lib: {"avg_fn": lib.get_ema_avg_fn(0.5)},
    "ema_avg_fn_0.9": lambda lib: {"avg_fn": lib.get_ema_avg_fn(0.9)},
    "ema_avg_fn_default": lambda lib: {"avg_fn": lib.get_ema_avg_fn()},
    "ema_avg_fn_0": lambda lib: {"avg_fn": lib.get_ema_avg_fn(0.0)},
    "ema_avg_fn_1": lambda lib: {"avg_fn": lib.get_ema_avg_fn(1.0)},
    "ema_multi_avg_fn_0.5": lambda lib: {"multi_avg_fn": lib.get_ema_multi_avg_fn(0.5)},
    "ema_multi_avg_fn_0.9": lambda lib: {"multi_avg_fn": lib.get_ema_multi_avg_fn(0.9)},
    "ema_multi_avg_fn_default": lambda lib: {"multi_avg_fn": lib.get_ema_multi_avg_fn()},
    "ema_multi_avg_fn_1": lambda lib: {"multi_avg_fn": lib.get_ema_multi_avg_fn(1.0)},
}


def run_averaging(options, use_buffers, updates=25, seed=0):
    torch_model, model = make_mlp_pair()
    torch_averaged = torch_swa.AveragedModel(torch_model, use_buffers=use_buffers, **options(torch_swa))
    averaged = swa_utils.AveragedModel(model, use_buffers=use_buffers, **options(swa_utils))
    rng = np.random.default_rng(seed)
    for counter in range(updates):
        set_same_state(torch_model, model, rng, counter)
        torch_averaged.update_parameters(torch_model)
        averaged.update_parameters(model)
        assert_same_state(averaged, torch_averaged)
    return torch_averaged, averaged


@pytest.mark.parametrize("use_buffers", [False, True])
@pytest.mark.parametrize("name", sorted(AVERAGING_OPTIONS))
def test_averaged_model_matches_torch(name, use_buffers):
    if name == "swa_multi_avg_fn" and use_buffers:
        pytest.skip("torch raises on num_batches_tracked here; see test_swa_multi_avg_fn_integer_buffers")
    torch_averaged, averaged = run_averaging(AVERAGING_OPTIONS[name], use_buffers)

    assert int(averaged.n_averaged) == int(torch_averaged.n_averaged) == 25
    x = np.random.default_rng(1).standard_normal((5, 4))
    for mode in ("train", "eval"):
        getattr(averaged, mode)()
        getattr(torch_averaged, mode)()
        with torch.no_grad(), edunn.no_grad():
            close(averaged(edunn.tensor(x)), from_torch(torch_averaged(torch.tensor(x))))


def test_averaged_model_first_update_copies_model():
    torch_model, model = make_mlp_pair()
    averaged = swa_utils.AveragedModel(model, avg_fn=swa_utils.get_ema_avg_fn(0.5))
    set_same_state(torch_model, model, np.random.default_rng(0), 7)
    averaged.update_parameters(model)

    assert_unchanged(averaged.module, snapshot(model))


def test_averaged_model_without_buffers_copies_buffers_each_update():
    torch_model, model = make_mlp_pair()
    averaged = swa_utils.AveragedModel(model)
    rng = np.random.default_rng(0)
    for counter in range(3):
        set_same_state(torch_model, model, rng, counter)
        averaged.update_parameters(model)
        for (name, b_averaged), (_, b_model) in zip(averaged.module.named_buffers(), model.named_buffers()):
            assert_close(b_averaged, b_model, rtol=0, atol=0, msg=name)


def test_averaged_model_with_buffers_averages_integer_counter():
    torch_averaged, averaged = run_averaging(AVERAGING_OPTIONS["swa_default"], use_buffers=True, updates=4)
    counter = averaged.module[1].num_batches_tracked

    # The counters are 0, 1, 2, 3. Each update writes the float average back into the int64 buffer,
    # which truncates it (0.5, then 0.67, then 0.75 all become 0), so the result is 0, not 1.5, as in torch.
    assert counter.dtype == edunn.int64
    assert int(torch_averaged.module[1].num_batches_tracked) == 0
    assert int(counter) == 0


def test_averaged_model_is_independent_copy():
    _, model = make_mlp_pair()
    averaged = swa_utils.AveragedModel(model)
    saved = snapshot(averaged.module)
    with edunn.no_grad():
        for p in model.parameters():
            p.add_(1.0)

    assert averaged.module is not model
    assert_unchanged(averaged.module, saved)
    assert all(p.requires_grad for p in averaged.parameters())


def test_averaged_model_state_dict_matches_torch_layout():
    torch_model, model = make_mlp_pair()
    torch_averaged = torch_swa.AveragedModel(torch_model, multi_avg_fn=torch_swa.get_ema_multi_avg_fn())
    averaged = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn())

    assert list(averaged.state_dict()) == list(torch_averaged.state_dict())
    assert averaged.n_averaged.dtype == edunn.int64
    assert averaged.n_averaged.dim() == 0
    assert "n_averaged" in dict(averaged.named_buffers())
    assert not any("avg_fn" in key for key in averaged.state_dict())


def test_averaged_model_load_state_dict_resumes_average():
    torch_averaged, averaged = run_averaging(AVERAGING_OPTIONS["swa_default"], use_buffers=False, updates=3)
    torch_model, model = make_mlp_pair()
    resumed = swa_utils.AveragedModel(model)
    resumed.load_state_dict(averaged.state_dict())
    rng = np.random.default_rng(5)
    set_same_state(torch_model, model, rng, 3)
    torch_averaged.update_parameters(torch_model)
    resumed.update_parameters(model)

    assert int(resumed.n_averaged) == 4
    assert_same_state(resumed, torch_averaged)


def test_averaged_model_device_argument():
    _, model = make_mlp_pair()
    averaged = swa_utils.AveragedModel(model, device="cpu")

    assert averaged.n_averaged.device == edunn.device("cpu")
    assert all(p.device == edunn.device("cpu") for p in averaged.parameters())


@pytest.mark.cuda
def test_averaged_model_on_cuda_matches_torch():
    pytest.importorskip("cupy")
    if not edunn.cuda.is_available():
        pytest.skip("no CUDA device")
    torch_model, model = make_mlp_pair()
    torch_averaged = torch_swa.AveragedModel(torch_model, use_buffers=True)
    averaged = swa_utils.AveragedModel(model, device="cuda", use_buffers=True)
    rng = np.random.default_rng(0)
    for counter in range(10):
        set_same_state(torch_model, model, rng, counter)
        torch_averaged.update_parameters(torch_model)
        averaged.update_parameters(model)

    assert averaged.n_averaged.device.type == "cuda"
    assert_same_state(averaged.cpu(), torch_averaged)


def test_averaged_model_rejects_both_avg_fns():
    _, model = make_mlp_pair()
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        swa_utils.AveragedModel(model, avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())


# ---------------------------------------------------------------------------
# The averaging functions on their own
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("factory", ["get_ema_avg_fn", "get_ema_multi_avg_fn"])
@pytest.mark.parametrize("decay", [-0.1, 1.5])
def test_ema_decay_out_of_range_raises(factory, decay):
    with pytest.raises(ValueError, match=r"Invalid decay value") as torch_error:
        getattr(torch_swa, factory)(decay)
    with pytest.raises(ValueError) as edunn_error:
        getattr(swa_utils, factory)(decay)

    assert str(edunn_error.value) == str(torch_error.value)


@pytest.mark.parametrize("counter_kind", ["int", "tensor"])
@pytest.mark.parametrize("factory", ["get_swa_multi_avg_fn", "get_ema_multi_avg_fn"])
def test_multi_avg_fn_matches_torch(factory, counter_kind):
    rng = np.random.default_rng(3)
    torch_fn = getattr(torch_swa, factory)() if factory.startswith("get_swa") else getattr(torch_swa, factory)(0.8)
    edunn_fn = getattr(swa_utils, factory)() if factory.startswith("get_swa") else getattr(swa_utils, factory)(0.8)
    start = [rng.standard_normal((3, 2)), rng.standard_normal(4)]
    torch_averaged = [torch.tensor(a) for a in start]
    averaged = [edunn.tensor(a) for a in start]
    for n in range(1, 30):
        current = [rng.standard_normal(a.shape) for a in start]
        torch_n = torch.tensor(n) if counter_kind == "tensor" else n
        edunn_n = edunn.tensor(n) if counter_kind == "tensor" else n
        torch_fn(torch_averaged, [torch.tensor(c) for c in current], torch_n)
        edunn_fn(averaged, [edunn.tensor(c) for c in current], edunn_n)
        for a, t in zip(averaged, torch_averaged):
            close(a, from_torch(t))


def test_swa_multi_avg_fn_float32_weight():
    # 1 / (n + 1) with an int64 tensor n is a float32 tensor in torch, so the lerp weight is rounded.
    torch_averaged, averaged = [torch.zeros(1, dtype=torch.float64)], [edunn.zeros(1, dtype=edunn.float64)]
    torch_swa.get_swa_multi_avg_fn()(torch_averaged, [torch.ones(1, dtype=torch.float64)], torch.tensor(2))
    swa_utils.get_swa_multi_avg_fn()(averaged, [edunn.ones(1, dtype=edunn.float64)], edunn.tensor(2))

    assert averaged[0].item() == torch_averaged[0].item()
    assert averaged[0].item() != 1 / 3


def test_avg_fns_return_new_tensors_like_torch():
    rng = np.random.default_rng(4)
    a, c = rng.standard_normal(5), rng.standard_normal(5)
    for name, args in [("get_swa_avg_fn", ()), ("get_ema_avg_fn", (0.7,))]:
        expected = getattr(torch_swa, name)(*args)(torch.tensor(a), torch.tensor(c), torch.tensor(3))
        averaged = edunn.tensor(a)
        actual = getattr(swa_utils, name)(*args)(averaged, edunn.tensor(c), edunn.tensor(3))

        close(actual, from_torch(expected))
        assert averaged.tolist() == a.tolist()


def test_swa_multi_avg_fn_integer_buffers():
    torch_model, model = make_mlp_pair()
    torch_averaged = torch_swa.AveragedModel(torch_model, multi_avg_fn=torch_swa.get_swa_multi_avg_fn(),
                                             use_buffers=True)
    averaged = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_swa_multi_avg_fn(), use_buffers=True)
    rng = np.random.default_rng(0)
    set_same_state(torch_model, model, rng, 1)
    torch_averaged.update_parameters(torch_model)
    averaged.update_parameters(model)
    set_same_state(torch_model, model, rng, 2)
    saved = snapshot(averaged)

    with pytest.raises(RuntimeError, match="Integer division with addcdiv") as torch_error:
        torch_averaged.update_parameters(torch_model)
    with pytest.raises(type(torch_error.value), match="Integer division with addcdiv"):
        averaged.update_parameters(model)
    assert_unchanged(averaged, saved)


# ---------------------------------------------------------------------------
# AveragedModel.update_parameters with a model of another structure
# ---------------------------------------------------------------------------


def other_structure_models():
    return {
        "extra_layer": nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3),
                                     nn.Linear(3, 3)).double(),
        "missing_bias": nn.Sequential(nn.Linear(4, 6, bias=False), nn.BatchNorm1d(6), nn.ReLU(),
                                      nn.Linear(6, 3)).double(),
        "other_shape": nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 2)).double(),
        "transposed_shape": nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(6), nn.ReLU(),
                                          nn.Linear(6, 3)).double(),
    }


@pytest.mark.parametrize("use_buffers", [False, True])
@pytest.mark.parametrize("case", ["extra_layer", "missing_bias", "other_shape", "transposed_shape"])
@pytest.mark.parametrize("updates_before", [0, 2])
def test_update_parameters_other_structure(case, use_buffers, updates_before):
    _, model = make_mlp_pair()
    averaged = swa_utils.AveragedModel(model, use_buffers=use_buffers)
    for _ in range(updates_before):
        averaged.update_parameters(model)
    saved = snapshot(averaged)
    other = other_structure_models()[case]

    expected_type = RuntimeError if "shape" in case else ValueError
    with pytest.raises(expected_type, match="AveragedModel.update_parameters") as error:
        averaged.update_parameters(other)
    message = str(error.value)
    if case == "extra_layer":
        assert "'4.weight'" in message
    if case == "missing_bias":
        assert "'0.bias'" in message
    if "shape" in case:
        assert "shape mismatch" in message
    assert_unchanged(averaged, saved)


@pytest.mark.parametrize("case", ["other_shape", "transposed_shape"])
def test_update_parameters_shape_mismatch_type_matches_torch(case):
    torch_model, _ = make_mlp_pair()
    torch_other = {
        "other_shape": torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.ReLU(),
                                           torch.nn.Linear(6, 2)).double(),
        "transposed_shape": torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.BatchNorm1d(6), torch.nn.ReLU(),
                                                torch.nn.Linear(6, 3)).double(),
    }[case]
    _, model = make_mlp_pair()

    with pytest.raises(Exception) as torch_error:
        torch_swa.AveragedModel(torch_model).update_parameters(torch_other)
    with pytest.raises(type(torch_error.value)):
        swa_utils.AveragedModel(model).update_parameters(other_structure_models()[case])


def test_update_parameters_buffer_mismatch():
    torch_model, model = make_mlp_pair()
    # Same parameters, but this BatchNorm keeps no running statistics, so it has no buffers.
    torch_plain = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6, track_running_stats=False),
                                      torch.nn.ReLU(), torch.nn.Linear(6, 3)).double()
    plain = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6, track_running_stats=False), nn.ReLU(),
                          nn.Linear(6, 3)).double()
    averaged = swa_utils.AveragedModel(model)
    saved = snapshot(averaged)

    with pytest.raises(ValueError):
        torch_swa.AveragedModel(torch_model).update_parameters(torch_plain)
    with pytest.raises(ValueError, match="buffers") as error:
        averaged.update_parameters(plain)
    assert "running_mean" in str(error.value)
    assert_unchanged(averaged, saved)


def test_update_parameters_failing_avg_fn_changes_nothing():
    _, model = make_mlp_pair()
    calls = []

    def flaky_avg_fn(averaged_param, current_param, num_averaged):
        calls.append(1)
        if len(calls) == 3:
            raise ArithmeticError("averaging failed")
        return (averaged_param + current_param) / 2

    averaged = swa_utils.AveragedModel(model, avg_fn=flaky_avg_fn)
    averaged.update_parameters(model)
    with edunn.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    saved = snapshot(averaged)

    with pytest.raises(ArithmeticError):
        averaged.update_parameters(model)
    assert len(calls) == 3
    assert_unchanged(averaged, saved)


# ---------------------------------------------------------------------------
# SWALR
# ---------------------------------------------------------------------------


def make_optimizers(lrs=(0.1, 0.03)):
    def build(lib, optim):
        groups = [{"params": [lib.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
        return optim.SGD(groups, lr=lrs[0], momentum=0.9)

    return build(torch, torch.optim), build(edunn, edunn.optim)


def step_both(pairs, steps, choose=None):
    """Step (torch, edunn) scheduler pairs together; ``choose(t)`` picks which pair steps at step t."""
    torch_lrs, lrs = [], []
    for t in range(steps):
        torch_scheduler, scheduler = pairs[choose(t) if choose else 0]
        torch_scheduler.optimizer.step()
        scheduler.optimizer.step()
        torch_scheduler.step()
        scheduler.step()
        torch_lrs.append([group["lr"] for group in torch_scheduler.optimizer.param_groups])
        lrs.append([group["lr"] for group in scheduler.optimizer.param_groups])
        assert scheduler.get_last_lr() == torch_scheduler.get_last_lr()
    return torch_lrs, lrs


def assert_lrs_close(lrs, torch_lrs):
    assert len(lrs) == len(torch_lrs)
    for step, (row, torch_row) in enumerate(zip(lrs, torch_lrs)):
        for value, expected in zip(row, torch_row):
            assert math.isclose(value, expected, rel_tol=RTOL, abs_tol=0.0), (step, value, expected)


@pytest.mark.parametrize("anneal_strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 4, 10])
@pytest.mark.parametrize("swa_lr", [0.05, [0.02, 0.2]])
def test_swalr_matches_torch(anneal_strategy, anneal_epochs, swa_lr):
    torch_optimizer, optimizer = make_optimizers()
    torch_scheduler = torch_swa.SWALR(torch_optimizer, swa_lr, anneal_epochs=anneal_epochs,
                                      anneal_strategy=anneal_strategy)
    scheduler = swa_utils.SWALR(optimizer, swa_lr, anneal_epochs=anneal_epochs, anneal_strategy=anneal_strategy)

    assert [g["swa_lr"] for g in optimizer.param_groups] == [g["swa_lr"] for g in torch_optimizer.param_groups]
    assert [g["lr"] for g in optimizer.param_groups] == [g["lr"] for g in torch_optimizer.param_groups]
    torch_lrs, lrs = step_both([(torch_scheduler, scheduler)], 60)
    assert_lrs_close(lrs, torch_lrs)
    assert math.isclose(lrs[-1][1], optimizer.param_groups[1]["swa_lr"], rel_tol=RTOL)


@pytest.mark.parametrize("anneal_strategy", ["cos", "linear"])
@pytest.mark.parametrize("swa_start", [0, 7, 25])
def test_swalr_after_cosine_annealing_matches_torch(anneal_strategy, swa_start):
    torch_optimizer, optimizer = make_optimizers()
    pairs = [
        (torch.optim.lr_scheduler.CosineAnnealingLR(torch_optimizer, T_max=30, eta_min=0.001),
         edunn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=30, eta_min=0.001)),
        (torch_swa.SWALR(torch_optimizer, swa_lr=0.05, anneal_epochs=6, anneal_strategy=anneal_strategy),
         swa_utils.SWALR(optimizer, swa_lr=0.05, anneal_epochs=6, anneal_strategy=anneal_strategy)),
    ]

    torch_lrs, lrs = step_both(pairs, 50, choose=lambda t: 1 if t >= swa_start else 0)
    assert_lrs_close(lrs, torch_lrs)


def test_swalr_tensor_lr_matches_torch():
    torch_optimizer = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=torch.tensor(0.1))
    optimizer = edunn.optim.SGD([edunn.zeros(2, requires_grad=True)], lr=edunn.tensor(0.1))
    torch_lr, lr = torch_optimizer.param_groups[0]["lr"], optimizer.param_groups[0]["lr"]
    torch_scheduler = torch_swa.SWALR(torch_optimizer, swa_lr=0.01, anneal_epochs=5)
    scheduler = swa_utils.SWALR(optimizer, swa_lr=0.01, anneal_epochs=5)
    for _ in range(8):
        torch_optimizer.step()
        optimizer.step()
        torch_scheduler.step()
        scheduler.step()
        assert optimizer.param_groups[0]["lr"] is lr
        close(lr, from_torch(torch_lr))


def test_swalr_state_dict_round_trip_matches_torch():
    torch_optimizer, optimizer = make_optimizers()
    torch_scheduler = torch_swa.SWALR(torch_optimizer, 0.05, anneal_epochs=8, anneal_strategy="linear")
    scheduler = swa_utils.SWALR(optimizer, 0.05, anneal_epochs=8, anneal_strategy="linear")
    step_both([(torch_scheduler, scheduler)], 3)
    state = scheduler.state_dict()

    assert set(state) == set(torch_scheduler.state_dict())
    assert "anneal_func" not in state
    _, resumed_optimizer = make_optimizers()
    resumed_optimizer.load_state_dict(optimizer.state_dict())
    resumed = swa_utils.SWALR(resumed_optimizer, 0.9, anneal_epochs=2, anneal_strategy="cos")
    resumed_optimizer.load_state_dict(optimizer.state_dict())
    resumed.load_state_dict(state)
    assert resumed.anneal_func(0.25) == 0.25
    torch_lrs, lrs = step_both([(torch_scheduler, resumed)], 10)
    assert_lrs_close(lrs, torch_lrs)


def test_swalr_get_lr_outside_step_warns():
    _, optimizer = make_optimizers()
    scheduler = swa_utils.SWALR(optimizer, 0.05)
    with pytest.warns(UserWarning, match="get_last_lr"):
        scheduler.get_lr()


def test_swalr_step_after_optimizer_no_warning():
    _, optimizer = make_optimizers()
    scheduler = swa_utils.SWALR(optimizer, 0.05)
    optimizer.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()


@pytest.mark.parametrize("kwargs, pattern", [
    ({"swa_lr": 0.05, "anneal_strategy": "cosine"}, "anneal_strategy must be one of 'cos' or 'linear'"),
    ({"swa_lr": 0.05, "anneal_strategy": None}, "anneal_strategy must be one of 'cos' or 'linear'"),
    ({"swa_lr": [0.05, 0.01, 0.02]}, "swa_lr must have the same length as optimizer.param_groups"),
    ({"swa_lr": [0.05]}, "swa_lr must have the same length as optimizer.param_groups"),
    ({"swa_lr": 0.05, "anneal_epochs": -1}, "anneal_epochs must be equal or greater than 0"),
    ({"swa_lr": 0.05, "anneal_epochs": 2.0}, "anneal_epochs must be equal or greater than 0"),
])
def test_swalr_bad_arguments(kwargs, pattern):
    torch_optimizer, optimizer = make_optimizers()
    saved_groups = [dict(group) for group in optimizer.param_groups]

    with pytest.raises(ValueError, match=pattern) as torch_error:
        torch_swa.SWALR(torch_optimizer, **kwargs)
    with pytest.raises(ValueError, match=pattern) as edunn_error:
        swa_utils.SWALR(optimizer, **kwargs)
    assert str(edunn_error.value) == str(torch_error.value)
    assert [dict(group) for group in optimizer.param_groups] == saved_groups


def test_swalr_failed_resume_restores_swa_lr():
    _, optimizer = make_optimizers()
    swa_utils.SWALR(optimizer, 0.05)
    _, fresh = make_optimizers()

    with pytest.raises(KeyError, match="initial_lr"):
        swa_utils.SWALR(fresh, 0.07, last_epoch=3)
    assert all("swa_lr" not in group for group in fresh.param_groups)


# ---------------------------------------------------------------------------
# update_bn
# ---------------------------------------------------------------------------


class TorchDictInput(torch.nn.Module):
    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, batch):
        return self.body(batch["x"])


class DictInput(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, batch):
        return self.body(batch["x"])


def make_conv_pair():
    torch_model = torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 3, padding=1), torch.nn.BatchNorm2d(3, momentum=0.3), torch.nn.ReLU(),
        torch.nn.Flatten(), torch.nn.Linear(3 * 5 * 5, 4), torch.nn.BatchNorm1d(4),
    ).double()
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3, momentum=0.3), nn.ReLU(),
        nn.Flatten(), nn.Linear(3 * 5 * 5, 4), nn.BatchNorm1d(4),
    ).double()
    copy_weights(torch_model, model)
    return torch_model, model


def make_batches(form, input_shape, count=5, seed=0):
    """Return matching (torch, edunn) lists of batches of the given form."""
    rng = np.random.default_rng(seed)
    torch_batches, batches = [], []
    for index in range(count):
        x = rng.standard_normal((6 + index, *input_shape)) * 2 + 1
        y = rng.integers(0, 3, size=6 + index)
        tx, ty, ex, ey = torch.tensor(x), torch.tensor(y), edunn.tensor(x), edunn.tensor(y)
        if form == "tensor":
            torch_batches.append(tx)
            batches.append(ex)
        elif form == "list":
            torch_batches.append([tx, ty])
            batches.append([ex, ey])
        elif form == "tuple":
            torch_batches.append((tx, ty))
            batches.append((ex, ey))
        elif form == "dict":
            torch_batches.append({"x": tx, "y": ty})
            batches.append({"x": ex, "y": ey})
        elif form == "list_of_dict":
            torch_batches.append([{"x": tx}, ty])
            batches.append([{"x": ex}, ey])
    return torch_batches, batches


def bn_layers(model):
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("form", ["tensor", "list", "tuple", "dict", "list_of_dict"])
@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_update_bn_matches_torch(kind, form, training):
    if kind == "mlp":
        torch_model, model = make_mlp_pair()
        input_shape = (4,)
    else:
        torch_model, model = make_conv_pair()
        input_shape = (2, 5, 5)
    if form in ("dict", "list_of_dict"):
        torch_model, model = TorchDictInput(torch_model), DictInput(model)
    set_same_state(torch_model, model, np.random.default_rng(1), 3)
    torch_model.train(training)
    model.train(training)
    momenta = [m.momentum for m in bn_layers(model)]
    torch_batches, batches = make_batches(form, input_shape)

    torch_swa.update_bn(torch_batches, torch_model)
    swa_utils.update_bn(batches, model)

    assert_same_state(model, torch_model)
    assert [m.momentum for m in bn_layers(model)] == momenta
    assert all(m.training == training for m in model.modules())
    assert int(bn_layers(model)[0].num_batches_tracked) == len(batches)


def test_update_bn_data_loader_and_device():
    torch_model, model = make_mlp_pair()
    x = np.random.default_rng(2).standard_normal((40, 4))
    y = np.arange(40) % 3
    torch_loader = torch_data.DataLoader(torch_data.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=7)
    loader = edunn_data.DataLoader(edunn_data.TensorDataset(edunn.tensor(x), edunn.tensor(y)), batch_size=7)

    torch_swa.update_bn(torch_loader, torch_model, device="cpu")
    swa_utils.update_bn(loader, model, device="cpu")

    assert_same_state(model, torch_model)


def test_update_bn_on_averaged_model_matches_torch():
    torch_averaged, averaged = run_averaging(AVERAGING_OPTIONS["swa_default"], use_buffers=False, updates=5)
    torch_batches, batches = make_batches("list", (4,))

    torch_swa.update_bn(torch_batches, torch_averaged)
    swa_utils.update_bn(batches, averaged)

    assert_same_state(averaged, torch_averaged)


def test_update_bn_empty_loader_resets_stats_like_torch():
    torch_model, model = make_mlp_pair()
    set_same_state(torch_model, model, np.random.default_rng(1), 3)

    torch_swa.update_bn([], torch_model)
    swa_utils.update_bn([], model)

    assert_same_state(model, torch_model)
    assert int(model[1].num_batches_tracked) == 0


def test_update_bn_without_batchnorm_changes_nothing():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU()).double()
    model.eval()
    saved = snapshot(model)

    swa_utils.update_bn([edunn.ones(2, 4, dtype=edunn.float64)], model)
    assert_unchanged(model, saved)
    assert not model.training


def bad_batches(x):
    """Return {case: (torch batch, edunn batch)} for batches update_bn cannot use."""
    return {
        "numpy": (x, x),
        "string": ("abc", "abc"),
        "nested_list": ([[torch.tensor(x)], 0], [[edunn.tensor(x)], 0]),
        "empty_tuple": ((), ()),
        "dict_with_device": ({"x": torch.tensor(x)}, {"x": edunn.tensor(x)}),
    }


@pytest.mark.parametrize("case, device, expected_type", [
    ("numpy", None, TypeError),
    ("string", None, TypeError),
    ("nested_list", None, TypeError),
    ("empty_tuple", None, IndexError),
    ("dict_with_device", "cpu", AttributeError),
])
def test_update_bn_bad_batch(case, device, expected_type):
    torch_model, model = make_mlp_pair()
    if case == "dict_with_device":
        torch_model, model = TorchDictInput(torch_model), DictInput(model)
    set_same_state(torch_model, model, np.random.default_rng(1), 3)
    model.eval()
    momenta = [m.momentum for m in bn_layers(model)]
    saved = snapshot(model)
    x = np.random.default_rng(0).standard_normal((5, 4))
    torch_bad, bad = bad_batches(x)[case]
    if case == "dict_with_device":
        torch_loader, loader = [torch_bad], [{"x": edunn.tensor(x)}, bad]
    else:
        torch_loader, loader = [torch.tensor(x), torch_bad], [edunn.tensor(x), edunn.tensor(x), bad]

    with pytest.raises(expected_type):
        torch_swa.update_bn(torch_loader, torch_model, device=device)
    with pytest.raises(expected_type, match="update_bn") as error:
        swa_utils.update_bn(loader, model, device=device)
    if case != "empty_tuple":
        expected_name = type(bad[0] if case == "nested_list" else bad).__name__
        assert expected_name in str(error.value)
    assert_unchanged(model, saved)
    assert [m.momentum for m in bn_layers(model)] == momenta
    assert not any(m.training for m in model.modules())


def test_update_bn_failure_restores_mixed_training_flags():
    _, model = make_mlp_pair()
    model.train()
    model[1].eval()
    saved = snapshot(model)

    with pytest.raises(TypeError):
        swa_utils.update_bn([edunn.ones(3, 4, dtype=edunn.float64), "oops"], model)
    assert model.training
    assert not model[1].training
    assert model[0].training
    assert_unchanged(model, saved)


# ---------------------------------------------------------------------------
# The whole SWA recipe: SGD + CosineAnnealingLR, then AveragedModel + SWALR, update_bn, predict
# ---------------------------------------------------------------------------


class PermutationSampler:
    """Yields a fresh numpy permutation each epoch, so both libraries see the same batch order."""

    def __init__(self, size, seed):
        self.size = size
        self.rng = np.random.default_rng(seed)

    def __iter__(self):
        return iter(self.rng.permutation(self.size).tolist())

    def __len__(self):
        return self.size


def run_swa_recipe(lib, data, model, x_train, y_train, x_test, epochs=20, swa_start=10):
    swa_module = torch_swa if lib is torch else swa_utils
    dataset = data.TensorDataset(lib.tensor(x_train), lib.tensor(y_train))
    loader = data.DataLoader(dataset, batch_size=50, sampler=PermutationSampler(len(x_train), seed=1))
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    swa_model = swa_module.AveragedModel(model)
    scheduler = lib.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    swa_scheduler = swa_module.SWALR(optimizer, swa_lr=0.05, anneal_epochs=3)
    lrs = []
    for epoch in range(epochs):
        for inputs, targets in loader:
            optimizer.zero_grad()
            lib.nn.functional.cross_entropy(model(inputs), targets).backward()
            optimizer.step()
        if epoch > swa_start:
            swa_model.update_parameters(model)
            swa_scheduler.step()
        else:
            scheduler.step()
        lrs.append(optimizer.param_groups[0]["lr"])

    swa_module.update_bn(loader, swa_model)
    swa_model.eval()
    with lib.no_grad():
        predictions = swa_model(lib.tensor(x_test))
    return swa_model, predictions, lrs


@pytest.fixture
def single_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_swa_recipe_matches_torch(single_torch_thread):
    from sklearn.datasets import load_digits

    features, labels = load_digits(return_X_y=True)
    features = features / 16.0
    order = np.random.default_rng(0).permutation(len(features))
    train, test = order[:600], order[600:900]
    torch_model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.BatchNorm1d(32), torch.nn.ReLU(),
                                      torch.nn.Linear(32, 10)).double()
    model = nn.Sequential(nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 10)).double()
    copy_weights(torch_model, model)

    torch_swa_model, torch_predictions, torch_lrs = run_swa_recipe(
        torch, torch_data, torch_model, features[train], labels[train], features[test])
    swa_model, predictions, lrs = run_swa_recipe(
        edunn, edunn_data, model, features[train], labels[train], features[test])

    assert_lrs_close([[lr] for lr in lrs], [[lr] for lr in torch_lrs])
    assert int(swa_model.n_averaged) == 9
    assert_same_state(swa_model, torch_swa_model)
    close(predictions, from_torch(torch_predictions))
    assert predictions.argmax(1).tolist() == torch_predictions.argmax(1).tolist()
    # update_bn really replaced the statistics: they differ from the last trained model's
    assert not np.allclose(swa_model.module[1].running_mean.numpy(), model[1].running_mean.numpy())
