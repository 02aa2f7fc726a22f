"""卷积与 im2col：把每个感受野展开成一列，卷积就变成一次矩阵乘法。

记号：输入 ``(N, C_in, *spatial)``，卷积核 ``(C_out, C_in / groups, *kernel)``，输出
``(N, C_out, *out)``；``K = (C_in / groups) * prod(kernel)`` 是一列的长度，``L = prod(out)`` 是每个样本的列数。
空间维可以是 1、2 或 3 个，同一份代码处理 conv1d、conv2d、conv3d。

列矩阵按 ``(C, *kernel, N, *out)`` 排列，即整批样本的列并排成 ``(C * prod(kernel), N * L)``：
前向与两个反向各是一次大矩阵乘法，而不是每个样本一次小乘法。BLAS 多线程时，调用次数少，
线程同步就少，在负载重的机器上差别尤其明显。
"""

import itertools
import math

from ..autograd.function import ArrayFunction
from .pointwise import xp_of


def conv_output_size(size, kernel, stride, padding_total, dilation):
    """一个空间维上的输出长度：``floor((size + padding - dilation * (kernel - 1) - 1) / stride) + 1``。"""
    return (size + padding_total - dilation * (kernel - 1) - 1) // stride + 1


def pad_spatial(xp, x, padding, value=0):
    """在最后 ``len(padding)`` 个维上补常数；``padding`` 是每个维的 ``(左, 右)``。"""
    if not any(left or right for left, right in padding):
        return x
    widths = [(0, 0)] * (x.ndim - len(padding)) + [tuple(p) for p in padding]
    return xp.pad(x, widths, mode="constant", constant_values=value)


def sliding_windows(xp, x, kernel, stride, dilation, out_size):
    """``(N, C, *spatial)`` 的只读视图，形状 ``(C, *kernel, N, *out_size)``，不复制数据。

    视图的第 ``(c, k..., n, o...)`` 个元素是 ``x[n, c, o * stride + k * dilation]``（逐维）。
    """
    spatial_strides = x.strides[2:]
    shape = (x.shape[1],) + tuple(kernel) + (x.shape[0],) + tuple(out_size)
    strides = (
        (x.strides[1],)
        + tuple(s * d for s, d in zip(spatial_strides, dilation))
        + (x.strides[0],)
        + tuple(s * st for s, st in zip(spatial_strides, stride))
    )
    return xp.lib.stride_tricks.as_strided(x, shape, strides)


def window_slices(offset, stride, dilation, out_size):
    """核内偏移 ``offset`` 对应的切片：取出所有窗口在这个偏移处的元素，形状为 out_size。"""
    return tuple(
        slice(k * d, k * d + s * (o - 1) + 1, s)
        for k, s, d, o in zip(offset, stride, dilation, out_size)
    )


def im2col(xp, x_padded, kernel, stride, dilation, out_size):
    """展开成列：返回连续数组 ``(C, *kernel, N, *out_size)``。"""
    return xp.ascontiguousarray(sliding_windows(xp, x_padded, kernel, stride, dilation, out_size))


def col2im(xp, cols, padded_shape, kernel, stride, dilation, out_size):
    """im2col 的伴随（adjoint）：把 ``(C, *kernel, N, *out_size)`` 的列加回形状为 ``padded_shape``
    ``(N, C, *spatial)`` 的数组。

    窗口重叠时同一个输入元素会收到多份，所以必须累加。按核内偏移循环（共 prod(kernel) 次），
    每次是一个带步长的切片加法，不必逐像素散射。
    """
    n, c = padded_shape[:2]
    out = xp.zeros((c, n) + tuple(padded_shape[2:]), dtype=cols.dtype)  # 先按 (C, N, ...) 累加，与列的排列一致
    lead = (slice(None), slice(None))
    for offset in itertools.product(*(range(k) for k in kernel)):
        out[lead + window_slices(offset, stride, dilation, out_size)] += cols[(slice(None),) + offset]
    return out.swapaxes(0, 1)


def crop_padding(x_padded, padding, spatial):
    """去掉 ``pad_spatial`` 补上的边。"""
    index = (slice(None), slice(None)) + tuple(
        slice(left, left + size) for (left, _), size in zip(padding, spatial)
    )
    return x_padded[index]


