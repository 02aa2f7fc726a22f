"""Sequential、ModuleList、ModuleDict、ParameterList、ParameterDict：同一串操作在 edunn 与 torch 上的结果相同。"""

from collections import OrderedDict

import numpy as np
import pytest
import torch

import edunn
from edunn import nn
from edunn.testing import assert_close

LIBS = (edunn, torch)


def same_error(edunn_call, torch_call):
    with pytest.raises(Exception) as expected:
        torch_call()
    with pytest.raises(type(expected.value)) as actual:
        edunn_call()
    assert str(actual.value) == str(expected.value).replace("torch", "edunn")
    return actual.value


_LAYERS = {}


def layer_classes(lib):
    """两个带参数、可区分的小层：Scale(k) 把输入乘以 k，Shift(k) 加上 k。"""
    if lib in _LAYERS:
        return _LAYERS[lib]

    class Scale(lib.nn.Module):
        def __init__(self, k):
            super().__init__()
            self.k = k
            self.weight = lib.nn.Parameter(lib.full((1,), float(k), dtype=lib.float64))

        def forward(self, x):
            return x * self.weight

        def extra_repr(self):
            return f"k={self.k}"

    class Shift(lib.nn.Module):
        def __init__(self, k):
            super().__init__()
            self.k = k

        def forward(self, x):
            return x + self.k

        def extra_repr(self):
            return f"k={self.k}"

    _LAYERS[lib] = Scale, Shift
    return _LAYERS[lib]


def layers(lib, spec):
    """spec 像 "s2 t1 s3"：s 表示 Scale，t 表示 Shift，数字是 k。"""
    scale, shift = layer_classes(lib)
    return [(scale if item[0] == "s" else shift)(int(item[1:])) for item in spec.split()]


def sequential(lib, spec="s2 t1 s3 t4"):
    return lib.nn.Sequential(*layers(lib, spec))


def summary(module):
    """可比较的描述：repr 加上 (名字, 层的 extra_repr) 列表。"""
    return repr(module), [(name, child.extra_repr()) for name, child in module.named_children()]


def both(action):
    """对两个库各执行一次 action(lib)，返回两个结果。"""
    return action(edunn), action(torch)


def assert_same(action):
    mine, theirs = both(action)
    assert mine == theirs
    return mine


# ----------------------------------------------------------------------
# Sequential
# ----------------------------------------------------------------------

def test_sequential_forward_chains_modules():
    x = np.arange(3.0)
    mine = sequential(edunn)(edunn.tensor(x))
    theirs = sequential(torch)(torch.tensor(x))
    assert_close(mine, theirs, rtol=0, atol=0)


def test_sequential_repr_matches_torch():
    text = assert_same(lambda lib: repr(sequential(lib)))
    assert text.startswith("Sequential(\n  (0): Scale(k=2)\n  (1): Shift(k=1)")
    assert_same(lambda lib: repr(lib.nn.Sequential()))


def test_sequential_from_ordered_dict_uses_keys():
    def build(lib):
        scale, shift = layer_classes(lib)
        return lib.nn.Sequential(OrderedDict([("first", scale(2)), ("second", shift(5))]))

    assert assert_same(lambda lib: summary(build(lib)))[1] == [("first", "k=2"), ("second", "k=5")]


@pytest.mark.parametrize("index", [0, 2, -1, -4, 3])
def test_sequential_integer_index(index):
    assert_same(lambda lib: sequential(lib)[index].extra_repr())


@pytest.mark.parametrize("index", [4, -5])
def test_sequential_index_out_of_range(index):
    same_error(lambda: sequential(edunn)[index], lambda: sequential(torch)[index])


@pytest.mark.parametrize("index", [slice(1, 3), slice(None, None, -1), slice(-2, None), slice(5, 9)])
def test_sequential_slice_returns_sequential(index):
    result = assert_same(lambda lib: summary(sequential(lib)[index]))
    assert result[0].startswith("Sequential(")


def test_sequential_slice_of_ordered_dict_keeps_keys():
    def build(lib):
        scale, shift = layer_classes(lib)
        return lib.nn.Sequential(OrderedDict([("a", scale(1)), ("b", shift(2)), ("c", scale(3))]))

    assert assert_same(lambda lib: summary(build(lib)[1:]))[1] == [("b", "k=2"), ("c", "k=3")]


