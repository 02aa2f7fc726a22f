"""填充：常数填充是一次切片复制；reflect / replicate / circular 归结为按下标取值。"""

import numpy as np

from ..autograd.function import ArrayFunction
from .pointwise import xp_of


def _overlap_slices(shape, pairs):
    """输入与输出重叠部分在两边的切片（负的填充量表示裁掉）。"""
    leading = len(shape) - len(pairs)
    source = [slice(None)] * leading
    target = [slice(None)] * leading
    for size, (left, right) in zip(shape[leading:], pairs):
        start = max(-left, 0)
        length = size - start - max(-right, 0)
        source.append(slice(start, start + length))
        target.append(slice(max(left, 0), max(left, 0) + length))
    return tuple(source), tuple(target)


class ConstantPad(ArrayFunction):
    node_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, x, pairs, value, new_shape):
        out = xp_of(x).full(new_shape, value, dtype=x.dtype)
        source, target = _overlap_slices(x.shape, pairs)
        out[target] = x[source]
        ctx.shape, ctx.slices = x.shape, (source, target)
        return out

    @staticmethod
    def backward(ctx, grad):
        source, target = ctx.slices
        grad_x = xp_of(grad).zeros(ctx.shape, dtype=grad.dtype)
        grad_x[source] = grad[target]
        return grad_x, None, None, None


def padded_indices(size, left, right, mode):
    """填充后每个位置取原来哪个下标（numpy int64 数组，长度 ``size + left + right``）。

    reflect 以边界为镜面且不重复边界（``[a b c]`` 左补 2 得 ``c b a b c``），
    replicate 重复边界，circular 首尾相接。负的填充量表示裁掉；circular 先裁剪，
    再在裁剪后的部分上循环（与 torch 相同），另外两种模式仍按原来的边界取值。
    """
    if mode == "circular":
        start = max(-left, 0)
        kept = size - start - max(-right, 0)
        positions = np.arange(-max(left, 0), kept + max(right, 0))
        return positions % kept + start
    positions = np.arange(-left, size + right)
    if mode == "reflect":
        last = size - 1
        positions = np.abs(positions)
        return np.where(positions > last, 2 * last - positions, positions)
    return np.clip(positions, 0, size - 1)
