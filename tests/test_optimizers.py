"""九个优化器与 torch 2.13 逐项对照：每种布尔选项组合（权重衰减开/关）、两组不同超参数、200 步、
float64 下 rtol 1e-10；state_dict 的布局与 dtype；edunn→torch→edunn 的续跑；错误输入。"""

import copy
import itertools

import numpy as np
import pytest
import torch

import edunn
from edunn.testing import check_optimizer, from_torch, to_torch
from edunn.testing._optim import _mlp_loss_and_grads

OPTIMIZERS = ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam"]


@pytest.fixture(autouse=True, scope="module")
def single_torch_thread():
    """这些张量只有几十个元素；在共享的小机器上 torch 的线程唤醒比计算本身还慢。"""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def option_grid():
    """(名字, 构造参数, 两组各自的附加选项) 的列表：每个优化器的布尔选项全组合 × 权重衰减开/关。"""
    # 基础超参数取在收敛区间内：步子太大时训练本身发散，逐位舍入差会被放大到 1e-10 以上，比较就没有意义。
    table = [
        ("SGD", {"lr": 0.05, "momentum": 0.9}, ["nesterov", "maximize"], {"lr": 0.02, "momentum": 0.5}),
        ("SGD", {"lr": 0.05, "dampening": 0.1}, ["maximize"], {"lr": 0.02, "momentum": 0.5}),
        ("Adam", {"lr": 1e-2}, ["amsgrad", "maximize", "decoupled_weight_decay"], {"lr": 5e-3, "betas": (0.8, 0.99)}),
        ("AdamW", {"lr": 1e-2}, ["amsgrad", "maximize"], {"lr": 5e-3, "eps": 1e-6}),
        ("Adagrad", {"lr": 0.05, "lr_decay": 1e-2, "initial_accumulator_value": 0.1}, ["maximize"],
         {"lr": 0.02, "eps": 1e-8}),
        ("RMSprop", {"lr": 1e-3}, ["centered", "maximize"], {"lr": 5e-4, "alpha": 0.95}),
        ("RMSprop", {"lr": 1e-3, "momentum": 0.5}, ["centered", "maximize"], {"lr": 5e-4, "momentum": 0.9}),
        ("Adadelta", {"lr": 1.0}, ["maximize"], {"lr": 0.5, "rho": 0.8}),
        ("Adamax", {"lr": 1e-2}, ["maximize"], {"lr": 5e-3, "betas": (0.8, 0.99)}),
        ("NAdam", {"lr": 2e-3}, ["decoupled_weight_decay", "maximize"], {"lr": 1e-3, "momentum_decay": 1e-2}),
        ("RAdam", {"lr": 1e-2}, ["decoupled_weight_decay", "maximize"], {"lr": 5e-3, "betas": (0.8, 0.99)}),
    ]
    cases = []
    for name, base, flags, second_group in table:
        for values in itertools.product([False, True], repeat=len(flags)):
            for weight_decay in (0.0, 1e-2):
                options = {**base, **dict(zip(flags, values)), "weight_decay": weight_decay}
                on = [flag for flag, value in zip(flags, values) if value]
                label = "-".join([name, *(f"{k}={v}" for k, v in base.items() if k != "lr"), *on,
                                  f"wd={weight_decay}"])
                cases.append(pytest.param(name, options, [{}, second_group], id=label))
    return cases


@pytest.mark.parametrize("name, options, group_options", option_grid())
def test_optimizer_matches_torch_for_200_steps(name, options, group_options):
    result = check_optimizer(getattr(edunn.optim, name), getattr(torch.optim, name), options,
                             group_options=group_options, steps=200, rtol=1e-10, atol=1e-12)
    assert result.passed, result.summary()


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_foreach_true_matches_torch_foreach_path(name):
    result = check_optimizer(getattr(edunn.optim, name), getattr(torch.optim, name), {"foreach": True}, steps=50)
    assert result.passed, result.summary()


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_float32_run_matches_torch_closely(name):
    result = check_optimizer(getattr(edunn.optim, name), getattr(torch.optim, name), {}, steps=50, dtype="float32",
                             rtol=1e-5, atol=1e-6)
    assert result.passed, result.summary()


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_closure_loss_is_returned_and_used(name):
    result = check_optimizer(getattr(edunn.optim, name), getattr(torch.optim, name), {}, steps=5, closure=True)
    assert result.passed, result.summary()


