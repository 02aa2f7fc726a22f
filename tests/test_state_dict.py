"""state_dict 与 load_state_dict：键、顺序、_metadata、返回值、报错与 torch 相同；失败的载入不改动模块。"""

import collections
import io
import warnings

import numpy as np
import pytest
import torch

import edunn
from edunn.testing import from_torch, to_torch

LIBS = (edunn, torch)


def values(shape, seed):
    return np.random.RandomState(seed).standard_normal(shape)


def same_error(scenario):
    """scenario(lib) 在两个库上抛出同类型的异常，消息在把 torch 换成 edunn 之后相同。"""
    with pytest.raises(Exception) as expected:
        scenario(torch)
    with pytest.raises(type(expected.value)) as actual:
        scenario(edunn)
    assert str(actual.value) == str(expected.value).replace("torch", "edunn")
    return actual.value


def as_numpy(tensor):
    if isinstance(tensor, torch.Tensor):
        return tensor.detach().numpy()
    return tensor.detach().numpy(force=True)


# ----------------------------------------------------------------------
# 两个库上结构相同的模型
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

    class Norm(lnn.Module):
        """持久与非持久缓冲区、整数缓冲区、值为 None 的参数与缓冲区。"""

        def __init__(self):
            super().__init__()
            self.register_buffer("running_mean", lib.tensor(values((4,), 3)))
            self.register_buffer("num_batches_tracked", lib.tensor(5))
            self.register_buffer("cache", lib.ones(4, dtype=lib.float64), persistent=False)
            self.register_buffer("unused", None)
            self.register_parameter("gamma", None)

    class Net(lnn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = Affine(3, 4, seed=0)
            self.norm = Norm()
            self.head = lnn.Module()
            self.head.add_module("out", Affine(4, 2, seed=2))

    class Tied(lnn.Module):
        """共享参数与共享子模块：同一个对象出现在两个名字下。"""

        def __init__(self):
            super().__init__()
            self.encoder = Affine(3, 3, seed=4)
            self.decoder = Affine(3, 3, seed=6)
            self.decoder.weight = self.encoder.weight
            self.alias = self.encoder

    class Counter(lnn.Module):
        """用 get_extra_state/set_extra_state 保存一个 Python 字典。"""

        def __init__(self):
            super().__init__()
            self.scale = lnn.Parameter(lib.tensor(values((2,), 8)))
            self.calls = 0

        def get_extra_state(self):
            return {"calls": self.calls}

        def set_extra_state(self, state):
            self.calls = state["calls"]

    class WithExtra(lnn.Module):
        def __init__(self):
            super().__init__()
            self.counter = Counter()
            self.fc = Affine(2, 2, seed=9)

    class GetOnly(lnn.Module):
        def __init__(self):
            super().__init__()
            self.w = lnn.Parameter(lib.zeros(1, dtype=lib.float64))

        def get_extra_state(self):
            return 7

    class Versioned(lnn.Module):
        """记录 _load_from_state_dict 收到的 local_metadata。"""

        _version = 2

        def __init__(self):
            super().__init__()
            self.w = lnn.Parameter(lib.zeros(2, dtype=lib.float64))
            self.seen = []

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args):
            self.seen.append(dict(local_metadata))
            super()._load_from_state_dict(state_dict, prefix, local_metadata, *args)

    _CLASSES[lib] = dict(Affine=Affine, Norm=Norm, Net=Net, Tied=Tied, Counter=Counter, WithExtra=WithExtra,
                         GetOnly=GetOnly, Versioned=Versioned)
    return _CLASSES[lib]


def make(lib, name, *args):
    return classes(lib)[name](*args)


MODELS = ["Affine", "Net", "Tied", "Norm", "WithExtra"]


def build(lib, name):
    return make(lib, name, 3, 2) if name == "Affine" else make(lib, name)


def snapshot(module):
    """模块里每个参数与缓冲区的 (对象, 数值副本, dtype, requires_grad)，加上额外状态。"""
    state = {}
    for name, tensor in [*module.named_parameters(remove_duplicate=False), *module.named_buffers(
            remove_duplicate=False)]:
        state[name] = (tensor, np.array(as_numpy(tensor)), tensor.dtype, tensor.requires_grad)
    state["__dict__"] = {name: dict(vars(m)) for name, m in module.named_modules()}
    return state


