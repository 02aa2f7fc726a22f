"""``edunn.nn.functional``：无状态的神经网络运算，签名、默认值与报错都与 ``torch.nn.functional`` 相同。

这里的函数只做两件事：按 torch 的规则检查参数，然后调用 ``edunn/_ops`` 里的算子
（前向与反向写在一起的 ``ArrayFunction``）。它们不持有任何状态：卷积核、running 统计量、
训练/评估标志都由调用方传入——持有这些状态是 ``edunn.nn`` 里各个 Module 的事。
"""

import math
import numbers
import warnings

import numpy as np

from .. import _backend
from .._ops import activation as _activation
from .._ops import conv as _conv
from .._ops import embedding as _embedding
from .._ops import linear as _linear
from .._ops import loss as _loss
from .._ops import normalization as _normalization
from .._ops import pooling as _pooling
from .._ops.padding import ConstantPad as _ConstantPad
from .._ops.padding import padded_indices as _padded_indices
from .._tensor import Tensor, _broadcast_shapes
from ..autograd.grad_mode import is_grad_enabled, no_grad

__all__ = [
    "adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "batch_norm", "bilinear",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "conv1d", "conv2d", "conv3d",
    "cross_entropy", "dropout", "elu", "embedding", "fold", "gelu", "hardtanh", "l1_loss",
    "layer_norm", "leaky_relu", "linear", "log_softmax", "logsigmoid", "max_pool1d", "max_pool2d",
    "mse_loss", "nll_loss", "one_hot", "pad", "relu", "relu6", "sigmoid", "silu", "softmax",
    "softmin", "softplus", "tanh", "unfold",
]

# torch 报错信息里用的 C++ 类型名
_CPP_TYPE_NAMES = {
    "float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
    "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
    "uint8": "unsigned char", "bool": "bool",
}


# ---------------------------------------------------------------------------
# 参数检查的小工具
# ---------------------------------------------------------------------------


def _check_tensor(function, name, position, value):
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{function}(): argument '{name}' (position {position}) must be Tensor, not {type(value).__name__}"
        )


def _check_optional_tensor(function, name, position, value):
    if value is not None:
        _check_tensor(function, name, position, value)


def _require_floating(kernel, tensor):
    """torch 的整数张量走不到浮点内核时抛的 NotImplementedError。"""
    if not tensor.dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{tensor.dtype._torch_name}\'')


def _check_not_differentiable(function, name, tensor):
    """torch 不对 weight、pos_weight、running 统计量等参数求导；它们要求梯度时直接报错。"""
    if tensor is not None and tensor.requires_grad and is_grad_enabled():
        raise RuntimeError(
            f"The function '{function}' is not differentiable with respect to argument '{name}'. "
            "This input cannot have requires_grad True."
        )


def _int_list(value, function, name, position):
    """把 int 或 int 序列变成列表；其他类型按 torch 的措辞抛 TypeError。"""
    items = [value] if isinstance(value, numbers.Integral) else value
    try:
        items = list(items)
    except TypeError:
        raise TypeError(
            f"{function}(): argument '{name}' (position {position}) must be tuple of ints, not "
            f"{type(value).__name__}"
        ) from None
    for index, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, numbers.Integral):
            raise TypeError(
                f"{function}(): argument '{name}' (position {position}) must be tuple of ints, but found element "
                f"of type {type(item).__name__} at pos {index}"
            )
    return [int(item) for item in items]


def _inplace_or_not(op, input, inplace, *args):
    """``inplace=True`` 时把结果写回 input（记录梯度时会换上新的 grad_fn），否则返回新张量。"""
    if inplace:
        return input._inplace(lambda t, *a: op.apply(t, *a), *args)
    return op.apply(input, *args)


# ---------------------------------------------------------------------------
# 全连接
# ---------------------------------------------------------------------------


def linear(input, weight, bias=None):
    r"""$y = xW^T + b$。``input`` 的形状是 ``(*, in_features)``，``weight`` 是 ``(out_features, in_features)``。"""
    _check_tensor("linear", "input", 1, input)
    _check_tensor("linear", "weight", 2, weight)
    _check_optional_tensor("linear", "bias", 3, bias)
    if input.dim() == 0 or weight.dim() == 0:
        raise RuntimeError(
            f"both arguments to linear need to be at least 1D, but they are {input.dim()}D and {weight.dim()}D"
        )
    if weight.dim() > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {weight.dim()}D")
    if input.dtype is not weight.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {_CPP_TYPE_NAMES[input.dtype.name]} != "
            f"{_CPP_TYPE_NAMES[weight.dtype.name]}"
        )
    if weight.dim() == 1:
        # 一维 weight 是一次向量积，torch 允许，但此时不能再加 bias
        if bias is not None:
            raise RuntimeError("mat2 must be a matrix, got 1-D tensor")
        return input.matmul(weight)

    rows = math.prod(input.shape[:-1])
    out_features, in_features = weight.shape
    if input.shape[-1] != in_features:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input.shape[-1]} and {in_features}x{out_features})"
        )
    if bias is not None:
        if bias.dtype is not input.dtype:
            raise RuntimeError(
                f"self and mat2 must have the same dtype, but got {bias.dtype._torch_name} and "
                f"{input.dtype._torch_name}"
            )
        if bias.dim() > 1 or (bias.dim() == 1 and bias.shape[0] not in (1, out_features)):
            if bias.dim() == 1:
                raise RuntimeError(
                    f"The expanded size of the tensor ({out_features}) must match the existing size "
                    f"({bias.shape[0]}) at non-singleton dimension 1.  Target sizes: [{rows}, {out_features}]."
                    f"  Tensor sizes: [{bias.shape[0]}]"
                )
            # 多维 bias 按广播规则加上去，形状不合时由广播报错
            return linear(input, weight) + bias
    return _linear.Linear.apply(input, weight, bias)


