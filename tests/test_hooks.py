"""Module 的钩子：同一个场景在 edunn 与 torch 上各跑一遍，记录每次调用的参数，比较两份记录。"""

import warnings

import numpy as np
import pytest
import torch

import edunn
import edunn.testing
import edunn.nn.modules.module as edunn_module_py
import torch.nn.modules.module as torch_module_py

LIBS = (edunn, torch)


def values(shape, seed):
    return np.random.RandomState(seed).standard_normal(shape)


def plain(value):
    """把记录里的张量换成 numpy 数组、模块换成类名，两个库的记录因此可以直接比较。"""
    if isinstance(value, (edunn.Tensor, torch.Tensor)):
        array = value.detach().numpy() if isinstance(value, torch.Tensor) else value.detach().numpy(force=True)
        return ("tensor", str(value.dtype).split(".")[-1], np.array(array, dtype=np.float64))
    if isinstance(value, (edunn.nn.Module, torch.nn.Module)):
        return ("module", type(value).__name__)
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def assert_same_record(actual, expected, path="record"):
    """两份记录的结构完全相同，张量的 dtype 相同、数值在 float64 舍入误差内相等。"""
    assert type(actual) is type(expected), f"{path}: {actual!r} != {expected!r}"
    if isinstance(expected, tuple) and expected and expected[0] == "tensor":
        assert actual[1] == expected[1], f"{path}: dtype {actual[1]} != {expected[1]}"
        assert actual[2].shape == expected[2].shape, f"{path}: shape {actual[2].shape} != {expected[2].shape}"
        np.testing.assert_allclose(actual[2], expected[2], rtol=1e-12, atol=1e-14, err_msg=path)
        return
    if isinstance(expected, (tuple, list)):
        assert len(actual) == len(expected), f"{path}: {actual!r} != {expected!r}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_same_record(a, e, f"{path}[{i}]")
        return
    if isinstance(expected, dict):
        assert list(actual) == list(expected), f"{path}: keys {list(actual)} != {list(expected)}"
        for key in expected:
            assert_same_record(actual[key], expected[key], f"{path}[{key!r}]")
        return
    if isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=1e-12, abs=1e-14), f"{path}: {actual!r} != {expected!r}"
        return
    assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def run_both(scenario):
    """在两个库上运行 scenario(lib) -> 记录，断言两份记录相同，返回 edunn 的记录。"""
    expected = plain(scenario(torch))
    actual = plain(scenario(edunn))
    assert_same_record(actual, expected)
    return actual


def same_error(scenario):
    """scenario(lib) 在两个库上抛出同类型的异常，消息在把 torch 换成 edunn 之后相同。"""
    with pytest.raises(Exception) as expected:
        scenario(torch)
    with pytest.raises(type(expected.value)) as actual:
        scenario(edunn)
    assert str(actual.value) == str(expected.value).replace("torch", "edunn")
    return actual.value


@pytest.fixture(autouse=True)
def restore_global_hook_state(monkeypatch):
    """全局钩子会留下状态（例如"已用过旧式反向钩子"的标记）；每个测试结束后恢复两个库的原状。"""
    for module_py in (edunn_module_py, torch_module_py):
        monkeypatch.setattr(module_py, "_global_is_full_backward_hook", None)
        for name in ("_global_buffer_registration_hooks", "_global_module_registration_hooks",
                     "_global_parameter_registration_hooks", "_global_backward_pre_hooks", "_global_backward_hooks",
                     "_global_forward_pre_hooks", "_global_forward_hooks", "_global_forward_hooks_always_called",
                     "_global_forward_hooks_with_kwargs"):
            monkeypatch.setattr(module_py, name, type(getattr(module_py, name))())


# ----------------------------------------------------------------------
# 两个库上结构相同的模块
# ----------------------------------------------------------------------

_CLASSES = {}


