"""比较两个张量（edunn 或 torch，可混用）是否足够接近。"""

import numpy as np

from .. import _backend
from .._tensor import Tensor

# 与 torch.testing.assert_close 相同的默认容差 (rtol, atol)
_TOLERANCES = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
}


def default_tolerances(dtype_name):
    """dtype 名字对应的 (rtol, atol)；整数与布尔类型要求完全相等。"""
    return _TOLERANCES.get(dtype_name, (0.0, 0.0))


def _describe(value):
    """返回 (numpy 数组, dtype 名字, 设备字符串)。"""
    if isinstance(value, Tensor):
        return _backend.to_numpy(value._array), value.dtype.name, str(value.device)
    module = type(value).__module__
    if module.startswith("torch"):
        name = str(value.dtype).replace("torch.", "")
        detached = value.detach().cpu()
        if name == "bfloat16":
            detached = detached.float()
        device = value.device.type if value.device.type == "cpu" else f"cuda:{value.device.index or 0}"
        return detached.numpy(), name, device
    array = np.asarray(value)
    return array, array.dtype.name, "cpu"


def assert_close(actual, expected, *, rtol=None, atol=None, equal_nan=False, check_dtype=True, msg=None):
    """actual 与 expected 的形状、dtype 相同且 ``|a - e| <= atol + rtol * |e|`` 逐元素成立，否则抛 AssertionError。

    两边都可以是 edunn 张量、torch 张量或 numpy 数组；也接受嵌套的 list/tuple/dict。
    """
    if isinstance(actual, dict) and isinstance(expected, dict):
        if set(actual) != set(expected):
            raise AssertionError(f"keys differ: {sorted(map(str, actual))} != {sorted(map(str, expected))}")
        for key in actual:
            assert_close(actual[key], expected[key], rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_dtype=check_dtype, msg=msg)
        return
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            raise AssertionError(f"lengths differ: {len(actual)} != {len(expected)}")
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype, msg=msg)
        return
    if _is_sparse(actual) or _is_sparse(expected):
        _assert_sparse_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype,
                             msg=msg)
        return
    if isinstance(actual, (int, float)) and isinstance(expected, (int, float)):
        actual, expected = np.float64(actual), np.float64(expected)
        check_dtype = False

    a, a_dtype, _ = _describe(actual)
    e, e_dtype, _ = _describe(expected)
    prefix = f"{msg}: " if msg else ""
    if a.shape != e.shape:
        raise AssertionError(f"{prefix}The values for attribute 'shape' do not match: {a.shape} != {e.shape}.")
    if check_dtype and a_dtype != e_dtype:
        raise AssertionError(f"{prefix}The values for attribute 'dtype' do not match: {a_dtype} != {e_dtype}.")
    default_rtol, default_atol = default_tolerances(a_dtype)
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol

    a64 = a.astype(np.float64)
    e64 = e.astype(np.float64)
    close = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not close.all():
        mismatched = int((~close).sum())
        diff = np.abs(a64 - e64)
        # 一边是 nan 的位置没有差值可比，定位最差元素时把它当作无穷大
        worst = np.unravel_index(np.argmax(np.where(close, -np.inf, np.nan_to_num(diff, nan=np.inf))),
                                 a.shape) if a.ndim else ()
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = diff / np.abs(e64)
        raise AssertionError(
            f"{prefix}Tensor-likes are not close!\n\n"
            f"Mismatched elements: {mismatched} / {a.size} ({100.0 * mismatched / max(a.size, 1):.1f}%)\n"
            f"Greatest absolute difference: {_nanmax(diff)} at index {tuple(int(i) for i in worst)} "
            f"(up to {atol} allowed)\n"
            f"Greatest relative difference: {_nanmax(relative)} (up to {rtol} allowed)"
        )


def _nanmax(values):
    """忽略 nan 的最大值；全是 nan 时返回 nan（np.nanmax 此时会发出 RuntimeWarning）。"""
    finite_or_inf = values[~np.isnan(values)]
    return finite_or_inf.max() if finite_or_inf.size else np.nan


def _is_sparse(value):
    return getattr(value, "is_sparse", False) is True


def _assert_sparse_close(actual, expected, **options):
    """两个稀疏张量：先各自合并重复坐标，再要求坐标完全相同、值在容差内（torch.testing 也这样比）。"""
    prefix = f"{options['msg']}: " if options.get("msg") else ""
    if not (_is_sparse(actual) and _is_sparse(expected)):
        raise AssertionError(f"{prefix}The values for attribute 'layout' do not match: one tensor is sparse and "
                             "the other is dense.")
    if tuple(actual.shape) != tuple(expected.shape):
        raise AssertionError(f"{prefix}The values for attribute 'shape' do not match: {tuple(actual.shape)} != "
                             f"{tuple(expected.shape)}.")
    actual, expected = actual.coalesce(), expected.coalesce()
    assert_close(actual._indices(), expected._indices(), rtol=0, atol=0, check_dtype=False,
                 msg=f"{prefix}sparse indices")
    assert_close(actual._values(), expected._values(), **options)
