"""激活函数与 softmax。relu、tanh、sigmoid 在 ``pointwise.py``；这里是 nn.functional 额外需要的。"""

import math

import numpy as np

from .._backend import erf
from ..autograd.function import ArrayFunction
from .pointwise import xp_of

_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_TANH_KAPPA = 0.044715


def _sigmoid(xp, x):
    """分正负两支算 sigmoid，避免 exp 溢出。"""
    with np.errstate(over="ignore", invalid="ignore"):
        positive = 1 / (1 + xp.exp(-x))
        negative = xp.exp(x) / (1 + xp.exp(x))
    return xp.where(x >= 0, positive, negative).astype(x.dtype, copy=False)


class LeakyRelu(ArrayFunction):
    node_name = "LeakyReluBackward0"

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        return xp_of(x).where(x > 0, x, x * negative_slope)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return xp_of(grad).where(x > 0, grad, grad * ctx.negative_slope), None


class Gelu(ArrayFunction):
    r"""GELU。``approximate="none"``：$x\Phi(x)$，$\Phi$ 用 erf 精确计算；
    ``approximate="tanh"``：$\frac{x}{2}\left(1 + \tanh\left(\sqrt{2/\pi}\,(x + 0.044715x^3)\right)\right)$。
    """

    node_name = "GeluBackward0"

    @staticmethod
    def forward(ctx, x, approximate):
        xp = xp_of(x)
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (x + _GELU_TANH_KAPPA * x * x * x)
            return 0.5 * x * (1 + xp.tanh(inner))
        return x * 0.5 * (1 + erf(xp, x * _SQRT1_2))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        xp = xp_of(grad)
        if ctx.approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (x + _GELU_TANH_KAPPA * x * x * x)
            tanh_inner = xp.tanh(inner)
            inner_derivative = _SQRT_2_OVER_PI * (1 + 3 * _GELU_TANH_KAPPA * x * x)
            derivative = 0.5 * (1 + tanh_inner) + 0.5 * x * (1 - tanh_inner * tanh_inner) * inner_derivative
        else:
            cdf = 0.5 * (1 + erf(xp, x * _SQRT1_2))
            pdf = xp.exp(-0.5 * x * x) * _INV_SQRT_2PI
            derivative = cdf + x * pdf
        return grad * derivative, None


class Silu(ArrayFunction):
    r"""SiLU（也叫 swish）：$x\,\sigma(x)$，导数 $\sigma(x)\,(1 + x(1 - \sigma(x)))$。"""

    node_name = "SiluBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * _sigmoid(xp_of(x), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = _sigmoid(xp_of(grad), x)
        return grad * s * (1 + x * (1 - s))


class Hardtanh(ArrayFunction):
    """把 x 截到 [min_val, max_val]；边界上与区间外梯度为 0，与 torch 相同。"""

    node_name = "HardtanhBackward0"

    @staticmethod
    def forward(ctx, x, min_val, max_val):
        ctx.save_for_backward(x)
        ctx.bounds = (min_val, max_val)
        return xp_of(x).clip(x, min_val, max_val)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        low, high = ctx.bounds
        inside = (x > low) & (x < high)
        return xp_of(grad).where(inside, grad, 0).astype(grad.dtype, copy=False), None, None


class Elu(ArrayFunction):
    r"""ELU：$x > 0$ 时为 $x$，否则 $\alpha(e^x - 1)$。"""

    node_name = "EluBackward0"

    @staticmethod
    def forward(ctx, x, alpha):
        xp = xp_of(x)
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        xp = xp_of(grad)
        return xp.where(x > 0, grad, grad * ctx.alpha * xp.exp(xp.minimum(x, 0))), None


class Softplus(ArrayFunction):
    r"""$\frac{1}{\beta}\log(1 + e^{\beta x})$；$\beta x$ 超过 threshold 时直接取 $x$（与 torch 相同）。"""

    node_name = "SoftplusBackward0"

    @staticmethod
    def forward(ctx, x, beta, threshold):
        xp = xp_of(x)
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        scaled = x * beta
        with np.errstate(over="ignore"):
            soft = xp.log1p(xp.exp(scaled)) / beta
        return xp.where(scaled > threshold, x, soft)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        xp = xp_of(grad)
        scaled = x * ctx.beta
        return xp.where(scaled > ctx.threshold, grad, grad * _sigmoid(xp, scaled)), None, None


class LogSigmoid(ArrayFunction):
    r"""$\log\sigma(x) = \min(x, 0) - \log(1 + e^{-|x|})$，这样写不会溢出。"""

    node_name = "LogSigmoidBackward0"

    @staticmethod
    def forward(ctx, x):
        xp = xp_of(x)
        ctx.save_for_backward(x)
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _sigmoid(xp_of(grad), -x)


class Softmax(ArrayFunction):
    r"""$y_i = e^{x_i - m} / \sum_j e^{x_j - m}$，$m = \max_j x_j$ 防止溢出。
    反向：$\partial L/\partial x = y \odot (g - \sum_j g_j y_j)$。
    """

    node_name = "SoftmaxBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        xp = xp_of(x)
        shifted = x - x.max(axis=dim, keepdims=True)
        exp = xp.exp(shifted)
        out = exp / exp.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return out * (grad - (grad * out).sum(axis=ctx.dim, keepdims=True)), None


class LogSoftmax(ArrayFunction):
    r"""$y_i = x_i - m - \log\sum_j e^{x_j - m}$。反向：$g - e^{y} \sum_j g_j$。"""

    node_name = "LogSoftmaxBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        xp = xp_of(x)
        shifted = x - x.max(axis=dim, keepdims=True)
        out = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        xp = xp_of(grad)
        return grad - xp.exp(out) * grad.sum(axis=ctx.dim, keepdims=True), None
