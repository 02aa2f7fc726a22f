"""在 edunn 模块与 torch 模块之间复制权重，并逐项比较两者的前向输出与梯度。"""

import numpy as np

from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ._bridge import _torch, from_torch, to_torch
from ._compare import assert_close


def _is_edunn_module(module):
    from ..nn import Module

    return isinstance(module, Module)


def _state_tensors(module):
    """按名字列出模块的参数与缓冲区（共享的张量只列一次，与 named_parameters 的默认行为一致）。"""
    tensors = dict(module.named_parameters())
    tensors.update(module.named_buffers())
    return tensors


def copy_weights(src_module, dst_module):
    """把 src_module 的参数与缓冲区按名字复制进 dst_module，两者一个是 torch 模块、一个是 edunn 模块。

    名字按 ``named_parameters()``/``named_buffers()`` 对齐，形状与 dtype 必须一致；否则抛出
    ``ValueError``，列出所有缺少、多出或形状/dtype 不符的名字，并且不修改 dst_module。
    复制是就地的（``copy_``），所以 dst_module 的参数对象不变，优化器持有的引用依然有效。
    """
    src_is_edunn, dst_is_edunn = _is_edunn_module(src_module), _is_edunn_module(dst_module)
    if src_is_edunn == dst_is_edunn:
        raise TypeError(
            "copy_weights expects one edunn module and one torch module, but got "
            f"{type(src_module).__name__} and {type(dst_module).__name__}"
        )
    source, target = _state_tensors(src_module), _state_tensors(dst_module)

    problems = []
    for name in source:
        if name not in target:
            problems.append(f"{name}: missing in destination {type(dst_module).__name__}")
    for name in target:
        if name not in source:
            problems.append(f"{name}: missing in source {type(src_module).__name__}")
    for name in source.keys() & target.keys():
        src_shape, dst_shape = tuple(source[name].shape), tuple(target[name].shape)
        if src_shape != dst_shape:
            problems.append(f"{name}: shape {list(src_shape)} in source vs {list(dst_shape)} in destination")
        src_dtype = str(source[name].dtype).split(".")[-1]
        dst_dtype = str(target[name].dtype).split(".")[-1]
        if src_dtype != dst_dtype:
            problems.append(f"{name}: dtype {src_dtype} in source vs {dst_dtype} in destination")
    if problems:
        raise ValueError("copy_weights: modules do not match:\n  " + "\n  ".join(sorted(problems)))

    if dst_is_edunn:
        with no_grad():
            for name, tensor in target.items():
                tensor.copy_(from_torch(source[name], device=tensor.device))
    else:
        torch = _torch()
        with torch.no_grad():
            for name, tensor in target.items():
                tensor.copy_(to_torch(source[name], device=tensor.device))
    return dst_module


def _module_device(module):
    """模块第一个参数或缓冲区所在的设备；没有张量时返回 None。"""
    for tensor in list(module.parameters()) + list(module.buffers()):
        return tensor.device
    return None


def _flatten_outputs(output):
    if isinstance(output, (tuple, list)):
        return [item for part in output for item in _flatten_outputs(part)]
    return [output]


def _is_float(tensor):
    return str(tensor.dtype).split(".")[-1] in ("float16", "bfloat16", "float32", "float64")


def _weighted_sum(outputs, weights):
    total = None
    for output, weight in zip(outputs, weights):
        if weight is None:
            continue
        term = (output * weight).sum()
        total = term if total is None else total + term
    return total


def check_module(edunn_module, torch_module, *inputs, rtol=None, atol=None, copy=True, seed=0):
    """在同一组输入上运行 edunn 模块与 torch 模块，比较输出、输入梯度、参数梯度与缓冲区。

    - ``copy=True`` 时先用 ``copy_weights`` 把 torch 模块的权重复制进 edunn 模块；
    - 开始前把两边参数的 ``.grad`` 设为 None，所以比较的只是这一次调用的梯度；
    - inputs 可以是 edunn 张量、torch 张量或其他对象（原样传给两边）；每个张量在两边各复制成
      一个新的叶子张量（``requires_grad`` 保留），调用者手里的张量不会被改动，也不会累加梯度；
    - 反向传播的标量是 ``sum_i (output_i * w_i).sum()``，w_i 是由 seed 决定的固定随机张量，
      这样每个输出元素得到不同的上游梯度，错位的梯度也能被发现；
    - 第一处不一致抛出 ``AssertionError``，信息以名字开头（``output[0]``、``grad of weight``、
      ``buffer running_mean`` ……）；全部一致时返回 True。
    """
    torch = _torch()
    if edunn_module.training != torch_module.training:
        raise ValueError(
            f"check_module: edunn module has training={edunn_module.training} but torch module has "
            f"training={torch_module.training}; call train() or eval() on both"
        )
    if copy:
        copy_weights(torch_module, edunn_module)
    edunn_module.zero_grad(set_to_none=True)
    torch_module.zero_grad(set_to_none=True)

    # 两边各用自己模块所在的设备：GPU 上的 edunn 模块也能与 CPU 版的 torch 对照
    edunn_device = _module_device(edunn_module)
    torch_device = _module_device(torch_module)
    edunn_inputs, torch_inputs = [], []
    for value in inputs:
        if isinstance(value, Tensor):
            edunn_device = value.device if edunn_device is None else edunn_device
            value = to_torch(value.detach(), device=torch_device or "cpu").requires_grad_(value.requires_grad)
        if isinstance(value, torch.Tensor):
            fresh = value.detach().to(torch_device or value.device).clone().requires_grad_(value.requires_grad)
            torch_inputs.append(fresh)
            edunn_inputs.append(from_torch(fresh, device=edunn_device or "cpu"))
        else:
            edunn_inputs.append(value)
            torch_inputs.append(value)

    edunn_outputs = _flatten_outputs(edunn_module(*edunn_inputs))
    torch_outputs = _flatten_outputs(torch_module(*torch_inputs))
    if len(edunn_outputs) != len(torch_outputs):
        raise AssertionError(f"number of outputs: edunn gives {len(edunn_outputs)}, torch gives {len(torch_outputs)}")
    for i, (mine, theirs) in enumerate(zip(edunn_outputs, torch_outputs)):
        assert_close(mine, theirs, rtol=rtol, atol=atol, msg=f"output[{i}]")

    _compare_buffers(edunn_module, torch_module, rtol, atol)

    rng = np.random.RandomState(seed)
    edunn_weights, torch_weights = [], []
    for output, edunn_output in zip(torch_outputs, edunn_outputs):
        if not (isinstance(output, torch.Tensor) and _is_float(output) and output.requires_grad):
            edunn_weights.append(None)
            torch_weights.append(None)
            continue
        weight = torch.from_numpy(rng.standard_normal(tuple(output.shape))).to(output.dtype).to(output.device)
        torch_weights.append(weight)
        edunn_weights.append(from_torch(weight, device=edunn_output.device))
    torch_loss = _weighted_sum(torch_outputs, torch_weights)
    edunn_loss = _weighted_sum(edunn_outputs, edunn_weights)
    if torch_loss is None:
        return True
    if edunn_loss is None or not edunn_loss.requires_grad:
        raise AssertionError("backward: torch output requires grad but edunn output does not")
    torch_loss.backward()
    edunn_loss.backward()

    for i, (mine, theirs) in enumerate(zip(edunn_inputs, torch_inputs)):
        if isinstance(theirs, torch.Tensor) and theirs.requires_grad:
            _compare_grad(f"grad of input[{i}]", mine.grad, theirs.grad, rtol, atol)
    edunn_params = dict(edunn_module.named_parameters())
    for name, theirs in torch_module.named_parameters():
        if name not in edunn_params:
            raise AssertionError(f"parameter {name}: missing in edunn module")
        _compare_grad(f"grad of {name}", edunn_params[name].grad, theirs.grad, rtol, atol)
    return True


def _compare_grad(label, mine, theirs, rtol, atol):
    if (mine is None) != (theirs is None):
        raise AssertionError(
            f"{label}: edunn grad is {'None' if mine is None else 'set'}, "
            f"torch grad is {'None' if theirs is None else 'set'}"
        )
    if mine is not None:
        assert_close(mine, theirs, rtol=rtol, atol=atol, msg=label)


def _compare_buffers(edunn_module, torch_module, rtol, atol):
    edunn_buffers = dict(edunn_module.named_buffers())
    for name, theirs in torch_module.named_buffers():
        if name not in edunn_buffers:
            raise AssertionError(f"buffer {name}: missing in edunn module")
        assert_close(edunn_buffers[name], theirs, rtol=rtol, atol=atol, msg=f"buffer {name}")


__all__ = ["check_module", "copy_weights"]