def assert_unchanged(module, before):
    after = snapshot(module)
    assert list(after) == list(before)
    for name, entry in before.items():
        if name == "__dict__":
            continue
        tensor, data, dtype, requires_grad = entry
        now = after[name]
        assert now[0] is tensor, f"{name} was replaced"
        assert now[2] == dtype, name
        assert now[3] == requires_grad, name
        np.testing.assert_array_equal(now[1], data, err_msg=name)
    for name, attributes in before["__dict__"].items():
        for key, value in attributes.items():
            if key.startswith("_"):
                continue
            assert after["__dict__"][name][key] == value, f"{name}.{key}"


# ----------------------------------------------------------------------
# state_dict
# ----------------------------------------------------------------------


@pytest.mark.parametrize("name", MODELS)
def test_state_dict_keys_metadata_and_values_match_torch(name):
    expected = build(torch, name).state_dict()
    actual = build(edunn, name).state_dict()
    assert type(actual) is collections.OrderedDict
    assert list(actual) == list(expected)
    assert actual._metadata == expected._metadata
    assert list(actual._metadata) == list(expected._metadata)
    for key, value in expected.items():
        if isinstance(value, torch.Tensor):
            assert str(actual[key].dtype).split(".")[-1] == str(value.dtype).split(".")[-1], key
            np.testing.assert_array_equal(as_numpy(actual[key]), value.numpy(), err_msg=key)
        else:
            assert actual[key] == value, key


@pytest.mark.parametrize("name", MODELS)
def test_state_dict_prefix_and_keep_vars_match_torch(name):
    expected = build(torch, name).state_dict(prefix="model.", keep_vars=True)
    module = build(edunn, name)
    actual = module.state_dict(prefix="model.", keep_vars=True)
    assert list(actual) == list(expected)
    assert actual._metadata == expected._metadata
    parameters = dict(module.named_parameters(prefix="model.", remove_duplicate=False))
    for key, value in actual.items():
        if key in parameters:
            assert value is parameters[key]
            assert isinstance(value, edunn.nn.Parameter)


def test_state_dict_values_are_detached_and_share_memory():
    module = make(edunn, "Affine", 3, 2)
    state = module.state_dict()
    assert type(state["weight"]) is edunn.Tensor
    assert not state["weight"].requires_grad
    state["weight"][0, 0] = 42.0
    assert module.weight[0, 0].item() == 42.0


def test_state_dict_into_given_destination():
    for lib in LIBS:
        destination = {"kept": 1}
        result = make(lib, "Affine", 3, 2).state_dict(destination=destination)
        assert result is destination
        assert list(destination) == ["kept", "weight", "bias"]


def test_state_dict_positional_args_warn_like_torch():
    records = []
    for lib in LIBS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            state = make(lib, "Affine", 3, 2).state_dict(None, "p.", True)
        records.append(([w.category for w in caught], list(state), type(state["p.weight"]).__name__))
    assert records[0][0] == records[1][0] == [FutureWarning]
    assert records[0][1:] == records[1][1:]


def test_state_dict_version_comes_from_class_attribute():
    for lib in LIBS:
        holder = lib.nn.Module()
        holder.v = make(lib, "Versioned")
        assert holder.state_dict()._metadata == {"": {"version": 1}, "v": {"version": 2}}


# ----------------------------------------------------------------------
# load_state_dict：返回值与成功的载入
# ----------------------------------------------------------------------


def test_incompatible_keys_repr_and_fields_match_torch():
    for lib in LIBS:
        module = make(lib, "Affine", 3, 2)
        result = module.load_state_dict(module.state_dict())
        assert repr(result) == str(result) == "<All keys matched successfully>"
        assert result.missing_keys == []
        assert result.unexpected_keys == []
    partial = {}
    for lib in LIBS:
        module = make(lib, "Net")
        state = module.state_dict()
        del state["fc1.bias"]
        state["head.extra"] = state["fc1.weight"]
        partial[lib] = module.load_state_dict(state, strict=False)
    assert repr(partial[edunn]) == repr(partial[torch])
    assert tuple(partial[edunn]) == tuple(partial[torch])
    assert partial[edunn]._fields == ("missing_keys", "unexpected_keys")


@pytest.mark.parametrize("name", MODELS)
def test_torch_state_dict_loads_into_edunn_and_back_bit_exactly(name):
    source = build(torch, name)
    with torch.no_grad():
        for index, tensor in enumerate(source.state_dict().values()):
            if isinstance(tensor, torch.Tensor):
                tensor.copy_(torch.as_tensor(values(tuple(tensor.shape), 100 + index)).to(tensor.dtype))
    if name == "WithExtra":
        source.counter.calls = 11
    expected = source.state_dict()

    target = build(edunn, name)
    result = target.load_state_dict(from_torch(expected))
    assert repr(result) == "<All keys matched successfully>"
    back = to_torch(target.state_dict())
    assert list(back) == list(expected)
    for key, value in expected.items():
        if isinstance(value, torch.Tensor):
            assert back[key].dtype == value.dtype
            assert torch.equal(back[key], value), key
        else:
            assert back[key] == value
    assert repr(build(torch, name).load_state_dict(back)) == "<All keys matched successfully>"


def test_state_dict_survives_save_and_load(tmp_path):
    source = make(edunn, "Net")
    with edunn.no_grad():
        for param in source.parameters():
            param.mul_(3)
    edunn.save(source.state_dict(), tmp_path / "net.ckpt")
    target = make(edunn, "Net")
    assert repr(target.load_state_dict(edunn.load(tmp_path / "net.ckpt"))) == "<All keys matched successfully>"
    for (key, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items()):
        np.testing.assert_array_equal(as_numpy(a), as_numpy(b), err_msg=key)


def test_copy_keeps_parameter_objects_and_module_dtype():
    for lib in LIBS:
        module = make(lib, "Affine", 3, 2)
        weight = module.weight
        state = {"weight": lib.ones(2, 3, dtype=lib.float32), "bias": lib.zeros(2, dtype=lib.float32)}
        module.load_state_dict(state)
        assert module.weight is weight
        assert module.weight.dtype == lib.float64
        assert module.weight.requires_grad


def test_assign_uses_checkpoint_tensors_but_keeps_requires_grad():
    results = []
    for lib in LIBS:
        module = make(lib, "Net")
        module.fc1.bias.requires_grad_(False)
        incoming = {k: v.to(lib.float32) if v.is_floating_point() else v for k, v in module.state_dict().items()}
        incoming["fc1.weight"] = lib.nn.Parameter(incoming["fc1.weight"], requires_grad=False)
        module.load_state_dict(incoming, assign=True)
        weight = module.fc1.weight
        results.append((
            type(weight).__name__, str(weight.dtype).split(".")[-1], weight.requires_grad,
            weight is incoming["fc1.weight"], module.fc1.bias.requires_grad, type(module.fc1.bias).__name__,
            module.norm.running_mean is incoming["norm.running_mean"],
            str(module.norm.running_mean.dtype).split(".")[-1],
            "cache" in module.norm._non_persistent_buffers_set,
        ))
    assert results[0] == results[1]


def test_assign_shares_memory_with_checkpoint_tensor():
    module = make(edunn, "Affine", 3, 2)
    incoming = {"weight": edunn.zeros(2, 3, dtype=edunn.float64), "bias": edunn.zeros(2, dtype=edunn.float64)}
    module.load_state_dict(incoming, assign=True)
    incoming["weight"][0, 0] = 5.0
    assert module.weight[0, 0].item() == 5.0


def test_shared_parameters_and_modules_load_into_every_name():
    for lib in LIBS:
        module = make(lib, "Tied")
        state = module.state_dict()
        assert "decoder.weight" in state
        assert "alias.weight" in state
        state = {k: lib.full_like(v, float(i)) for i, (k, v) in enumerate(state.items())}
        module.load_state_dict(state)
        # 共享的参数按键的顺序被写了多次，最后一次写入的值留下
        assert module.encoder.weight[0, 0].item() == float(list(state).index("alias.weight"))


