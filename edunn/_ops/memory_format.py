"""内存格式（memory format）：同一个逻辑形状的张量，元素在内存里按什么顺序排。

``contiguous_format`` 是行主序（C 顺序），最后一维变化最快。``channels_last`` 针对 4 维的
``(N, C, H, W)`` 张量，让通道维变化最快，内存里实际排成 ``(N, H, W, C)``；步长（stride）因此是
``(H*W*C, 1, W*C, C)``。``channels_last_3d`` 是 5 维 ``(N, C, D, H, W)`` 的同类格式。
``preserve_format`` 表示"保持输入的布局"：输入稠密（某种维度排列下是 C 连续的）时照搬它的步长，
否则用行主序。格式只影响步长，不影响任何元素的值。
"""

from .pointwise import xp_of
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


def copy_as(array, fmt):
    """复制一份布局为 fmt 的数组（总是新内存）。"""
    xp = xp_of(array)
    if fmt in _CHANNELS_LAST:
        physical = _CHANNELS_LAST[fmt][1]
        inverse = sorted(range(len(physical)), key=physical.__getitem__)
        return xp.ascontiguousarray(array.transpose(physical)).transpose(inverse)
    if fmt is preserve_format and dense_dim_order(array) is not None:
        return array.copy(order="K")  # 稠密输入：按内存中的顺序复制，步长保持不变
    return xp.array(array, copy=True, order="C")


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
