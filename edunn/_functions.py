"""``edunn.xxx(tensor, ...)`` 形式的函数。大多数只是转给同名的 Tensor 方法，与 torch 一样两种写法都能用。"""

from . import _backend
from ._ops import pointwise, shape
from ._tensor import Tensor, _broadcast_shapes, _cast_operand


def _method_alias(name):
    def function(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = name
    function.__doc__ = f"等同于 ``input.{name}(...)``。"
    return function


_ALIASES = (
    "add sub mul div pow neg exp log log1p sqrt rsqrt abs sign tanh sigmoid relu sin cos square "
    "reciprocal floor ceil round clamp clip clamp_min clamp_max matmul mm bmm dot t sum mean amax amin "
    "argmax argmin var std logsumexp all any reshape flatten unflatten permute transpose swapaxes "
    "squeeze unsqueeze split chunk unbind eq ne lt le gt ge isnan isinf isfinite logical_not "
    "masked_fill lerp addcmul addcdiv clone numel"
).split()

for _name in _ALIASES:
    globals()[_name] = _method_alias(_name)

subtract, multiply, divide, negative, true_divide = sub, mul, div, neg, div


def max(input, dim=None, keepdim=False):
    return input.max(dim, keepdim)


def min(input, dim=None, keepdim=False):
    return input.min(dim, keepdim)


def maximum(input, other, *, out=None):
    """逐元素取大者；``out`` 是 ``input`` 本身时就地写回（优化器的 AMSGrad 这样用）。"""
    if out is None:
        return input.maximum(other)
    if out is input:
        return input.maximum_(other)
    return out.copy_(input.maximum(other))


def minimum(input, other):
    return input.minimum(other)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    return input.norm(p, dim, keepdim)


def where(condition, input, other):
    """condition 为真处取 input，否则取 other；input/other 可以是 Python 数值。"""
    if not isinstance(condition, Tensor):
        raise TypeError(f"where(): argument 'condition' must be Tensor, not {type(condition).__name__}")
    if condition.dtype is not _backend.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {condition.dtype}")
    device = condition.device
    dtype = _backend.result_type(input, other)
    shapes = [condition.shape] + [v.shape for v in (input, other) if isinstance(v, Tensor)]
    out_shape = shapes[0]
    for s in shapes[1:]:
        out_shape = _broadcast_shapes(out_shape, s)
    a = _cast_operand(input, dtype, device)
    b = _cast_operand(other, dtype, device)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        return Tensor._wrap(condition._xp.where(condition._array, a, b), device)
    return pointwise.Where.apply(condition, a, b)


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("edunn.cat(): expected a non-empty list of Tensors")
    # torch 允许与形状为 (0,) 的一维空张量拼接任意维数的张量，检查形状时不看它们
    kept = [t for t in tensors if not (t.dim() == 1 and t.shape[0] == 0)] or tensors[:1]
    first = kept[0]
    dim = first._wrap_dim(dim)
    for i, t in enumerate(kept[1:], start=1):
        if t.dim() != first.dim():
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {first.dim()} and {t.dim()}"
            )
        for d in range(first.dim()):
            if d != dim and t.shape[d] != first.shape[d]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size {first.shape[d]} "
                    f"but got size {t.shape[d]} for tensor number {i} in the list."
                )
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = _backend.promote_types(dtype, t.dtype)
    return shape.Cat.apply(dim, *[t.to(dtype) for t in tensors])


concat = concatenate = cat


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    first = tensors[0]
    for i, t in enumerate(tensors[1:], start=1):
        if t.shape != first.shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(first.shape)} at entry 0 and "
                f"{list(t.shape)} at entry {i}"
            )
    dim = first._wrap_dim(dim, first.dim() + 1)
    dtype = first.dtype
    for t in tensors[1:]:
        dtype = _backend.promote_types(dtype, t.dtype)
    return shape.Stack.apply(dim, *[t.to(dtype) for t in tensors])


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.is_floating_point()
