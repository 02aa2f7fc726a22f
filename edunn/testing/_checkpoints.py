"""第 7 章（state_dict 与检查点）练习的检查器。"""

import collections
import json
import os
import struct
import tempfile

import numpy as np

from ._bridge import _torch, from_torch
from ._records import compare_with_torch


def _models(lib):
    """检查用的几个模型：带 BatchNorm 的 Sequential、共享参数的模型、带非持久缓冲区与 None 参数的模型。"""
    lnn = lib.nn

    class Tied(lnn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = lnn.Linear(3, 3)
            self.decoder = lnn.Linear(3, 3)
            self.decoder.weight = self.encoder.weight

    class Buffers(lnn.Module):
        def __init__(self):
            super().__init__()
            self.scale = lnn.Parameter(lib.ones(2, dtype=lib.float64))
            self.register_parameter("shift", None)
            self.register_buffer("total", lib.zeros(2, dtype=lib.float64))
            self.register_buffer("scratch", lib.ones(2, dtype=lib.float64), persistent=False)
            self.inner = lnn.Sequential(lnn.Linear(2, 2))

    sequential = lnn.Sequential(lnn.Linear(3, 4), lnn.BatchNorm1d(4), lnn.ReLU(), lnn.Linear(4, 2))
    return [sequential.double(), Tied().double(), Buffers().double()]


def _same_weights(edunn_model, torch_model):
    """给 torch 模型填上固定数值，再载入 edunn 模型，两边因此完全相同。"""
    torch = _torch()
    with torch.no_grad():
        for index, tensor in enumerate(torch_model.state_dict().values()):
            if tensor.is_floating_point():
                tensor.copy_(torch.from_numpy(np.random.RandomState(index).standard_normal(tuple(tensor.shape))))
            else:
                tensor.fill_(index + 1)
    edunn_model.load_state_dict(from_torch(torch_model.state_dict()))


def _paired_models():
    import edunn

    torch = _torch()
    pairs = list(zip(_models(edunn), _models(torch)))
    for edunn_model, torch_model in pairs:
        _same_weights(edunn_model, torch_model)
    return pairs


def check_state_dict_function(fn):
    """比较你的 ``fn(module)`` 与 torch 的 ``module.state_dict()``：键、顺序、dtype 与数值。

    在三种模型上检查：带 BatchNorm 的 Sequential（整数缓冲区 ``num_batches_tracked``）、两个名字共享
    同一参数的模型、带 ``persistent=False`` 缓冲区与值为 None 的参数的模型。``_metadata`` 不比较。
    全部一致时返回 True，否则抛出 AssertionError。
    """
    for index, (edunn_model, torch_model) in enumerate(_paired_models()):
        def scenario(lib, edunn_model=edunn_model, torch_model=torch_model):
            if lib.__name__ == "torch":
                return dict(torch_model.state_dict())
            return dict(fn(edunn_model))

        try:
            compare_with_torch(scenario)
        except AssertionError as error:
            raise AssertionError(f"model {index} ({type(torch_model).__name__}): {error}") from None
    return True


def _broken_state_dicts(lib, model):
    """几份有问题的 state_dict：缺键、多键、形状不符，以及它们的组合。"""
    state = model.state_dict()
    missing = collections.OrderedDict((k, v) for k, v in state.items() if k != "0.bias")
    unexpected = collections.OrderedDict(state, **{"1.extra": lib.zeros(1), "head.weight": lib.zeros(1)})
    wrong_shape = collections.OrderedDict(state)
    wrong_shape["0.weight"] = lib.zeros(3, 3, dtype=lib.float64)
    wrong_shape["3.bias"] = lib.zeros(5, dtype=lib.float64)
    mixed = collections.OrderedDict((k, v) for k, v in wrong_shape.items() if k != "1.running_var")
    mixed["unknown"] = lib.zeros(1)
    return [state, missing, unexpected, wrong_shape, mixed]


def _torch_report(model, state):
    """torch 对这份 state_dict 的判断：(缺少的键, 多出的键, 形状不符的键)。"""
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as error:
        keys = [line.split("size mismatch for ", 1)[1].split(":", 1)[0]
                for line in str(error).split("\n\t") if line.startswith("size mismatch for ")]
        # 形状不符时 torch 直接报错、不返回缺键与多键；用去掉这些键的副本再问一次
        trimmed = collections.OrderedDict((k, v) for k, v in state.items() if k not in keys)
        result = model.load_state_dict(trimmed, strict=False)
        missing = [k for k in result.missing_keys if k not in keys]
        return missing, list(result.unexpected_keys), keys
    return list(result.missing_keys), list(result.unexpected_keys), []


def check_load_report(fn):
    """比较你的 ``fn(module, state_dict) -> (missing_keys, unexpected_keys, mismatched_keys)`` 与 torch 的判断。

    三个列表都按集合比较（顺序不限）：missing/unexpected 与 torch 的 ``load_state_dict(strict=False)``
    给出的相同，mismatched 是 torch 报 "size mismatch" 的键。fn 只检查、不修改模块：
    调用前后模块的每个参数与缓冲区都必须保持原样。全部一致时返回 True，否则抛出 AssertionError。
    """
    import edunn

    torch = _torch()
    torch_model = _models(torch)[0]
    edunn_model = _models(edunn)[0]
    _same_weights(edunn_model, torch_model)
    before = {k: v.clone() for k, v in edunn_model.state_dict().items()}
    for index, state in enumerate(_broken_state_dicts(torch, torch_model)):
        expected = _torch_report(_models(torch)[0], state)
        actual = fn(edunn_model, from_torch(state))
        actual = tuple(sorted(keys) for keys in actual)
        expected = tuple(sorted(keys) for keys in expected)
        if actual != expected:
            raise AssertionError(f"state_dict {index}: your function gives {actual}, torch gives {expected}")
        for key, value in edunn_model.state_dict().items():
            if not bool((value == before[key]).all()):
                raise AssertionError(f"state_dict {index}: your function changed {key} in the module")
    return True


def _read_header(path):
    """按 edunn.serialization 文档描述的布局读出头部 JSON（检查器自己的参考实现）。"""
    with open(path, "rb") as handle:
        content = handle.read()
    _, _, header_size, _ = struct.unpack_from("<8sIQQ", content)
    return json.loads(content[28:28 + header_size])


def check_checkpoint_reader(fn):
    """比较你的 ``fn(path)`` 与参考实现读出的 edunn 检查点头部（一个 dict：arrays、tensors、root）。

    检查点由 ``edunn.save`` 写出，内容有张量、嵌套的字典与列表、共享的张量。全部一致时返回 True，
    否则抛出 AssertionError。
    """
    import edunn

    weight = edunn.arange(6.0).reshape(2, 3)
    samples = [
        edunn.tensor([1.0, 2.0]),
        {"model": collections.OrderedDict(w=weight, b=edunn.zeros(2, dtype=edunn.int64)), "step": 3},
        [weight, weight, (1.5, None, "text")],
    ]
    with tempfile.TemporaryDirectory() as directory:
        for index, sample in enumerate(samples):
            path = os.path.join(directory, f"sample{index}.ckpt")
            edunn.save(sample, path)
            expected = _read_header(path)
            actual = fn(path)
            if actual != expected:
                raise AssertionError(f"sample {index}: your reader gives {actual!r}, expected {expected!r}")
    return True


__all__ = ["check_checkpoint_reader", "check_load_report", "check_state_dict_function"]