def test_extra_state_round_trip_and_strict_keys():
    for lib in LIBS:
        source = make(lib, "WithExtra")
        source.counter.calls = 4
        state = source.state_dict()
        assert state["counter._extra_state"] == {"calls": 4}
        target = make(lib, "WithExtra")
        target.load_state_dict(state)
        assert target.counter.calls == 4

    def missing_extra(lib):
        target = make(lib, "WithExtra")
        state = target.state_dict()
        del state["counter._extra_state"]
        target.load_state_dict(state)

    same_error(missing_extra)

    def unexpected_extra(lib):
        target = make(lib, "Affine", 3, 2)
        state = target.state_dict()
        state["_extra_state"] = 1
        target.load_state_dict(state)

    same_error(unexpected_extra)


def test_get_extra_state_without_setter_is_saved_but_unexpected_on_load():
    def scenario(lib):
        module = make(lib, "GetOnly")
        state = module.state_dict()
        assert state["_extra_state"] == 7
        module.load_state_dict(state)

    same_error(scenario)


def test_local_metadata_version_reaches_load_from_state_dict():
    seen = []
    for lib in LIBS:
        holder = lib.nn.Module()
        holder.v = make(lib, "Versioned")
        state = holder.state_dict()
        state._metadata["v"]["version"] = 1
        holder.load_state_dict(state)
        holder.load_state_dict(dict(state))  # 普通 dict 没有 _metadata
        holder.load_state_dict(state, assign=True)
        seen.append(holder.v.seen)
    assert seen[0] == seen[1]


def test_assign_does_not_modify_callers_metadata():
    module = make(edunn, "Affine", 3, 2)
    state = module.state_dict()
    module.load_state_dict(state, assign=True)
    assert state._metadata == {"": {"version": 1}}


def test_scalar_buffer_accepts_one_element_vector():
    for lib in LIBS:
        norm = make(lib, "Norm")
        state = norm.state_dict()
        state["num_batches_tracked"] = lib.tensor([9])
        norm.load_state_dict(state)
        assert norm.num_batches_tracked.item() == 9
        assert norm.num_batches_tracked.dim() == 0


# ----------------------------------------------------------------------
# load_state_dict：报错与失败后的状态
# ----------------------------------------------------------------------


def broken_state(lib, kind):
    module = make(lib, "Net")
    state = module.state_dict()
    if kind == "missing":
        del state["fc1.bias"]
        del state["norm.num_batches_tracked"]
    elif kind == "unexpected":
        state["fc2.weight"] = state["fc1.weight"]
        state["norm.cache"] = lib.ones(4, dtype=lib.float64)
        state["norm.unused"] = lib.ones(1)
    elif kind == "both":
        del state["head.out.bias"]
        state["head.other"] = lib.ones(1)
    elif kind == "shapes":
        state["fc1.weight"] = lib.zeros(3, 4, dtype=lib.float64)
        state["head.out.bias"] = lib.zeros(3, dtype=lib.float64)
        state["norm.running_mean"] = lib.zeros(2, 2, dtype=lib.float64)
    elif kind == "not_tensor":
        state["fc1.bias"] = [1.0, 2.0, 3.0, 4.0]
    elif kind == "shapes_and_keys":
        state["fc1.weight"] = lib.zeros(1, dtype=lib.float64)
        del state["fc1.bias"]
        state["bogus"] = lib.zeros(1)
    return module, state


ERROR_KINDS = ["missing", "unexpected", "both", "shapes", "not_tensor", "shapes_and_keys"]


@pytest.mark.parametrize("kind", ERROR_KINDS)
def test_strict_errors_match_torch_messages(kind):
    def scenario(lib):
        module, state = broken_state(lib, kind)
        module.load_state_dict(state)

    error = same_error(scenario)
    assert str(error).startswith("Error(s) in loading state_dict for Net:\n\t")