# ----------------------------------------------------------------------
# 两边手动驱动的小工具
# ----------------------------------------------------------------------


def make_model(dtype=torch.float64, seed=0):
    """与 check_optimizer 相同结构的 MLP 参数与数据；返回 (torch 参数, edunn 参数, 数据)。"""
    generator = torch.Generator().manual_seed(seed)
    shapes = [(4, 8), (8,), (8, 3), (3,)]
    torch_params = [(torch.randn(s, dtype=dtype, generator=generator) * 0.4).requires_grad_() for s in shapes]
    edunn_params = [from_torch(p.detach()).requires_grad_() for p in torch_params]
    data = (torch.randn(32, 4, dtype=dtype, generator=generator).numpy(),
            torch.randn(32, 3, dtype=dtype, generator=generator).numpy())
    return torch_params, edunn_params, data


def host(tensor):
    return tensor.detach().numpy()


def run_steps(optimizer, params, data, count, wrap):
    for _ in range(count):
        _, grads = _mlp_loss_and_grads([host(p) for p in params], *data)
        for param, grad in zip(params, grads):
            param.grad = wrap(np.ascontiguousarray(grad))
        optimizer.step()


def edunn_wrap(array):
    return from_torch(torch.from_numpy(array))


def grouped(params, second_group):
    return [{"params": params[:2]}, {"params": params[2:], **second_group}]


# 会建出全部状态项的设置：amsgrad 有 max_exp_avg_sq，centered + momentum 有 grad_avg 与 momentum_buffer。
FULL_STATE_OPTIONS = {
    "SGD": {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-2},
    "Adam": {"lr": 1e-2, "amsgrad": True, "weight_decay": 1e-2},
    "AdamW": {"lr": 1e-2, "amsgrad": True},
    "Adagrad": {"lr": 0.05, "lr_decay": 1e-2, "initial_accumulator_value": 0.1},
    "RMSprop": {"lr": 1e-3, "momentum": 0.5, "centered": True},
    "Adadelta": {"lr": 1.0, "weight_decay": 1e-2},
    "Adamax": {"lr": 1e-2},
    "NAdam": {"lr": 2e-3, "decoupled_weight_decay": True, "weight_decay": 1e-2},
    "RAdam": {"lr": 1e-2},
}


def twin_optimizers(name, dtype=torch.float64, steps=3):
    torch_params, edunn_params, data = make_model(dtype)
    options = FULL_STATE_OPTIONS[name]
    second_group = {"lr": options["lr"] / 2}
    torch_optimizer = getattr(torch.optim, name)(grouped(torch_params, second_group), **options)
    edunn_optimizer = getattr(edunn.optim, name)(grouped(edunn_params, second_group), **options)
    run_steps(torch_optimizer, torch_params, data, steps, torch.from_numpy)
    run_steps(edunn_optimizer, edunn_params, data, steps, edunn_wrap)
    return torch_optimizer, edunn_optimizer, torch_params, edunn_params, data


def dtype_name(value):
    return str(value.dtype).replace("torch.", "").replace("edunn.", "")


