"""Muon：对二维参数的动量做 Newton–Schulz 正交化，再用它更新参数。"""

import math

from .. import _backend, _creation
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer, _get_value, _reject_sparse_grads, _to_scalar

__all__ = ["Muon"]

# torch 2.13 的默认值：五次多项式的系数、迭代次数与防止除零的 eps
EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


def _to_bfloat16(tensor):
    """把高精度结果舍入成 bfloat16，相当于 torch 在 float32 里累加之后再存成 bfloat16。"""
    return tensor.to(_backend.float32).to(_backend.bfloat16)


def _bf16_addmm(bias, mat1, mat2, beta=1.0, alpha=1.0):
    r"""bfloat16 的 ``beta * bias + alpha * (mat1 @ mat2)``，只在最后舍入一次。

    bfloat16 的乘积在 float64 里是精确的，求和的误差远小于 bfloat16 的精度，所以结果就是
    正确舍入的 bfloat16。torch 在 CPU 上用 float32 累加再舍入，个别元素的 float32 结果正好落在
    bfloat16 的舍入边界附近时会差一个末位（在开发机上随机矩阵的单次乘积里约十万分之二的元素）。
    """
    product = mat1.double() @ mat2.double()
    if bias is None:
        return _to_bfloat16(alpha * product if alpha != 1 else product)
    return _to_bfloat16(beta * bias.double() + alpha * product)


def _check_newton_schulz_arguments(ns_coefficients, ns_steps):
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")


def _zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    r"""用 Newton–Schulz 迭代把矩阵 :math:`G = U S V^\top` 推向 :math:`U V^\top`（"零次幂"）。

    先除以 Frobenius 范数使所有奇异值不超过 1，再迭代 ``ns_steps`` 次

    .. math::
       X \leftarrow a X + (b A + c A^2) X,\qquad A = X X^\top .

    每个奇异值 :math:`\sigma` 按 :math:`p(\sigma) = a\sigma + b\sigma^3 + c\sigma^5` 变化；默认系数让
    小奇异值增长得很快，迭代几步后奇异值大约落在 0.7 到 1.2 之间，而不是精确的 1。与 torch
    相同，迭代在 bfloat16 里进行（每个矩阵乘积舍入成 bfloat16），行比列多时先转置，让
    :math:`X X^\top` 是较小的那个方阵。返回 bfloat16 张量。
    """
    _check_newton_schulz_arguments(ns_coefficients, ns_steps)
    if len(grad.shape) != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    a, b, c = ns_coefficients
    ortho_grad = grad.bfloat16()
    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T

    # Frobenius 范数不小于谱范数，除以它之后谱范数至多为 1
    norm = _to_bfloat16(ortho_grad.double().norm()).clamp(min=eps)
    ortho_grad = _to_bfloat16(ortho_grad.float() / norm.float())

    for _ in range(ns_steps):
        gram_matrix = _bf16_addmm(None, ortho_grad, ortho_grad.T)  # A = X X^T
        gram_update = _bf16_addmm(gram_matrix, gram_matrix, gram_matrix, beta=b, alpha=c)  # b A + c A^2
        ortho_grad = _bf16_addmm(ortho_grad, gram_update, ortho_grad, beta=a)  # a X + (b A + c A^2) X

    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T
    return ortho_grad


def _adjust_lr(lr, adjust_lr_fn, param_shape):
    r"""按矩阵形状 :math:`A \times B` 调整学习率，使不同形状的更新有相近的 RMS。"""
    rows, cols = param_shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        adjusted_ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        adjusted_ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        adjusted_ratio = 1.0
    return lr * adjusted_ratio


