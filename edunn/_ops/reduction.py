"""规约运算：sum、mean、max/min、var/std、norm、logsumexp。

``dim`` 为 None 表示对所有元素规约。反向时先把梯度在被规约的维上恢复成长度 1（``keepdim``），
再借广播铺回输入的形状。
"""

import numpy as np

from ..autograd.function import ArrayFunction
from .pointwise import xp_of


def normalize_dims(dim, ndim):
    """把 dim（整数、元组或 None）变成排好序的非负维度元组；越界时抛 IndexError，与 torch 相同。

    与 torch 一样，空的 dim 元组也表示规约所有维。
    """
    dims = () if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims:
        return tuple(range(ndim))
    rank = max(ndim, 1)
    out = []
    for d in dims:
        if not -rank <= d < rank:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {d})"
            )
        out.append(d % rank)
    if len(set(out)) != len(out):
        raise RuntimeError(f"dim {dims} appears multiple times in the list of dims")
    return tuple(sorted(out)) if ndim > 0 else ()


def _keep(grad, dims, keepdim):
    """把没有 keepdim 的梯度在被规约的维上补回长度 1。"""
    if keepdim or not dims:
        return grad
    return grad.reshape(_kept_shape(grad.shape, dims))


def _kept_shape(reduced_shape, dims):
    shape = list(reduced_shape)
    for d in dims:
        shape.insert(d, 1)
    return tuple(shape)


def _full_reduction(ctx, a, dims, name):
    """dims 为 None（调用时没给 dim）时规约所有维；torch 给这种节点的名字以 0 结尾。"""
    if dims is None:
        ctx.node_name = name + "0"
        return tuple(range(a.ndim))
    ctx.node_name = name + "1"
    return dims


