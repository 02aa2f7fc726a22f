"""池化：max_pool、avg_pool、adaptive_avg_pool。

前两个按核内偏移循环：每个偏移取出所有窗口在该处的元素（一个带步长的切片），
循环 prod(kernel) 次就看遍了每个窗口。扫描顺序与 torch 相同（先行后列），所以并列最大值
取第一个、NaN 会胜出，这些细节与 torch 一致。
"""

import itertools
import math

import numpy as np

from ..autograd.function import ArrayFunction
from .conv import crop_padding, pad_spatial, window_slices
from .pointwise import xp_of


def pool_output_size(size, kernel, stride, padding, dilation, ceil_mode):
    """一个空间维上的池化输出长度，``ceil_mode`` 的规则与 torch 相同。

    向上取整时最后一个窗口可以越过右边界，但必须从输入或左侧补零区域内开始，
    否则这个窗口整个落在右侧补零里，要去掉。
    """
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _offsets(kernel):
    return itertools.product(*(range(k) for k in kernel))


def _right_overhang(size, kernel, stride, padding, dilation, out):
    """ceil_mode 下最后一个窗口越出 ``size + 2 * padding`` 的长度（需要额外补到右边）。"""
    needed = (out - 1) * stride + dilation * (kernel - 1) + 1
    return max(0, needed - (size + 2 * padding))


def _padding_pairs(spatial, kernel, stride, padding, dilation, out_size):
    return [
        (p, p + _right_overhang(size, k, s, p, d, o))
        for size, k, s, p, d, o in zip(spatial, kernel, stride, padding, dilation, out_size)
    ]


class MaxPool(ArrayFunction):
    """最大池化。第二个输出是最大值在每个输入平面内的展平下标（int64），与 torch 相同。"""

    node_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, out_size):
        xp = xp_of(x)
        spatial = x.shape[2:]
        pads = _padding_pairs(spatial, kernel, stride, padding, dilation, out_size)
        lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        x_padded = pad_spatial(xp, x, pads, value=lowest)
        lead = (slice(None), slice(None))

        best = xp.full(x.shape[:2] + tuple(out_size), lowest, dtype=x.dtype)
        best_offset = xp.full(best.shape, -1, dtype=np.int64)
        for number, offset in enumerate(_offsets(kernel)):
            candidate = x_padded[lead + window_slices(offset, stride, dilation, out_size)]
            better = (candidate > best) | xp.isnan(candidate)
            best = xp.where(better, candidate, best)
            best_offset = xp.where(better, number, best_offset)

        # 窗口里全是 -inf（整数时是最小值）时没有元素胜出；torch 此时取窗口内第一个落在输入里的位置。
        first = _first_inside_offset(xp, kernel, stride, padding, dilation, out_size)
        best_offset = xp.where(best_offset < 0, first, best_offset)

        ctx.save_for_backward(best_offset)
        ctx.geometry = (x.shape, x_padded.shape, pads, kernel, stride, dilation, out_size)
        indices = _flat_input_index(xp, best_offset, spatial, kernel, stride, padding, dilation, out_size)
        ctx.mark_non_differentiable(indices)
        return best, indices

    @staticmethod
    def backward(ctx, grad, grad_indices=None):
        (best_offset,) = ctx.saved_tensors
        shape, padded_shape, pads, kernel, stride, dilation, out_size = ctx.geometry
        xp = xp_of(grad)
        lead = (slice(None), slice(None))
        grad_padded = xp.zeros(padded_shape, dtype=grad.dtype)
        zero = xp.zeros((), dtype=grad.dtype)
        for number, offset in enumerate(_offsets(kernel)):
            grad_padded[lead + window_slices(offset, stride, dilation, out_size)] += xp.where(
                best_offset == number, grad, zero)
        return crop_padding(grad_padded, pads, shape[2:]), None, None, None, None, None


def _output_grid(xp, out_size, dim):
    """第 ``dim`` 个空间维的输出下标，形状可与 ``out_size`` 广播。"""
    shape = [1] * len(out_size)
    shape[dim] = out_size[dim]
    return xp.arange(out_size[dim], dtype=np.int64).reshape(shape)


