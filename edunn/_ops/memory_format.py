"""内存格式（memory format）：同一个逻辑形状的张量，元素在内存里按什么顺序排。

``contiguous_format`` 是行主序（C 顺序），最后一维变化最快。``channels_last`` 针对 4 维的
``(N, C, H, W)`` 张量，让通道维变化最快，内存里实际排成 ``(N, H, W, C)``；步长（stride）因此是
``(H*W*C, 1, W*C, C)``。``channels_last_3d`` 是 5 维 ``(N, C, D, H, W)`` 的同类格式。
``preserve_format`` 表示"保持输入的布局"：输入稠密（步长恰好铺满一段内存）时照搬它的步长，
否则用从步长推断出的格式（``suggest_memory_format``）。格式只影响步长，不影响任何元素的值。
新数组的步长都按 torch 的公式算出，长度为 0 或 1 的维度上也与 torch 相同。
"""

from .pointwise import xp_of
import numpy as np

from ..autograd.function import ArrayFunction


class memory_format:
    """内存格式的名字，打印为 ``edunn.channels_last`` 等，与 ``torch.memory_format`` 对应。"""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"edunn.{self.name}"

    def __reduce__(self):
        return self.name


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")

# 每种 channels-last 格式要求的维数，以及从物理顺序 (N, 空间维..., C) 回到逻辑顺序的维度排列
_CHANNELS_LAST = {
    channels_last: (4, (0, 2, 3, 1)),
    channels_last_3d: (5, (0, 2, 3, 4, 1)),
}


def check_memory_format(value):
    if value is not None and not isinstance(value, memory_format):
        raise TypeError(f"memory_format must be an edunn.memory_format, got {type(value).__name__}")
    return value


def check_rank(array, fmt):
    """channels_last 只用于 4 维张量、channels_last_3d 只用于 5 维张量，与 torch 的报错相同。"""
    if fmt in _CHANNELS_LAST:
        rank = _CHANNELS_LAST[fmt][0]
        if array.ndim != rank:
            raise RuntimeError(f"required rank {rank} tensor to use {fmt.name} format")


def dense_dim_order(array):
    """返回让数组成为 C 连续的维度排列（由外到内）；数组不稠密（有空洞或重叠）时返回 None。"""
    identity = list(range(array.ndim))
    if array.flags.c_contiguous:
        return identity
    order = sorted(identity, key=lambda d: (-array.strides[d], d))
    return order if array.transpose(order).flags.c_contiguous else None


def _element_strides(array):
    return tuple(s // array.itemsize for s in array.strides)


def is_contiguous_as(array, fmt):
    """数组的步长是否符合 fmt；规则与 torch 相同：长度为 1 的维度的步长不参与判断。"""
    if fmt not in _CHANNELS_LAST:
        return bool(array.flags.c_contiguous)
    rank, physical = _CHANNELS_LAST[fmt]
    if array.ndim != rank:
        return False
    expected = 1
    for dim in reversed(physical):  # 从变化最快的维度（C）开始
        size = array.shape[dim]
        if size == 1:
            continue
        if array.strides[dim] // array.itemsize != expected:
            return False
        expected *= size
    return True


def _strides_like_channels_last(shape, strides, physical):
    """torch 从步长推断布局的规则（``suggest_memory_format``）：步长从 C 维到 N 维不减，且不是含糊的情形。"""
    if strides[1] == 0:
        return False
    minimum = 0
    for dim in (1, *reversed(physical[1:-1]), 0):
        if shape[dim] == 0 or strides[dim] < minimum:
            return False
        # N 维步长等于 C 维步长（如 N111 张量）时含糊不清，按行主序处理
        if dim == 0 and minimum == strides[1]:
            return False
        minimum = strides[dim] * shape[dim] if shape[dim] > 1 else strides[dim]
    return True


def suggest_memory_format(array):
    """从步长推断张量"像"哪种内存格式，规则与 torch 的 ``suggest_memory_format`` 相同。"""
    for fmt, (rank, physical) in _CHANNELS_LAST.items():
        if array.ndim == rank and _strides_like_channels_last(array.shape, _element_strides(array), physical):
            return fmt
    return contiguous_format


def strides_for(shape, fmt):
    """按 torch 的公式给出 fmt 格式下的步长（以元素计）。"""
    strides = [0] * len(shape)
    step = 1
    if fmt in _CHANNELS_LAST:
        # channels-last 用原始长度相乘（长度为 0 的维度让外层步长变成 0），与 torch 一致
        for dim in reversed(_CHANNELS_LAST[fmt][1]):
            strides[dim] = step
            step *= shape[dim]
        return tuple(strides)
    for dim in reversed(range(len(shape))):
        strides[dim] = step
        step *= max(shape[dim], 1)
    return tuple(strides)


def is_non_overlapping_and_dense(array):
    """步长是否恰好铺满一段连续内存（长度为 0 或 1 的维度不计），判断方式与 torch 相同。"""
    if any(is_contiguous_as(array, fmt) for fmt in (contiguous_format, channels_last, channels_last_3d)):
        return True
    return _strides_dense(array.shape, _element_strides(array))


def _strides_dense(shape, strides):
    if len(shape) == 1:
        return shape[0] < 2 or strides[0] == 1
    # 长度不小于 2 的维度按步长从小到大排，长度为 0 或 1 的维度排在最后
    order = sorted(range(len(shape)), key=lambda d: (shape[d] < 2, strides[d] if shape[d] >= 2 else 0))
    required = 1
    for dim in order:
        if shape[dim] < 2:
            return True
        if strides[dim] != required:
            return False
        required *= shape[dim]
    return True


def target_strides(array, fmt):
    """复制成 fmt 格式时新数组的步长。preserve_format：稠密的输入照搬步长，否则按推断出的格式。"""
    if fmt is preserve_format:
        if is_non_overlapping_and_dense(array):
            return _element_strides(array)
        fmt = suggest_memory_format(array)
    return strides_for(array.shape, fmt)


def empty_strided(xp, shape, strides, dtype):
    """按给定步长（以元素计）分配一个未填充的新数组。"""
    size = 1
    for n in shape:
        size *= n
    itemsize = xp.dtype(dtype).itemsize
    return xp.lib.stride_tricks.as_strided(xp.empty(size, dtype=dtype), shape,
                                           tuple(s * itemsize for s in strides))


def copy_as(array, fmt, dtype=None):
    """复制一份 fmt 布局的数组（总是新内存），可同时换成 dtype；步长与 torch 的结果相同。"""
    xp = xp_of(array)
    out = empty_strided(xp, array.shape, target_strides(array, fmt), dtype or array.dtype)
    # 超出目标类型范围的值变成 inf、NaN 转成整数，torch 对此不发警告，numpy 会；这里与 torch 一致
    with np.errstate(over="ignore", invalid="ignore"):
        out[...] = array
    return out


class CloneAs(ArrayFunction):
    """``clone(memory_format=...)`` 与 ``contiguous(memory_format=...)``：复制成指定布局，梯度原样回传。"""

    node_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, a, fmt):
        return copy_as(a, fmt)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class ToMemoryFormat(CloneAs):
    """``to(memory_format=...)``：与 CloneAs 相同，只是反向节点的名字与 torch 的 ``to`` 一致。"""

    node_name = "ToCopyBackward0"