def test_sequential_slice_shares_modules():
    model = sequential(edunn)
    assert model[1:3][0] is model[1]


@pytest.mark.parametrize("index", [1, -1, slice(0, 2), slice(None, None, 2)])
def test_sequential_delete_renumbers(index):
    def run(lib):
        model = sequential(lib)
        del model[index]
        return summary(model)

    assert_same(run)


def test_sequential_setitem_replaces_module():
    def run(lib):
        model = sequential(lib)
        model[-2] = layers(lib, "s9")[0]
        return summary(model)

    assert_same(run)
    same_error(lambda: sequential(edunn).__setitem__(7, nn.Module()),
               lambda: sequential(torch).__setitem__(7, torch.nn.Module()))


def test_sequential_append_insert_extend():
    def run(lib):
        model = sequential(lib, "s2 t1")
        assert model.append(layers(lib, "s5")[0]) is model
        model.insert(0, layers(lib, "t7")[0])
        model.insert(-1, layers(lib, "t8")[0])
        model.insert(len(model), layers(lib, "s6")[0])
        model.extend(layers(lib, "t3 s4"))
        return summary(model)

    assert_same(run)


def test_sequential_insert_errors_match_torch():
    same_error(lambda: sequential(edunn).insert(9, nn.Module()),
               lambda: sequential(torch).insert(9, torch.nn.Module()))
    same_error(lambda: sequential(edunn).insert(0, "text"), lambda: sequential(torch).insert(0, "text"))


def test_sequential_pop():
    def run(lib):
        model = sequential(lib)
        popped = model.pop(1)
        return popped.extra_repr(), summary(model)

    assert_same(run)


def test_sequential_add_and_iadd():
    def run(lib):
        left, right = sequential(lib, "s2 t1"), sequential(lib, "s3")
        combined = left + right
        left += right
        return summary(combined), summary(left), combined[2] is right[0]

    assert assert_same(run)[2]
    same_error(lambda: sequential(edunn) + nn.ModuleList(), lambda: sequential(torch) + torch.nn.ModuleList())
    with pytest.raises(ValueError, match="add operator supports only objects of Sequential class"):
        model = sequential(edunn)
        model += [nn.Module()]


def test_sequential_multiply():
    def run(lib):
        model = sequential(lib, "s2 t1")
        product = model * 2
        reverse = 3 * model
        model *= 2
        return summary(product), summary(reverse), summary(model)

    assert_same(run)
    same_error(lambda: sequential(edunn) * 0, lambda: sequential(torch) * 0)
    same_error(lambda: sequential(edunn) * 1.5, lambda: sequential(torch) * 1.5)


def test_sequential_len_iter_and_parameters():
    def run(lib):
        model = sequential(lib)
        return len(model), [m.extra_repr() for m in model], [n for n, _ in model.named_parameters()]

    assert assert_same(run)[0] == 4


def test_sequential_shared_module_parameters_once():
    def run(lib):
        scale = layers(lib, "s2")[0]
        model = lib.nn.Sequential(scale, layers(lib, "t1")[0], scale)
        return ([n for n, _ in model.named_parameters()], [n for n, _ in model.named_modules()],
                len(list(model.children())))

    assert assert_same(run)[0] == ["0.weight"]


# ----------------------------------------------------------------------
# ModuleList
# ----------------------------------------------------------------------

def test_module_list_registers_and_indexes():
    def run(lib):
        modules = lib.nn.ModuleList(layers(lib, "s1 t2 s3"))
        return (len(modules), modules[-1].extra_repr(), [n for n, _ in modules.named_parameters()],
                summary(modules[1:]), type(modules[::2]).__name__)

    assert_same(run)


def test_module_list_repr_compresses_repeats():
    def run(lib):
        return repr(lib.nn.ModuleList(layers(lib, "s1 s1 s1 t2 s1 t2 t2")))

    text = assert_same(run)
    assert "(0-2): 3 x Scale(k=1)" in text
    assert_same(lambda lib: repr(lib.nn.ModuleList()))