def classes(lib):
    if lib in _CLASSES:
        return _CLASSES[lib]
    lnn = lib.nn

    class Affine(lnn.Module):
        def __init__(self, n_in, n_out, seed=0):
            super().__init__()
            self.weight = lnn.Parameter(lib.tensor(values((n_out, n_in), seed)))
            self.bias = lnn.Parameter(lib.tensor(values((n_out,), seed + 1)))

        def forward(self, x):
            return x @ self.weight.T + self.bias

    class Tanh(lnn.Module):
        def forward(self, x):
            return x.tanh()

    class Net(lnn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = Affine(3, 4, seed=0)
            self.act = Tanh()
            self.fc2 = Affine(4, 2, seed=2)

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x)))

    class Mix(lnn.Module):
        """三个位置参数（张量、数值、张量）和一个关键字参数。"""

        def __init__(self):
            super().__init__()
            self.scale = lnn.Parameter(lib.tensor(values((3,), 5)))

        def forward(self, x, power, y, *, shift=0.0):
            return x * self.scale * power + y * y + shift

    class Split(lnn.Module):
        """两个输出：乘积与和。"""

        def forward(self, x, y):
            return x * y, x + y

    class Scale(lnn.Module):
        """只有一个运算：grad_fn 的梯度就是整个模块的梯度。"""

        def __init__(self):
            super().__init__()
            self.weight = lnn.Parameter(lib.tensor(values((3,), 7)))

        def forward(self, x):
            return x * self.weight

    class Fails(lnn.Module):
        def forward(self, x, **kwargs):
            raise ValueError("forward failed")

    _CLASSES[lib] = dict(Affine=Affine, Tanh=Tanh, Net=Net, Mix=Mix, Split=Split, Scale=Scale, Fails=Fails)
    return _CLASSES[lib]


def make(lib, name, *args):
    return classes(lib)[name](*args)


def leaf(lib, shape, seed, requires_grad=True):
    return lib.tensor(values(shape, seed), requires_grad=requires_grad)


# ----------------------------------------------------------------------
# 前向钩子
# ----------------------------------------------------------------------


def test_forward_hooks_order_with_globals_prepend_and_nesting():
    def scenario(lib):
        log = []
        net = make(lib, "Net")
        module_py = edunn_module_py if lib is edunn else torch_module_py
        module_py.register_module_forward_pre_hook(lambda m, args: log.append(("global pre", type(m).__name__)))
        module_py.register_module_forward_hook(lambda m, args, out: log.append(("global hook", type(m).__name__)))
        for name, module in net.named_modules():
            module.register_forward_pre_hook(lambda m, args, name=name: log.append(("pre", name, args)))
            module.register_forward_pre_hook(lambda m, args, name=name: log.append(("pre first", name)),
                                             prepend=True)
            module.register_forward_hook(lambda m, args, out, name=name: log.append(("hook", name, args, out)))
            module.register_forward_hook(lambda m, args, out, name=name: log.append(("hook first", name)),
                                         prepend=True)
        out = net(leaf(lib, (2, 3), 0))
        log.append(("result", out))
        return log

    record = run_both(scenario)
    assert [entry[0] for entry in record[:3]] == ["global pre", "pre first", "pre"]
    assert [entry[0] for entry in record[-4:]] == ["global hook", "hook first", "hook", "result"]


def test_forward_pre_hook_return_value_replaces_args():
    def scenario(lib):
        log = []
        mix = make(lib, "Mix")
        x, y = leaf(lib, (3,), 1), leaf(lib, (3,), 2)
        mix.register_forward_pre_hook(lambda m, args: (args[0] * 2, 3.0, args[2]))
        mix.register_forward_pre_hook(lambda m, args: log.append(("after tuple", args)))
        log.append(("tuple", mix(x, 1.0, y, shift=0.5)))

        scale = make(lib, "Scale")
        scale.register_forward_pre_hook(lambda m, args: args[0] + 1)  # 单个值被包成一元组
        scale.register_forward_pre_hook(lambda m, args: log.append(("after single", args)))
        log.append(("single", scale(x)))
        return log

    run_both(scenario)


def test_forward_pre_hook_with_kwargs_replaces_args_and_kwargs():
    def scenario(lib):
        log = []
        mix = make(lib, "Mix")
        x, y = leaf(lib, (3,), 1), leaf(lib, (3,), 2)

        def hook(module, args, kwargs):
            log.append(("seen", args, kwargs))
            return (args[0], 2.0, args[2]), {"shift": kwargs["shift"] + 1.0}

        mix.register_forward_pre_hook(hook, with_kwargs=True)
        mix.register_forward_pre_hook(lambda m, args, kwargs: log.append(("after", args, kwargs)), with_kwargs=True)
        log.append(("out", mix(x, 1.0, y, shift=0.5)))
        return log

    run_both(scenario)


