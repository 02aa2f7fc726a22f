"""同一段代码在 edunn 与 torch 上各跑一遍，比较两份"记录"：钩子、state_dict 与类型转换各章的检查器都用它。"""

import numpy as np

from .._tensor import Tensor
from ._bridge import _torch


def _plain(value, torch):
    """把记录换成只含 Python 值与 numpy 数组的结构；张量记成 ("tensor", dtype 名, 数组)，模块记成类名。"""
    from ..nn import Module

    if isinstance(value, Tensor) or isinstance(value, torch.Tensor):
        detached = value.detach()
        dtype = str(detached.dtype).split(".")[-1]
        as_double = detached.double() if detached.dtype.is_floating_point else detached.long()
        if isinstance(value, Tensor):
            array = as_double.numpy(force=True)
        else:
            array = as_double.cpu().numpy()
        return ("tensor", dtype, np.array(array))
    if isinstance(value, (Module, torch.nn.Module)):
        return ("module", type(value).__name__)
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(v, torch) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v, torch) for k, v in value.items()}
    if type(value).__name__ in ("dtype", "device", "memory_format", "Size"):
        return str(value).replace("torch.", "edunn.")
    return value


def _compare(actual, expected, path, rtol, atol):
    if isinstance(expected, tuple) and len(expected) == 3 and expected[0] == "tensor":
        if not (isinstance(actual, tuple) and len(actual) == 3 and actual[0] == "tensor"):
            raise AssertionError(f"{path}: torch gives a tensor, edunn gives {actual!r}")
        if actual[1] != expected[1]:
            raise AssertionError(f"{path}: dtype {actual[1]} in edunn, {expected[1]} in torch")
        if actual[2].shape != expected[2].shape:
            raise AssertionError(f"{path}: shape {list(actual[2].shape)} in edunn, {list(expected[2].shape)} in torch")
        if not np.allclose(actual[2], expected[2], rtol=rtol, atol=atol, equal_nan=True):
            worst = float(np.nanmax(np.abs(actual[2] - expected[2]))) if actual[2].size else 0.0
            raise AssertionError(f"{path}: values differ (max abs difference {worst:.3e}, rtol={rtol}, atol={atol})")
        return
    if type(actual) is not type(expected):
        raise AssertionError(f"{path}: edunn gives {actual!r}, torch gives {expected!r}")
    if isinstance(expected, (tuple, list)):
        if len(actual) != len(expected):
            raise AssertionError(f"{path}: length {len(actual)} in edunn, {len(expected)} in torch")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, f"{path}[{i}]", rtol, atol)
        return
    if isinstance(expected, dict):
        if list(actual) != list(expected):
            raise AssertionError(f"{path}: keys {list(actual)} in edunn, {list(expected)} in torch")
        for key in expected:
            _compare(actual[key], expected[key], f"{path}[{key!r}]", rtol, atol)
        return
    if isinstance(expected, float):
        if not np.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True):
            raise AssertionError(f"{path}: {actual!r} in edunn, {expected!r} in torch")
        return
    if actual != expected:
        raise AssertionError(f"{path}: {actual!r} in edunn, {expected!r} in torch")


def compare_with_torch(scenario, *, rtol=1e-10, atol=1e-12):
    """运行 ``scenario(edunn)`` 与 ``scenario(torch)``，两份返回值（"记录"）一致时返回 True，否则抛 AssertionError。

    scenario 只通过参数 ``lib`` 使用库（``lib.nn.Linear``、``lib.tensor``……），于是同一段代码能在两边运行。
    记录可以是嵌套的 list/tuple/dict，其中的张量按 dtype、形状与数值比较（容差 rtol/atol，默认适合
    float64），模块按类名比较，dtype/device/memory_format 按名字比较，其余值要求相等（浮点数用容差）。
    错误信息以记录中的位置开头，例如 ``record[2][1]: dtype float32 in edunn, float64 in torch``。
    """
    torch = _torch()
    import edunn

    expected = _plain(scenario(torch), torch)
    actual = _plain(scenario(edunn), torch)
    _compare(actual, expected, "record", rtol, atol)
    return True


__all__ = ["compare_with_torch"]
