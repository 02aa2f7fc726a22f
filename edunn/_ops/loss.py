"""损失函数。``reduction`` 为 ``"none"``（逐元素）、``"sum"`` 或 ``"mean"``，与 torch 相同。

反向时先把输出的梯度铺回逐元素的形状（``_spread``），再乘上逐元素的导数。
"""

import numpy as np

from ..autograd.function import ArrayFunction
from .pointwise import sum_to, xp_of


# torch 的 BCE 反向把分母截在 1e-12，这个常数是 float32：换成 float64 是 9.999999960041972e-13。
_BCE_EPSILON = float(np.float32(1e-12))


def _reduce(loss, reduction, count=None):
    """按 reduction 规约逐元素损失；mean 的分母默认是元素个数，空输入的 mean 为 nan（与 torch 相同）。"""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / (loss.size if count is None else count)


def _spread(xp, grad, reduction, shape, count=None):
    """输出梯度对应到每个元素的份额。"""
    if reduction == "none":
        return grad
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            grad = grad / (int(np.prod(shape)) if count is None else count)
    return xp.broadcast_to(grad, shape)


def _shape(a):
    return a.shape if hasattr(a, "shape") else ()


class MseLoss(ArrayFunction):
    node_name = "MseLossBackward0"

    @staticmethod
    def forward(ctx, x, target, reduction):
        diff = x - target
        ctx.save_for_backward(diff)
        ctx.reduction = reduction
        return _reduce(diff * diff, reduction)

    @staticmethod
    def backward(ctx, grad):
        (diff,) = ctx.saved_tensors
        share = _spread(xp_of(diff), grad, ctx.reduction, diff.shape)
        grad_x = 2 * diff * share
        return grad_x, -grad_x if ctx.needs_input_grad[1] else None, None


class L1Loss(ArrayFunction):
    node_name = "L1LossBackward0"

    @staticmethod
    def forward(ctx, x, target, reduction):
        xp = xp_of(x)
        diff = x - target
        ctx.save_for_backward(diff)
        ctx.reduction = reduction
        return _reduce(xp.abs(diff), reduction)

    @staticmethod
    def backward(ctx, grad):
        (diff,) = ctx.saved_tensors
        xp = xp_of(diff)
        grad_x = xp.sign(diff) * _spread(xp, grad, ctx.reduction, diff.shape)
        return grad_x, -grad_x if ctx.needs_input_grad[1] else None, None


class NllLoss(ArrayFunction):
    r"""负对数似然：第 n 个样本的损失是 $-w_{y_n}\,x_{n, y_n}$，``ignore_index`` 的样本记 0。
    ``mean`` 除以未被忽略样本的权重之和（不是样本数）。

    ``x`` 的形状是 ``(N, C, *d)``，``target`` 是 ``(N, *d)`` 的整数类别。
    """

    node_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, x, target, weight, reduction, ignore_index):
        xp = xp_of(x)
        ignored = target == ignore_index
        safe = xp.where(ignored, 0, target).astype(np.int64, copy=False)
        picked = xp.take_along_axis(x, safe[:, None], axis=1)[:, 0]
        w = weight[safe] if weight is not None else xp.ones(safe.shape, dtype=x.dtype)
        w = xp.where(ignored, 0, w).astype(x.dtype, copy=False)
        losses = xp.where(ignored, 0, -w * picked).astype(x.dtype, copy=False)
        total_weight = w.sum()

        ctx.safe, ctx.w, ctx.total_weight, ctx.ignored = safe, w, total_weight, ignored
        ctx.x_shape, ctx.reduction = x.shape, reduction
        return _reduce(losses, reduction, total_weight)

    @staticmethod
    def backward(ctx, grad):
        xp = xp_of(grad)
        share = _spread(xp, grad, ctx.reduction, ctx.w.shape, ctx.total_weight)
        # 全部样本都被忽略时 share 是 nan，但没有位置会用到它：torch 此时的梯度是全 0。
        with np.errstate(invalid="ignore"):
            per_sample = xp.where(ctx.ignored, 0, -ctx.w * share).astype(grad.dtype, copy=False)
        classes = xp.arange(ctx.x_shape[1]).reshape((1, -1) + (1,) * (len(ctx.x_shape) - 2))
        grad_x = xp.where(classes == ctx.safe[:, None], per_sample[:, None], 0).astype(grad.dtype, copy=False)
        return grad_x, None, None, None, None


