"""edunn.optim.Optimizer 与 torch.optim.Optimizer 的约定逐条对照：参数组、状态、state_dict、钩子、错误。"""

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch
import torch.optim.optimizer as torch_optimizer_module

import edunn
from edunn.optim import optimizer as optimizer_module
from edunn.testing import from_torch, to_torch


def make_twins(*shapes, seed=0):
    """同值的 edunn 与 torch 叶子张量（float64，requires_grad）。"""
    generator = torch.Generator().manual_seed(seed)
    torch_params = [torch.randn(*shape, dtype=torch.float64, generator=generator).requires_grad_() for shape in shapes]
    edunn_params = [from_torch(p.detach()).requires_grad_() for p in torch_params]
    return edunn_params, torch_params


def fill_grads(edunn_params, torch_params, seed=1):
    generator = torch.Generator().manual_seed(seed)
    for e, t in zip(edunn_params, torch_params):
        t.grad = torch.randn(t.shape, dtype=t.dtype, generator=generator)
        e.grad = from_torch(t.grad)


def snapshot(optimizer):
    """优化器的可比较快照：各组的参数身份与超参数，以及状态张量的值。"""
    groups = [
        {key: ([id(p) for p in value] if key == "params" else copy.deepcopy(value)) for key, value in group.items()}
        for group in optimizer.param_groups
    ]
    state = {
        id(param): {key: (value.tolist() if hasattr(value, "tolist") else value) for key, value in entry.items()}
        for param, entry in optimizer.state.items()
    }
    return groups, state


def raises_like_torch(edunn_call, torch_call):
    """两边抛出同类型的异常且消息相同（torch 的类型名 ``torch.X`` 对应 ``edunn.X``）；返回 edunn 的异常。"""
    with pytest.raises(Exception) as torch_error:
        torch_call()
    with pytest.raises(type(torch_error.value)) as edunn_error:
        edunn_call()
    assert str(edunn_error.value) == str(torch_error.value).replace("torch.", "edunn.")
    return edunn_error.value


# ----------------------------------------------------------------------
# 构造与参数组
# ----------------------------------------------------------------------


def test_plain_params_make_one_group_with_defaults():
    (e,), (t,) = make_twins((3,))
    eo = edunn.optim.SGD([e], lr=0.1, momentum=0.9)
    to = torch.optim.SGD([t], lr=0.1, momentum=0.9)
    assert len(eo.param_groups) == 1
    assert eo.param_groups[0]["params"][0] is e
    assert eo.defaults == to.defaults
    group_options = {k: v for k, v in eo.param_groups[0].items() if k != "params"}
    torch_options = {k: v for k, v in to.param_groups[0].items() if k != "params"}
    assert group_options == torch_options
    assert list(eo.param_groups[0]) == list(to.param_groups[0])


def test_named_params_store_param_names():
    (e1, e2), (t1, t2) = make_twins((2,), (3,))
    eo = edunn.optim.SGD([("w", e1), ("b", e2)], lr=0.1)
    to = torch.optim.SGD([("w", t1), ("b", t2)], lr=0.1)
    assert eo.param_groups[0]["param_names"] == ["w", "b"]
    assert list(eo.param_groups[0]) == list(to.param_groups[0])
    assert eo.state_dict()["param_groups"] == to.state_dict()["param_groups"]


def test_group_dicts_override_defaults_per_group():
    (e1, e2), (t1, t2) = make_twins((2,), (3,))
    eo = edunn.optim.SGD([{"params": [e1]}, {"params": e2, "lr": 0.5}], lr=0.1)
    to = torch.optim.SGD([{"params": [t1]}, {"params": t2, "lr": 0.5}], lr=0.1)
    assert [g["lr"] for g in eo.param_groups] == [0.1, 0.5]
    assert eo.state_dict()["param_groups"] == to.state_dict()["param_groups"]


def test_generator_of_params_is_consumed_once():
    es, _ = make_twins((2,), (3,))
    eo = edunn.optim.SGD((p for p in es), lr=0.1)
    assert eo.param_groups[0]["params"] == es


def test_add_param_group_keeps_the_callers_dict():
    (e1, e2), _ = make_twins((2,), (3,))
    eo = edunn.optim.SGD([e1], lr=0.1)
    group = {"params": [e2], "lr": 0.01}
    eo.add_param_group(group)
    assert eo.param_groups[1] is group
    assert group["momentum"] == 0


def test_required_default_must_be_given_by_each_group():
    class NeedsLr(edunn.optim.Optimizer):
        def __init__(self, params, lr=optimizer_module.required):
            super().__init__(params, {"lr": lr})

    class TorchNeedsLr(torch.optim.Optimizer):
        def __init__(self, params, lr=torch_optimizer_module.required):
            super().__init__(params, {"lr": lr})

    (e,), (t,) = make_twins((2,))
    error = raises_like_torch(lambda: NeedsLr([e]), lambda: TorchNeedsLr([t]))
    assert "lr" in str(error)
    assert NeedsLr([{"params": [e], "lr": 0.3}]).param_groups[0]["lr"] == 0.3
    assert repr(optimizer_module.required) == repr(torch_optimizer_module.required)


# ----------------------------------------------------------------------
# 错误输入：与 torch 的异常类型与消息相同，优化器不变
# ----------------------------------------------------------------------


def test_tensor_as_params_raises_type_error():
    (e,), (t,) = make_twins((2,))
    error = raises_like_torch(lambda: edunn.optim.SGD(e), lambda: torch.optim.SGD(t))
    assert "FloatTensor" in str(error) or "DoubleTensor" in str(error)


def test_empty_param_list_raises_value_error():
    raises_like_torch(lambda: edunn.optim.SGD([]), lambda: torch.optim.SGD([]))


def test_param_set_raises_type_error():
    (e,), (t,) = make_twins((2,))
    raises_like_torch(lambda: edunn.optim.SGD([{"params": {e}}]), lambda: torch.optim.SGD([{"params": {t}}]))


def test_non_tensor_param_raises_type_error():
    raises_like_torch(lambda: edunn.optim.SGD([1.0, 2.0]), lambda: torch.optim.SGD([1.0, 2.0]))
    raises_like_torch(lambda: edunn.optim.SGD([np.zeros(2)]), lambda: torch.optim.SGD([np.zeros(2)]))


def test_non_leaf_param_raises_value_error():
    (e,), (t,) = make_twins((2,))
    raises_like_torch(lambda: edunn.optim.SGD([e * 2]), lambda: torch.optim.SGD([t * 2]))


def test_non_leaf_with_retained_grad_is_accepted():
    (e,), _ = make_twins((2,))
    doubled = e * 2
    doubled.retain_grad()
    assert edunn.optim.SGD([doubled]).param_groups[0]["params"][0] is doubled


def test_param_group_must_be_dict():
    (e1, e2), (t1, t2) = make_twins((2,), (2,))
    eo, to = edunn.optim.SGD([e1]), torch.optim.SGD([t1])
    raises_like_torch(lambda: eo.add_param_group([e2]), lambda: to.add_param_group([t2]))


def test_partially_named_params_raise_value_error():
    (e1, e2), (t1, t2) = make_twins((2,), (2,))
    raises_like_torch(lambda: edunn.optim.SGD([("a", e1), e2]), lambda: torch.optim.SGD([("a", t1), t2]))


def test_named_and_unnamed_groups_cannot_mix():
    (e1, e2), (t1, t2) = make_twins((2,), (2,))
    eo, to = edunn.optim.SGD([("a", e1)]), torch.optim.SGD([("a", t1)])
    before = snapshot(eo)
    raises_like_torch(lambda: eo.add_param_group({"params": [e2]}), lambda: to.add_param_group({"params": [t2]}))
    assert snapshot(eo) == before


def test_param_in_two_groups_raises_and_leaves_optimizer_unchanged():
    (e1, e2), (t1, t2) = make_twins((2,), (2,))
    eo, to = edunn.optim.SGD([e1, e2], lr=0.1), torch.optim.SGD([t1, t2], lr=0.1)
    before = snapshot(eo)
    group = {"params": [e2], "lr": 0.5}
    raises_like_torch(lambda: eo.add_param_group(group), lambda: to.add_param_group({"params": [t2], "lr": 0.5}))
    assert snapshot(eo) == before
    assert group == {"params": [e2], "lr": 0.5}


def test_duplicate_param_within_group_warns_like_torch():
    (e,), (t,) = make_twins((2,))
    with pytest.warns(UserWarning, match="duplicate parameters") as edunn_warnings:
        edunn.optim.SGD([e, e])
    with warnings.catch_warnings(record=True) as torch_warnings:
        warnings.simplefilter("always")
        torch.optim.SGD([t, t])
    assert len(edunn_warnings) == 1
    assert any("duplicate parameters" in str(w.message) for w in torch_warnings)


@pytest.mark.parametrize("option", ["fused", "capturable", "differentiable"])
def test_unsupported_execution_paths_raise_not_implemented(option):
    (e,), _ = make_twins((2,))
    with pytest.raises(NotImplementedError, match=f"{option}=True is not supported"):
        edunn.optim.Optimizer([e], {"lr": 0.1, option: True})


def test_unsupported_path_in_later_group_leaves_optimizer_unchanged():
    (e1, e2), _ = make_twins((2,), (2,))
    eo = edunn.optim.SGD([e1])
    before = snapshot(eo)
    with pytest.raises(NotImplementedError, match="fused"):
        eo.add_param_group({"params": [e2], "fused": True})
    assert snapshot(eo) == before


@pytest.mark.parametrize("foreach", [None, False, True])
def test_foreach_is_accepted_and_changes_nothing(foreach):
    (e,), _ = make_twins((3,))
    start = e.detach().clone()
    e.grad = edunn.ones(3, dtype=edunn.float64)
    edunn.optim.SGD([e], lr=0.5, foreach=foreach).step()
    assert (e.detach() - start).tolist() == [-0.5, -0.5, -0.5]


# ----------------------------------------------------------------------
# zero_grad 与 step
# ----------------------------------------------------------------------


def test_zero_grad_sets_grads_to_none_by_default():
    (e1, e2), _ = make_twins((2,), (3,))
    e1.grad = edunn.ones(2, dtype=edunn.float64)
    eo = edunn.optim.SGD([e1, e2])
    eo.zero_grad()
    assert e1.grad is None
    assert e2.grad is None


def test_zero_grad_without_set_to_none_zeros_in_place():
    (e,), _ = make_twins((2,))
    grad = edunn.ones(2, dtype=edunn.float64)
    e.grad = grad
    edunn.optim.SGD([e]).zero_grad(set_to_none=False)
    assert e.grad is grad
    assert grad.tolist() == [0.0, 0.0]


def test_zero_grad_detaches_grad_that_has_a_graph():
    (e,), _ = make_twins((2,))
    source = edunn.ones(2, dtype=edunn.float64, requires_grad=True)
    e.grad = source * 2
    edunn.optim.SGD([e]).zero_grad(set_to_none=False)
    assert e.grad.grad_fn is None
    assert not e.grad.requires_grad
    assert e.grad.tolist() == [0.0, 0.0]


def test_step_skips_params_without_grad():
    (e1, e2), _ = make_twins((2,), (2,))
    before = e2.detach().clone()
    e1.grad = edunn.ones(2, dtype=edunn.float64)
    edunn.optim.SGD([e1, e2], lr=0.1, momentum=0.9).step()
    assert e2.detach().tolist() == before.tolist()


def test_step_returns_closure_loss_and_runs_it_with_grad():
    (e,), _ = make_twins((2,))
    eo = edunn.optim.SGD([e], lr=0.1)
    seen = []

    def closure():
        seen.append(edunn.is_grad_enabled())
        eo.zero_grad()
        loss = (e * e).sum()
        loss.backward()
        return loss

    loss = eo.step(closure)
    assert seen == [True]
    assert isinstance(loss, edunn.Tensor)
    assert eo.step() is None


def test_step_runs_without_recording_a_graph():
    (e,), _ = make_twins((2,))
    e.grad = edunn.ones(2, dtype=edunn.float64)
    edunn.optim.SGD([e], lr=0.1, momentum=0.9).step()
    assert e.grad_fn is None
    assert e.is_leaf


def test_base_step_is_not_implemented():
    (e,), _ = make_twins((2,))
    with pytest.raises(NotImplementedError):
        edunn.optim.Optimizer([e], {"lr": 0.1}).step()