def bilinear(input1, input2, weight, bias=None):
    r"""$y_k = x_1^T W_k x_2 + b_k$。``weight`` 的形状是 ``(out, in1, in2)``，两个输入的前导维必须相同。"""
    _check_tensor("bilinear", "input1", 1, input1)
    _check_tensor("bilinear", "input2", 2, input2)
    _check_tensor("bilinear", "weight", 3, weight)
    _check_optional_tensor("bilinear", "bias", 4, bias)

    named = [("input1", input1), ("input2", input2), ("weight", weight)]
    if bias is not None:
        named.append(("bias", bias))
    if len({tensor.dtype for _, tensor in named}) > 1:
        listed = ", ".join(f"{name}: {_CPP_TYPE_NAMES[tensor.dtype.name]}" for name, tensor in named)
        raise RuntimeError(f"All tensors must have the same dtype, got {listed}")
    if input1.dim() != input2.dim():
        raise RuntimeError(
            f"bilinear(): input dimensions do not match: got {input1.dim()} and {input2.dim()}"
        )
    for dim in range(input1.dim() - 1):
        if input1.shape[dim] != input2.shape[dim]:
            raise RuntimeError(
                f"bilinear(): input batch dimensions do not match at dim {dim}: got {input1.shape[dim]} "
                f"and {input2.shape[dim]}"
            )

    if weight.dim() != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-dimensional, but got {weight.dim()} dimensions")
    if input1.shape[-1] != weight.shape[1]:
        raise RuntimeError(
            f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but expected "
            f"{weight.shape[1]}"
        )
    if input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(
            f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but expected "
            f"{weight.shape[2]}"
        )
    if bias is not None and bias.shape[-1] != weight.shape[0]:
        raise RuntimeError(
            f"bilinear(): bias size does not match weight size: got {bias.shape[-1]} but expected "
            f"{weight.shape[0]}"
        )
    return _linear.Bilinear.apply(input1, input2, weight, bias)


# ---------------------------------------------------------------------------
# 卷积
# ---------------------------------------------------------------------------


_CONV_POSITIONS = {"stride": 4, "padding": 5, "dilation": 6}


def _conv_param(value, spatial_dims, weight_spatial_dims, function, name):
    """把 stride/padding/dilation 展开成每个空间维一个数；长度不合时用 torch 的措辞报错。"""
    items = _int_list(value, function, name, _CONV_POSITIONS[name])
    if len(items) == 1:
        items = items * spatial_dims
    if len(items) != weight_spatial_dims:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {weight_spatial_dims} values to match "
            f"the convolution dimensions, but got {name}={items}"
        )
    return tuple(items)


def _convnd(spatial_dims, function, input, weight, bias, stride, padding, dilation, groups):
    """conv1d/2d/3d 的共同实现：按 torch 的规则检查参数，然后调用 ``Convolution`` 算子。"""
    _check_tensor(function, "input", 1, input)
    _check_tensor(function, "weight", 2, weight)
    _check_optional_tensor(function, "bias", 3, bias)
    if input.dim() not in (spatial_dims + 1, spatial_dims + 2):
        raise RuntimeError(
            f"Expected {spatial_dims + 1}D (unbatched) or {spatial_dims + 2}D (batched) input to {function}, "
            f"but got input of size: {list(input.shape)}"
        )
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    if weight.dim() < 3:
        raise RuntimeError("weight should have at least three dimensions")
    weight_spatial_dims = weight.dim() - 2
    stride = _conv_param(stride, spatial_dims, weight_spatial_dims, function, "stride")
    dilation = _conv_param(dilation, spatial_dims, weight_spatial_dims, function, "dilation")
    if isinstance(padding, str):
        if padding == "same" and any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        pairs = _same_padding(weight.shape[2:], dilation) if padding == "same" else [(0, 0)] * spatial_dims
    else:
        padding = _conv_param(padding, spatial_dims, weight_spatial_dims, function, "padding")
        pairs = [(p, p) for p in padding]
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool):
        raise TypeError(f"{function}(): argument 'groups' must be int, not {type(groups).__name__}")

    if any(left < 0 or right < 0 for left, right in pairs):
        raise RuntimeError("negative padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")

    batched = input.dim() == spatial_dims + 2
    x = input if batched else input.unsqueeze(0)
    if x.dtype is not weight.dtype:
        raise RuntimeError(
            f"Input type ({_backend.torch_type_name(x.dtype)}) and weight type "
            f"({_backend.torch_type_name(weight.dtype)}) should be the same or input should be a MKLDNN tensor "
            "and weight is a dense tensor"
        )
    if bias is not None and bias.dtype is not x.dtype:
        raise RuntimeError(
            f"Input type ({_CPP_TYPE_NAMES[x.dtype.name]}) and bias type ({_CPP_TYPE_NAMES[bias.dtype.name]}) "
            "should be the same"
        )
    _check_conv_shapes(x, weight, bias, pairs, dilation, groups)

    out = _conv.Convolution.apply(x, weight, bias, stride, pairs, dilation, groups)
    return out if batched else out.squeeze(0)


