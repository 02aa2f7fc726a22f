"""逐元素运算。每个运算一个类：``forward`` 算值并保存反向要用的数组，``backward`` 紧随其后。

两个输入的形状不同时会广播（broadcasting）；反向时用 ``sum_to`` 把梯度加回输入原来的形状。
"""

import numpy as np

from ..autograd.function import ArrayFunction


def xp_of(*arrays):
    """从参数里找出数组模块（numpy 或 cupy）；Python 数值跳过。"""
    for a in arrays:
        if hasattr(a, "__array_namespace__") or hasattr(a, "shape"):
            mod = type(a).__module__
            if mod.startswith("cupy"):
                import cupy

                return cupy
            return np
    return np


def sum_to(grad, shape):
    """把广播后的梯度按求和规约回 ``shape``：先去掉多出的前导维，再对原来长度为 1 的维求和。"""
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


def _shape(x):
    return x.shape if hasattr(x, "shape") else ()


class Add(ArrayFunction):
    node_name = "AddBackward0"

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.shapes = (_shape(a), _shape(b))
        ctx.alpha = alpha
        return a + b * alpha if alpha != 1 else a + b

    @staticmethod
    def backward(ctx, grad):
        shape_a, shape_b = ctx.shapes
        grad_b = grad * ctx.alpha if ctx.alpha != 1 else grad
        return sum_to(grad, shape_a), sum_to(grad_b, shape_b)


class Sub(ArrayFunction):
    node_name = "SubBackward0"

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.shapes = (_shape(a), _shape(b))
        ctx.alpha = alpha
        return a - b * alpha if alpha != 1 else a - b

    @staticmethod
    def backward(ctx, grad):
        shape_a, shape_b = ctx.shapes
        return sum_to(grad, shape_a), sum_to(-grad * ctx.alpha, shape_b)


class Mul(ArrayFunction):
    node_name = "MulBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = sum_to(grad * b, _shape(a)) if ctx.needs_input_grad[0] else None
        grad_b = sum_to(grad * a, _shape(b)) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(ArrayFunction):
    node_name = "DivBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = sum_to(grad / b, _shape(a)) if ctx.needs_input_grad[0] else None
        grad_b = sum_to(-grad * a / (b * b), _shape(b)) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Pow(ArrayFunction):
    node_name = "PowBackward0"

    @staticmethod
    def forward(ctx, base, exponent):
        out = base ** exponent
        ctx.save_for_backward(base, exponent, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        base, exponent, out = ctx.saved_tensors
        xp = xp_of(grad)
        grad_base = grad_exponent = None
        if ctx.needs_input_grad[0]:
            if getattr(exponent, "ndim", 0) == 0 and exponent == 0:
                grad_base = xp.zeros_like(base)
            else:
                grad_base = sum_to(grad * exponent * base ** (exponent - 1), _shape(base))
        if ctx.needs_input_grad[1]:
            # torch 在 base == 0 且 exponent >= 0 处把 log(0) 的项记为 0
            with np.errstate(divide="ignore", invalid="ignore"):
                log_base = xp.log(base)
            mask = (base == 0) & (exponent >= 0)
            grad_exponent = sum_to(xp.where(mask, 0, grad * out * log_base), _shape(exponent))
        return grad_base, grad_exponent


class Neg(ArrayFunction):
    node_name = "NegBackward0"

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Exp(ArrayFunction):
    node_name = "ExpBackward0"

    @staticmethod
    def forward(ctx, a):
        out = xp_of(a).exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


class Log(ArrayFunction):
    node_name = "LogBackward0"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp_of(a).log(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / a


class Log1p(ArrayFunction):
    node_name = "Log1PBackward0"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp_of(a).log1p(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / (a + 1)


class Sqrt(ArrayFunction):
    node_name = "SqrtBackward0"

    @staticmethod
    def forward(ctx, a):
        with np.errstate(invalid="ignore"):
            out = xp_of(a).sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        with np.errstate(divide="ignore"):
            return grad / (2 * out)


class Rsqrt(ArrayFunction):
    node_name = "RsqrtBackward0"

    @staticmethod
    def forward(ctx, a):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = 1 / xp_of(a).sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return -0.5 * grad * out * out * out


class Abs(ArrayFunction):
    node_name = "AbsBackward0"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return abs(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * xp_of(a).sign(a)


class Sign(ArrayFunction):
    node_name = "SignBackward0"

    @staticmethod
    def forward(ctx, a):
        return xp_of(a).sign(a)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0


class Tanh(ArrayFunction):
    node_name = "TanhBackward0"

    @staticmethod
    def forward(ctx, a):
        out = xp_of(a).tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)


class Sigmoid(ArrayFunction):
    node_name = "SigmoidBackward0"

    @staticmethod
    def forward(ctx, a):
        xp = xp_of(a)
        # 分正负两支计算，避免 exp 溢出
        with np.errstate(over="ignore"):
            out = xp.where(a >= 0, 1 / (1 + xp.exp(-a)), xp.exp(a) / (1 + xp.exp(a)))
        out = out.astype(a.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * (1 - out)


class Relu(ArrayFunction):
    node_name = "ReluBackward0"

    @staticmethod
    def forward(ctx, a):
        out = xp_of(a).maximum(a, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out > 0)


class Sin(ArrayFunction):
    node_name = "SinBackward0"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return xp_of(a).sin(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * xp_of(a).cos(a)


class Cos(ArrayFunction):
    node_name = "CosBackward0"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return xp_of(a).cos(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return -grad * xp_of(a).sin(a)


class Clamp(ArrayFunction):
    node_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, a, min=None, max=None):
        xp = xp_of(a)
        ctx.save_for_backward(a)
        ctx.bounds = (min, max)
        out = a
        if min is not None:
            out = xp.maximum(out, min)
        if max is not None:
            out = xp.minimum(out, max)
        return out.astype(a.dtype, copy=out is a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        low, high = ctx.bounds
        mask = True
        if low is not None:
            mask = mask & (a >= low)
        if high is not None:
            mask = mask & (a <= high)
        return grad * mask


class Maximum(ArrayFunction):
    node_name = "MaximumBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return xp_of(a, b).maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        # 相等处两边各得一半梯度，与 torch 相同
        share_a = (a > b) + (a == b) * 0.5
        share_b = (b > a) + (a == b) * 0.5
        return sum_to(grad * share_a, _shape(a)), sum_to(grad * share_b, _shape(b))


class Minimum(ArrayFunction):
    node_name = "MinimumBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return xp_of(a, b).minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        share_a = (a < b) + (a == b) * 0.5
        share_b = (b < a) + (a == b) * 0.5
        return sum_to(grad * share_a, _shape(a)), sum_to(grad * share_b, _shape(b))


class Where(ArrayFunction):
    node_name = "WhereBackward0"

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        ctx.shapes = (_shape(a), _shape(b))
        return xp_of(condition, a, b).where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        shape_a, shape_b = ctx.shapes
        zero = grad.dtype.type(0)
        xp = xp_of(grad)
        return (None,
                sum_to(xp.where(condition, grad, zero), shape_a),
                sum_to(xp.where(condition, zero, grad), shape_b))


class Cast(ArrayFunction):
    """换 dtype；梯度换回输入的 dtype。"""

    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, a, dtype):
        from .memory_format import copy_as, preserve_format  # memory_format 导入了本模块

        ctx.input_dtype = a.dtype
        return copy_as(a, preserve_format, dtype)  # 与 torch 一样保持输入的步长布局

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.input_dtype), None


class Clone(ArrayFunction):
    node_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad
