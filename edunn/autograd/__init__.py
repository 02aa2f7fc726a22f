"""反向模式自动求导（reverse-mode autograd）。

- ``backward(tensors, grad_tensors)``：把梯度累加进叶子的 ``.grad``；
- ``grad(outputs, inputs)``：直接返回 outputs 对 inputs 的梯度，不改动 ``.grad``；
- ``Function``：自定义一个带前向与反向的运算。

限制：edunn 的反向公式在数组上计算，不再建图，因此不支持 ``create_graph=True``（高阶导数）。
"""

from .engine import run_backward
from .function import ArrayFunction, Function, Node
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled


def _as_tuple(value):
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,)


def _root_grads(outputs, grad_outputs):
    from .._backend import get_array_module

    grads = []
    for i, (out, grad) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if grad is None:
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            xp = get_array_module(out.device)
            grads.append(xp.ones(out.shape, dtype=out.dtype.numpy))
            continue
        if grad.shape != out.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {grad.shape} and output[{i}] has a "
                f"shape of {out.shape}."
            )
        if grad.device != out.device:
            raise RuntimeError(
                f"invalid gradient at index {i} - expected device {out.device} but got {grad.device}"
            )
        grads.append(grad._array.astype(out.dtype.numpy, copy=False))
    return grads


def _check_create_graph(create_graph):
    if create_graph:
        raise NotImplementedError(
            "edunn does not support create_graph=True (higher-order gradients): its backward formulas "
            "run on plain arrays"
        )


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """从 tensors 反向传播，梯度累加到叶子张量的 ``.grad``。"""
    _check_create_graph(create_graph)
    outputs = _as_tuple(tensors)
    grads = _as_tuple(grad_tensors) if grad_tensors is not None else (None,) * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(f"grad can be implicitly created only for scalar outputs; got {len(grads)} "
                           f"gradients for {len(outputs)} tensors")
    root_grads = _root_grads(outputs, grads)
    roots = [out._gradient_edge() for out in outputs]
    retain = bool(retain_graph) if retain_graph is not None else False
    if inputs is None:
        run_backward(roots, root_grads, retain_graph=retain)
        return
    # 只把梯度累加进指定的 inputs
    inputs = _as_tuple(inputs)
    results = grad(outputs, inputs, grads, retain_graph=retain, allow_unused=True)
    for tensor, g in zip(inputs, results):
        if g is None:
            continue
        if tensor._grad is None:
            tensor.grad = g
        else:
            tensor.grad = tensor._grad + g


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         materialize_grads=False):
    """返回 outputs 对每个 inputs 的梯度（元组）；不修改任何张量的 ``.grad``。"""
    from .._tensor import Tensor

    _check_create_graph(create_graph)
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    grads = _as_tuple(grad_outputs) if grad_outputs is not None else (None,) * len(outputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors does not require grad (input {i})")
    root_grads = _root_grads(outputs, grads)
    roots = [out._gradient_edge() for out in outputs]
    capture = {t._gradient_edge(): None for t in inputs}
    run_backward(roots, root_grads, retain_graph=bool(retain_graph), capture=capture)

    results = []
    for i, t in enumerate(inputs):
        captured = capture[t._gradient_edge()]
        if captured is None:
            if materialize_grads:
                results.append(t.new_zeros(t.shape))
                continue
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior."
                )
            results.append(None)
            continue
        results.append(Tensor._wrap(captured.astype(t.dtype.numpy, copy=False), t.device))
    return tuple(results)


__all__ = [
    "ArrayFunction", "Function", "Node", "backward", "enable_grad", "grad", "inference_mode",
    "is_grad_enabled", "no_grad", "set_grad_enabled",
]