def _same_padding(kernel, dilation):
    """``padding="same"``：每维共补 ``dilation * (kernel - 1)``，左边 ``total // 2``，多出的一格补在右边。"""
    pairs = []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        pairs.append((total // 2, total - total // 2))
    return pairs


def _check_conv_shapes(x, weight, bias, pairs, dilation, groups):
    c_out = weight.shape[0]
    if c_out % groups != 0:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight "
            f"of size [{list(weight.shape)}] instead"
        )
    if x.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input{list(x.shape)} to have "
            f"{weight.shape[1] * groups} channels, but got {x.shape[1]} channels instead"
        )
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != c_out):
        raise RuntimeError(
            f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with {c_out} elements, "
            f"but got bias of size {list(bias.shape)} instead"
        )
    padded = [size + left + right for size, (left, right) in zip(x.shape[2:], pairs)]
    effective = [d * (k - 1) + 1 for k, d in zip(weight.shape[2:], dilation)]
    if any(k > p for k, p in zip(effective, padded)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
            f"({' x '.join(map(str, effective))}). Kernel size can't be greater than actual input size"
        )


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """一维卷积：input ``(N, C_in, L)`` 或 ``(C_in, L)``，weight ``(C_out, C_in / groups, k)``。"""
    return _convnd(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    r"""二维卷积（实际是互相关，与 torch 相同）：

    $$\text{out}[n, o, i, j] = b_o + \sum_{c, p, q} W[o, c, p, q]\; x[n, c,\; i s_h + p d_h - \text{pad}_h,\; j s_w + q d_w - \text{pad}_w]$$

    ``padding`` 可以是整数、二元组、``"valid"``（不补）或 ``"same"``（输出与输入一样大，只能配合 stride=1）。
    实现是 im2col + 矩阵乘法，见 ``edunn/_ops/conv.py``。
    """
    return _convnd(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """三维卷积：input ``(N, C_in, D, H, W)`` 或 ``(C_in, D, H, W)``。"""
    return _convnd(3, "conv3d", input, weight, bias, stride, padding, dilation, groups)


def _pair_arg(value, function, name):
    """池化与 unfold 的二元参数：一个整数或两个整数，否则按 torch 的措辞报错。"""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (int(value), int(value))
    items = list(value) if isinstance(value, (tuple, list)) else None
    if items is not None and len(items) == 1:
        return (int(items[0]),) * 2
    if items is not None and len(items) == 2:
        return tuple(int(v) for v in items)
    raise RuntimeError(_PAIR_MESSAGES[name].format(function=function))


_PAIR_MESSAGES = {
    "kernel_size": "{function}: kernel_size must either be a single int, or a tuple of two ints",
    "stride": "{function}: stride must either be omitted, a single int, or a tuple of two ints",
    "padding": "{function}: padding must either be a single int, or a tuple of two ints",
    "dilation": "{function}: dilation must be either a single int, or a tuple of two ints",
}


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col：``(N, C, H, W)`` -> ``(N, C * kh * kw, L)``，每一列是一个感受野。"""
    _check_tensor("unfold", "input", 1, input)
    if input.dim() not in (3, 4):
        raise NotImplementedError(
            f"Input Error: Only 3D or 4D input Tensors are supported (got {input.dim()}D)"
        )
    kernel = _pair_arg(kernel_size, "im2col", "kernel_size")
    dilation = _pair_arg(dilation, "im2col", "dilation")
    padding = _pair_arg(padding, "im2col", "padding")
    stride = _pair_arg(stride, "im2col", "stride")
    batched = input.dim() == 4
    x = input if batched else input.unsqueeze(0)
    out_size = [
        _conv.conv_output_size(size, k, s, 2 * p, d)
        for size, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation)
    ]
    if any(o < 1 for o in out_size):
        raise RuntimeError(
            f"Given input with spatial size ({x.shape[2]}, {x.shape[3]}), kernel_size=({kernel[0]}, {kernel[1]}), "
            f"dilation=({dilation[0]}, {dilation[1]}), padding=({padding[0]}, {padding[1]}), calculated shape of "
            f"the array of sliding blocks as ({out_size[0]}, {out_size[1]}), but its components must be at least "
            "one."
        )
    out = _conv.Unfold.apply(x, kernel, stride, [(p, p) for p in padding], dilation)
    return out if batched else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im：把 ``(N, C * kh * kw, L)`` 的列加回 ``(N, C, *output_size)``，重叠处累加。"""
    _check_tensor("fold", "input", 1, input)
    if input.dim() not in (2, 3):
        raise NotImplementedError(
            f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported (got {input.dim()}D)"
        )
    output_size = _pair_arg(output_size, "col2im", "kernel_size")
    kernel = _pair_arg(kernel_size, "col2im", "kernel_size")
    dilation = _pair_arg(dilation, "col2im", "dilation")
    padding = _pair_arg(padding, "col2im", "padding")
    stride = _pair_arg(stride, "col2im", "stride")

    batched = input.dim() == 3
    cols = input if batched else input.unsqueeze(0)
    blocks = [
        _conv.conv_output_size(size, k, s, 2 * p, d)
        for size, k, s, p, d in zip(output_size, kernel, stride, padding, dilation)
    ]
    if cols.shape[1] % (kernel[0] * kernel[1]) != 0:
        raise RuntimeError(
            "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
            f"input.size(1)={cols.shape[1]} and kernel_size=({kernel[0]}, {kernel[1]})"
        )
    if cols.shape[2] != blocks[0] * blocks[1]:
        raise RuntimeError(
            f"Given output_size=({output_size[0]}, {output_size[1]}), kernel_size=({kernel[0]}, {kernel[1]}), "
            f"dilation=({dilation[0]}, {dilation[1]}), padding=({padding[0]}, {padding[1]}), "
            f"stride=({stride[0]}, {stride[1]}), expected size of input's dimension 2 to match the calculated "
            f"number of sliding blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got "
            f"input.size(2)={cols.shape[2]}."
        )

    out = _conv.Fold.apply(cols, output_size, kernel, stride, [(p, p) for p in padding], dilation, tuple(blocks))
    return out if batched else out.squeeze(0)


# ---------------------------------------------------------------------------
# 填充
# ---------------------------------------------------------------------------


def pad(input, pad, mode="constant", value=None):
    """在末尾几个维上填充。``pad`` 从最后一维开始成对给出 ``(左, 右, 上, 下, ...)``，负数表示裁掉。

    ``mode``：``"constant"``（补 value，默认 0）、``"reflect"``（镜像，不含边界）、
    ``"replicate"``（重复边界）、``"circular"``（循环）。后三种只能填充最后 1–3 维，
    且输入要比被填充的维数多一或两维（批次维、通道维），与 torch 相同。
    """
    _check_tensor("pad", "input", 1, input)
    amounts = _int_list(pad, "pad", "pad", 2)
    if len(amounts) % 2 != 0:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(amounts) // 2 > input.dim():
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got padding "
            f"length {len(amounts)} and input of dimension {input.dim()}"
        )
    # pad 从最后一维往前给；换成从前往后的 (左, 右) 对
    pairs = [(amounts[2 * i], amounts[2 * i + 1]) for i in range(len(amounts) // 2)][::-1]
    if mode == "constant":
        return _constant_pad(input, pairs, 0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    padded_dims = len(pairs)
    if padded_dims > 3 or input.dim() not in (padded_dims + 1, padded_dims + 2):
        raise NotImplementedError(
            f"Padding size {len(amounts)} is not supported for {input.dim()}D input tensor."
        )
    first = input.dim() - padded_dims
    for offset, (left, right) in enumerate(pairs):
        size = input.shape[first + offset]
        if mode == "reflect" and (left >= size or right >= size):
            raise RuntimeError(
                "Argument #4: Padding size should be less than the corresponding input dimension, but got: "
                f"padding ({left}, {right}) at dimension {first + offset} of input {list(input.shape)}"
            )
        if mode == "circular" and (left > size or right > size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
    # 非常数模式就是一次按下标取值：每维先算出新位置对应的原下标，取值的反向会把梯度加回原位置。
    out = input
    for offset, (left, right) in enumerate(pairs):
        dim = first + offset
        index = _padded_indices(input.shape[dim], left, right, mode)
        out = out[(slice(None),) * dim + (Tensor._wrap(input._xp.asarray(index), input.device),)]
    return out


def _constant_pad(input, pairs, value):
    leading = input.dim() - len(pairs)
    new_shape = list(input.shape[:leading])
    for size, (left, right) in zip(input.shape[leading:], pairs):
        new_size = size + left + right
        if new_size < 0 or (left < 0 and -left > size) or (right < 0 and -right > size):
            raise RuntimeError("narrow(): length must be non-negative.")
        new_shape.append(new_size)
    return _ConstantPad.apply(input, pairs, value, tuple(new_shape))


# ---------------------------------------------------------------------------
# 池化
# ---------------------------------------------------------------------------


def _pool2d_args(function, kernel_size, stride, padding, dilation):
    kernel = _pair_arg(kernel_size, function, "kernel_size")
    stride = kernel if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        _pair_arg(stride, function, "stride")
    padding = _pair_arg(padding, function, "padding")
    dilation = _pair_arg(dilation, function, "dilation")
    return kernel, stride, padding, dilation


def _pool2d_output_shape(input, kernel, stride, padding, dilation, ceil_mode):
    """按 torch 的检查顺序验证池化参数，返回输出的空间形状。"""
    out_size = []
    for size, k, s, p, d in zip(input.shape[-2:], kernel, stride, padding, dilation):
        if s == 0:
            raise RuntimeError("stride should not be zero")
        if p < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={p}, kernel_size={k} and "
                f"dilation={d}"
            )
        out_size.append(_pooling.pool_output_size(size, k, s, p, d, ceil_mode))
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    if kh <= 0 or kw <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kh} kW: {kw}")
    if sh <= 0 or sw <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {sh} dW: {sw}")
    if dh <= 0 or dw <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {dh} dilationW: {dw}")
    if any(size == 0 for size in input.shape[-3:]):
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:"
            f"{list(input.shape)}"
        )
    if ph > kh // 2 or pw > kw // 2:
        raise RuntimeError(
            f"pad should be smaller than or equal to half of kernel size, but got padW = {pw}, padH = {ph}, "
            f"kW = {kw}, kH = {kh}"
        )
    if out_size[0] < 1 or out_size[1] < 1:
        channels, height, width = input.shape[-3:]
        raise RuntimeError(
            f"Given input size: ({channels}x{height}x{width}). Calculated output size: "
            f"({channels}x{out_size[0]}x{out_size[1]}). Output size is too small"
        )
    return tuple(out_size)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """二维最大池化。``padding`` 处视为 -inf；``return_indices=True`` 时另返回最大值在每个输入平面内的
    展平下标（``h * W + w``），可交给 ``max_unpool2d``。
    """
    _check_tensor("max_pool2d", "input", 1, input)
    kernel, stride, padding, dilation = _pool2d_args("max_pool2d", kernel_size, stride, padding, dilation)
    if input.dim() not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    out_size = _pool2d_output_shape(input, kernel, stride, padding, dilation, ceil_mode)
    batched = input.dim() == 4
    x = input if batched else input.unsqueeze(0)
    values, indices = _pooling.MaxPool.apply(x, kernel, stride, padding, dilation, out_size)
    if not batched:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return (values, indices) if return_indices else values


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """一维最大池化：在长度维前补一个长度为 1 的维，交给 ``max_pool2d``。"""
    _check_tensor("max_pool1d", "input", 1, input)
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"max_pool1d() Expected 2D or 3D input tensor, but got {list(input.shape)}"
        )
    stride = None if stride is None else (1, _single(stride))
    out = max_pool2d(input.unsqueeze(-2), (1, _single(kernel_size)), stride, (0, _single(padding)),
                     (1, _single(dilation)), ceil_mode, return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def _single(value):
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise RuntimeError(f"expected a single int or a tuple of one int, but got {value}")
        return int(value[0])
    return int(value)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """二维平均池化。除数默认是窗口大小（``count_include_pad=True`` 时数进补零，
    但不数 ceil_mode 越界的部分）；``divisor_override`` 给出时一律用它。
    """
    _check_tensor("avg_pool2d", "input", 1, input)
    kernel, stride, padding, _ = _pool2d_args("avg_pool2d", kernel_size, stride, padding, 1)
    if input.dim() not in (3, 4):
        dim = input.dim()
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-max(dim, 1)}, {max(dim, 1) - 1}], but got -3)"
        )
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    out_size = _pool2d_output_shape(input, kernel, stride, padding, (1, 1), ceil_mode)
    # 限制：整数输入的平均池化（torch 用整数除法）没有实现。
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"edunn's avg_pool2d supports floating-point input only, got {input.dtype}")
    batched = input.dim() == 4
    x = input if batched else input.unsqueeze(0)
    if divisor_override is not None:
        divisor = float(divisor_override)
    else:
        divisor = _pooling.avg_pool_divisor(x._xp, x.shape[2:], kernel, stride, padding, out_size,
                                            count_include_pad, x.dtype.numpy)
    out = _pooling.AvgPool.apply(x, kernel, stride, padding, out_size, divisor)
    return out if batched else out.squeeze(0)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """一维平均池化，借 ``avg_pool2d`` 实现。"""
    _check_tensor("avg_pool1d", "input", 1, input)
    if input.dim() not in (2, 3):
        raise RuntimeError(f"avg_pool1d() Expected 2D or 3D input tensor, but got {list(input.shape)}")
    stride = None if stride is None else (1, _single(stride))
    out = avg_pool2d(input.unsqueeze(-2), (1, _single(kernel_size)), stride, (0, _single(padding)),
                     ceil_mode, count_include_pad)
    return out.squeeze(-2)


def adaptive_avg_pool2d(input, output_size):
    """自适应平均池化：给定输出大小，第 i 个输出取区间 ``[floor(i H / out), ceil((i + 1) H / out))`` 的平均。
    ``output_size`` 中的 None 表示该维保持输入大小。
    """
    _check_tensor("adaptive_avg_pool2d", "input", 1, input)
    if isinstance(output_size, numbers.Integral) or output_size is None:
        sizes = [output_size, output_size]
    else:
        sizes = list(output_size)
    if len(sizes) != 2:
        raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
    if input.dim() not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {list(input.shape)}")
    for dim in range(1, input.dim()):
        if input.shape[dim] == 0:
            raise RuntimeError(
                "adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch dimensions, but input "
                f"has sizes {list(input.shape)} with dimension {dim} being empty"
            )
    out_size = tuple(input.shape[-2 + i] if s is None else int(s) for i, s in enumerate(sizes))
    if any(s < 0 for s in out_size):
        raise RuntimeError(f"adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but "
                           f"received {{{out_size[0]}, {out_size[1]}}}")
    batched = input.dim() == 4
    x = input if batched else input.unsqueeze(0)
    out = _pooling.AdaptiveAvgPool.apply(x, out_size)
    return out if batched else out.squeeze(0)