def test_module_list_repr_indents_nested_modules():
    assert_same(lambda lib: repr(lib.nn.ModuleList([sequential(lib), sequential(lib), lib.nn.Module()])))


def test_module_list_mutation():
    def run(lib):
        modules = lib.nn.ModuleList(layers(lib, "s1 t2"))
        modules.append(layers(lib, "s3")[0])
        modules.extend(layers(lib, "t4 s5"))
        modules.insert(1, layers(lib, "t6")[0])
        modules[0] = layers(lib, "s7")[0]
        del modules[2]
        popped = modules.pop(-1)
        modules += layers(lib, "t8")
        combined = modules + layers(lib, "s9")
        del modules[::2]
        return summary(modules), summary(combined), popped.extra_repr()

    assert_same(run)


def test_module_list_errors_match_torch():
    same_error(lambda: nn.ModuleList([nn.Module()])[3], lambda: torch.nn.ModuleList([torch.nn.Module()])[3])
    same_error(lambda: nn.ModuleList().extend(5), lambda: torch.nn.ModuleList().extend(5))
    same_error(lambda: nn.ModuleList([3]), lambda: torch.nn.ModuleList([3]))


def test_module_list_has_no_forward():
    same_error(lambda: nn.ModuleList()(1), lambda: torch.nn.ModuleList()(1))


# ----------------------------------------------------------------------
# ModuleDict
# ----------------------------------------------------------------------

def test_module_dict_preserves_insertion_order():
    def run(lib):
        scale, shift = layer_classes(lib)
        modules = lib.nn.ModuleDict({"b": scale(1), "a": shift(2)})
        modules["c"] = scale(3)
        modules.update([("d", shift(4)), ("a", scale(5))])
        modules.update(OrderedDict([("e", shift(6))]))
        return (list(modules), list(modules.keys()), [m.extra_repr() for m in modules.values()],
                [k for k, _ in modules.items()], "c" in modules, len(modules), summary(modules))

    assert_same(run)


def test_module_dict_pop_delete_clear():
    def run(lib):
        scale, _ = layer_classes(lib)
        modules = lib.nn.ModuleDict({"x": scale(1), "y": scale(2), "z": scale(3)})
        popped = modules.pop("y")
        del modules["x"]
        remaining = list(modules)
        modules.clear()
        return popped.extra_repr(), remaining, len(modules)

    assert_same(run)


def test_module_dict_update_errors_match_torch():
    same_error(lambda: nn.ModuleDict(5), lambda: torch.nn.ModuleDict(5))
    same_error(lambda: nn.ModuleDict([("a", nn.Module(), 3)]), lambda: torch.nn.ModuleDict([("a", torch.nn.Module(), 3)]))
    same_error(lambda: nn.ModuleDict([5]), lambda: torch.nn.ModuleDict([5]))
    same_error(lambda: nn.ModuleDict({"a.b": nn.Module()}), lambda: torch.nn.ModuleDict({"a.b": torch.nn.Module()}))


# ----------------------------------------------------------------------
# ParameterList
# ----------------------------------------------------------------------

def make_values(lib, shape, seed):
    return lib.tensor(np.random.RandomState(seed).standard_normal(shape))


def test_parameter_list_wraps_tensors_and_keeps_other_objects():
    def run(lib):
        params = lib.nn.ParameterList([make_values(lib, (2, 3), 0), lib.nn.Parameter(lib.zeros(4)), "text"])
        params.append(lib.ones(1, dtype=lib.float64))
        params.extend([make_values(lib, (1,), 1)])
        return ([type(p).__name__ for p in params], [n for n, _ in params.named_parameters()], len(params),
                repr(params).replace("torch.", "edunn."))

    kinds, names, length, text = assert_same(run)
    assert kinds[:3] == ["Parameter", "Parameter", "str"]
    assert names == ["0", "1", "3", "4"]
    assert "(2): Object of type: str" in text


def test_parameter_list_indexing_and_slicing():
    def run(lib):
        params = lib.nn.ParameterList([make_values(lib, (2,), i) for i in range(5)])
        sliced = params[1:4:2]
        params[-1] = make_values(lib, (3,), 9)
        return (params[-2].tolist(), type(sliced).__name__, [p.tolist() for p in sliced],
                [tuple(p.shape) for p in params], params[1:4:2][0] is params[1])

    assert assert_same(run)[4]


