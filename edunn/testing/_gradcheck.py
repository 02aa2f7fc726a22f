"""有限差分检查梯度：对每个输入元素做中心差分，与反向传播得到的梯度比较。"""

import numpy as np

from .._tensor import Tensor
from ..autograd import grad as autograd_grad
from ..autograd.grad_mode import no_grad


def gradcheck(function, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """检查 ``function(*inputs)`` 的解析梯度与数值梯度是否一致（建议用 float64 输入）。

    对输出的每个元素 i 与每个需要梯度的输入元素 j，比较 ∂out_i/∂in_j 的两种算法。
    一致时返回 True；不一致时抛 AssertionError（``raise_exception=False`` 时返回 False）。
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    differentiable = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not differentiable:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")

    def outputs_of():
        out = function(*inputs)
        return out if isinstance(out, tuple) else (out,)

    outputs = [o for o in outputs_of() if isinstance(o, Tensor) and o.requires_grad]
    for k, out in enumerate(outputs):
        flat_out = out.reshape(-1)
        for i in range(flat_out.numel()):
            seed = out.new_zeros(out.shape)
            seed.reshape(-1)[i] = 1.0
            recomputed = [o for o in outputs_of() if isinstance(o, Tensor) and o.requires_grad][k]
            analytic = autograd_grad(recomputed, differentiable, seed, allow_unused=True)
            for t, g in zip(differentiable, analytic):
                numeric = _numeric_column(function, inputs, t, k, i, eps)
                got = np.zeros(t.shape) if g is None else g.detach().numpy(force=True).astype(np.float64)
                if not np.allclose(got, numeric, atol=atol, rtol=rtol):
                    message = (
                        f"Jacobian mismatch for output {k} element {i} with respect to an input of shape "
                        f"{list(t.shape)},\nnumerical:{numeric.ravel()}\nanalytical:{got.ravel()}"
                    )
                    if raise_exception:
                        raise AssertionError(message)
                    return False
    return True


def _numeric_column(function, inputs, tensor, output_index, element, eps):
    """∂out[element]/∂tensor 的中心差分估计，形状与 tensor 相同。"""
    flat = tensor.detach().reshape(-1)
    result = np.zeros(tensor.numel())
    with no_grad():
        for j in range(tensor.numel()):
            original = flat[j].item()
            flat[j] = original + eps
            plus = _pick(function(*inputs), output_index, element)
            flat[j] = original - eps
            minus = _pick(function(*inputs), output_index, element)
            flat[j] = original
            result[j] = (plus - minus) / (2 * eps)
    return result.reshape(tuple(tensor.shape))


def _pick(outputs, output_index, element):
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    tensors = [o for o in outputs if isinstance(o, Tensor)]
    return float(tensors[output_index].reshape(-1)[element].item())