# ---------------------------------------------------------------------------
# 归一化
# ---------------------------------------------------------------------------


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    r"""批归一化。按通道（第 1 维）统计：

    $$y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}}\,\gamma + \beta$$

    ``training=True``：用本批的均值与有偏方差归一化；若给了 running 统计量，就地更新
    ``running = (1 - momentum) * running + momentum * 本批统计量``，其中方差用无偏估计（除以 M - 1）。
    ``training=False``：用 running 统计量，不更新。

    ``momentum`` 必须是数：``BatchNorm`` 模块在 ``momentum=None``（累计平均）时自己算出
    ``1 / num_batches_tracked`` 再传进来。
    """
    _check_tensor("batch_norm", "input", 1, input)
    if training:
        size = list(input.shape)
        per_channel = size[0] * math.prod(size[2:]) if size else 0
        if per_channel == 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size edunn.Size({size})"
            )
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real):
        raise TypeError(
            f"batch_norm(): argument 'momentum' (position 7) must be float, not {type(momentum).__name__}"
        )
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be None")
    if not training and running_mean is None:
        raise RuntimeError("running_mean must be defined in evaluation mode")
    channels = input.shape[1] if input.dim() > 1 else 0
    for name, tensor in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                         ("bias", bias)):
        if tensor is not None and tensor.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {tensor.numel()}")
    _check_not_differentiable("native_batch_norm", "running_mean", running_mean)
    _check_not_differentiable("native_batch_norm", "running_var", running_var)
    _require_floating("batch_norm", input)
    _check_parameter_dtypes(input, weight, bias, running_mean, running_var)

    if not training:
        return _normalization.BatchNorm.apply(input, weight, bias, running_mean, running_var, False, eps)

    out, batch_mean, batch_var = _normalization.BatchNorm.apply(input, weight, bias, None, None, True, eps)
    if running_mean is not None:
        count = input.numel() // channels
        with no_grad():
            unbiased_var = batch_var * (count / (count - 1))
            running_mean.mul_(1 - momentum).add_(batch_mean.to(running_mean.dtype), alpha=momentum)
            running_var.mul_(1 - momentum).add_(unbiased_var.to(running_var.dtype), alpha=momentum)
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """层归一化：在最后 ``len(normalized_shape)`` 个维上求均值与有偏方差；weight/bias 的形状是 normalized_shape。"""
    _check_tensor("layer_norm", "input", 1, input)
    if isinstance(normalized_shape, numbers.Integral):
        raise TypeError(
            "layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not int"
        )
    shape = _int_list(normalized_shape, "layer_norm", "normalized_shape", 2)
    if not shape:
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, but "
            "got normalized_shape = []"
        )
    for name, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and list(tensor.shape) != shape:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                f"{list(tensor.shape)} and normalized_shape = {shape}"
            )
    if input.dim() < len(shape) or list(input.shape[input.dim() - len(shape):]) != shape:
        expected = ", ".join(["*"] + [str(s) for s in shape])
        raise RuntimeError(
            f"Given normalized_shape={shape}, expected input with shape [{expected}], but got input of size"
            f"{list(input.shape)}"
        )
    _require_floating("layer_norm", input)
    _check_parameter_dtypes(input, weight, bias)
    return _normalization.LayerNorm.apply(input, weight, bias, len(shape), eps)


def _check_parameter_dtypes(input, *parameters):
    """归一化的 weight、bias、running 统计量必须与 input 同一 dtype。"""
    for tensor in parameters:
        if tensor is not None and tensor.dtype is not input.dtype:
            raise RuntimeError(
                f"mixed dtype (CPU): expect parameter to have scalar type of {input.dtype._torch_name}"
            )


# ---------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------


def dropout(input, p=0.5, training=True, inplace=False):
    r"""训练时以概率 p 把元素置 0，其余乘 $1/(1-p)$，使期望不变；``training=False`` 时原样返回 input。

    注意 ``training`` 默认是 True：在模型里直接调用 ``F.dropout(x)`` 而不传 ``self.training``，
    评估时也会丢弃——这是一个常见的错误。``nn.Dropout`` 模块会替你传入当前模式。
    """
    _check_tensor("dropout", "input", 1, input)
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            f"result type Float can't be cast to the desired output type {input.dtype._torch_name}"
        )
    mask = _dropout_mask(input, p)
    return input.mul_(mask) if inplace else input * mask


