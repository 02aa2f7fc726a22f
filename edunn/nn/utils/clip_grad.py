r"""梯度裁剪。

``clip_grad_norm_`` 把所有参数的梯度看成一个长向量 $g$，算出它的 p 范数 $\|g\|$，然后整体乘以

$$\text{clip\_coef} = \min\left(\frac{\text{max\_norm}}{\|g\| + 10^{-6}},\ 1\right)$$

所以方向不变、只缩短长度；范数本来就不超过 max_norm 时系数是 1（仍会乘一次，与 torch 相同）。
``clip_grad_value_`` 则把每个分量截到 ``[-clip_value, clip_value]``，会改变方向。

``foreach`` 参数：torch 用它选择批量内核，结果不变；edunn 只有逐张量的实现，
接受 None、True、False 三个值且行为相同。
"""

import functools
import math
import types
import warnings

from ..._creation import tensor as _tensor
from ..._functions import stack
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad


def _no_grad(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with no_grad():
            return function(*args, **kwargs)

    return wrapper


def _tensor_norm(tensor, norm_type):
    """一个张量展平后的 p 范数（0 维张量）；与 torch.linalg.vector_norm 的各种 p 一致。"""
    flat = tensor.reshape(-1).abs()
    if norm_type == math.inf:
        return flat.amax()
    if norm_type == -math.inf:
        return flat.amin()
    if norm_type == 0:
        return (flat != 0).sum().to(tensor.dtype)
    if norm_type == 1:
        return flat.sum()
    if norm_type == 2:
        return (flat * flat).sum().sqrt()
    return (flat ** norm_type).sum() ** (1.0 / norm_type)


@_no_grad
def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """把 tensors 看成一个拼起来的长向量，返回它的 p 范数（先求每个张量的范数，再求这些范数的范数）。"""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    norm_type = float(norm_type)
    if len(tensors) == 0:
        return _tensor(0.0)
    first_device = tensors[0].device
    norms = [_tensor_norm(t, norm_type).to(first_device) for t in tensors]
    total_norm = _tensor_norm(stack(norms), norm_type)
    if error_if_nonfinite and not bool(total_norm.isfinite()):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return total_norm


@_no_grad
def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    r"""已知总范数时缩放梯度：``grad *= min(max_norm / (total_norm + 1e-6), 1)``，就地修改。"""
    parameters = [parameters] if isinstance(parameters, Tensor) else parameters
    grads = [p.grad for p in parameters if p.grad is not None]
    max_norm = float(max_norm)
    if len(grads) == 0:
        return
    clip_coef = max_norm / (total_norm + 1e-6)
    clip_coef_clamped = clip_coef.clamp(max=1.0)
    for grad in grads:
        grad.mul_(clip_coef_clamped.to(grad.device))


@_no_grad
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """按总范数裁剪梯度（就地），返回裁剪前的总范数（0 维张量）。``norm_type`` 可以是 ``float("inf")``。"""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and len(parameters) == 0:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", UserWarning,
                          stacklevel=3)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """已弃用，请用 ``clip_grad_norm_``。"""
    warnings.warn(
        "`edunn.nn.utils.clip_grad_norm` is now deprecated in favor of `edunn.nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=2,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


@_no_grad
def clip_grad_value_(parameters, clip_value, foreach=None):
    """把每个梯度分量截到 ``[-clip_value, clip_value]``（就地），返回 None。"""
    parameters = [parameters] if isinstance(parameters, Tensor) else parameters
    clip_value = float(clip_value)
    for p in parameters:
        if p.grad is not None:
            p.grad.clamp_(min=-clip_value, max=clip_value)