@pytest.mark.parametrize("bad_result", [5, (1, 2, 3), [(), {}]], ids=["int", "triple", "list"])
def test_forward_pre_hook_with_kwargs_wrong_arity_raises(bad_result):
    def scenario(lib):
        scale = make(lib, "Scale")
        scale.register_forward_pre_hook(lambda m, args, kwargs: bad_result, with_kwargs=True)
        scale(leaf(lib, (3,), 1))

    error = same_error(scenario)
    assert isinstance(error, RuntimeError)


def test_forward_hook_return_value_replaces_output_and_sees_kwargs():
    def scenario(lib):
        log = []
        mix = make(lib, "Mix")
        x, y = leaf(lib, (3,), 1), leaf(lib, (3,), 2)
        mix.register_forward_hook(lambda m, args, kwargs, out: log.append(("kwargs", args, kwargs, out)),
                                  with_kwargs=True)
        mix.register_forward_hook(lambda m, args, out: out * 10)
        mix.register_forward_hook(lambda m, args, out: log.append(("replaced", out)))
        out = mix(x, 2.0, y, shift=1.5)
        out.sum().backward()
        log.append(("grads", x.grad, y.grad, mix.scale.grad))
        return log

    run_both(scenario)


def test_forward_hook_always_call_runs_when_forward_raises():
    def scenario(lib):
        log = []
        fails = make(lib, "Fails")
        module_py = edunn_module_py if lib is edunn else torch_module_py
        module_py.register_module_forward_hook(lambda m, args, out: log.append(("global always", out)),
                                               always_call=True)
        fails.register_forward_hook(lambda m, args, out: log.append(("plain", out)))
        fails.register_forward_hook(lambda m, args, out: log.append(("always", args, out)), always_call=True)
        fails.register_forward_hook(lambda m, args, kwargs, out: log.append(("always kwargs", kwargs, out)),
                                    always_call=True, with_kwargs=True)
        with pytest.raises(ValueError, match="forward failed"):
            fails(leaf(lib, (2,), 0), flag=True)
        return log

    record = run_both(scenario)
    assert [entry[0] for entry in record] == ["global always", "always", "always kwargs"]


