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
    # inf 与 -inf 相加得到 nan，torch 不发警告，这里也不发
    with np.errstate(invalid="ignore", over="ignore"):
        if extra > 0:
            grad = grad.sum(axis=tuple(range(extra)))
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        if axes:
            grad = grad.sum(axis=axes, keepdims=True)
    return grad


def _shape(x):
    return x.shape if hasattr(x, "shape") else ()


def _scaled_add(a, b, alpha):
    """``a + alpha * b``；浮点数组像 torch 的 CPU 内核那样用一次乘加，只舍入一次。"""
    if alpha == 1:
        return a + b
    if a.dtype.kind != "f":
        return a + b * alpha
    return _fused_multiply_add(xp_of(a, b).asarray(alpha, dtype=a.dtype), b, a)


class Add(ArrayFunction):
    node_name = "AddBackward0"

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.shapes = (_shape(a), _shape(b))
        ctx.alpha = alpha
        return _scaled_add(a, b, alpha)

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
        return a - b if alpha == 1 else _scaled_add(a, b, -alpha)

    @staticmethod
    def backward(ctx, grad):
        shape_a, shape_b = ctx.shapes
        return sum_to(grad, shape_a), sum_to(-grad * ctx.alpha, shape_b)


class Rsub(Sub):
    """``number - tensor``：torch 把它记作单独的 rsub 节点。"""

    node_name = "RsubBackward1"


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
        with np.errstate(divide="ignore", invalid="ignore"):
            out = base ** exponent  # 负底数配非整数指数得到 nan，与 torch 相同，不发警告
        ctx.save_for_backward(base, exponent, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        base, exponent, out = ctx.saved_tensors
        xp = xp_of(grad)
        grad_base = grad_exponent = None
        if ctx.needs_input_grad[0]:
            # 指数为 0 处导数是 0；torch 直接置 0，不让 0 * 0^(-1) 变成 nan
            with np.errstate(divide="ignore", invalid="ignore"):
                local = exponent * base ** (exponent - 1)
            grad_base = sum_to(grad * xp.where(exponent == 0, 0, local), _shape(base))
        if ctx.needs_input_grad[1]:
            # torch 在 base == 0 且 exponent >= 0 处把 log(0) 的项记为 0
            with np.errstate(divide="ignore", invalid="ignore"):
                local = out * xp.log(base)
            mask = (base == 0) & (exponent >= 0)
            grad_exponent = sum_to(xp.where(mask, 0, grad * local), _shape(exponent))
        return grad_base, grad_exponent


class PowTensor(Pow):
    """指数也是张量：``tensor ** tensor``。"""

    node_name = "PowBackward1"


class RPow(Pow):
    """底数是 Python 数值：``number ** tensor``。"""

    node_name = "PowBackward2"


class Reciprocal(ArrayFunction):
    node_name = "ReciprocalBackward0"

    @staticmethod
    def forward(ctx, a):
        with np.errstate(divide="ignore"):
            out = 1 / a
        out = out.astype(a.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return -grad * (out * out)


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
        # 分正负两支计算，避免 exp 溢出；没被选中的那一支可能得到 inf / inf，不必警告
        with np.errstate(over="ignore", invalid="ignore"):
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


class ClampTensor(ArrayFunction):
    """边界是张量的 clamp：结果为 ``minimum(maximum(a, low), high)``，三者可以互相广播。

    梯度的归属与 torch 相同：a 落在 [low, high] 内（含端点）时归 a；a < low 且 low < high 时归 low；
    a > high 或 high < low（此时结果恒为 high）时归 high。
    """

    node_name = "ClampBackward0"

    @staticmethod
    def forward(ctx, a, low, high):
        xp = xp_of(a)
        ctx.save_for_backward(a, low, high)
        out = a
        if low is not None:
            out = xp.maximum(out, low)
        if high is not None:
            out = xp.minimum(out, high)
        return out.astype(a.dtype, copy=out is a)

    @staticmethod
    def backward(ctx, grad):
        a, low, high = ctx.saved_tensors
        xp = xp_of(grad)
        zero = grad.dtype.type(0)
        keep_a = True
        grad_low = grad_high = None
        if low is not None:
            keep_a = keep_a & (a >= low)
            to_low = a < low if high is None else (a < low) & (low < high)
            grad_low = sum_to(xp.where(to_low, grad, zero), low.shape)
        if high is not None:
            keep_a = keep_a & (a <= high)
            to_high = a > high if low is None else (a > high) | (high < low)
            grad_high = sum_to(xp.where(to_high, grad, zero), high.shape)
        grad_a = sum_to(xp.where(keep_a, grad, zero), a.shape)
        return grad_a, grad_low, grad_high


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


def _fused_multiply_add(x, y, z):
    """``x * y + z`` 只在最后舍入一次，与 torch 的 CPU 内核（编译成 FMA 指令）结果相同。

    float32 及更窄的类型借 float64 计算：乘积在 float64 里是精确的，求和后再舍入到原类型；
    只有 float64 里的和恰好被舍入到两个 float32 的中点时，结果才与真正的 FMA 不同。
    NOTE: float64 没有更宽的类型可借，这里舍入两次，末位可能与 torch 差 1 ulp。
    """
    dtype = z.dtype
    if dtype == np.float64:
        return x * y + z
    return (x.astype(np.float64) * y.astype(np.float64) + z.astype(np.float64)).astype(dtype)


class Lerp(ArrayFunction):
    """线性插值 $a + w(e - a)$。与 torch 相同，$|w| \\ge 0.5$ 时改算 $e - (e - a)(1 - w)$，使 w = 1 时恰好得到 e。"""

    node_name = "LerpBackward0"

    @staticmethod
    def forward(ctx, a, end, weight):
        xp = xp_of(a)
        tensor_weight = hasattr(weight, "shape")
        ctx.node_name = "LerpBackward1" if tensor_weight else "LerpBackward0"
        w = weight if tensor_weight else xp.asarray(weight, dtype=a.dtype)
        diff = end - a
        low = _fused_multiply_add(w, diff, a)
        high = _fused_multiply_add(-diff, 1 - w, end)
        ctx.save_for_backward(a, end, w)
        return xp.where(abs(w) < 0.5, low, high)

    @staticmethod
    def backward(ctx, grad):
        a, end, w = ctx.saved_tensors
        grad_weight = sum_to(grad * (end - a), w.shape) if ctx.needs_input_grad[2] else None
        return sum_to(grad * (1 - w), a.shape), sum_to(grad * w, end.shape), grad_weight


class Addcmul(ArrayFunction):
    """$a + v \\cdot t_1 t_2$。torch 的 CPU 内核先算 $v t_1$，再与 $t_2$ 乘加，只舍入一次。"""

    node_name = "AddcmulBackward0"

    @staticmethod
    def forward(ctx, a, tensor1, tensor2, value=1):
        ctx.save_for_backward(tensor1, tensor2)
        ctx.shape, ctx.value = a.shape, value
        scaled = tensor1 * xp_of(a).asarray(value, dtype=a.dtype) if value != 1 else tensor1
        if a.dtype.kind != "f":
            return a + scaled * tensor2
        return _fused_multiply_add(scaled, tensor2, a)

    @staticmethod
    def backward(ctx, grad):
        tensor1, tensor2 = ctx.saved_tensors
        grad_1 = sum_to(grad * ctx.value * tensor2, tensor1.shape) if ctx.needs_input_grad[1] else None
        grad_2 = sum_to(grad * ctx.value * tensor1, tensor2.shape) if ctx.needs_input_grad[2] else None
        return sum_to(grad, ctx.shape), grad_1, grad_2


class Addcdiv(ArrayFunction):
    """$a + v \\cdot t_1 / t_2$，按 torch 的顺序先乘 v、再除、最后加。"""

    node_name = "AddcdivBackward0"

    @staticmethod
    def forward(ctx, a, tensor1, tensor2, value=1):
        ctx.save_for_backward(tensor1, tensor2)
        ctx.shape, ctx.value = a.shape, value
        scaled = tensor1 * xp_of(a).asarray(value, dtype=a.dtype) if value != 1 else tensor1
        with np.errstate(divide="ignore", invalid="ignore"):
            return a + scaled / tensor2

    @staticmethod
    def backward(ctx, grad):
        tensor1, tensor2 = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            grad_1 = sum_to(grad * ctx.value / tensor2, tensor1.shape) if ctx.needs_input_grad[1] else None
            grad_2 = (sum_to(-grad * ctx.value * tensor1 / (tensor2 * tensor2), tensor2.shape)
                      if ctx.needs_input_grad[2] else None)
        return sum_to(grad, ctx.shape), grad_1, grad_2


class MaskedFill(ArrayFunction):
    """mask 为真处换成 value（Python 数值或零维张量）；被换掉的位置不再把梯度传给输入。"""

    node_name = "MaskedFillBackward0"

    @staticmethod
    def forward(ctx, a, mask, value):
        xp = xp_of(a)
        tensor_value = hasattr(value, "shape")
        ctx.node_name = "MaskedFillBackward1" if tensor_value else "MaskedFillBackward0"
        ctx.save_for_backward(mask)
        ctx.shape = a.shape
        return xp.where(mask, xp.asarray(value, dtype=a.dtype), a)

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        xp = xp_of(grad)
        zero = grad.dtype.type(0)
        grad_a = sum_to(xp.where(mask, zero, grad), ctx.shape)
        grad_value = xp.where(mask, grad, zero).sum() if ctx.needs_input_grad[2] else None
        return grad_a, None, grad_value


class Fill(ArrayFunction):
    """zero_/fill_ 在记录梯度时的节点：结果与输入无关，输入得到全零的梯度。"""

    node_name = "FillBackward2"

    @staticmethod
    def forward(ctx, a, value, node_name="FillBackward2"):
        ctx.node_name = node_name
        return xp_of(a).full_like(a, value)

    @staticmethod
    def backward(ctx, grad):
        return xp_of(grad).zeros_like(grad)


class Clone(ArrayFunction):
    node_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad
