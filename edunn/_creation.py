"""创建张量的函数：tensor、zeros、ones、full、arange、linspace、rand、randn、randint 及 *_like。

随机数来自 edunn 自己的生成器（numpy/cupy 的 PCG64），``manual_seed`` 让结果可复现，
但数值与 torch 的随机流不同：需要与 torch 对照时，先在一边生成，再用 ``edunn.testing`` 复制过去。
"""

import math
import numbers

import numpy as np

from . import _backend
from ._tensor import Tensor


def _parse_size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    try:
        size = tuple(int(s) for s in size)
    except TypeError:
        raise TypeError(f"size must be a sequence of ints, got {size!r}") from None
    for s in size:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
    return size


def _finish(array, device, requires_grad):
    out = Tensor._wrap(array, device)
    if requires_grad:
        out.requires_grad = True
    return out


def _infer_dtype(values):
    """torch.tensor 的 dtype 推断：Python 浮点 -> 默认浮点类型，整数 -> int64，布尔 -> bool。"""
    kind = values.dtype.kind
    if kind == "b":
        return _backend.bool_
    if kind in "iu":
        return _backend.int64 if not isinstance(values, np.ndarray) or values.dtype.itemsize == 8 \
            else _backend.dtype_of_array(values)
    if kind == "f":
        return _backend.get_default_dtype()
    raise TypeError(f"Could not infer dtype of {values.dtype}")


def _nested_to_numpy(data):
    if isinstance(data, Tensor):
        return _backend.to_numpy(data._array)
    if isinstance(data, (list, tuple)):
        converted = [_nested_to_numpy(item) for item in data]
        try:
            return np.array(converted)
        except ValueError:
            lengths = sorted({len(c) if hasattr(c, "__len__") else 0 for c in converted})
            raise ValueError(
                f"expected sequence of length {lengths[0]} at dim 1 (got {lengths[-1]})"
            ) from None
    if isinstance(data, (numbers.Number, np.generic, np.ndarray)):
        return np.asarray(data)
    if hasattr(data, "__array__"):
        return np.asarray(data)
    raise TypeError(f"Could not infer dtype of {type(data).__name__}")


def tensor(data, dtype=None, device=None, requires_grad=False):
    """复制 data（嵌套列表、数值、numpy 数组或张量）为一个新张量。"""
    if isinstance(data, Tensor) or (hasattr(data, "__array__") and not isinstance(data, np.ndarray)
                                    and type(data).__module__.startswith("cupy")):
        source = data._array if isinstance(data, Tensor) else data
        values = source
        inferred = _backend.dtype_of_array(source)
        dev = _backend.as_device(device) if device is not None else (
            data.device if isinstance(data, Tensor) else _backend.array_device(source))
    else:
        values = _nested_to_numpy(data)
        if isinstance(data, np.ndarray) or isinstance(data, np.generic):
            inferred = _backend.dtype_of_array(values) if values.dtype.kind != "f" or values.dtype.itemsize != 8 \
                else _backend.float64
            if values.dtype.kind not in "biuf" and values.dtype != _backend.bfloat16.numpy:
                raise TypeError(f"can't convert np.ndarray of type {values.dtype}. The only supported types are: "
                                "float64, float32, float16, bfloat16, int64, int32, int16, int8, uint8, and bool.")
        else:
            inferred = _infer_dtype(values)
        dev = _backend.as_device(device)
    target = _backend.as_dtype(dtype) if dtype is not None else inferred
    if requires_grad and not target.is_floating_point:
        raise RuntimeError(f"Only Tensors of floating point and complex dtype can require gradients, got {target}")
    xp = _backend.get_array_module(dev)
    array = _backend.move_array(values, dev) if not isinstance(values, np.ndarray) or dev.type != "cpu" \
        else values
    array = xp.array(array, dtype=target.numpy, copy=True)
    return _finish(array, dev, requires_grad)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor) and (dtype is None or _backend.as_dtype(dtype) is data.dtype) and (
            device is None or _backend.as_device(device) == data.device):
        return data
    if isinstance(data, np.ndarray) and dtype is None and device in (None, "cpu"):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array):
    """与 numpy 数组共享内存的张量。"""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    _backend.dtype_of_array(array)
    return Tensor._wrap(array, _backend.device("cpu"))