def test_always_call_hook_errors_become_warnings():
    def scenario(lib):
        fails = make(lib, "Fails")

        def broken(module, args, out):
            raise KeyError("hook broke")

        fails.register_forward_hook(broken, always_call=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(ValueError):
                fails(leaf(lib, (2,), 0))
        return [(w.category.__name__, str(w.message)) for w in caught]

    record = run_both(scenario)
    assert record == [("UserWarning", "module forward hook with ``always_call=True`` raised an exception that "
                       "was silenced as another error was raised in forward: 'hook broke'")]


def test_always_call_hook_runs_once_when_later_hook_raises():
    def scenario(lib):
        log = []
        scale = make(lib, "Scale")
        scale.register_forward_hook(lambda m, args, out: log.append("always"), always_call=True)

        def broken(module, args, out):
            raise ValueError("later hook failed")

        scale.register_forward_hook(broken)
        with pytest.raises(ValueError, match="later hook failed"):
            scale(leaf(lib, (3,), 0))
        return log

    assert run_both(scenario) == ["always"]


def test_handle_remove_and_context_manager_stop_hooks():
    def scenario(lib):
        log = []
        scale = make(lib, "Scale")
        x = leaf(lib, (3,), 0)
        handle = scale.register_forward_hook(lambda m, args, out: log.append("kept"))
        with scale.register_forward_pre_hook(lambda m, args: log.append("scoped")):
            scale(x)
        scale(x)
        handle.remove()
        handle.remove()
        scale(x)
        log.append(len(scale._forward_hooks) + len(scale._forward_pre_hooks))
        return log

    assert run_both(scenario) == ["scoped", "kept", "kept", 0]


def test_removing_with_kwargs_hook_clears_its_flags():
    for lib in LIBS:
        scale = make(lib, "Scale")
        handle = scale.register_forward_hook(lambda m, a, k, o: None, with_kwargs=True, always_call=True)
        pre_handle = scale.register_forward_pre_hook(lambda m, a, k: None, with_kwargs=True)
        handle.remove()
        pre_handle.remove()
        assert not scale._forward_hooks_with_kwargs
        assert not scale._forward_hooks_always_called
        assert not scale._forward_pre_hooks_with_kwargs


# ----------------------------------------------------------------------
# 完整反向钩子
# ----------------------------------------------------------------------


def test_full_backward_hooks_see_grad_input_and_grad_output():
    def scenario(lib):
        log = []
        mix = make(lib, "Mix")
        x = leaf(lib, (3,), 1)
        y = leaf(lib, (3,), 2, requires_grad=False)
        mix.register_full_backward_pre_hook(lambda m, grad_output: log.append(("pre", grad_output)))
        mix.register_full_backward_hook(lambda m, grad_input, grad_output: log.append(("full", grad_input,
                                                                                      grad_output)))
        out = mix(x, 2.0, y, shift=1.0)
        (out * lib.tensor(values((3,), 9))).sum().backward()
        log.append(("x.grad", x.grad))
        return log

    record = run_both(scenario)
    grad_input = record[1][1]
    assert grad_input[1] is None  # 非张量参数
    assert grad_input[2][0] == "tensor"  # 不需要梯度的张量输入：torch 给出全零张量
    assert not grad_input[2][2].any()


def test_full_backward_hook_replaces_grad_input():
    def scenario(lib):
        net = make(lib, "Net")
        net.fc2.register_full_backward_hook(lambda m, grad_input, grad_output: (grad_input[0] * 3,))
        x = leaf(lib, (2, 3), 0)
        net(x).sum().backward()
        return [x.grad, net.fc1.weight.grad, net.fc2.weight.grad]

    run_both(scenario)


def test_full_backward_pre_hook_replaces_grad_output():
    def scenario(lib):
        net = make(lib, "Net")
        net.act.register_full_backward_pre_hook(lambda m, grad_output: (grad_output[0] * -2,))
        seen = []
        net.act.register_full_backward_hook(lambda m, gi, go: seen.append(go))
        x = leaf(lib, (2, 3), 0)
        net(x).sum().backward()
        return [seen, x.grad, net.fc1.weight.grad, net.fc2.weight.grad]

    run_both(scenario)


def test_backward_hook_order_globals_prepend_and_nesting():
    def scenario(lib):
        log = []
        net = make(lib, "Net")
        module_py = edunn_module_py if lib is edunn else torch_module_py
        module_py.register_module_full_backward_pre_hook(lambda m, go: log.append(("global pre", type(m).__name__)))
        module_py.register_module_full_backward_hook(lambda m, gi, go: log.append(("global", type(m).__name__)))
        for name, module in net.named_modules():
            module.register_full_backward_pre_hook(lambda m, go, name=name: log.append(("pre", name)))
            module.register_full_backward_pre_hook(lambda m, go, name=name: log.append(("pre first", name)),
                                                   prepend=True)
            module.register_full_backward_hook(lambda m, gi, go, name=name: log.append(("hook", name)))
            module.register_full_backward_hook(lambda m, gi, go, name=name: log.append(("hook first", name)),
                                               prepend=True)
        net(leaf(lib, (2, 3), 0)).sum().backward()
        return log

    run_both(scenario)


def test_backward_hooks_with_multiple_outputs_and_unused_output():
    def scenario(lib):
        log = []
        split = make(lib, "Split")
        split.register_full_backward_pre_hook(lambda m, go: log.append(("pre", go)))
        split.register_full_backward_hook(lambda m, gi, go: log.append(("full", gi, go)))
        x, y = leaf(lib, (3,), 1), leaf(lib, (3,), 2)
        product, total = split(x, y)
        (product * 2).sum().backward()
        log.append(("grads", x.grad, y.grad))
        return log

    run_both(scenario)


def test_full_backward_hook_when_no_input_requires_grad():
    def scenario(lib):
        log = []
        scale = make(lib, "Scale")
        scale.register_full_backward_hook(lambda m, gi, go: log.append(("full", gi, go)))
        x = leaf(lib, (3,), 1, requires_grad=False)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            scale(x).sum().backward()
        log.append([w.category.__name__ for w in caught])
        log.append(("weight.grad", scale.weight.grad))
        return log

    record = run_both(scenario)
    assert record[0][1] == (None,)


def test_full_backward_hook_returning_grads_without_input_grads_raises():
    def scenario(lib):
        scale = make(lib, "Scale")
        scale.register_full_backward_hook(lambda m, gi, go: (go[0],))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scale(leaf(lib, (3,), 1, requires_grad=False)).sum().backward()

    same_error(scenario)


def test_backward_hooks_never_fire_without_output_grads():
    def scenario(lib):
        log = []
        split = make(lib, "Split")
        split.register_full_backward_hook(lambda m, gi, go: log.append("fired"))
        x = leaf(lib, (3,), 1, requires_grad=False)
        product, _ = split(x, x)
        log.append(product.requires_grad)
        return log

    assert run_both(scenario) == [False]


@pytest.mark.parametrize("kind", ["hook", "pre_hook"])
def test_backward_hook_wrong_arity_raises(kind):
    def scenario(lib):
        mix = make(lib, "Mix")
        if kind == "hook":
            mix.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[1]))
        else:
            mix.register_full_backward_pre_hook(lambda m, go: (go[0], go[0]))
        mix(leaf(lib, (3,), 1), 2.0, leaf(lib, (3,), 2)).sum().backward()

    error = same_error(scenario)
    assert "invalid number" in str(error)