class Muon(Optimizer):
    r"""Muon（MomentUm Orthogonalized by Newton–Schulz），按 torch 2.13 的 ``torch.optim.Muon`` 实现。

    .. math::
       \begin{aligned}
       &\textbf{输入: } \gamma \text{（lr）},\ \lambda \text{（weight\_decay）},\ \mu \text{（momentum）},\
         \textit{nesterov},\ (a, b, c) \text{（ns\_coefficients）},\ \varepsilon \text{（eps）},\
         k \text{（ns\_steps）},\ \theta_0 \in \mathbb{R}^{A \times B} \\
       &\textbf{初始化: } B_0 \leftarrow 0 \text{（动量）} \\
       &\textbf{for } t = 1, 2, \ldots \textbf{ do} \\
       &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}) \\
       &\quad B_t \leftarrow \mu B_{t-1} + (1 - \mu) g_t \\
       &\quad \tilde B_t \leftarrow \begin{cases} (1 - \mu) g_t + \mu B_t & \textit{nesterov} \\
         B_t & \text{否则} \end{cases} \\
       &\quad O_t \leftarrow \mathrm{NS}^{(a,b,c)}_k(\tilde B_t;\ \varepsilon) \\
       &\quad \theta_t \leftarrow (1 - \gamma\lambda)\,\theta_{t-1} - \gamma' O_t,\quad
         \gamma' = \mathrm{AdjustLR}(\gamma;\ A, B) \\
       &\textbf{return } \theta_t
       \end{aligned}

    动量用 ``lerp`` 写成指数滑动平均（torch 的写法），所以与 SGD 的动量差一个 :math:`1 - \mu` 的
    比例——正交化对整体缩放不敏感，结果不受影响。:math:`\mathrm{AdjustLR}` 在 ``adjust_lr_fn``
    为 None 或 ``"original"`` 时是 :math:`\gamma \sqrt{\max(1, A/B)}`，为 ``"match_rms_adamw"``
    时是 :math:`0.2\,\gamma \sqrt{\max(A, B)}`。权重衰减用未调整的 :math:`\gamma`。

    只支持二维参数（隐藏层的权重矩阵）；偏置、嵌入表等参数应交给 AdamW 这类优化器。
    状态：``momentum_buffer``（:math:`B`）。

    限制：Newton–Schulz 迭代在 bfloat16 里进行（与 torch 相同），edunn 的每个矩阵乘积是正确舍入的，
    torch 在 CPU 上用 float32 累加，两者偶尔在个别元素上差一个 bfloat16 末位（见 ``_bf16_addmm``），
    这个差别会在后面的迭代里传播，所以多步之后参数只在 bfloat16 的精度内一致。
    NOTE: 迭代用 edunn 的 bfloat16 张量，只在 CPU（numpy + ml_dtypes）上验证过；cupy 没有 bfloat16 类型，
    参数在 CUDA 上时这一步没有运行过。

    Args:
        params: 参数、``(名字, 参数)`` 对或参数组字典的可迭代对象，都必须是二维的。
        lr (float 或 Tensor): 学习率，默认 1e-3。
        weight_decay (float): 解耦权重衰减系数，默认 0.1。
        momentum (float): 动量系数 :math:`\mu`，默认 0.95。
        nesterov (bool): 是否用 Nesterov 动量，默认 True。
        ns_coefficients (Tuple[float, float, float]): 五次多项式的系数 :math:`(a, b, c)`，
            默认 (3.4445, -4.7750, 2.0315)。
        eps (float): 归一化时分母的下限，默认 1e-7。
        ns_steps (int): Newton–Schulz 迭代次数（小于 100），默认 5。
        adjust_lr_fn (str 或 None): None、``"original"`` 或 ``"match_rms_adamw"``。
    """

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS, ns_steps=DEFAULT_NS_STEPS,
                 adjust_lr_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ["original", "match_rms_adamw"]:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")

        defaults = {
            "lr": lr,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "nesterov": nesterov,
            "ns_coefficients": ns_coefficients,
            "eps": eps,
            "ns_steps": ns_steps,
            "adjust_lr_fn": adjust_lr_fn,
        }
        super().__init__(params, defaults)

        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(
                        f"Muon only supports 2D parameters whereas we found a parameter with size: {p.size()}"
                    )

    @no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()

        # torch 在更新途中才发现这些问题（此时前面的参数和动量已经改过）；edunn 先全部检查。
        _reject_sparse_grads(self, "Muon does not support sparse gradients")
        for group in self.param_groups:
            _check_newton_schulz_arguments(group["ns_coefficients"], group["ns_steps"])
            for param in group["params"]:
                if param.grad is not None and param.grad.ndim != 2:
                    raise ValueError("Param gradient must be a 2D matrix")

        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state[param]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = _creation.zeros_like(param.grad)
                self._update(param, state["momentum_buffer"], group)

        return loss

    @staticmethod
    def _update(param, buf, group):
        lr = _to_scalar(group["lr"])
        momentum = group["momentum"]
        grad = param.grad

        buf.lerp_(grad, 1 - momentum)
        update = grad.lerp(buf, momentum) if group["nesterov"] else buf
        update = _zeropower_via_newtonschulz(update, group["ns_coefficients"], group["ns_steps"], group["eps"])

        adjusted_lr = _adjust_lr(lr, group["adjust_lr_fn"], param.shape)
        param.mul_(1 - lr * group["weight_decay"])
        param.add_(update, alpha=-_get_value(adjusted_lr))