def _filled(size, fill, dtype, device, requires_grad):
    size = _parse_size(size)
    dev = _backend.as_device(device)
    d = _backend.as_dtype(dtype) if dtype is not None else _backend.get_default_dtype()
    xp = _backend.get_array_module(dev)
    return _finish(xp.full(size, fill, dtype=d.numpy), dev, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _filled(size, 0, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _filled(size, 1, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, memory_format=None):
    """edunn 的 empty 填 0 而不是留下未初始化的内存，这样结果可复现。"""
    return _filled(size, 0, dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = _backend.bool_
        elif isinstance(fill_value, numbers.Integral):
            dtype = _backend.int64
    return _filled((size,) if isinstance(size, int) else (tuple(size),), fill_value, dtype, device, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    dev = _backend.as_device(device)
    d = _backend.as_dtype(dtype) if dtype is not None else _backend.get_default_dtype()
    xp = _backend.get_array_module(dev)
    return _finish(xp.eye(n, n if m is None else m, dtype=d.numpy), dev, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"upper bound and lower bound inconsistent with step sign (start={start}, end={end}, step={step})"
        )
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = _backend.get_default_dtype() if is_float else _backend.int64
    d = _backend.as_dtype(dtype)
    if not d.is_floating_point:
        # 与 torch 相同：整数类型先把三个参数截断成整数，再决定元素个数
        start, end, step = int(start), int(end), int(step)
        if step == 0:
            raise ValueError("step must be nonzero")  # torch 在截断后为 0 时抛的是 ValueError
    count = math.ceil((end - start) / step)
    dev = _backend.as_device(device)
    xp = _backend.get_array_module(dev)
    values = start + xp.arange(count, dtype=np.float64 if d.is_floating_point else np.int64) * step
    return _finish(values.astype(d.numpy), dev, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """与 torch 相同，前一半从 start 往后数、后一半从 end 往前数，两端都精确。"""
    if steps < 0:
        raise RuntimeError(f"number of steps must be non-negative, got {steps}")
    d = _backend.as_dtype(dtype) if dtype is not None else _backend.get_default_dtype()
    dev = _backend.as_device(device)
    # torch 的 CPU 内核在目标类型里算步长，再用乘加指令（FMA，只舍入一次）算每个点。
    # 这里在更宽的类型里算乘加再舍入；float64 借 longdouble，在 longdouble 与 float64 相同的平台上
    # 末位可能与 torch 差 1 ulp。值在 CPU 上算好再搬到目标设备。
    native = d.numpy.type
    wide = np.longdouble if d is _backend.float64 else np.float64
    first, last = native(start), native(end)
    if steps == 1:
        values = np.asarray([first])
    else:
        step = wide((last - first) / native(steps - 1))
        index = np.arange(steps).astype(wide)
        values = np.where(index < steps // 2, wide(first) + step * index, wide(last) - step * (steps - 1 - index))
    return _finish(_backend.move_array(values.astype(d.numpy), dev), dev, requires_grad)


def _random_float(sampler, size, dtype, device, requires_grad):
    size = _parse_size(size)
    dev = _backend.as_device(device)
    d = _backend.as_dtype(dtype) if dtype is not None else _backend.get_default_dtype()
    if not d.is_floating_point:
        raise RuntimeError(f"expected a floating-point dtype for random sampling, got {d}")
    gen = _backend.generator(dev)
    native = d.numpy if d in (_backend.float32, _backend.float64) else np.float32
    values = sampler(gen, size, native).astype(d.numpy, copy=False)
    return _finish(values, dev, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False):
    """[0, 1) 上的均匀分布。"""
    return _random_float(lambda g, s, t: g.random(s, dtype=t), size, dtype, device, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False):
    """标准正态分布。"""
    return _random_float(lambda g, s, t: g.standard_normal(s, dtype=t), size, dtype, device, requires_grad)


def randint(low, high=None, size=None, dtype=None, device=None, requires_grad=False):
    """[low, high) 上的整数均匀分布；``randint(high, size)`` 时 low = 0。"""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    size = _parse_size((size,) if isinstance(size, int) else (tuple(size),))
    dev = _backend.as_device(device)
    d = _backend.as_dtype(dtype) if dtype is not None else _backend.int64
    values = _backend.generator(dev).integers(low, high, size=size, dtype=np.int64)
    return _finish(values.astype(d.numpy), dev, requires_grad)


def randperm(n, generator=None, dtype=None, device=None):
    """0..n-1 的随机排列；``generator`` 是 ``edunn.Generator`` 时用它的随机流。"""
    dev = _backend.as_device(device)
    d = _backend.as_dtype(dtype) if dtype is not None else _backend.int64
    order = generator.permutation(n) if generator is not None else _backend.generator(dev).permutation(n)
    xp = _backend.get_array_module(dev)
    return _finish(xp.asarray(order).astype(d.numpy), dev, False)


def _like(maker):
    def like(input, *args, dtype=None, device=None, requires_grad=False, **kwargs):
        return maker(*args, input.shape, dtype=dtype or input.dtype, device=device or input.device,
                     requires_grad=requires_grad, **kwargs)

    like.__name__ = maker.__name__ + "_like"
    like.__doc__ = f"与 input 形状、dtype、设备相同的 {maker.__name__}。"
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)
rand_like = _like(rand)
randn_like = _like(randn)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    return full(input.shape, fill_value, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randint_like(input, low, high=None, dtype=None, device=None, requires_grad=False):
    return randint(low, high, input.shape, dtype=dtype or input.dtype, device=device or input.device,
                   requires_grad=requires_grad)