# ----------------------------------------------------------------------
# state_dict 的布局、dtype 与续跑
# ----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_dict_layout_and_dtypes_match_torch(name, dtype):
    torch_optimizer, edunn_optimizer, _, _, _ = twin_optimizers(name, dtype)
    theirs, ours = torch_optimizer.state_dict(), edunn_optimizer.state_dict()

    assert list(ours) == list(theirs)
    assert ours["param_groups"] == theirs["param_groups"]
    assert [list(g) for g in ours["param_groups"]] == [list(g) for g in theirs["param_groups"]]
    assert list(ours["state"]) == list(theirs["state"])
    for index, torch_entry in theirs["state"].items():
        edunn_entry = ours["state"][index]
        assert list(edunn_entry) == list(torch_entry)
        for key, torch_value in torch_entry.items():
            assert dtype_name(edunn_entry[key]) == dtype_name(torch_value), key
            assert tuple(edunn_entry[key].shape) == tuple(torch_value.shape), key
            assert str(edunn_entry[key].device) == str(torch_value.device), key


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_dict_round_trip_through_torch_continues_identically(name):
    torch_params, edunn_params, data = make_model()
    options = FULL_STATE_OPTIONS[name]
    second_group = {"lr": options["lr"] / 2}
    cls, torch_cls = getattr(edunn.optim, name), getattr(torch.optim, name)

    # 参照：edunn 不间断地走 15 步。
    reference_params = [p.detach().clone().requires_grad_() for p in edunn_params]
    reference = cls(grouped(reference_params, second_group), **options)
    run_steps(reference, reference_params, data, 15, edunn_wrap)

    # edunn 走 5 步 -> 存档转成 torch，torch 接着走 5 步 -> 存档转回 edunn，再走 5 步。
    first = cls(grouped(edunn_params, second_group), **options)
    run_steps(first, edunn_params, data, 5, edunn_wrap)

    middle_params = [to_torch(p.detach()).requires_grad_() for p in edunn_params]
    middle = torch_cls(grouped(middle_params, {}), **options)
    middle.load_state_dict(to_torch(first.state_dict()))
    run_steps(middle, middle_params, data, 5, torch.from_numpy)

    last_params = [from_torch(p.detach()).requires_grad_() for p in middle_params]
    last = cls(grouped(last_params, {}), **options)
    last.load_state_dict(from_torch(middle.state_dict()))
    run_steps(last, last_params, data, 5, edunn_wrap)

    assert [g["lr"] for g in last.param_groups] == [g["lr"] for g in reference.param_groups]
    for resumed, uninterrupted in zip(last_params, reference_params):
        np.testing.assert_allclose(host(resumed), host(uninterrupted), rtol=1e-10, atol=1e-12)
    torch_loaded = middle.state_dict()["state"]
    for index, entry in reference.state_dict()["state"].items():
        resumed_entry = last.state_dict()["state"][index]
        for key, value in entry.items():
            # 载入时 torch 把 step 以外的状态转成参数的 dtype（NAdam 的 mu_product 因此变成 float64），
            # 所以 dtype 与 torch 载入后的一致，而不一定与不间断的参照一致。
            assert dtype_name(resumed_entry[key]) == dtype_name(torch_loaded[index][key]), key
            rtol = 1e-6 if key == "mu_product" else 1e-10
            np.testing.assert_allclose(resumed_entry[key].numpy(), value.numpy(), rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("name", ["Adam", "NAdam", "RMSprop", "Adagrad"])
def test_load_state_dict_casts_state_but_not_step(name):
    """载入时状态张量转成参数的 dtype，``step`` 保持原样（与 torch 的规则相同）。"""
    torch_optimizer, edunn_optimizer, torch_params, edunn_params, _ = twin_optimizers(name, torch.float32)
    saved = edunn_optimizer.state_dict()
    wide_params = [p.detach().double().requires_grad_() for p in edunn_params]
    wide = getattr(edunn.optim, name)(grouped(wide_params, {}), **FULL_STATE_OPTIONS[name])
    wide.load_state_dict(saved)

    torch_saved = torch_optimizer.state_dict()
    torch_wide_params = [p.detach().double().requires_grad_() for p in torch_params]
    torch_wide = getattr(torch.optim, name)(grouped(torch_wide_params, {}), **FULL_STATE_OPTIONS[name])
    torch_wide.load_state_dict(torch_saved)

    for mine, theirs in zip(wide_params, torch_wide_params):
        for key, value in torch_wide.state[theirs].items():
            assert dtype_name(wide.state[mine][key]) == dtype_name(value), key
    assert wide.state[wide_params[0]]["step"].dtype is edunn.float32


@pytest.mark.parametrize("name", ["Adam", "NAdam", "RAdam", "Adamax", "Adadelta", "RMSprop", "Adagrad"])
def test_step_saved_as_number_is_restored_as_tensor(name):
    """旧版 torch 存的 ``step`` 是 Python 数值；载入后两边都把它变回 CPU 上的标量张量。"""
    torch_optimizer, edunn_optimizer, _, _, _ = twin_optimizers(name)
    torch_saved, edunn_saved = copy.deepcopy(torch_optimizer.state_dict()), copy.deepcopy(edunn_optimizer.state_dict())
    for saved in (torch_saved, edunn_saved):
        for entry in saved["state"].values():
            entry["step"] = float(entry["step"])
    torch_optimizer.load_state_dict(torch_saved)
    edunn_optimizer.load_state_dict(edunn_saved)
    for torch_entry, edunn_entry in zip(torch_optimizer.state.values(), edunn_optimizer.state.values()):
        assert dtype_name(edunn_entry["step"]) == dtype_name(torch_entry["step"])
        assert edunn_entry["step"].item() == torch_entry["step"].item()


def test_adamw_stays_decoupled_after_loading_adam_state():
    _, adam, _, edunn_params, _ = twin_optimizers("Adam")
    adamw = edunn.optim.AdamW(grouped(edunn_params, {}))
    adamw.load_state_dict(adam.state_dict())
    assert all(group["decoupled_weight_decay"] for group in adamw.param_groups)


def test_adagrad_creates_state_at_construction_like_torch():
    torch_params, edunn_params, _ = make_model()
    theirs = torch.optim.Adagrad(torch_params, initial_accumulator_value=0.3).state_dict()
    ours = edunn.optim.Adagrad(edunn_params, initial_accumulator_value=0.3).state_dict()
    assert sorted(ours["state"]) == sorted(theirs["state"]) == [0, 1, 2, 3]
    np.testing.assert_array_equal(ours["state"][2]["sum"].numpy(), theirs["state"][2]["sum"].numpy())


def test_adagrad_initializes_params_added_later():
    torch_params, edunn_params, data = make_model()
    theirs = torch.optim.Adagrad(torch_params[:2], lr=0.05)
    ours = edunn.optim.Adagrad(edunn_params[:2], lr=0.05)
    ours.add_param_group({"params": edunn_params[2:]})
    run_steps(ours, edunn_params, data, 2, edunn_wrap)
    assert sorted(ours.state_dict()["state"]) == [0, 1, 2, 3]
    assert ours.state[edunn_params[3]]["step"].item() == 2.0
    assert theirs.state_dict()["param_groups"][0]["lr"] == 0.05


# ----------------------------------------------------------------------
# 具体行为
# ----------------------------------------------------------------------


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_step_counter_is_float32_scalar_on_cpu(name):
    _, edunn_optimizer, _, edunn_params, _ = twin_optimizers(name)
    state = edunn_optimizer.state[edunn_params[0]]
    if name == "SGD":
        assert "step" not in state
        return
    assert state["step"].dtype is edunn.float32
    assert state["step"].shape == ()
    assert str(state["step"].device) == "cpu"
    assert state["step"].item() == 3.0


def test_step_counter_follows_float64_default_dtype():
    previous = edunn.get_default_dtype()
    edunn.set_default_dtype(edunn.float64)
    try:
        _, edunn_params, data = make_model()
        optimizer = edunn.optim.Adam(edunn_params)
        run_steps(optimizer, edunn_params, data, 1, edunn_wrap)
        assert optimizer.state[edunn_params[0]]["step"].dtype is edunn.float64
    finally:
        edunn.set_default_dtype(previous)


def test_nadam_mu_product_rounds_in_float32_like_torch():
    torch_optimizer, edunn_optimizer, torch_params, edunn_params, data = twin_optimizers("NAdam", steps=0)
    run_steps(torch_optimizer, torch_params, data, 40, torch.from_numpy)
    run_steps(edunn_optimizer, edunn_params, data, 40, edunn_wrap)
    ours = edunn_optimizer.state[edunn_params[0]]["mu_product"]
    theirs = torch_optimizer.state[torch_params[0]]["mu_product"]
    assert ours.dtype is edunn.float32
    assert ours.item() == theirs.item()

    beta1, momentum_decay = 0.9, 4e-3
    exact = 1.0
    for t in range(1, 41):
        exact *= beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
    assert ours.item() != exact


def test_adam_amsgrad_keeps_max_of_raw_second_moment():
    _, edunn_params, data = make_model()
    optimizer = edunn.optim.Adam(edunn_params, lr=1e-2, amsgrad=True)
    running_max = None
    for _ in range(20):
        run_steps(optimizer, edunn_params, data, 1, edunn_wrap)
        state = optimizer.state[edunn_params[0]]
        second_moment = state["exp_avg_sq"].numpy().copy()
        running_max = second_moment if running_max is None else np.maximum(running_max, second_moment)
        np.testing.assert_array_equal(state["max_exp_avg_sq"].numpy(), running_max)


def test_radam_takes_plain_momentum_steps_until_rectification_threshold():
    """rho_t 不超过 5 的前几步不做自适应缩放：更新量就是 lr 乘以偏差修正后的一阶矩。"""
    _, edunn_params, data = make_model()
    lr, beta1, beta2 = 1e-2, 0.9, 0.999
    optimizer = edunn.optim.RAdam(edunn_params, lr=lr)
    rho_inf = 2 / (1 - beta2) - 1
    for step in range(1, 9):
        before = host(edunn_params[2]).copy()
        run_steps(optimizer, edunn_params, data, 1, edunn_wrap)
        exp_avg = optimizer.state[edunn_params[2]]["exp_avg"].numpy()
        plain_update = lr * exp_avg / (1 - beta1 ** step)
        rho_t = rho_inf - 2 * step * beta2 ** step / (1 - beta2 ** step)
        taken = before - host(edunn_params[2])
        if rho_t > 5:
            assert not np.allclose(taken, plain_update, rtol=1e-6, atol=0), step
        else:
            np.testing.assert_allclose(taken, plain_update, rtol=1e-12, atol=0)


def test_rmsprop_creates_momentum_and_center_state_only_when_used():
    _, edunn_params, data = make_model()
    plain = edunn.optim.RMSprop(edunn_params)
    run_steps(plain, edunn_params, data, 1, edunn_wrap)
    assert sorted(plain.state[edunn_params[0]]) == ["square_avg", "step"]


def test_params_without_grad_get_no_state():
    _, edunn_params, data = make_model()
    optimizer = edunn.optim.Adam(edunn_params)
    _, grads = _mlp_loss_and_grads([host(p) for p in edunn_params], *data)
    edunn_params[0].grad = edunn_wrap(grads[0])
    optimizer.step()
    assert edunn_params[0] in optimizer.state
    assert edunn_params[1] not in optimizer.state


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam"])
def test_tensor_lr_matches_torch(name):
    torch_params, edunn_params, data = make_model()
    theirs = getattr(torch.optim, name)(torch_params, lr=torch.tensor(0.01), weight_decay=1e-2)
    ours = getattr(edunn.optim, name)(edunn_params, lr=edunn.tensor(0.01), weight_decay=1e-2)
    run_steps(theirs, torch_params, data, 30, torch.from_numpy)
    run_steps(ours, edunn_params, data, 30, edunn_wrap)
    for mine, reference in zip(edunn_params, torch_params):
        np.testing.assert_allclose(host(mine), host(reference), rtol=1e-10, atol=1e-12)


def test_zero_grads_still_move_params_with_momentum():
    """梯度为 0（而不是 None）时参数照常更新：动量仍然推着参数走。"""
    (param,) = make_model()[1][:1]
    optimizer = edunn.optim.SGD([param], lr=0.1, momentum=0.9)
    param.grad = edunn.ones(param.shape, dtype=param.dtype)
    optimizer.step()
    optimizer.zero_grad(set_to_none=False)
    before = host(param).copy()
    optimizer.step()
    assert not np.array_equal(host(param), before)


# ----------------------------------------------------------------------
# 错误输入：异常类型与消息都与 torch 相同
# ----------------------------------------------------------------------

BAD_OPTIONS = [
    ("SGD", {"lr": -0.1}),
    ("SGD", {"momentum": -0.5}),
    ("SGD", {"weight_decay": -1e-2}),
    ("SGD", {"nesterov": True}),
    ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}),
    ("Adam", {"lr": -1e-3}),
    ("Adam", {"eps": -1e-8}),
    ("Adam", {"betas": (1.0, 0.999)}),
    ("Adam", {"betas": (0.9, 1.0)}),
    ("Adam", {"betas": (-0.1, 0.999)}),
    ("Adam", {"betas": (0, 0.999)}),
    ("Adam", {"weight_decay": -1.0}),
    ("AdamW", {"betas": (0.9, 1.5)}),
    ("Adagrad", {"lr_decay": -1.0}),
    ("Adagrad", {"initial_accumulator_value": -0.1}),
    ("Adagrad", {"eps": -1.0}),
    ("RMSprop", {"alpha": -0.5}),
    ("RMSprop", {"momentum": -0.5}),
    ("RMSprop", {"eps": -1.0}),
    ("Adadelta", {"rho": 1.5}),
    ("Adadelta", {"lr": -1.0}),
    ("Adamax", {"betas": (0.9, 1.0)}),
    ("Adamax", {"weight_decay": -1.0}),
    ("NAdam", {"momentum_decay": -1.0}),
    ("NAdam", {"betas": (1.0, 0.999)}),
    ("RAdam", {"eps": -1.0}),
    ("RAdam", {"betas": (0.9, 1.0)}),
]