def _dropout_mask(input, p):
    """保留概率 1 - p 的伯努利掩码，保留处的值是 ``1 / (1 - p)``；p = 1 时全 0。"""
    xp = input._xp
    if p == 1.0:
        return Tensor._wrap(xp.zeros(input.shape, dtype=input.dtype.numpy), input.device)
    generator = _backend.generator(input.device)
    keep = generator.random(input.shape) >= p
    scale = xp.asarray(1.0 / (1.0 - p), dtype=input.dtype.numpy)
    return Tensor._wrap(xp.where(keep, scale, xp.zeros((), dtype=input.dtype.numpy)), input.device)


# ---------------------------------------------------------------------------
# Embedding 与 one_hot
# ---------------------------------------------------------------------------


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """查表：``weight[input]``。``input`` 是任意形状的整数下标，输出形状为 ``input.shape + (embedding_dim,)``。

    - ``padding_idx``：这一行不接收梯度（常用作填充符的向量）；负数从末尾数。
    - ``max_norm``：查表前，把 input 里出现的、范数超过 max_norm 的行就地缩放到 max_norm（会修改 weight）。
    - ``scale_grad_by_freq``：梯度按该下标在本批中出现的次数缩小。
    - ``sparse``：weight 的梯度是稀疏 COO 张量（只含用到的行），给 ``optim.SparseAdam`` 等使用。
    """
    _check_tensor("embedding", "input", 1, input)
    _check_tensor("embedding", "weight", 2, weight)
    if padding_idx is not None:
        if padding_idx > 0 and padding_idx >= weight.shape[0]:
            raise AssertionError("Padding_idx must be within num_embeddings")
        if padding_idx < 0:
            if padding_idx < -weight.shape[0]:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = weight.shape[0] + padding_idx
    if input.dtype not in (_backend.int64, _backend.int32):
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but "
            f"got {_backend.torch_type_name(input.dtype)} instead (while checking arguments for embedding)"
        )
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    indices = input._array
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= weight.shape[0]):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    return _embedding.Embedding.apply(weight, input, padding_idx, scale_grad_by_freq, bool(sparse))


def _embedding_renorm_(weight, input, max_norm, norm_type):
    """把 input 中出现的行里范数超过 max_norm 的缩放为 ``max_norm / (norm + 1e-7)`` 倍，就地、不记录梯度。"""
    xp = weight._xp
    rows = xp.unique(input._array.reshape(-1))
    with no_grad():
        selected = weight._array[rows]
        norms = _vector_norm(xp, selected, norm_type)
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(selected.dtype)
        weight[Tensor._wrap(rows, weight.device)] = Tensor._wrap(selected * scale[:, None], weight.device)


def _vector_norm(xp, rows, norm_type):
    absolute = xp.abs(rows)
    if norm_type == math.inf:
        return absolute.max(axis=1)
    if norm_type == -math.inf:
        return absolute.min(axis=1)
    if norm_type == 0:
        return (rows != 0).sum(axis=1).astype(rows.dtype)
    return (absolute ** norm_type).sum(axis=1) ** (1.0 / norm_type)