def test_backward_hook_under_no_grad_is_not_set_up():
    def scenario(lib):
        log = []
        scale = make(lib, "Scale")
        scale.register_full_backward_hook(lambda m, gi, go: log.append("fired"))
        with lib.no_grad():
            out = scale(leaf(lib, (3,), 1))
        log.append(out.requires_grad)
        return log

    assert run_both(scenario) == [False]


def test_mixing_full_and_regular_backward_hooks_raises():
    def full_then_regular(lib):
        scale = make(lib, "Scale")
        scale.register_full_backward_hook(lambda m, gi, go: None)
        scale.register_backward_hook(lambda m, gi, go: None)

    def regular_then_full(lib):
        scale = make(lib, "Scale")
        scale.register_backward_hook(lambda m, gi, go: None)
        scale.register_full_backward_hook(lambda m, gi, go: None)

    def global_mix(lib):
        module_py = edunn_module_py if lib is edunn else torch_module_py
        module_py.register_module_backward_hook(lambda m, gi, go: None)
        module_py.register_module_full_backward_hook(lambda m, gi, go: None)

    for scenario in (full_then_regular, regular_then_full, global_mix):
        same_error(scenario)


def test_regular_backward_hook_on_single_op_module_sees_node_grads():
    def scenario(lib):
        log = []
        scale = make(lib, "Scale")
        scale.register_backward_hook(lambda m, gi, go: log.append(("regular", type(m).__name__, gi, go)))
        x = leaf(lib, (3,), 1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = scale(x)
        (out * lib.tensor(values((3,), 4))).sum().backward()
        log.append([str(w.message) for w in caught])
        log.append(("x.grad", x.grad))
        return log

    run_both(scenario)


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_regular_backward_hook_replaces_grad_input():
    def scenario(lib):
        scale = make(lib, "Scale")
        scale.register_backward_hook(lambda m, gi, go: tuple(g * 5 for g in gi))
        x = leaf(lib, (3,), 1)
        scale(x).sum().backward()
        return [x.grad, scale.weight.grad]

    run_both(scenario)


def test_regular_backward_hook_warns_for_multi_node_forward():
    def scenario(lib):
        affine = make(lib, "Affine", 3, 2)
        affine.register_backward_hook(lambda m, gi, go: None)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            affine(leaf(lib, (2, 3), 0))
        return [(w.category.__name__, str(w.message)) for w in caught]

    record = run_both(scenario)
    assert record[0][0] == "FutureWarning"


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_regular_backward_hook_wrong_arity_raises():
    def scenario(lib):
        scale = make(lib, "Scale")

        def three_grads(module, grad_input, grad_output):
            return grad_input + grad_input[:1]

        scale.register_backward_hook(three_grads)
        scale(leaf(lib, (3,), 1)).sum().backward()

    same_error(scenario)


# ----------------------------------------------------------------------
# state_dict 与 load_state_dict 的钩子
# ----------------------------------------------------------------------


def test_state_dict_hooks_see_prefix_keep_vars_and_metadata():
    def scenario(lib):
        log = []
        net = make(lib, "Net")
        for name, module in net.named_modules():
            module.register_state_dict_pre_hook(
                lambda m, prefix, keep_vars, name=name: log.append(("pre", name, prefix, keep_vars)))

            def post(module, state_dict, prefix, local_metadata, name=name):
                log.append(("post", name, prefix, list(state_dict), local_metadata))

            module.register_state_dict_post_hook(post)
        net.state_dict(keep_vars=True)
        net.state_dict(prefix="model.")
        return log

    run_both(scenario)


def test_state_dict_post_hook_can_edit_in_place_but_not_return():
    def edits(lib):
        net = make(lib, "Net")

        def add_key(module, state_dict, prefix, local_metadata):
            state_dict[prefix + "note"] = 1

        net.fc1.register_state_dict_post_hook(add_key)
        return list(net.state_dict())

    assert run_both(edits)[-1] == "fc2.bias"

    def returns(lib):
        net = make(lib, "Net")
        net.register_state_dict_post_hook(lambda m, sd, prefix, meta: sd)
        net.state_dict()

    same_error(returns)


def test_private_state_dict_hook_return_replaces_root_result():
    def scenario(lib):
        net = make(lib, "Net")
        net._register_state_dict_hook(lambda m, sd, prefix, meta: {"only": 1})
        net.fc1._register_state_dict_hook(lambda m, sd, prefix, meta: {"ignored": 2})
        return net.state_dict()

    assert run_both(scenario) == {"only": 1}


def test_same_function_cannot_be_registered_through_both_post_hook_apis():
    def scenario(lib):
        net = make(lib, "Net")

        def hook(module, state_dict, prefix, local_metadata):
            return None

        net.register_state_dict_post_hook(hook)
        net._register_state_dict_hook(hook)

    same_error(scenario)


def test_load_state_dict_hooks_arguments_and_order():
    def scenario(lib):
        log = []
        net = make(lib, "Net")
        state = net.state_dict()
        for name, module in net.named_modules():
            def pre(module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors, name=name):
                log.append(("pre", name, prefix, sorted(state_dict), local_metadata, strict, list(missing)))

            def post(module, incompatible, name=name):
                log.append(("post", name, list(incompatible.missing_keys), list(incompatible.unexpected_keys)))

            module.register_load_state_dict_pre_hook(pre)
            module.register_load_state_dict_post_hook(post)
        del state["fc1.bias"]
        state["extra"] = lib.zeros(1)
        result = net.load_state_dict(state, strict=False)
        log.append(("result", list(result.missing_keys), list(result.unexpected_keys)))
        return log

    record = run_both(scenario)
    assert record[-1] == ("result", ["fc1.bias"], ["extra"])


def test_load_state_dict_pre_hook_can_rename_keys():
    def scenario(lib):
        net = make(lib, "Net")
        source = make(lib, "Net")
        with lib.no_grad():
            for param in source.parameters():
                param.mul_(2)
        renamed = {key.replace("fc", "layer"): value for key, value in source.state_dict().items()}

        def rename(module, state_dict, prefix, *rest):
            for key in list(state_dict):
                state_dict[key.replace("layer", "fc")] = state_dict.pop(key)

        net.register_load_state_dict_pre_hook(rename)
        result = net.load_state_dict(renamed)
        return [repr(result), net.state_dict()]

    assert run_both(scenario)[0] == "<All keys matched successfully>"


def test_load_state_dict_post_hook_can_clear_strict_errors():
    def scenario(lib):
        net = make(lib, "Net")
        state = net.state_dict()
        state["unknown"] = lib.ones(1)

        def forgive(module, incompatible):
            incompatible.unexpected_keys.clear()

        net.register_load_state_dict_post_hook(forgive)
        return repr(net.load_state_dict(state))

    assert run_both(scenario) == "<All keys matched successfully>"


def test_load_state_dict_post_hook_returning_value_raises():
    def scenario(lib):
        net = make(lib, "Net")
        net.register_load_state_dict_post_hook(lambda m, keys: keys)
        net.load_state_dict(net.state_dict())

    error = same_error(scenario)
    assert isinstance(error, AssertionError)


def test_private_load_pre_hook_without_module_argument():
    def scenario(lib):
        log = []
        net = make(lib, "Net")
        net._register_load_state_dict_pre_hook(lambda state_dict, prefix, *rest: log.append((prefix, len(rest))))
        net.load_state_dict(net.state_dict())
        return log

    assert run_both(scenario) == [("", 5)]


# ----------------------------------------------------------------------
# 全局登记钩子
# ----------------------------------------------------------------------


def test_global_registration_hooks_see_and_replace_values():
    def scenario(lib):
        log = []
        module_py = edunn_module_py if lib is edunn else torch_module_py
        lnn = lib.nn
        replacement = lnn.Parameter(lib.ones(2, dtype=lib.float64))

        def on_param(module, name, param):
            log.append(("param", type(module).__name__, name, param))
            return replacement if name == "swap" else None

        handles = [
            module_py.register_module_parameter_registration_hook(on_param),
            module_py.register_module_buffer_registration_hook(
                lambda m, name, buffer: log.append(("buffer", name, buffer))),
            module_py.register_module_module_registration_hook(
                lambda m, name, sub: log.append(("module", name, type(sub).__name__))),
        ]
        holder = lnn.Module()
        holder.swap = lnn.Parameter(lib.zeros(2, dtype=lib.float64))
        holder.register_parameter("empty", None)
        holder.register_buffer("stat", lib.zeros(1))
        holder.count = lnn.Buffer(lib.tensor(3))
        holder.child = lnn.Module()
        holder.add_module("other", None)
        holder.child = None
        log.append(("swapped", holder.swap is replacement))
        for handle in handles:
            handle.remove()
        holder.later = lnn.Parameter(lib.zeros(1))
        return log

    run_both(scenario)


def test_global_forward_pre_hook_runs_before_module_pre_hook_with_prepend():
    def scenario(lib):
        log = []
        module_py = edunn_module_py if lib is edunn else torch_module_py
        scale = make(lib, "Scale")
        scale.register_forward_pre_hook(lambda m, args: log.append("module"), prepend=True)
        handle = module_py.register_module_forward_pre_hook(lambda m, args: log.append("global"))
        scale(leaf(lib, (3,), 0))
        handle.remove()
        scale(leaf(lib, (3,), 0))
        return log

    assert run_both(scenario) == ["global", "module", "module"]


def test_global_forward_hook_with_kwargs():
    def scenario(lib):
        log = []
        module_py = edunn_module_py if lib is edunn else torch_module_py
        mix = make(lib, "Mix")
        module_py.register_module_forward_hook(lambda m, args, kwargs, out: log.append((kwargs, out)),
                                               with_kwargs=True)
        mix(leaf(lib, (3,), 1), 1.0, leaf(lib, (3,), 2), shift=2.0)
        return log

    run_both(scenario)


# ----------------------------------------------------------------------
# 真实的层：记录激活值与梯度范数
# ----------------------------------------------------------------------


def test_activation_and_gradient_monitors_on_layers_match_torch():
    torch.manual_seed(0)
    torch_model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)).double()
    state = torch_model.state_dict()
    x_values = values((5, 4), 11)

    def scenario(lib):
        lnn = lib.nn
        model = lnn.Sequential(lnn.Linear(4, 8), lnn.ReLU(), lnn.Linear(8, 3)).double()
        model.load_state_dict(state if lib is torch else edunn.testing.from_torch(state))
        activations, grad_norms = [], []
        handles = []
        for name, layer in model.named_children():
            handles.append(layer.register_forward_hook(
                lambda m, args, out, name=name: activations.append((name, out.detach()))))
            handles.append(layer.register_full_backward_hook(
                lambda m, gi, go, name=name: grad_norms.append((name, go[0].norm().item()))))
        x = lib.tensor(x_values, requires_grad=True)
        model(x).pow(2).sum().backward()
        for handle in handles:
            handle.remove()
        model(x)
        return activations, grad_norms, [p.grad for p in model.parameters()]

    activations, grad_norms, _ = run_both(scenario)
    assert [name for name, _ in activations] == ["0", "1", "2"]
    assert [name for name, _ in grad_norms] == ["2", "1", "0"]