def test_step_can_be_wrapped_per_instance():
    """学习率调度器用实例属性包一层 step；这不能影响同类的其他实例。"""
    (e1, e2), _ = make_twins((2,), (2,))
    first, second = edunn.optim.SGD([e1]), edunn.optim.SGD([e2])
    calls = []
    unwrapped = first.step.__func__

    def wrapper(*args, **kwargs):
        calls.append("wrapped")
        return unwrapped.__get__(first, type(first))(*args, **kwargs)

    first.step = wrapper
    first.step()
    second.step()
    assert calls == ["wrapped"]


# ----------------------------------------------------------------------
# 打印与序列化
# ----------------------------------------------------------------------


def test_repr_matches_torch():
    (e1, e2), (t1, t2) = make_twins((2,), (2,))
    eo = edunn.optim.SGD([{"params": [e1]}, {"params": [e2], "lr": 0.5}], lr=0.1, momentum=0.9)
    to = torch.optim.SGD([{"params": [t1]}, {"params": [t2], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert repr(eo) == repr(to)


def test_pickle_round_trip_keeps_groups_and_state():
    (e,), _ = make_twins((3,))
    e.grad = edunn.ones(3, dtype=edunn.float64)
    eo = edunn.optim.SGD([e], lr=0.1, momentum=0.9)
    eo.step()
    restored = pickle.loads(pickle.dumps(eo))
    assert restored.param_groups[0]["lr"] == 0.1
    (param,) = restored.param_groups[0]["params"]
    assert restored.state[param]["momentum_buffer"].tolist() == [1.0, 1.0, 1.0]
    assert restored._optimizer_step_pre_hooks == {}
    assert set(eo.__getstate__()) == {"defaults", "state", "param_groups"}


# ----------------------------------------------------------------------
# state_dict / load_state_dict
# ----------------------------------------------------------------------


def stepped_sgd_twins(seed=0):
    """两组参数、带动量的 SGD，各走一步；返回 (edunn 优化器, torch 优化器, edunn 参数, torch 参数)。"""
    es, ts = make_twins((2, 3), (3,), (4,), seed=seed)
    options = {"lr": 0.1, "momentum": 0.9}
    eo = edunn.optim.SGD([{"params": es[:2]}, {"params": es[2:], "lr": 0.01, "nesterov": True}], **options)
    to = torch.optim.SGD([{"params": ts[:2]}, {"params": ts[2:], "lr": 0.01, "nesterov": True}], **options)
    fill_grads(es, ts)
    eo.step()
    to.step()
    return eo, to, es, ts


def test_state_dict_layout_matches_torch():
    eo, to, _, _ = stepped_sgd_twins()
    ours, theirs = eo.state_dict(), to.state_dict()
    assert list(ours) == list(theirs)
    assert ours["param_groups"] == theirs["param_groups"]
    assert sorted(ours["state"]) == sorted(theirs["state"]) == [0, 1, 2]
    for index, entry in ours["state"].items():
        assert list(entry) == list(theirs["state"][index])
        for name, value in entry.items():
            assert str(value.dtype) == str(theirs["state"][index][name].dtype).replace("torch.", "edunn.")
            np.testing.assert_array_equal(value.numpy(), theirs["state"][index][name].numpy())


def test_state_dict_returns_live_state_tensors():
    eo, _, es, _ = stepped_sgd_twins()
    assert eo.state_dict()["state"][0]["momentum_buffer"] is eo.state[es[0]]["momentum_buffer"]


def test_state_dict_numbers_shared_params_once():
    (e,), (t,) = make_twins((2,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eo, to = edunn.optim.SGD([e, e]), torch.optim.SGD([t, t])
    assert eo.state_dict()["param_groups"][0]["params"] == to.state_dict()["param_groups"][0]["params"]


def test_load_state_dict_restores_group_options_and_state():
    eo, _, es, _ = stepped_sgd_twins()
    saved = copy.deepcopy(eo.state_dict())
    eo.param_groups[0]["lr"] = 123.0
    eo.state[es[0]]["momentum_buffer"].fill_(7.0)

    eo.load_state_dict(saved)
    assert eo.param_groups[0]["lr"] == 0.1
    assert eo.param_groups[0]["params"][0] is es[0]
    np.testing.assert_array_equal(eo.state[es[0]]["momentum_buffer"].numpy(),
                                  saved["state"][0]["momentum_buffer"].numpy())


def test_load_state_dict_aliases_matching_tensors_like_torch():
    eo, to, es, ts = stepped_sgd_twins()
    edunn_saved, torch_saved = eo.state_dict(), to.state_dict()
    eo.load_state_dict(edunn_saved)
    to.load_state_dict(torch_saved)
    torch_aliases = to.state[ts[0]]["momentum_buffer"] is torch_saved["state"][0]["momentum_buffer"]
    edunn_aliases = eo.state[es[0]]["momentum_buffer"] is edunn_saved["state"][0]["momentum_buffer"]
    assert edunn_aliases == torch_aliases


def test_load_state_dict_casts_state_to_param_dtype():
    eo, _, es, _ = stepped_sgd_twins()
    saved = eo.state_dict()
    saved["state"][0]["momentum_buffer"] = saved["state"][0]["momentum_buffer"].float()
    eo.load_state_dict(saved)
    assert eo.state[es[0]]["momentum_buffer"].dtype is edunn.float64


def test_load_state_dict_keeps_param_names_when_saved_has_none():
    (e,), _ = make_twins((2,))
    named = edunn.optim.SGD([("w", e)], lr=0.1)
    saved = named.state_dict()
    del saved["param_groups"][0]["param_names"]
    named.load_state_dict(saved)
    assert named.param_groups[0]["param_names"] == ["w"]


def test_load_state_dict_keeps_state_not_tied_to_a_param():
    eo, _, _, _ = stepped_sgd_twins()
    saved = eo.state_dict()
    saved["state"]["note"] = {"epoch": 3}
    eo.load_state_dict(saved)
    assert eo.state["note"] == {"epoch": 3}


def test_load_state_dict_with_wrong_group_count_raises_and_changes_nothing():
    eo, to, _, _ = stepped_sgd_twins()
    before = snapshot(eo)
    edunn_saved, torch_saved = eo.state_dict(), to.state_dict()
    edunn_saved["param_groups"] = edunn_saved["param_groups"][:1]
    torch_saved["param_groups"] = torch_saved["param_groups"][:1]
    raises_like_torch(lambda: eo.load_state_dict(edunn_saved), lambda: to.load_state_dict(torch_saved))
    assert snapshot(eo) == before


def test_load_state_dict_with_wrong_group_size_raises_and_changes_nothing():
    eo, to, _, _ = stepped_sgd_twins()
    before = snapshot(eo)
    edunn_saved, torch_saved = copy.deepcopy(eo.state_dict()), copy.deepcopy(to.state_dict())
    edunn_saved["param_groups"][0]["params"].append(99)
    torch_saved["param_groups"][0]["params"].append(99)
    edunn_saved["param_groups"][0]["lr"] = 5.0
    raises_like_torch(lambda: eo.load_state_dict(edunn_saved), lambda: to.load_state_dict(torch_saved))
    assert snapshot(eo) == before


def test_load_state_dict_rejects_fused_group_and_changes_nothing():
    eo, _, _, _ = stepped_sgd_twins()
    before = snapshot(eo)
    saved = copy.deepcopy(eo.state_dict())
    saved["param_groups"][1]["fused"] = True
    with pytest.raises(NotImplementedError, match="fused"):
        eo.load_state_dict(saved)
    assert snapshot(eo) == before


def test_sgd_state_dict_round_trip_through_torch_continues_identically():
    eo, to, es, ts = stepped_sgd_twins()
    resumed_params = [p.detach().clone().requires_grad_() for p in ts]
    resumed = torch.optim.SGD([{"params": resumed_params[:2]}, {"params": resumed_params[2:]}])
    resumed.load_state_dict(to_torch(eo.state_dict()))
    back_params = [from_torch(p.detach()).requires_grad_() for p in ts]
    back = edunn.optim.SGD([{"params": back_params[:2]}, {"params": back_params[2:]}])
    back.load_state_dict(from_torch(resumed.state_dict()))

    for seed in range(2, 7):
        fill_grads(back_params, resumed_params, seed=seed)
        resumed.step()
        back.step()
    for e, t in zip(back_params, resumed_params):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=0)


# ----------------------------------------------------------------------
# 钩子
# ----------------------------------------------------------------------


def test_step_hooks_run_in_torch_order_and_can_be_removed():
    (e,), _ = make_twins((2,))
    eo = edunn.optim.SGD([e], lr=0.1)
    calls = []
    handles = [
        optimizer_module.register_optimizer_step_pre_hook(lambda opt, args, kwargs: calls.append("global pre")),
        optimizer_module.register_optimizer_step_post_hook(lambda opt, args, kwargs: calls.append("global post")),
        eo.register_step_pre_hook(lambda opt, args, kwargs: calls.append("pre")),
        eo.register_step_post_hook(lambda opt, args, kwargs: calls.append("post")),
    ]
    try:
        eo.step()
        assert calls == ["global pre", "pre", "post", "global post"]
    finally:
        for handle in handles:
            handle.remove()
    calls.clear()
    eo.step()
    assert calls == []


def test_global_step_hook_sees_every_optimizer():
    (e1, e2), _ = make_twins((2,), (2,))
    seen = []
    handle = optimizer_module.register_optimizer_step_post_hook(lambda opt, args, kwargs: seen.append(opt))
    try:
        first, second = edunn.optim.SGD([e1]), edunn.optim.SGD([e2])
        first.step()
        second.step()
    finally:
        handle.remove()
    assert seen == [first, second]


def test_step_pre_hook_can_replace_arguments():
    (e,), _ = make_twins((2,))
    eo = edunn.optim.SGD([e], lr=0.1)
    eo.register_step_pre_hook(lambda opt, args, kwargs: ((), {"closure": lambda: "from hook"}))
    assert eo.step() == "from hook"


def test_step_pre_hook_with_bad_return_raises_runtime_error():
    (e,), _ = make_twins((2,))
    eo = edunn.optim.SGD([e], lr=0.1)
    eo.register_step_pre_hook(lambda opt, args, kwargs: "oops")
    with pytest.raises(RuntimeError, match="must return None or a tuple of"):
        eo.step()


def test_step_hooks_fire_once_when_subclass_calls_super_step():
    class LoggedSGD(edunn.optim.SGD):
        def step(self, closure=None):
            return super().step(closure)

    (e,), _ = make_twins((2,))
    eo = LoggedSGD([e], lr=0.1)
    calls = []
    eo.register_step_pre_hook(lambda opt, args, kwargs: calls.append("pre"))
    eo.step()
    assert calls == ["pre"]


def test_state_dict_hooks_run_in_order_with_prepend():
    eo, _, _, _ = stepped_sgd_twins()
    calls = []
    eo.register_state_dict_pre_hook(lambda opt: calls.append("pre"))
    eo.register_state_dict_pre_hook(lambda opt: calls.append("pre first"), prepend=True)
    eo.register_state_dict_post_hook(lambda opt, sd: calls.append("post"))
    handle = eo.register_state_dict_post_hook(lambda opt, sd: {"replaced": True})
    assert eo.state_dict() == {"replaced": True}
    assert calls == ["pre first", "pre", "post"]
    handle.remove()
    assert "state" in eo.state_dict()


def test_load_state_dict_hooks_can_replace_the_dict():
    eo, _, _, _ = stepped_sgd_twins()
    saved = copy.deepcopy(eo.state_dict())
    calls = []

    def change_lr(opt, state_dict):
        calls.append("pre")
        changed = copy.deepcopy(state_dict)
        changed["param_groups"][0]["lr"] = 0.5
        return changed

    eo.register_load_state_dict_pre_hook(change_lr)
    eo.register_load_state_dict_post_hook(lambda opt: calls.append("post"))
    eo.load_state_dict(saved)
    assert calls == ["pre", "post"]
    assert eo.param_groups[0]["lr"] == 0.5
    assert saved["param_groups"][0]["lr"] == 0.1


def test_load_state_dict_pre_hook_receives_a_shallow_copy():
    eo, _, _, _ = stepped_sgd_twins()
    saved = eo.state_dict()
    eo.register_load_state_dict_pre_hook(lambda opt, sd: sd.update(extra=1))
    eo.load_state_dict(saved)
    assert "extra" not in saved