def one_hot(tensor, num_classes=-1):
    """整数类别 -> 独热编码（int64），最后多一维长度为 num_classes；-1 表示取 ``max + 1``。"""
    _check_tensor("one_hot", "tensor", 1, tensor)
    if tensor.dtype is not _backend.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    values = tensor._array
    if num_classes == -1:
        if values.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(values.max()) + 1
    if values.size:
        if int(values.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if int(values.max()) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    xp = tensor._xp
    encoded = (values[..., None] == xp.arange(num_classes)).astype(np.int64)
    return Tensor._wrap(encoded, tensor.device)


# ---------------------------------------------------------------------------
# 激活函数
# ---------------------------------------------------------------------------


def relu(input, inplace=False):
    r"""$\max(x, 0)$。"""
    _check_tensor("relu", "input", 1, input)
    return input.relu_() if inplace else input.relu()


def relu_(input):
    return relu(input, inplace=True)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    r"""$x > 0$ 时为 $x$，否则 $\text{negative\_slope} \cdot x$。"""
    _check_tensor("leaky_relu", "input", 1, input)
    _require_floating("leaky_relu_cpu", input)
    return _inplace_or_not(_activation.LeakyRelu, input, inplace, negative_slope)


def gelu(input, approximate="none"):
    r"""$x\,\Phi(x)$，$\Phi$ 是标准正态分布的分布函数；``approximate="tanh"`` 用 tanh 近似。"""
    _check_tensor("gelu", "input", 1, input)
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _require_floating("GeluKernelImpl", input)
    return _activation.Gelu.apply(input, approximate)


def silu(input, inplace=False):
    r"""$x\,\sigma(x)$。"""
    _check_tensor("silu", "input", 1, input)
    _require_floating("silu_cpu", input)
    return _inplace_or_not(_activation.Silu, input, inplace)


def tanh(input):
    _check_tensor("tanh", "input", 1, input)
    return input.tanh()


def sigmoid(input):
    r"""$1 / (1 + e^{-x})$。"""
    _check_tensor("sigmoid", "input", 1, input)
    return input.sigmoid()


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """把 input 截到 ``[min_val, max_val]``。"""
    _check_tensor("hardtanh", "input", 1, input)
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _inplace_or_not(_activation.Hardtanh, input, inplace, min_val, max_val)


def relu6(input, inplace=False):
    r"""$\min(\max(x, 0), 6)$。"""
    return hardtanh(input, 0.0, 6.0, inplace)


def elu(input, alpha=1.0, inplace=False):
    r"""$x > 0$ 时为 $x$，否则 $\alpha(e^x - 1)$。"""
    _check_tensor("elu", "input", 1, input)
    _require_floating("elu_cpu", input)
    return _inplace_or_not(_activation.Elu, input, inplace, alpha)


def softplus(input, beta=1.0, threshold=20.0):
    r"""$\frac{1}{\beta}\log(1 + e^{\beta x})$，$\beta x >$ threshold 时取 $x$。"""
    _check_tensor("softplus", "input", 1, input)
    _require_floating("softplus_cpu", input)
    return _activation.Softplus.apply(input, beta, threshold)


def logsigmoid(input):
    r"""$\log \sigma(x)$，数值稳定。"""
    _check_tensor("logsigmoid", "input", 1, input)
    _require_floating("log_sigmoid_cpu", input)
    return _activation.LogSigmoid.apply(input)


def _softmax_dim(name, input, dim, stacklevel):
    if dim is None:
        warnings.warn(
            f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an "
            "argument.",
            UserWarning,
            stacklevel=stacklevel,
        )
        dim = 0 if input.dim() in (0, 1, 3) else 1
    return input._wrap_dim(dim)


def _softmax_like(op, kernel, name, input, dim, stacklevel, dtype):
    _check_tensor(name, "input", 1, input)
    dim = _softmax_dim(name, input, dim, stacklevel + 1)
    if dtype is not None:
        input = input.to(_backend.as_dtype(dtype))
    _require_floating(kernel, input)
    if input.dim() == 0:
        return op.apply(input.reshape(1), 0).reshape(())
    return op.apply(input, dim)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    r"""$\mathrm{softmax}(x)_i = e^{x_i} / \sum_j e^{x_j}$，沿 ``dim`` 计算；先减去最大值，不会溢出。"""
    return _softmax_like(_activation.Softmax, "softmax_lastdim_kernel_impl", "softmax", input, dim,
                         _stacklevel, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    r"""$\log\mathrm{softmax}(x)$，一步算出（比先 softmax 再取 log 稳定）。"""
    return _softmax_like(_activation.LogSoftmax, "log_softmax_lastdim_kernel_impl", "log_softmax", input, dim,
                         _stacklevel, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    r"""$\mathrm{softmax}(-x)$。"""
    _check_tensor("softmin", "input", 1, input)
    dim = _softmax_dim("softmin", input, dim, _stacklevel)
    if dtype is not None:
        input = input.to(_backend.as_dtype(dtype))
    return softmax(-input, dim)


# ---------------------------------------------------------------------------
# 损失函数
# ---------------------------------------------------------------------------


def _reduction_from(size_average, reduce, reduction):
    """旧参数 size_average / reduce 给出时换算成 reduction 并发出弃用警告；检查 reduction 的取值。"""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        if size_average and reduce:
            reduction = "mean"
        elif reduce:
            reduction = "sum"
        else:
            reduction = "none"
        warnings.warn(
            f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
            UserWarning,
            stacklevel=3,
        )
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
                      UserWarning, stacklevel=3)
        reduction = "mean"
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _warn_size_mismatch(input, target):
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size (edunn.Size({list(target.shape)})) that is different to the input size "
            f"(edunn.Size({list(input.shape)})). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )


def _pointwise_loss(op, kernel, input, target, reduction, weight):
    """mse_loss 与 l1_loss 的共同部分：广播、类型提升，然后调用融合算子或带权重的组合。"""
    shape = _broadcast_shapes(input.shape, target.shape)
    dtype = _backend.result_type(input, target)
    if not dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{dtype._torch_name}\'')
    x = input.to(dtype).expand(shape) if input.shape != shape else input.to(dtype)
    t = target.to(dtype).expand(shape) if target.shape != shape else target.to(dtype)
    if weight is None:
        return op.apply(x, t, reduction)
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    weighted = op.apply(x, t, "none") * weight
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    return weighted.sum() / weight.sum()


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    r"""均方误差 $(x - y)^2$，按 reduction 规约；给了 weight 时 mean 是 $\sum w (x - y)^2 / \sum w$。"""
    _check_tensor("mse_loss", "input", 1, input)
    _check_tensor("mse_loss", "target", 2, target)
    _warn_size_mismatch(input, target)
    reduction = _reduction_from(size_average, reduce, reduction)
    return _pointwise_loss(_loss.MseLoss, "mse_cpu", input, target, reduction, weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    r"""平均绝对误差 $|x - y|$，按 reduction 规约。"""
    _check_tensor("l1_loss", "input", 1, input)
    _check_tensor("l1_loss", "target", 2, target)
    _warn_size_mismatch(input, target)
    reduction = _reduction_from(size_average, reduce, reduction)
    return _pointwise_loss(_loss.L1Loss, "abs_cpu", input, target, reduction, weight)


def _check_class_weight(weight, classes, prefix=""):
    if weight is not None and (weight.dim() != 1 or weight.numel() != classes):
        raise RuntimeError(
            f"{prefix}weight tensor should be defined either for all {classes} classes or no classes but got "
            f"weight tensor of shape: {list(weight.shape)}"
        )


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    r"""负对数似然。input 是对数概率 ``(N, C, *d)`` 或 ``(C,)``，target 是类别下标 ``(N, *d)`` 或 ``()``：

    $$\ell_n = -w_{y_n}\, x_{n, y_n}, \qquad \text{mean} = \sum_n \ell_n \Big/ \sum_n w_{y_n}$$

    target 等于 ``ignore_index`` 的位置不计入损失，也不计入分母。
    """
    _check_tensor("nll_loss", "input", 1, input)
    _check_tensor("nll_loss", "target", 2, target)
    reduction = _reduction_from(size_average, reduce, reduction)
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if input.dim() != 1:
        if target.dim() == 0:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        if input.shape[0] != target.shape[0]:
            raise ValueError(
                f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({target.shape[0]})."
            )
    if target.dtype not in (_backend.int64, _backend.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {target.dtype._torch_name}")
    if input.dim() <= 2 and target.dim() > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input.dim() == 1 and target.dim() == 1 and target.shape[0] != 1:
        raise ValueError(
            f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]}"
        )
    if input.dim() > 2:
        expected = [input.shape[0]] + list(input.shape[2:])
        if list(target.shape) != expected:
            raise RuntimeError(f"Expected target size {expected}, got {list(target.shape)}")
    classes = input.shape[1] if input.dim() > 1 else input.shape[0]
    _check_class_weight(weight, classes)
    if weight is not None and weight.dtype is not input.dtype:
        raise RuntimeError(
            f"expected scalar type {input.dtype._torch_name} but found {weight.dtype._torch_name}"
        )
    _check_not_differentiable("nll_loss_forward", "weight", weight)
    _require_floating("nll_loss_out_frame", input)
    _check_targets_in_range(target, classes, ignore_index)

    no_batch = input.dim() == 1
    x = input.unsqueeze(0) if no_batch else input
    t = target.reshape(1) if no_batch else target
    out = _loss.NllLoss.apply(x, t.to(_backend.int64), weight, reduction, ignore_index)
    return out.reshape(()) if no_batch and reduction == "none" else out


def _check_targets_in_range(target, classes, ignore_index):
    values = target._array.astype(np.int64, copy=False)
    bad = (values != ignore_index) & ((values < 0) | (values >= classes))
    if bad.any():
        first = int(values.reshape(-1)[int(bad.reshape(-1).argmax())])
        raise IndexError(f"Target {first} is out of bounds.")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    r"""交叉熵 = ``log_softmax`` + ``nll_loss``。target 有两种：

    - 类别下标（int64）：可用 ``ignore_index``、``weight``；``label_smoothing = ε`` 时损失是
      $(1-ε)\,\ell_{\text{nll}} + \frac{ε}{C}\sum_c (-w_c \log p_c)$。
    - 与 input 同形状的概率（浮点）：$-\sum_c w_c\, y_c \log p_c$，mean 除以样本数。
    """
    _check_tensor("cross_entropy", "input", 1, input)
    _check_tensor("cross_entropy", "target", 2, target)
    reduction = _reduction_from(size_average, reduce, reduction)
    class_dim = 0 if input.dim() == 1 else 1

    if input.shape == target.shape:
        if not target.dtype.is_floating_point:
            raise RuntimeError(
                f"Expected floating point type for target with class probabilities, got {target.dtype._torch_name}"
            )
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing, class_dim)

    if label_smoothing > 0.0 and label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing:g}")
    if input.dim() == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    _require_floating("log_softmax_lastdim_kernel_impl", input)
    log_probs = log_softmax(input, class_dim)
    nll = nll_loss(log_probs, target, weight, None, ignore_index, None, reduction)
    if label_smoothing <= 0.0:
        return nll

    classes = input.shape[class_dim]
    ignored = target == ignore_index
    if weight is not None:
        shape = [1] * input.dim()
        shape[class_dim] = classes
        smooth = -(log_probs * weight.reshape(shape)).sum(class_dim)
    else:
        smooth = -log_probs.sum(class_dim)
    smooth = smooth.masked_fill(ignored, 0.0)
    if reduction == "mean":
        if weight is not None:
            kept = target[~ignored].to(_backend.int64)
            smooth = smooth.sum() / weight[kept].sum()
        else:
            smooth = smooth.sum() / (~ignored).sum()
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / classes)