def _first_inside_offset(xp, kernel, stride, padding, dilation, out_size):
    """每个窗口中第一个不在左侧补零区的核内偏移（按展平的偏移编号）。"""
    number = xp.zeros(tuple(out_size), dtype=np.int64)
    for dim, (k, s, p, d) in enumerate(zip(kernel, stride, padding, dilation)):
        start = _output_grid(xp, out_size, dim) * s - p
        # 最小的 j 使 start + j * d >= 0
        j = xp.maximum(0, (-start + d - 1) // d)
        number = number * k + xp.minimum(j, k - 1)
    return number


def _flat_input_index(xp, offset_number, spatial, kernel, stride, padding, dilation, out_size):
    """把核内偏移编号换成输入平面内的展平下标 ``h * W + w``（逐维类推）。"""
    index = xp.zeros(offset_number.shape, dtype=np.int64)
    remaining = offset_number
    positions = []
    for dim in reversed(range(len(kernel))):
        k_dim = remaining % kernel[dim]
        remaining = remaining // kernel[dim]
        start = _output_grid(xp, out_size, dim) * stride[dim] - padding[dim]
        positions.append(start + k_dim * dilation[dim])
    for dim, position in zip(range(len(kernel)), reversed(positions)):
        index = index * spatial[dim] + position
    return index


class AvgPool(ArrayFunction):
    """平均池化。``divisor`` 是每个输出位置的除数（与输出形状可广播），由调用方按 torch 的规则算好。"""

    node_name = "AvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, out_size, divisor):
        xp = xp_of(x)
        dilation = (1,) * len(kernel)
        pads = _padding_pairs(x.shape[2:], kernel, stride, padding, dilation, out_size)
        x_padded = pad_spatial(xp, x, pads)
        lead = (slice(None), slice(None))

        total = xp.zeros(x.shape[:2] + tuple(out_size), dtype=x.dtype)
        for offset in _offsets(kernel):
            total += x_padded[lead + window_slices(offset, stride, dilation, out_size)]

        ctx.geometry = (x.shape, x_padded.shape, pads, kernel, stride, out_size, divisor)
        return total / divisor

    @staticmethod
    def backward(ctx, grad):
        shape, padded_shape, pads, kernel, stride, out_size, divisor = ctx.geometry
        xp = xp_of(grad)
        dilation = (1,) * len(kernel)
        lead = (slice(None), slice(None))
        share = grad / divisor
        grad_padded = xp.zeros(padded_shape, dtype=grad.dtype)
        for offset in _offsets(kernel):
            grad_padded[lead + window_slices(offset, stride, dilation, out_size)] += share
        return crop_padding(grad_padded, pads, shape[2:]), None, None, None, None, None


def avg_pool_divisor(xp, spatial, kernel, stride, padding, out_size, count_include_pad, dtype):
    """每个输出位置的除数，形状 ``out_size``。

    ``count_include_pad=True`` 时数进左右补零，但 ceil_mode 越过补零区的部分不算；
    否则只数落在输入里的元素。两种情况都按维相乘，与 torch 的逐窗口计算相同。
    """
    divisor = xp.ones(tuple(out_size), dtype=dtype)
    for dim, (size, k, s, p) in enumerate(zip(spatial, kernel, stride, padding)):
        start = _output_grid(xp, out_size, dim) * s - p
        end = xp.minimum(start + k, size + p)
        if not count_include_pad:
            start = xp.maximum(start, 0)
            end = xp.minimum(end, size)
        divisor = divisor * (end - start).astype(dtype)
    return divisor


def adaptive_bins(size, out):
    """自适应池化第 i 个输出的区间 ``[floor(i * size / out), ceil((i + 1) * size / out))``。"""
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


class AdaptiveAvgPool(ArrayFunction):
    """自适应平均池化。每个空间维的区间求和可写成一个 0/1 矩阵 ``M``（out × size）：
    二维时 ``out = (M_h @ x @ M_w^T) / 区间面积``，反向是 ``M_h^T @ (g / 面积) @ M_w``。
    """

    node_name = "AdaptiveAvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, out_size):
        xp = xp_of(x)
        matrices = []
        counts = xp.ones(tuple(out_size), dtype=x.dtype)
        for dim, (size, out) in enumerate(zip(x.shape[2:], out_size)):
            m = np.zeros((out, size))
            for i, (start, end) in enumerate(adaptive_bins(size, out)):
                m[i, start:end] = 1.0
            matrices.append(xp.asarray(m, dtype=x.dtype))
            lengths = xp.asarray(m.sum(axis=1), dtype=x.dtype)
            shape = [1] * len(out_size)
            shape[dim] = out
            counts = counts * lengths.reshape(shape)

        out = x
        for dim, m in enumerate(matrices):
            out = _apply_along(xp, m, out, 2 + dim)
        ctx.matrices, ctx.counts = matrices, counts
        return out / counts

    @staticmethod
    def backward(ctx, grad):
        xp = xp_of(grad)
        out = grad / ctx.counts
        for dim, m in enumerate(ctx.matrices):
            out = _apply_along(xp, m.T, out, 2 + dim)
        return out, None


def _apply_along(xp, matrix, x, axis):
    """沿 ``axis`` 左乘矩阵：``y[..., i, ...] = sum_j matrix[i, j] * x[..., j, ...]``。"""
    moved = xp.moveaxis(x, axis, -1)
    return xp.moveaxis(moved @ matrix.T, -1, axis)