def test_size_mismatch_lists_every_key_in_torch_format():
    module, state = broken_state(edunn, "shapes")
    with pytest.raises(RuntimeError) as info:
        module.load_state_dict(state)
    lines = str(info.value).split("\n\t")
    assert lines[1] == ("size mismatch for fc1.weight: copying a param with shape edunn.Size([3, 4]) from "
                        "checkpoint, the shape in current model is edunn.Size([4, 3]).")
    assert len(lines) == 4


@pytest.mark.parametrize("kind", ["shapes", "not_tensor"])
def test_non_strict_still_raises_for_bad_values(kind):
    def scenario(lib):
        module, state = broken_state(lib, kind)
        module.load_state_dict(state, strict=False)

    same_error(scenario)


def test_non_strict_returns_same_keys_as_torch():
    results = []
    for lib in LIBS:
        module, state = broken_state(lib, "both")
        result = module.load_state_dict(state, strict=False)
        results.append((result.missing_keys, result.unexpected_keys))
    assert results[0] == results[1]


def test_load_state_dict_rejects_non_mapping():
    def scenario(lib):
        make(lib, "Affine", 3, 2).load_state_dict([("weight", lib.zeros(2, 3))])

    same_error(scenario)


@pytest.mark.parametrize("kind", ERROR_KINDS)
@pytest.mark.parametrize("assign", [False, True])
def test_failed_load_leaves_module_unchanged(kind, assign):
    module, state = broken_state(edunn, kind)
    for key, value in list(state.items()):
        if isinstance(value, edunn.Tensor) and value.is_floating_point() and key != "fc1.weight":
            state[key] = value + 100
    before = snapshot(module)
    with pytest.raises(RuntimeError):
        module.load_state_dict(state, assign=assign)
    assert_unchanged(module, before)


def test_torch_partially_loads_where_edunn_does_not():
    """torch 在报错前已经复制了检查通过的键；edunn 什么都不改。"""
    loaded = {}
    for lib in LIBS:
        module, state = broken_state(lib, "shapes")
        state["fc1.bias"] = lib.full((4,), 7.0, dtype=lib.float64)
        with pytest.raises(RuntimeError):
            module.load_state_dict(state)
        loaded[lib] = module.fc1.bias[0].item()
    assert loaded[torch] == 7.0
    assert loaded[edunn] != 7.0


def test_failure_found_by_post_hook_rolls_back_copies():
    module = make(edunn, "Net")
    state = {k: v + 1 if v.is_floating_point() else v for k, v in module.state_dict().items()}
    seen = []

    def complain(target, incompatible):
        seen.append(target.fc1.weight[0, 0].item())
        incompatible.unexpected_keys.append("made.up")

    module.register_load_state_dict_post_hook(complain)
    before = snapshot(module)
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "made.up"'):
        module.load_state_dict(state)
    assert seen == [before["fc1.weight"][1][0, 0] + 1]  # 钩子看到的是已载入的值，与 torch 相同
    assert_unchanged(module, before)


def test_failing_set_extra_state_rolls_back_parameters_and_extra_state():
    module = make(edunn, "WithExtra")
    module.counter.calls = 2
    state = {k: v + 1 if isinstance(v, edunn.Tensor) else v for k, v in module.state_dict().items()}
    state["counter._extra_state"] = {"wrong": 0}
    before = snapshot(module)
    with pytest.raises(KeyError, match="calls"):
        module.load_state_dict(state)
    assert_unchanged(module, before)
    assert module.counter.calls == 2


def test_post_hook_returning_value_rolls_back():
    module = make(edunn, "Net")
    state = {k: v + 1 if v.is_floating_point() else v for k, v in module.state_dict().items()}
    module.head.register_load_state_dict_post_hook(lambda target, keys: "oops")
    before = snapshot(module)
    with pytest.raises(AssertionError):
        module.load_state_dict(state)
    assert_unchanged(module, before)


def test_failed_assign_restores_parameter_slots():
    module = make(edunn, "Net")
    state = {k: v.clone() for k, v in module.state_dict().items()}
    module.register_load_state_dict_post_hook(lambda target, keys: keys.missing_keys.append("late"))
    before = snapshot(module)
    with pytest.raises(RuntimeError, match="late"):
        module.load_state_dict(state, assign=True)
    assert_unchanged(module, before)


