"""归一化：batch_norm 与 layer_norm，前向与反向都在一个算子里完成。

两者是同一个公式，只是求统计量的维不同（batch_norm：除通道维外的所有维；layer_norm：最后几维）：

    x_hat = (x - mean) * invstd,   invstd = 1 / sqrt(var + eps),   y = x_hat * weight + bias

其中 var 是有偏方差（除以 M，M 为参与统计的元素个数）。对 x 的梯度化简为

    dx = invstd / M * (M * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat)),   dx_hat = dy * weight

一次前向、一次反向，不必把 mean、var 的计算图逐个节点展开。
"""

import math

from ..autograd.function import ArrayFunction
from .pointwise import xp_of


def _normalize_backward(grad_x_hat, x_hat, invstd, axes, count):
    total = grad_x_hat.sum(axis=axes, keepdims=True)
    projection = (grad_x_hat * x_hat).sum(axis=axes, keepdims=True)
    return invstd / count * (count * grad_x_hat - total - x_hat * projection)


class BatchNorm(ArrayFunction):
    """``training=True`` 用本批统计量并额外返回 (mean, 有偏 var) 供调用方更新 running 统计量；
    ``training=False`` 用传入的 running_mean / running_var，此时对 x 的梯度只是一次缩放。
    """

    node_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, eps):
        xp = xp_of(x)
        axes = (0,) + tuple(range(2, x.ndim))
        stat_shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        if training:
            mean = x.mean(axis=axes)
            var = ((x - mean.reshape(stat_shape)) ** 2).mean(axis=axes)
        else:
            mean, var = running_mean, running_var
        invstd = 1.0 / xp.sqrt(var + eps)
        x_hat = (x - mean.reshape(stat_shape)) * invstd.reshape(stat_shape)
        out = x_hat * weight.reshape(stat_shape) if weight is not None else x_hat.copy()
        if bias is not None:
            out += bias.reshape(stat_shape)

        ctx.save_for_backward(weight)
        ctx.x_hat, ctx.invstd, ctx.training = x_hat, invstd.reshape(stat_shape), training
        ctx.axes, ctx.stat_shape = axes, stat_shape
        if not training:
            return out
        ctx.mark_non_differentiable(mean, var)
        return out, mean, var

    @staticmethod
    def backward(ctx, grad, *unused_stat_grads):
        (weight,) = ctx.saved_tensors
        x_hat, invstd, axes = ctx.x_hat, ctx.invstd, ctx.axes
        grad_x = grad_weight = grad_bias = None
        grad_x_hat = grad * weight.reshape(ctx.stat_shape) if weight is not None else grad

        if ctx.needs_input_grad[0]:
            if ctx.training:
                count = grad.size // grad.shape[1]
                grad_x = _normalize_backward(grad_x_hat, x_hat, invstd, axes, count)
            else:
                grad_x = grad_x_hat * invstd
        if ctx.needs_input_grad[1]:
            grad_weight = (grad * x_hat).sum(axis=axes)
        if ctx.needs_input_grad[2]:
            grad_bias = grad.sum(axis=axes)
        return grad_x, grad_weight, grad_bias, None, None, None, None


class LayerNorm(ArrayFunction):
    """在最后 ``normalized_ndim`` 个维上归一化；weight / bias 的形状就是这几维。"""

    node_name = "NativeLayerNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, normalized_ndim, eps):
        xp = xp_of(x)
        axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        invstd = 1.0 / xp.sqrt(var + eps)
        x_hat = (x - mean) * invstd
        out = x_hat * weight if weight is not None else x_hat.copy()
        if bias is not None:
            out += bias

        ctx.save_for_backward(weight)
        ctx.x_hat, ctx.invstd, ctx.axes = x_hat, invstd, axes
        return out

    @staticmethod
    def backward(ctx, grad):
        (weight,) = ctx.saved_tensors
        x_hat, invstd, axes = ctx.x_hat, ctx.invstd, ctx.axes
        leading = tuple(range(grad.ndim - len(axes)))
        grad_x = grad_weight = grad_bias = None

        if ctx.needs_input_grad[0]:
            grad_x_hat = grad * weight if weight is not None else grad
            count = math.prod(x_hat.shape[len(leading):])
            grad_x = _normalize_backward(grad_x_hat, x_hat, invstd, axes, count)
        if ctx.needs_input_grad[1]:
            grad_weight = (grad * x_hat).sum(axis=leading) if leading else grad * x_hat
        if ctx.needs_input_grad[2]:
            grad_bias = grad.sum(axis=leading) if leading else grad.copy()
        return grad_x, grad_weight, grad_bias, None, None