class BinaryCrossEntropy(ArrayFunction):
    r"""$\ell = -w\,[t \log x + (1 - t)\log(1 - x)]$，两个对数都截在 $-100$ 以下（与 torch 相同），
    所以 $x = 0$ 或 $1$ 时损失有限。对 x 的导数的分母 $x(1 - x)$ 截在 $10^{-12}$（float32 精度）以上。
    """

    node_name = "BinaryCrossEntropyBackward0"

    @staticmethod
    def forward(ctx, x, target, weight, reduction):
        xp = xp_of(x)
        with np.errstate(divide="ignore"):
            log_x = xp.maximum(xp.log(x), -100)
            log_1mx = xp.maximum(xp.log1p(-x), -100)
        loss = (target - 1) * log_1mx - target * log_x
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, target, weight)
        ctx.logs, ctx.reduction = (log_x, log_1mx), reduction
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, target, weight = ctx.saved_tensors
        xp = xp_of(grad)
        share = _spread(xp, grad, ctx.reduction, x.shape)
        if weight is not None:
            share = share * weight
        grad_x = grad_target = None
        if ctx.needs_input_grad[0]:
            grad_x = share * (x - target) / xp.maximum((1 - x) * x, _BCE_EPSILON)
        if ctx.needs_input_grad[1]:
            log_x, log_1mx = ctx.logs
            grad_target = share * (log_1mx - log_x)
        return grad_x, grad_target, None, None


class BinaryCrossEntropyWithLogits(ArrayFunction):
    r"""把 sigmoid 与 BCE 合在一起，用 $\log\sigma(x) = \min(x, 0) - \log(1 + e^{-|x|})$ 避免溢出：

    $$\ell = w\,[(1 - t)\,x - (1 + (p - 1)\,t)\log\sigma(x)]$$

    其中 $p$ 是 ``pos_weight``（正类的权重，沿最后一维广播），不给时 $p = 1$。
    """

    node_name = "BinaryCrossEntropyWithLogitsBackward0"

    @staticmethod
    def forward(ctx, x, target, weight, pos_weight, reduction):
        xp = xp_of(x)
        log_sigmoid = xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))
        if pos_weight is not None:
            log_weight = (pos_weight - 1) * target + 1
            loss = (1 - target) * x - log_weight * log_sigmoid
        else:
            loss = (1 - target) * x - log_sigmoid
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, target, weight, pos_weight)
        ctx.log_sigmoid, ctx.reduction = log_sigmoid, reduction
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, target, weight, pos_weight = ctx.saved_tensors
        xp = xp_of(grad)
        share = _spread(xp, grad, ctx.reduction, x.shape)
        if weight is not None:
            share = share * weight
        grad_x = grad_target = None
        if ctx.needs_input_grad[0]:
            sigmoid = xp.exp(ctx.log_sigmoid)
            if pos_weight is not None:
                weighted_target = pos_weight * target
                grad_x = share * ((weighted_target + 1 - target) * sigmoid - weighted_target)
            else:
                grad_x = share * (sigmoid - target)
        if ctx.needs_input_grad[1]:
            if pos_weight is not None:
                grad_target = share * ((1 - pos_weight) * ctx.log_sigmoid - x)
            else:
                grad_target = share * -x
        return (
            None if grad_x is None else sum_to(grad_x, _shape(x)),
            None if grad_target is None else sum_to(grad_target, _shape(target)),
            None, None, None,
        )