@pytest.mark.parametrize("name, options", BAD_OPTIONS, ids=[f"{n}-{o}" for n, o in BAD_OPTIONS])
def test_invalid_hyperparameter_raises_like_torch(name, options):
    torch_params, edunn_params, _ = make_model()
    with pytest.raises(Exception) as torch_error:
        getattr(torch.optim, name)(torch_params, **options)
    with pytest.raises(type(torch_error.value)) as edunn_error:
        getattr(edunn.optim, name)(edunn_params, **options)
    assert str(edunn_error.value) == str(torch_error.value)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_tensor_lr_with_several_elements_raises_like_torch(name):
    torch_params, edunn_params, _ = make_model()
    with pytest.raises(ValueError) as torch_error:
        getattr(torch.optim, name)(torch_params, lr=torch.tensor([0.1, 0.2]))
    with pytest.raises(ValueError) as edunn_error:
        getattr(edunn.optim, name)(edunn_params, lr=edunn.tensor([0.1, 0.2]))
    assert str(edunn_error.value) == str(torch_error.value)


UNSUPPORTED = [(name, option) for name in OPTIMIZERS
               for option in ("fused", "capturable", "differentiable")
               if option in getattr(torch.optim, name).__init__.__code__.co_varnames]


@pytest.mark.parametrize("name, option", UNSUPPORTED, ids=[f"{n}-{o}" for n, o in UNSUPPORTED])
def test_unsupported_execution_path_raises_clear_error(name, option):
    _, edunn_params, _ = make_model()
    with pytest.raises(NotImplementedError, match=f"{option}=True is not supported"):
        getattr(edunn.optim, name)(edunn_params, **{option: True})


def test_adam_tensor_betas_are_rejected_clearly():
    _, edunn_params, _ = make_model()
    with pytest.raises(NotImplementedError, match="float betas"):
        edunn.optim.Adam(edunn_params, betas=(edunn.tensor(0.9), edunn.tensor(0.999)))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_constructor_signature_matches_torch(name):
    import inspect

    ours = inspect.signature(getattr(edunn.optim, name).__init__)
    theirs = inspect.signature(getattr(torch.optim, name).__init__)
    assert list(ours.parameters) == list(theirs.parameters)
    for key, parameter in theirs.parameters.items():
        assert ours.parameters[key].kind == parameter.kind, key
        assert ours.parameters[key].default == parameter.default, key


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_repr_matches_torch(name):
    torch_params, edunn_params, _ = make_model()
    assert repr(getattr(edunn.optim, name)(edunn_params)) == repr(getattr(torch.optim, name)(torch_params))