def test_parameter_list_errors_match_torch():
    same_error(lambda: nn.ParameterList()[0], lambda: torch.nn.ParameterList()[0])
    same_error(lambda: nn.ParameterList().extend(edunn.zeros(2)), lambda: torch.nn.ParameterList().extend(torch.zeros(2)))
    same_error(lambda: nn.ParameterList()(1), lambda: torch.nn.ParameterList()(1))


def test_parameter_list_grads_flow():
    def run(lib):
        params = lib.nn.ParameterList([make_values(lib, (3,), 0), make_values(lib, (3,), 1)])
        (params[0] * params[1]).sum().backward()
        return [p.grad.tolist() for p in params]

    assert_same(run)


# ----------------------------------------------------------------------
# ParameterDict
# ----------------------------------------------------------------------

def test_parameter_dict_sorts_plain_dict_and_keeps_ordered():
    def run(lib):
        params = lib.nn.ParameterDict({"b": make_values(lib, (2,), 0), "a": lib.zeros(3, dtype=lib.float64)})
        params.update(OrderedDict([("z", make_values(lib, (1,), 1)), ("c", 7)]))
        params.update([("y", lib.nn.Parameter(lib.ones(2)))])
        params["a"] = make_values(lib, (4,), 2)
        return (list(params), [n for n, _ in params.named_parameters()], list(reversed(params)),
                repr(params).replace("torch.", "edunn."), [type(v).__name__ for v in params.values()])

    keys, param_names, _, text, _ = assert_same(run)
    assert keys == ["a", "b", "z", "c", "y"]
    assert param_names == ["a", "b", "z", "y"]
    assert "(a): Parameter containing: [edunn.DoubleTensor of size 4]" in text


def test_parameter_dict_dict_methods():
    def run(lib):
        params = lib.nn.ParameterDict({"x": make_values(lib, (2,), 0), "y": make_values(lib, (2,), 1)})
        default = params.setdefault("z", lib.zeros(1))
        existing = params.setdefault("x", lib.ones(1))
        popped = params.pop("y")
        last = params.popitem()
        got = params.get("missing", 3)
        copied = params.copy()
        keys_from = params.fromkeys(["p", "q"], lib.ones(1))
        merged = params | lib.nn.ParameterDict({"w": lib.ones(1)})
        reverse_merged = lib.nn.ParameterDict({"w": lib.ones(1)}).__ror__(params)
        params |= lib.nn.ParameterDict({"v": lib.ones(1)})
        result = ([type(default).__name__, existing.tolist(), popped.tolist(), last[0], got, list(copied),
                   list(keys_from), list(merged), list(reverse_merged), list(params),
                   copied["x"] is params["x"]])
        params.clear()
        return result + [len(params)]

    assert_same(run)


def test_parameter_dict_errors_match_torch():
    same_error(lambda: nn.ParameterDict()[3], lambda: torch.nn.ParameterDict()[3])
    same_error(lambda: nn.ParameterDict(5), lambda: torch.nn.ParameterDict(5))
    same_error(lambda: nn.ParameterDict([("a",)]), lambda: torch.nn.ParameterDict([("a",)]))
    same_error(lambda: nn.ParameterDict()(1), lambda: torch.nn.ParameterDict()(1))
    same_error(lambda: nn.ParameterDict()["missing"], lambda: torch.nn.ParameterDict()["missing"])


def test_containers_nested_in_module_traverse_like_torch():
    def run(lib):
        root = lib.nn.Module()
        root.body = sequential(lib, "s1 t2")
        root.heads = lib.nn.ModuleDict({"left": sequential(lib, "s3"), "right": lib.nn.ModuleList(layers(lib, "s4 s5"))})
        root.extra = lib.nn.ParameterList([lib.zeros(2, dtype=lib.float64)])
        root.table = lib.nn.ParameterDict({"w": lib.ones(1, dtype=lib.float64)})
        return ([n for n, _ in root.named_modules()], [n for n, _ in root.named_parameters()],
                repr(root).replace("torch.", "edunn."))

    assert_same(run)
