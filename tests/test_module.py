"""Parameter、Buffer 与 Module：每个场景在 edunn 与 torch 上各跑一遍，比较名字、顺序、标志、打印与报错。"""

import copy

import numpy as np
import pytest
import torch

import edunn
from edunn import nn
from edunn.testing import assert_close, from_torch, to_torch

LIBS = (edunn, torch)


def values(shape, seed):
    return np.random.RandomState(seed).standard_normal(shape)


def same_error(edunn_call, torch_call):
    """两边抛出同类型的异常，且消息在把 torch 换成 edunn 之后完全相同。"""
    with pytest.raises(Exception) as expected:
        torch_call()
    with pytest.raises(type(expected.value)) as actual:
        edunn_call()
    assert str(actual.value) == str(expected.value).replace("torch", "edunn")
    return actual.value


# ----------------------------------------------------------------------
# 两个库上结构相同的模块
# ----------------------------------------------------------------------

_CLASSES = {}


def classes(lib):
    if lib in _CLASSES:
        return _CLASSES[lib]
    lnn = lib.nn

    class Affine(lnn.Module):
        def __init__(self, n_in, n_out, seed=0, bias=True):
            super().__init__()
            self.n_in, self.n_out = n_in, n_out
            self.weight = lnn.Parameter(lib.tensor(values((n_out, n_in), seed)))
            if bias:
                self.bias = lnn.Parameter(lib.tensor(values((n_out,), seed + 1)))
            else:
                self.register_parameter("bias", None)

        def forward(self, x):
            out = x @ self.weight.T
            return out if self.bias is None else out + self.bias

        def extra_repr(self):
            return f"in={self.n_in}, out={self.n_out}, bias={self.bias is not None}"

    class Stats(lnn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("running", lib.zeros(3, dtype=lib.float64))
            self.register_buffer("scratch", lib.ones(2, dtype=lib.float64), persistent=False)
            self.register_buffer("missing", None)
            self.count = lnn.Buffer(lib.tensor(0))

        def forward(self, x):
            return x

        def extra_repr(self):
            return "first line\nsecond line"

    class Net(lnn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = Affine(4, 3, seed=0)
            self.stats = Stats()
            self.block = lnn.Module()
            self.block.add_module("inner", Affine(3, 3, seed=2, bias=False))
            self.block.register_module("shared", self.encoder)
            self.add_module("unused", None)
            self.head = Affine(3, 2, seed=4)
            self.head.tied = self.encoder.bias  # 同一个参数登记在两处
            self.scale = 2.0

        def forward(self, x):
            h = self.encoder(x)
            h = self.block.inner(h)
            return self.head(h) * self.scale

    _CLASSES[lib] = Affine, Stats, Net
    return _CLASSES[lib]


def make_net(lib):
    return classes(lib)[2]()


def pair():
    return make_net(edunn), make_net(torch)


# ----------------------------------------------------------------------
# Parameter
# ----------------------------------------------------------------------

def test_parameter_is_tensor_sharing_array_and_version():
    data = edunn.zeros(3)
    param = nn.Parameter(data)
    assert isinstance(param, edunn.Tensor)
    assert param.requires_grad
    assert param.is_leaf
    data.add_(1.0)
    assert param.tolist() == [1.0, 1.0, 1.0]
    assert param._version == data._version == 1


def test_parameter_default_is_empty_and_requires_grad():
    assert nn.Parameter().shape == (0,)
    assert repr(nn.Parameter()) == repr(torch.nn.Parameter()).replace("torch", "edunn")
    with edunn.no_grad():
        assert nn.Parameter(edunn.zeros(1)).requires_grad


def test_parameter_repr_matches_torch():
    array = values((2, 3), 0)
    for dtype in ("float32", "float64"):
        mine = nn.Parameter(edunn.tensor(array, dtype=getattr(edunn, dtype)))
        theirs = torch.nn.Parameter(torch.tensor(array, dtype=getattr(torch, dtype)))
        assert repr(mine) == repr(theirs).replace("torch.", "edunn.")
    frozen = nn.Parameter(edunn.tensor([1, 2]), requires_grad=False)
    assert repr(frozen) == repr(torch.nn.Parameter(torch.tensor([1, 2]), requires_grad=False))


def test_parameter_results_of_ops_are_plain_tensors():
    param = nn.Parameter(edunn.ones(2, 2))
    for result in (param * 2, param.detach(), param.data, param.clone(), param.sum(), param[0]):
        assert type(result) is edunn.Tensor
    theirs = torch.nn.Parameter(torch.ones(2, 2))
    for result in (theirs * 2, theirs.detach(), theirs.data, theirs.clone(), theirs.sum(), theirs[0]):
        assert type(result) is torch.Tensor


def test_parameter_from_non_leaf_is_detached_leaf():
    x = edunn.ones(2, requires_grad=True)
    param = nn.Parameter(x * 2)
    assert param.is_leaf
    assert param.grad_fn is None
    assert param.requires_grad


def test_parameter_grad_and_no_grad_update():
    array = values((3,), 1)
    mine = nn.Parameter(edunn.tensor(array))
    theirs = torch.nn.Parameter(torch.tensor(array))
    (mine * mine).sum().backward()
    (theirs * theirs).sum().backward()
    assert_close(mine.grad, theirs.grad, rtol=1e-12, atol=0)
    with edunn.no_grad():
        mine.sub_(mine.grad, alpha=0.1)
    with torch.no_grad():
        theirs.sub_(theirs.grad, alpha=0.1)
    assert isinstance(mine, nn.Parameter)
    assert_close(mine, theirs, rtol=1e-12, atol=0)


def test_parameter_in_place_with_grad_raises_leaf_error():
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        nn.Parameter(edunn.ones(2)).add_(1.0)


def test_parameter_of_integer_tensor_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(edunn.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="floating point"):
        torch.nn.Parameter(torch.tensor([1, 2]))


def test_parameter_rejects_non_tensor_data():
    with pytest.raises(TypeError, match="Parameter data must be a Tensor, but got list"):
        nn.Parameter([1.0, 2.0])


def test_parameter_deepcopy_copies_values_not_grad():
    for lib in LIBS:
        param = lib.nn.Parameter(lib.ones(2, dtype=lib.float64))
        param.grad = lib.ones(2, dtype=lib.float64)
        clone = copy.deepcopy(param)
        assert type(clone) is type(param)
        assert clone.grad is None
        assert clone.requires_grad
        with lib.no_grad():
            clone.add_(1.0)
        assert param.tolist() == [1.0, 1.0]


# ----------------------------------------------------------------------
# Buffer
# ----------------------------------------------------------------------

def test_buffer_is_plain_tensor_marked_as_buffer():
    for lib in LIBS:
        data = lib.zeros(2)
        buffer = lib.nn.Buffer(data, persistent=False)
        assert type(buffer) is lib.Tensor
        assert isinstance(buffer, lib.nn.Buffer)
        assert not isinstance(data, lib.nn.Buffer)
        assert buffer.persistent is False
        data.add_(1.0)
        assert buffer.tolist() == [1.0, 1.0]


def test_buffer_keeps_requires_grad_of_data():
    for lib in LIBS:
        buffer = lib.nn.Buffer(lib.ones(2, requires_grad=True))
        assert buffer.requires_grad
        assert buffer.is_leaf


def test_buffer_assignment_registers_with_persistence():
    for lib in LIBS:
        module = lib.nn.Module()
        module.kept = lib.nn.Buffer(lib.zeros(1))
        module.dropped = lib.nn.Buffer(lib.zeros(1), persistent=False)
        assert list(module._buffers) == ["kept", "dropped"]
        assert module._non_persistent_buffers_set == {"dropped"}
        # 已登记的名字再赋普通张量：仍是缓冲区，保留原来的 persistent
        module.dropped = lib.ones(2)
        assert module._non_persistent_buffers_set == {"dropped"}
        assert module.dropped.tolist() == [1.0, 1.0]


# ----------------------------------------------------------------------
# __setattr__ / __getattr__ / __delattr__
# ----------------------------------------------------------------------

def test_setattr_sorts_values_into_parameters_buffers_modules():
    mine, theirs = pair()
    for store in ("_parameters", "_buffers", "_modules"):
        assert list(getattr(mine, store)) == list(getattr(theirs, store))
        for child in ("encoder", "stats", "block", "head"):
            assert list(getattr(getattr(mine, child), store)) == list(getattr(getattr(theirs, child), store))
    assert mine.scale == 2.0
    assert "scale" in mine.__dict__
    assert mine.head.tied is mine.encoder.bias


def test_setattr_plain_tensor_is_not_registered():
    for lib in LIBS:
        module = lib.nn.Module()
        module.cache = lib.zeros(2)
        assert not module._parameters
        assert not module._buffers
        assert "cache" in module.__dict__


def test_setattr_registers_over_plain_attribute():
    for lib in LIBS:
        module = lib.nn.Module()
        module.value = 3
        module.value = lib.nn.Parameter(lib.zeros(1))
        assert "value" not in module.__dict__
        assert list(module._parameters) == ["value"]
        module.other = 3
        module.other = lib.nn.Module()
        assert "other" not in module.__dict__
        assert list(module._modules) == ["other"]


def test_setattr_module_over_parameter_raises_type_error():
    mine, theirs = pair()
    same_error(lambda: setattr(mine.encoder, "bias", nn.Module()),
               lambda: setattr(theirs.encoder, "bias", torch.nn.Module()))


def test_setattr_parameter_over_buffer_moves_it():
    for lib in LIBS:
        module = lib.nn.Module()
        module.register_buffer("x", lib.zeros(1), persistent=False)
        module.x = lib.nn.Parameter(lib.zeros(1))
        assert list(module._parameters) == ["x"]
        assert not module._buffers
        assert not module._non_persistent_buffers_set


def test_setattr_tensor_over_parameter_raises_type_error():
    mine, theirs = pair()
    error = same_error(lambda: setattr(mine.encoder, "weight", edunn.zeros(3, 4)),
                       lambda: setattr(theirs.encoder, "weight", torch.zeros(3, 4)))
    assert "'weight'" in str(error)
    assert "FloatTensor" in str(error)
    same_error(lambda: setattr(mine.encoder, "weight", 1.5), lambda: setattr(theirs.encoder, "weight", 1.5))


def test_setattr_none_over_parameter_keeps_slot():
    for lib in LIBS:
        module = classes(lib)[0](2, 2)
        module.bias = None
        assert "bias" in module._parameters
        assert module.bias is None
        assert [name for name, _ in module.named_parameters()] == ["weight"]


def test_setattr_non_module_over_submodule_raises_type_error():
    mine, theirs = pair()
    same_error(lambda: setattr(mine, "head", "text"), lambda: setattr(theirs, "head", "text"))
    mine.head = None
    assert "head" in mine._modules
    assert mine.head is None


def test_setattr_non_tensor_over_buffer_raises_type_error():
    mine, theirs = pair()
    same_error(lambda: setattr(mine.stats, "running", [1.0]), lambda: setattr(theirs.stats, "running", [1.0]))


def test_setattr_before_init_raises_attribute_error():
    for attribute, make in (("param", lambda lib: lib.nn.Parameter(lib.zeros(1))),
                            ("child", lambda lib: lib.nn.Module())):
        messages = []
        for lib in LIBS:
            class Early(lib.nn.Module):
                def __init__(self):
                    setattr(self, attribute, make(lib))

            with pytest.raises(AttributeError) as error:
                Early()
            messages.append(str(error.value))
        assert messages[0] == messages[1]
        assert "before Module.__init__() call" in messages[0]


def test_register_buffer_before_init_raises_attribute_error():
    messages = []
    for lib in LIBS:
        class Early(lib.nn.Module):
            def __init__(self):
                self.register_buffer("b", lib.zeros(1))

        with pytest.raises(AttributeError) as error:
            Early()
        messages.append(str(error.value))
    assert messages == ["cannot assign buffer before Module.__init__() call"] * 2


def test_getattr_unknown_name_raises_attribute_error():
    mine, theirs = pair()
    same_error(lambda: mine.nothing_here, lambda: theirs.nothing_here)


def test_delattr_removes_from_each_store():
    for lib in LIBS:
        net = make_net(lib)
        del net.encoder.weight
        del net.stats.scratch
        del net.head
        del net.scale
        assert list(net.encoder._parameters) == ["bias"]
        assert "scratch" not in net.stats._buffers
        assert not net.stats._non_persistent_buffers_set
        assert "head" not in net._modules
        assert "scale" not in net.__dict__
    mine, theirs = pair()
    same_error(lambda: delattr(mine, "nothing"), lambda: delattr(theirs, "nothing"))


def test_dir_lists_registered_names_like_torch():
    mine, theirs = pair()
    # torch 的实例上还有各种钩子字典（以下划线开头），只比较公开的名字
    own = {n for n in set(dir(mine)) - set(dir(type(mine))) if not n.startswith("_")}
    expected = {n for n in set(dir(theirs)) - set(dir(type(theirs))) if not n.startswith("_")}
    assert own == expected
    assert {"encoder", "head", "scale"} <= own
    sequential = [name for name in dir(nn.Sequential(nn.Module())) if name[0].isdigit()]
    assert sequential == []


# ----------------------------------------------------------------------
# register_* 与 add_module 的检查
# ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["a.b", "", "scale", "encoder", 3])
def test_register_buffer_rejects_bad_names(name):
    mine, theirs = pair()
    same_error(lambda: mine.register_buffer(name, edunn.zeros(1)),
               lambda: theirs.register_buffer(name, torch.zeros(1)))


def test_register_buffer_rejects_non_tensor():
    mine, theirs = pair()
    error = same_error(lambda: mine.register_buffer("b", [1.0]), lambda: theirs.register_buffer("b", [1.0]))
    assert "'b'" in str(error)
    assert "list" in str(error)


def test_register_buffer_again_toggles_persistence():
    for lib in LIBS:
        module = lib.nn.Module()
        module.register_buffer("b", lib.zeros(1), persistent=False)
        module.register_buffer("b", lib.ones(1))
        assert module._non_persistent_buffers_set == set()
        assert module.b.tolist() == [1.0]


@pytest.mark.parametrize("name", ["a.b", "", "scale", "head", 1.0])
def test_register_parameter_rejects_bad_names(name):
    mine, theirs = pair()
    same_error(lambda: mine.register_parameter(name, nn.Parameter(edunn.zeros(1))),
               lambda: theirs.register_parameter(name, torch.nn.Parameter(torch.zeros(1))))


def test_register_parameter_rejects_plain_tensor():
    mine, theirs = pair()
    same_error(lambda: mine.register_parameter("p", edunn.zeros(1)),
               lambda: theirs.register_parameter("p", torch.zeros(1)))


def test_register_parameter_rejects_non_leaf_parameter():
    def make(lib):
        param = lib.nn.Parameter(lib.zeros(2), requires_grad=False)
        param.add_(lib.ones(2, requires_grad=True))  # 就地运算让参数有了 grad_fn
        return param

    mine, theirs = pair()
    error = same_error(lambda: mine.register_parameter("p", make(edunn)),
                       lambda: theirs.register_parameter("p", make(torch)))
    assert "non-leaf" in str(error)


@pytest.mark.parametrize("name", ["a.b", "", "scale", "training", 7])
def test_add_module_rejects_bad_names(name):
    mine, theirs = pair()
    same_error(lambda: mine.add_module(name, nn.Module()), lambda: theirs.add_module(name, torch.nn.Module()))


def test_add_module_rejects_non_module():
    mine, theirs = pair()
    same_error(lambda: mine.add_module("x", 3), lambda: theirs.add_module("x", 3))
    same_error(lambda: mine.register_module("x", "text"), lambda: theirs.register_module("x", "text"))


def test_add_module_replaces_existing_submodule():
    for lib in LIBS:
        net = make_net(lib)
        replacement = lib.nn.Module()
        net.add_module("head", replacement)
        assert net.head is replacement
        assert list(net._modules) == ["encoder", "stats", "block", "unused", "head"]


def test_init_rejects_arguments():
    same_error(lambda: nn.Module(3), lambda: torch.nn.Module(3))
    same_error(lambda: nn.Module(size=3), lambda: torch.nn.Module(size=3))


# ----------------------------------------------------------------------
# forward 与 __call__
# ----------------------------------------------------------------------

def test_missing_forward_raises_not_implemented():
    class Empty(nn.Module):
        pass

    TorchEmpty = type("Empty", (torch.nn.Module,), {})

    error = same_error(lambda: Empty()(1), lambda: TorchEmpty()(1))
    assert str(error) == 'Module [Empty] is missing the required "forward" function'


def test_call_passes_args_and_kwargs_to_forward():
    class Echo(nn.Module):
        def forward(self, a, b=0, *, c=1):
            return a, b, c

    assert Echo()(1, 2, c=3) == (1, 2, 3)
    assert Echo()(1) == (1, 0, 1)


def test_call_output_matches_torch():
    mine, theirs = pair()
    x = values((5, 4), 7)
    out_mine = mine(edunn.tensor(x))
    out_theirs = theirs(torch.tensor(x))
    assert_close(out_mine, out_theirs, rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------------
# 按路径取子模块、参数、缓冲区
# ----------------------------------------------------------------------

@pytest.mark.parametrize("target", ["", "encoder", "block.inner", "block.shared"])
def test_get_submodule_finds_path(target):
    mine, theirs = pair()
    assert type(mine.get_submodule(target)).__name__ == type(theirs.get_submodule(target)).__name__
    assert mine.get_submodule(target) is (mine if target == "" else eval("mine." + target))


@pytest.mark.parametrize("target", ["nothing", "block.nothing", "scale", "encoder.weight", "unused.x"])
def test_get_submodule_errors_match_torch(target):
    mine, theirs = pair()
    same_error(lambda: mine.get_submodule(target), lambda: theirs.get_submodule(target))


def test_set_submodule_replaces_and_adds():
    for lib in LIBS:
        net = make_net(lib)
        new = lib.nn.Module()
        net.set_submodule("block.inner", new)
        assert net.block.inner is new
        net.set_submodule("block.extra", new)
        assert list(net.block._modules) == ["inner", "shared", "extra"]


@pytest.mark.parametrize("target, strict, value", [
    ("", False, "module"), ("block.inner", False, "text"), ("block.missing", True, "module"),
    ("nothing.inner", False, "module"), ("encoder.weight", False, "module"), ("scale", False, "module"),
])
def test_set_submodule_errors_match_torch(target, strict, value):
    mine, theirs = pair()
    same_error(lambda: mine.set_submodule(target, nn.Module() if value == "module" else value, strict=strict),
               lambda: theirs.set_submodule(target, torch.nn.Module() if value == "module" else value,
                                            strict=strict))


def test_get_parameter_and_buffer_by_path():
    mine, _ = pair()
    assert mine.get_parameter("block.inner.weight") is mine.block.inner.weight
    assert mine.get_parameter("head.tied") is mine.encoder.bias
    assert mine.get_buffer("stats.running") is mine.stats.running


@pytest.mark.parametrize("target", ["encoder.missing", "scale", "stats.running", "nothing.weight"])
def test_get_parameter_errors_match_torch(target):
    mine, theirs = pair()
    same_error(lambda: mine.get_parameter(target), lambda: theirs.get_parameter(target))


@pytest.mark.parametrize("target", ["stats.missing_name", "encoder.weight", "scale", "stats"])
def test_get_buffer_errors_match_torch(target):
    mine, theirs = pair()
    same_error(lambda: mine.get_buffer(target), lambda: theirs.get_buffer(target))


# ----------------------------------------------------------------------
# 遍历
# ----------------------------------------------------------------------

def names(pairs):
    return [name for name, _ in pairs]


@pytest.mark.parametrize("kwargs", [{}, {"prefix": "model"}, {"remove_duplicate": False},
                                    {"prefix": "m", "remove_duplicate": False}])
def test_named_modules_order_matches_torch(kwargs):
    mine, theirs = pair()
    assert names(mine.named_modules(**kwargs)) == names(theirs.named_modules(**kwargs))


def test_named_modules_visits_shared_module_once():
    mine, _ = pair()
    visited = names(mine.named_modules())
    assert "encoder" in visited
    assert "block.shared" not in visited
    assert "block.shared" in names(mine.named_modules(remove_duplicate=False))


def test_named_modules_skips_modules_in_memo():
    mine, theirs = pair()
    memo_mine, memo_theirs = {mine.block}, {theirs.block}
    visited = names(mine.named_modules(memo_mine))
    assert visited == names(theirs.named_modules(memo_theirs))
    assert not any(name.startswith("block") for name in visited)
    memo_mine, memo_theirs = {mine.encoder}, {theirs.encoder}
    assert names(mine.named_modules(memo_mine)) == names(theirs.named_modules(memo_theirs))
    assert mine.head in memo_mine  # 遍历过程中 memo 被填充


def test_modules_yields_same_objects_as_named_modules():
    mine, theirs = pair()
    for remove_duplicate in (True, False):
        ours = list(mine.modules(remove_duplicate=remove_duplicate))
        assert ours == [m for _, m in mine.named_modules(remove_duplicate=remove_duplicate)]
        assert len(ours) == len(list(theirs.modules(remove_duplicate=remove_duplicate)))


def test_named_children_skips_none_and_duplicates():
    for lib in LIBS:
        module = lib.nn.Module()
        shared = lib.nn.Module()
        module.a = shared
        module.add_module("nothing", None)
        module.b = shared
        module.c = lib.nn.Module()
        assert names(module.named_children()) == ["a", "c"]
        assert list(module.children()) == [shared, module.c]


@pytest.mark.parametrize("kwargs", [{}, {"prefix": "net"}, {"recurse": False}, {"remove_duplicate": False},
                                    {"prefix": "x", "recurse": False, "remove_duplicate": False}])
def test_named_parameters_order_matches_torch(kwargs):
    mine, theirs = pair()
    assert names(mine.named_parameters(**kwargs)) == names(theirs.named_parameters(**kwargs))


def test_named_parameters_values_match_torch():
    mine, theirs = pair()
    for (name, p_mine), (_, p_theirs) in zip(mine.named_parameters(), theirs.named_parameters()):
        assert_close(p_mine, p_theirs, rtol=0, atol=0, msg=name)


def test_tied_parameter_visited_once():
    mine, _ = pair()
    params = list(mine.parameters())
    assert len(params) == len({id(p) for p in params}) == 5
    assert "head.tied" in names(mine.named_parameters(remove_duplicate=False))
    assert "head.tied" not in names(mine.named_parameters())


@pytest.mark.parametrize("kwargs", [{}, {"prefix": "net"}, {"recurse": False}, {"remove_duplicate": False}])
def test_named_buffers_order_matches_torch(kwargs):
    mine, theirs = pair()
    assert names(mine.named_buffers(**kwargs)) == names(theirs.named_buffers(**kwargs))
    assert len(list(mine.buffers(recurse=kwargs.get("recurse", True)))) == \
        len(list(theirs.buffers(recurse=kwargs.get("recurse", True))))


def test_shared_buffer_visited_once():
    for lib in LIBS:
        module = lib.nn.Module()
        module.a = lib.nn.Module()
        module.b = lib.nn.Module()
        shared = lib.zeros(1)
        module.a.register_buffer("x", shared)
        module.b.register_buffer("y", shared)
        assert names(module.named_buffers()) == ["a.x"]
        assert names(module.named_buffers(remove_duplicate=False)) == ["a.x", "b.y"]


def test_apply_visits_children_before_parent():
    orders = []
    for lib in LIBS:
        net = make_net(lib)
        labels = {id(m): name for name, m in net.named_modules(remove_duplicate=False)}
        seen = []
        assert net.apply(lambda m: seen.append(labels[id(m)])) is net
        orders.append(seen)
    assert orders[0] == orders[1]
    assert orders[0][-1] == ""


def test_apply_initialises_weights():
    def init(module):
        if hasattr(module, "n_in"):
            with edunn.no_grad():
                module.weight.fill_(0.5)

    net = make_net(edunn)
    net.apply(init)
    assert all(v == 0.5 for v in net.block.inner.weight.reshape(-1).tolist())
    assert all(v == 0.5 for v in net.head.weight.reshape(-1).tolist())


# ----------------------------------------------------------------------
# 模式与梯度
# ----------------------------------------------------------------------

def test_train_and_eval_set_flag_recursively():
    mine, theirs = pair()
    for action in ("eval", "train", "eval"):
        getattr(mine, action)()
        getattr(theirs, action)()
        flags_mine = [(n, m.training) for n, m in mine.named_modules(remove_duplicate=False)]
        flags_theirs = [(n, m.training) for n, m in theirs.named_modules(remove_duplicate=False)]
        assert flags_mine == flags_theirs
        assert all(flag == (action == "train") for _, flag in flags_mine)
    assert mine.train(False) is mine
    assert not mine.training
    assert mine.train() is mine
    assert mine.training


def test_train_rejects_non_bool_mode():
    mine, theirs = pair()
    same_error(lambda: mine.train(1), lambda: theirs.train(1))
    same_error(lambda: mine.train("eval"), lambda: theirs.train("eval"))
    assert mine.training


def test_requires_grad_toggles_all_parameters():
    mine, theirs = pair()
    assert mine.requires_grad_(False) is mine
    theirs.requires_grad_(False)
    assert [p.requires_grad for p in mine.parameters()] == [p.requires_grad for p in theirs.parameters()]
    assert not any(p.requires_grad for p in mine.parameters())
    mine.block.requires_grad_()
    assert [n for n, p in mine.named_parameters() if p.requires_grad] == ["encoder.weight", "encoder.bias",
                                                                            "block.inner.weight"]


def run_backward(net, lib):
    net(lib.tensor(values((5, 4), 3))).sum().backward()


def test_backward_grads_match_torch():
    mine, theirs = pair()
    run_backward(mine, edunn)
    run_backward(theirs, torch)
    for (name, p_mine), (_, p_theirs) in zip(mine.named_parameters(), theirs.named_parameters()):
        assert_close(p_mine.grad, p_theirs.grad, rtol=1e-10, atol=1e-12, msg=name)


def test_zero_grad_sets_grads_to_none_by_default():
    mine, theirs = pair()
    run_backward(mine, edunn)
    run_backward(theirs, torch)
    mine.zero_grad()
    theirs.zero_grad()
    assert [p.grad for p in mine.parameters()] == [p.grad for p in theirs.parameters()] == [None] * 5


def test_zero_grad_in_place_zeroing():
    mine, theirs = pair()
    run_backward(mine, edunn)
    run_backward(theirs, torch)
    grads_before = [p.grad for p in mine.parameters()]
    mine.zero_grad(set_to_none=False)
    theirs.zero_grad(set_to_none=False)
    for before, p_mine, p_theirs in zip(grads_before, mine.parameters(), theirs.parameters()):
        assert p_mine.grad is before
        assert_close(p_mine.grad, p_theirs.grad, rtol=0, atol=0)
        assert not p_mine.grad.requires_grad
        assert all(v == 0.0 for v in p_mine.grad.reshape(-1).tolist())


def test_zero_grad_detaches_grad_with_history():
    for lib in LIBS:
        param = lib.nn.Parameter(lib.ones(2))
        module = lib.nn.Module()
        module.p = param
        param.grad = lib.ones(2, requires_grad=True) * 2
        module.zero_grad(set_to_none=False)
        assert param.grad.grad_fn is None
        assert not param.grad.requires_grad
        assert param.grad.tolist() == [0.0, 0.0]


# ----------------------------------------------------------------------
# 打印
# ----------------------------------------------------------------------

def test_repr_layout_matches_torch():
    mine, theirs = pair()
    assert repr(mine) == repr(theirs)
    assert "\n    (inner): Affine(in=3, out=3, bias=False)" in repr(mine)
    assert "(unused): None" in repr(mine)


def test_repr_multiline_extra_repr_matches_torch():
    mine, theirs = classes(edunn)[1](), classes(torch)[1]()
    assert repr(mine) == repr(theirs) == "Stats(\n  first line\n  second line\n)"


def test_repr_of_bare_module():
    assert repr(nn.Module()) == repr(torch.nn.Module()) == "Module()"
    assert nn.Module().extra_repr() == ""


def test_get_name_is_class_name():
    mine, theirs = pair()
    assert mine._get_name() == theirs._get_name() == "Net"


# ----------------------------------------------------------------------
# _apply：to / double / float
# ----------------------------------------------------------------------

def dtypes(module):
    return [(n, str(t.dtype).split(".")[-1]) for n, t in list(module.named_parameters())
            + list(module.named_buffers())]


@pytest.mark.parametrize("method", ["float", "double", "half", "to_float64", "to_float32_kw"])
def test_cast_methods_match_torch(method):
    mine, theirs = pair()
    run_backward(mine, edunn)
    run_backward(theirs, torch)
    params_before = list(mine.parameters())
    grads_before = [p.grad for p in params_before]

    def cast(module, lib):
        if method == "to_float64":
            return module.to(lib.float64)
        if method == "to_float32_kw":
            return module.to(dtype=lib.float32)
        return getattr(module, method)()

    assert cast(mine, edunn) is mine
    cast(theirs, torch)
    assert dtypes(mine) == dtypes(theirs)
    assert list(mine.parameters()) == params_before
    for before, param in zip(grads_before, mine.parameters()):
        assert param.grad is before
        assert param.grad.dtype is param.dtype
    assert mine.stats.count.dtype is edunn.int64


def test_double_keeps_values_and_forward_matches_torch():
    mine = make_net(edunn).float()
    theirs = make_net(torch).float()
    mine.double()
    theirs.double()
    for (name, a), (_, b) in zip(mine.named_parameters(), theirs.named_parameters()):
        assert_close(a, b, rtol=0, atol=0, msg=name)
    x = values((2, 4), 5)
    assert_close(mine(edunn.tensor(x)), theirs(torch.tensor(x)), rtol=1e-12, atol=1e-14)


def test_to_rejects_integer_dtype():
    mine, theirs = pair()
    same_error(lambda: mine.to(edunn.int64), lambda: theirs.to(torch.int64))


def test_to_tensor_and_device_arguments():
    mine = make_net(edunn)
    assert mine.to(edunn.zeros(1, dtype=edunn.float32)) is mine
    assert mine.encoder.weight.dtype is edunn.float32
    mine.to("cpu", edunn.float64)
    assert mine.encoder.weight.dtype is edunn.float64
    assert mine.cpu() is mine
    assert mine.encoder.weight.device == edunn.device("cpu")


def test_apply_replaces_buffers_but_keeps_parameters():
    mine = make_net(edunn)
    running = mine.stats.running
    weight = mine.encoder.weight
    mine.float()
    assert mine.stats.running is not running
    assert mine.stats.running.dtype is edunn.float32
    assert mine.encoder.weight is weight


def test_deepcopy_module_is_independent():
    mine = make_net(edunn)
    clone = copy.deepcopy(mine)
    assert names(clone.named_parameters()) == names(mine.named_parameters())
    assert clone.head.tied is clone.encoder.bias  # 绑定关系在副本里保持
    with edunn.no_grad():
        clone.encoder.weight.fill_(0.0)
    assert any(v != 0.0 for v in mine.encoder.weight.reshape(-1).tolist())


def test_bridge_round_trip_of_parameter_values():
    param = nn.Parameter(edunn.tensor(values((2, 2), 9)))
    back = from_torch(to_torch(param))
    assert_close(back, param, rtol=0, atol=0)