def _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing, class_dim):
    if label_smoothing < 0.0 or label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing:g}")
    classes = input.shape[class_dim]
    _check_class_weight(weight, classes, prefix="cross_entropy: ")
    log_probs = log_softmax(input, class_dim)
    if label_smoothing > 0.0:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    terms = log_probs * target
    if weight is not None:
        shape = [1] * input.dim()
        shape[class_dim] = classes
        terms = terms * weight.reshape(shape)
    if reduction == "none":
        return -terms.sum(class_dim)
    if reduction == "sum":
        return -terms.sum()
    return -terms.sum() / (input.numel() // classes) if input.numel() else -terms.sum() * math.nan


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    r"""二元交叉熵 $-w\,[y \log x + (1 - y)\log(1 - x)]$，input 是概率（0 到 1 之间），对数截在 -100。"""
    _check_tensor("binary_cross_entropy", "input", 1, input)
    _check_tensor("binary_cross_entropy", "target", 2, target)
    reduction = _reduction_from(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size (edunn.Size({list(target.shape)})) that is different to the input size "
            f"(edunn.Size({list(input.shape)})) is deprecated. Please ensure they have the same size."
        )
    if weight is not None:
        try:
            shape = _broadcast_shapes(target.shape, weight.shape)
        except RuntimeError:
            shape = None
        if shape != tuple(target.shape):
            raise RuntimeError(
                f"Attempting to broadcast a dimension of length {weight.shape[-1]} at -1! Mismatching argument at "
                f"index 1 had edunn.Size({list(weight.shape)}); but expected shape should be broadcastable to "
                f"{list(target.shape)}"
            )
    if target.dtype is not input.dtype:
        raise RuntimeError(f"Found dtype {target.dtype._torch_name} but expected {input.dtype._torch_name}")
    _check_not_differentiable("binary_cross_entropy", "weight", weight)
    values = input._array
    if values.size and (bool((values < 0).any()) or bool((values > 1).any())):
        raise RuntimeError("all elements of input should be between 0 and 1")
    return _loss.BinaryCrossEntropy.apply(input, target, weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    r"""sigmoid + 二元交叉熵，合在一起算更稳定。``pos_weight``（长度为类别数）放大正样本项：

    $$\ell = -w\,[p\,y \log\sigma(x) + (1 - y)\log(1 - \sigma(x))]$$
    """
    _check_tensor("binary_cross_entropy_with_logits", "input", 1, input)
    _check_tensor("binary_cross_entropy_with_logits", "target", 2, target)
    reduction = _reduction_from(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Target size (edunn.Size({list(target.shape)})) must be the same as input size "
            f"(edunn.Size({list(input.shape)}))"
        )
    for other in (weight, pos_weight):
        if other is not None:
            _broadcast_shapes(other.shape, input.shape)
    if not target.dtype.is_floating_point:
        raise RuntimeError(
            f"result type {input.dtype._torch_name} can't be cast to the desired output type "
            f"{target.dtype._torch_name}"
        )
    _check_not_differentiable("binary_cross_entropy_with_logits", "weight", weight)
    _check_not_differentiable("binary_cross_entropy_with_logits", "pos_weight", pos_weight)
    return _loss.BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction)