class Convolution(ArrayFunction):
    """N 维卷积（互相关）。``padding`` 是每个空间维的 ``(左, 右)``，这样 ``padding="same"`` 的不对称补零也能表示。"""

    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        xp = xp_of(x)
        n = x.shape[0]
        c_out = weight.shape[0]
        kernel = weight.shape[2:]
        x_padded = pad_spatial(xp, x, padding)
        out_size = tuple(
            conv_output_size(size, k, s, 0, d)
            for size, k, s, d in zip(x_padded.shape[2:], kernel, stride, dilation)
        )

        cols = im2col(xp, x_padded, kernel, stride, dilation, out_size).reshape(groups, -1, n * math.prod(out_size))
        w = weight.reshape(groups, c_out // groups, -1)  # (G, C_out/G, K)
        out = xp.matmul(w, cols).astype(x.dtype, copy=False)  # (G, C_out/G, K) @ (G, K, N*L) -> (G, C_out/G, N*L)
        out = xp.ascontiguousarray(out.reshape((c_out, n) + out_size).swapaxes(0, 1))  # (N, C_out, *out)
        if bias is not None:
            out += bias.reshape((c_out,) + (1,) * len(kernel))

        ctx.save_for_backward(x, weight)
        ctx.cols = cols if ctx.needs_input_grad[1] else None  # 只有求卷积核的梯度才需要保留这份展开
        ctx.geometry = (x_padded.shape, padding, stride, dilation, groups, out_size)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        padded_shape, padding, stride, dilation, groups, out_size = ctx.geometry
        xp = xp_of(grad)
        n, c_out = grad.shape[:2]
        kernel = weight.shape[2:]
        # (N, C_out, *out) -> (G, C_out/G, N*L)，与列矩阵的排列对齐
        g = xp.ascontiguousarray(grad.swapaxes(0, 1)).reshape(groups, c_out // groups, -1)
        grad_x = grad_weight = grad_bias = None

        if ctx.needs_input_grad[2]:
            grad_bias = grad.sum(axis=(0,) + tuple(range(2, grad.ndim)))
        if ctx.needs_input_grad[1]:
            # dW = g @ cols^T：对批次与输出位置的求和都在这一次乘法里
            grad_weight = xp.matmul(g, ctx.cols.swapaxes(-1, -2)).reshape(weight.shape)
        if ctx.needs_input_grad[0]:
            w = weight.reshape(groups, c_out // groups, -1)
            grad_cols = xp.matmul(w.swapaxes(-1, -2), g)  # (G, K, N*L)
            grad_cols = grad_cols.reshape((x.shape[1],) + tuple(kernel) + (n,) + tuple(out_size))
            grad_padded = col2im(xp, grad_cols, padded_shape, kernel, stride, dilation, out_size)
            grad_x = crop_padding(grad_padded, padding, x.shape[2:])
        return grad_x, grad_weight, grad_bias, None, None, None, None


def _columns_per_sample(xp, cols):
    """``(C, *kernel, N, *out)`` -> ``F.unfold`` 的 ``(N, C * prod(kernel), L)``。"""
    spatial_dims = (cols.ndim - 2) // 2
    n = cols.shape[1 + spatial_dims]
    per_sample = xp.moveaxis(cols, 1 + spatial_dims, 0)  # (N, C, *kernel, *out)
    return xp.ascontiguousarray(per_sample).reshape(n, -1, math.prod(cols.shape[2 + spatial_dims:]))


def _columns_batched(xp, cols, channels, kernel, out_size):
    """``(N, C * prod(kernel), L)`` -> ``(C, *kernel, N, *out)``。"""
    n = cols.shape[0]
    per_sample = cols.reshape((n, channels) + tuple(kernel) + tuple(out_size))
    return xp.moveaxis(per_sample, 0, 1 + len(kernel))


class Unfold(ArrayFunction):
    """``F.unfold``：im2col 本身，输出 ``(N, C * prod(kernel), L)``。"""

    node_name = "Im2ColBackward0"

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation):
        xp = xp_of(x)
        x_padded = pad_spatial(xp, x, padding)
        out_size = tuple(
            conv_output_size(size, k, s, 0, d)
            for size, k, s, d in zip(x_padded.shape[2:], kernel, stride, dilation)
        )
        ctx.geometry = (x.shape, x_padded.shape, kernel, stride, padding, dilation, out_size)
        return _columns_per_sample(xp, im2col(xp, x_padded, kernel, stride, dilation, out_size))

    @staticmethod
    def backward(ctx, grad):
        shape, padded_shape, kernel, stride, padding, dilation, out_size = ctx.geometry
        xp = xp_of(grad)
        cols = _columns_batched(xp, grad, shape[1], kernel, out_size)
        grad_padded = col2im(xp, cols, padded_shape, kernel, stride, dilation, out_size)
        return crop_padding(grad_padded, padding, shape[2:]), None, None, None, None


class Fold(ArrayFunction):
    """``F.fold``：col2im，把 ``(N, C * prod(kernel), L)`` 的列加回 ``(N, C, *output_size)``。"""

    node_name = "Col2ImBackward0"

    @staticmethod
    def forward(ctx, cols, output_size, kernel, stride, padding, dilation, out_size):
        xp = xp_of(cols)
        n = cols.shape[0]
        channels = cols.shape[1] // math.prod(kernel)
        padded_shape = (n, channels) + tuple(
            size + left + right for size, (left, right) in zip(output_size, padding)
        )
        ctx.geometry = (padded_shape, kernel, stride, padding, dilation, out_size)
        blocks = _columns_batched(xp, cols, channels, kernel, out_size)
        summed = col2im(xp, blocks, padded_shape, kernel, stride, dilation, out_size)
        return xp.ascontiguousarray(crop_padding(summed, padding, output_size))

    @staticmethod
    def backward(ctx, grad):
        padded_shape, kernel, stride, padding, dilation, out_size = ctx.geometry
        xp = xp_of(grad)
        grad_padded = pad_spatial(xp, grad, padding)
        cols = im2col(xp, grad_padded, kernel, stride, dilation, out_size)
        return _columns_per_sample(xp, cols), None, None, None, None, None, None