def test_direct_load_from_state_dict_copies_immediately():
    for lib in LIBS:
        module = make(lib, "Affine", 3, 2)
        errors, missing, unexpected = [], [], []
        state = {"weight": lib.zeros(2, 3, dtype=lib.float64), "bias": lib.zeros(3, dtype=lib.float64)}
        module._load_from_state_dict(state, "", {}, True, missing, unexpected, errors)
        assert module.weight.abs().sum().item() == 0.0
        assert len(errors) == 1
        assert errors[0].startswith("size mismatch for bias")


def test_optimizer_like_state_dict_checkpoint_round_trip(tmp_path):
    module = make(edunn, "Net")
    checkpoint = {"model": module.state_dict(), "epoch": 3, "history": [0.5, 0.25]}
    path = tmp_path / "checkpoint.ckpt"
    edunn.save(checkpoint, path)
    restored = edunn.load(path)
    assert restored["epoch"] == 3
    assert restored["model"]._metadata == checkpoint["model"]._metadata
    fresh = make(edunn, "Net")
    fresh.load_state_dict(restored["model"])
    buffer = io.BytesIO()
    edunn.save(fresh.state_dict(), buffer)
    buffer.seek(0)
    for key, value in edunn.load(buffer).items():
        np.testing.assert_array_equal(as_numpy(value), as_numpy(checkpoint["model"][key]), err_msg=key)


# ----------------------------------------------------------------------
# 真实的层
# ----------------------------------------------------------------------


def layered(lib):
    lnn = lib.nn
    return lnn.Sequential(lnn.Conv2d(3, 4, 3), lnn.BatchNorm2d(4), lnn.ReLU(), lnn.Flatten(),
                          lnn.Linear(4 * 4 * 4, 5), lnn.LayerNorm(5))


def trained_torch_layers():
    torch.manual_seed(0)
    model = layered(torch).double()
    model(torch.randn(2, 3, 6, 6, dtype=torch.float64))  # 更新 BatchNorm 的统计量与计数器
    return model


def test_layer_state_dict_keys_and_metadata_match_torch():
    expected = trained_torch_layers().state_dict()
    actual = layered(edunn).double().state_dict()
    assert list(actual) == list(expected)
    assert actual._metadata == expected._metadata
    for key, value in expected.items():
        assert name_of_dtype(actual[key]) == name_of_dtype(value), key


def name_of_dtype(tensor):
    return str(tensor.dtype).split(".")[-1]


def test_layer_state_dict_round_trip_through_edunn_is_bit_exact(tmp_path):
    source = trained_torch_layers()
    expected = source.state_dict()
    model = layered(edunn).double()
    assert repr(model.load_state_dict(from_torch(expected))) == "<All keys matched successfully>"
    edunn.save(model.state_dict(), tmp_path / "layers.ckpt")
    back = to_torch(edunn.load(tmp_path / "layers.ckpt"))
    for key, value in expected.items():
        assert back[key].dtype == value.dtype, key
        assert torch.equal(back[key], value), key
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    model.eval()
    source.eval()
    np.testing.assert_allclose(model(from_torch(x)).detach().numpy(), source(x).detach().numpy(), rtol=1e-12,
                               atol=1e-12)


def test_batchnorm_fills_missing_counter_only_for_old_state_dicts():
    results = []
    for lib in LIBS:
        outcome = []
        for make_state in (lambda sd: dict(sd), lambda sd: sd):
            model = layered(lib).double()
            state = model.state_dict()
            del state["1.num_batches_tracked"]
            state = make_state(state)
            outcome.append(tuple(model.load_state_dict(state, strict=False)))
        old = layered(lib).double()
        state = old.state_dict()
        del state["1.num_batches_tracked"]
        state._metadata["1"]["version"] = 1
        outcome.append(tuple(old.load_state_dict(state, strict=False)))
        results.append(outcome)
    assert results[0] == results[1]
    assert results[1][0] == ([], [])
    assert results[1][1] == (["1.num_batches_tracked"], [])