class Sum(ArrayFunction):
    node_name = "SumBackward1"

    @staticmethod
    def forward(ctx, a, dims, keepdim, dtype=None):
        dims = _full_reduction(ctx, a, dims, "SumBackward")
        ctx.shape, ctx.dims, ctx.keepdim = a.shape, dims, keepdim
        return a.sum(axis=dims, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        xp = xp_of(grad)
        return xp.broadcast_to(_keep(grad, ctx.dims, ctx.keepdim), ctx.shape).copy()


class Mean(ArrayFunction):
    node_name = "MeanBackward1"

    @staticmethod
    def forward(ctx, a, dims, keepdim, dtype=None):
        dims = _full_reduction(ctx, a, dims, "MeanBackward")
        ctx.shape, ctx.dims, ctx.keepdim = a.shape, dims, keepdim
        ctx.count = int(np.prod([a.shape[d] for d in dims])) if dims else 1
        out = a.mean(axis=dims, keepdims=keepdim, dtype=dtype)
        return out.astype(dtype or a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        xp = xp_of(grad)
        return xp.broadcast_to(_keep(grad, ctx.dims, ctx.keepdim) / ctx.count, ctx.shape).copy()


class AMax(ArrayFunction):
    """amax/amin 与不带 dim 的 max()/min()（dims 为 None）：并列的最值平分梯度，与 torch 相同。"""

    node_name = "AmaxBackward0"

    @staticmethod
    def forward(ctx, a, dims, keepdim, largest=True):
        if dims is None:
            ctx.node_name = "MaxBackward1" if largest else "MinBackward1"
            dims = tuple(range(a.ndim))
        else:
            ctx.node_name = "AmaxBackward0" if largest else "AminBackward0"
        out = a.max(axis=dims, keepdims=True) if largest else a.min(axis=dims, keepdims=True)
        ctx.save_for_backward(a, out)
        ctx.dims, ctx.keepdim = dims, keepdim
        return out if keepdim else out.reshape([n for i, n in enumerate(a.shape) if i not in dims])

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        mask = a == out
        count = mask.sum(axis=ctx.dims, keepdims=True)
        return _keep(grad, ctx.dims, ctx.keepdim) * mask / count


class MaxDim(ArrayFunction):
    """max(dim)/min(dim)：返回 (values, indices)，梯度只给被选中的那个位置。"""

    node_name = "MaxBackward0"

    @staticmethod
    def forward(ctx, a, dim, keepdim, largest=True):
        xp = xp_of(a)
        ctx.node_name = "MaxBackward0" if largest else "MinBackward0"
        input_shape = a.shape
        if a.ndim == 0:  # 零维张量的 max(0) 就是它自己，下标为 0
            a = a.reshape(1)
            keepdim = False
        indices = a.argmax(axis=dim) if largest else a.argmin(axis=dim)
        indices = xp.expand_dims(indices, dim)
        values = xp.take_along_axis(a, indices, axis=dim)
        ctx.input_shape, ctx.shape, ctx.dim, ctx.keepdim = input_shape, a.shape, dim, keepdim
        ctx.save_for_backward(indices)
        if not keepdim:
            values, indices = values.squeeze(dim), indices.squeeze(dim)
        indices = indices.astype(np.int64)
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad, _grad_indices):
        (indices,) = ctx.saved_tensors
        xp = xp_of(grad)
        if not ctx.keepdim:
            grad = xp.expand_dims(grad, ctx.dim)
        out = xp.zeros(ctx.shape, dtype=grad.dtype)
        xp.put_along_axis(out, indices, grad, axis=ctx.dim)
        return out.reshape(ctx.input_shape)


class Var(ArrayFunction):
    node_name = "VarBackward0"

    @staticmethod
    def forward(ctx, a, dims, correction, keepdim):
        count = int(np.prod([a.shape[d] for d in dims])) if dims else 1
        mean = a.mean(axis=dims, keepdims=True)
        ctx.save_for_backward(a, mean)
        ctx.dims, ctx.keepdim, ctx.divisor = dims, keepdim, max(count - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return a.var(axis=dims, ddof=correction, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        a, mean = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return (2.0 / ctx.divisor) * _keep(grad, ctx.dims, ctx.keepdim) * (a - mean)


class Std(ArrayFunction):
    """标准差 $\\sqrt{\\mathrm{Var}}$。反向先把梯度除以 $2\\sigma$，再走方差的反向；σ = 0 处梯度取 0，与 torch 相同。"""

    node_name = "StdBackward0"

    @staticmethod
    def forward(ctx, a, dims, correction, keepdim):
        count = int(np.prod([a.shape[d] for d in dims])) if dims else 1
        mean = a.mean(axis=dims, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = xp_of(a).sqrt(a.var(axis=dims, ddof=correction, keepdims=True))
        ctx.save_for_backward(a, mean, out)
        ctx.dims, ctx.keepdim, ctx.divisor = dims, keepdim, max(count - correction, 0)
        return out if keepdim else out.reshape([n for i, n in enumerate(a.shape) if i not in dims])

    @staticmethod
    def backward(ctx, grad):
        a, mean, out = ctx.saved_tensors
        xp = xp_of(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            grad_var = xp.where(out == 0, 0, _keep(grad, ctx.dims, ctx.keepdim) / (2 * out))
            return (2.0 / ctx.divisor) * grad_var * (a - mean)


class Norm(ArrayFunction):
    """向量 p 范数（p 可取正数、inf）。"""

    node_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, a, p, dims, keepdim):
        xp = xp_of(a)
        absolute = abs(a)
        if p == float("inf"):
            out = absolute.max(axis=dims, keepdims=True)
        elif p == 2:
            out = xp.sqrt((a * a).sum(axis=dims, keepdims=True))
        elif p == 1:
            out = absolute.sum(axis=dims, keepdims=True)
        elif p == 0:
            out = (a != 0).sum(axis=dims, keepdims=True).astype(a.dtype)
        else:
            out = (absolute ** p).sum(axis=dims, keepdims=True) ** (1.0 / p)
        out = out.astype(a.dtype, copy=False)
        ctx.save_for_backward(a, out)
        ctx.p, ctx.dims, ctx.keepdim = p, dims, keepdim
        return out if keepdim else out.reshape([n for i, n in enumerate(a.shape) if i not in dims])

    @staticmethod
    def backward(ctx, grad):
        a, norm = ctx.saved_tensors
        xp = xp_of(a)
        grad = _keep(grad, ctx.dims, ctx.keepdim)
        p = ctx.p
        if p == 0:
            return xp.zeros_like(a)
        if p == 1:
            return grad * xp.sign(a)
        if p == float("inf"):
            mask = abs(a) == norm
            return grad * xp.sign(a) * mask / mask.sum(axis=ctx.dims, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 2:
                scaled = a / norm
            else:
                scaled = a * abs(a) ** (p - 2) / norm ** (p - 1)
        # 范数为 0 时 torch 给出的梯度是 0；p < 2 时 |a|^(p-2) 在 a = 0 处无界，torch 同样取 0
        zero = (norm == 0) | (a == 0) if p < 2 else norm == 0
        return grad * xp.where(zero, 0, scaled)


class LogSumExp(ArrayFunction):
    node_name = "LogsumexpBackward0"

    @staticmethod
    def forward(ctx, a, dims, keepdim):
        xp = xp_of(a)
        peak = a.max(axis=dims, keepdims=True)
        peak = xp.where(xp.isfinite(peak), peak, 0)
        out = xp.log(xp.exp(a - peak).sum(axis=dims, keepdims=True)) + peak
        ctx.save_for_backward(a, out)
        ctx.dims, ctx.keepdim = dims, keepdim
        return out if keepdim else out.reshape([n for i, n in enumerate(a.shape) if i not in dims])

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        return _keep(grad, ctx.dims, ctx.keepdim) * xp_of(a).exp(a - out)
