"""Adafactor：把矩阵参数的二阶矩分解成行、列两个向量，省下与参数同样大的一份状态。"""

import ml_dtypes

from .. import _creation
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import (Optimizer, _ensure_tensor_step, _get_scalar_dtype, _get_value, _reject_sparse_grads,
                        _to_scalar)

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    r"""Adafactor（Shazeer 与 Stern，2018），按 torch 2.13 的 ``torch.optim.Adafactor`` 实现。

    .. math::
       \begin{aligned}
       &\textbf{输入: } \gamma \text{（lr）},\ \tau \text{（beta2\_decay）},\
         \epsilon_1, \epsilon_2 \text{（eps）},\ d \text{（clipping threshold）},\
         \lambda \text{（weight\_decay）},\ \theta_0 \text{（参数）},\ \textit{maximize} \\
       &\textbf{初始化: } R_0 \leftarrow 0 \text{（行因子）},\ C_0 \leftarrow 0 \text{（列因子）},\
         \hat V_0 \leftarrow 0 \text{（向量参数的二阶矩）} \\
       &\textbf{for } t = 1, 2, \ldots \textbf{ do} \\
       &\quad G_t \leftarrow \nabla_\theta f_t(\theta_{t-1}),\quad
         \textbf{if } \textit{maximize}:\ G_t \leftarrow -G_t \\
       &\quad \hat\beta_{2,t} \leftarrow 1 - t^{\tau},\quad \rho_t \leftarrow \min(\gamma,\ 1/\sqrt{t}),\quad
         \alpha_t \leftarrow \max(\epsilon_2,\ \operatorname{RMS}(\theta_{t-1}))\,\rho_t \\
       &\quad \theta_t \leftarrow \theta_{t-1} - \gamma \lambda \theta_{t-1} \\
       &\quad \textbf{if } \dim(G_t) > 1: \\
       &\qquad R_t \leftarrow \hat\beta_{2,t} R_{t-1} + (1 - \hat\beta_{2,t})\,\operatorname{mean}_{\text{列}}(G_t \odot G_t) \\
       &\qquad C_t \leftarrow \hat\beta_{2,t} C_{t-1} + (1 - \hat\beta_{2,t})\,\operatorname{mean}_{\text{行}}(G_t \odot G_t) \\
       &\qquad \hat V_t \leftarrow \frac{R_t C_t}{\max(\operatorname{mean}(R_t),\ \epsilon_1)} \\
       &\quad \textbf{else}: \\
       &\qquad \hat V_t \leftarrow \hat\beta_{2,t} \hat V_{t-1} + (1 - \hat\beta_{2,t})\,(G_t \odot G_t) \\
       &\quad U_t \leftarrow G_t / \max(\sqrt{\hat V_t},\ \epsilon_1) \\
       &\quad \hat U_t \leftarrow U_t / \max(1,\ \operatorname{RMS}(U_t) / d) \\
       &\quad \theta_t \leftarrow \theta_t - \alpha_t \hat U_t \\
       &\textbf{return } \theta_t
       \end{aligned}

    一个 :math:`n \times m` 的矩阵只存 :math:`R`（:math:`n \times 1`）和 :math:`C`
    （:math:`1 \times m`），:math:`R C` 是秩一的外积，近似 :math:`G \odot G` 的滑动平均。
    维数超过 2 的参数在最后两维上分解，前面的维当作批量。与论文不同（torch 的选择）：
    :math:`\gamma` 只作为 :math:`\rho_t` 的上限和权重衰减的系数；:math:`\epsilon_1` 用在
    :math:`\hat V` 的分母和 :math:`U` 的分母上，而不是加进 :math:`G \odot G`；
    :math:`\epsilon_1` 为 None 时取参数 dtype 的机器精度（一个参数组里第一个有梯度的参数的 dtype）。

    状态：``step``（CPU 上的零维 float32 张量，默认 dtype 为 float64 时是 float64）；
    矩阵参数有 ``row_var``（最后一维为 1）和 ``col_var``（倒数第二维为 1），向量参数有
    ``variance``（与参数同形状）。

    Args:
        params: 参数、``(名字, 参数)`` 对或参数组字典的可迭代对象。
        lr (float 或 Tensor): :math:`\rho_t` 的上限与权重衰减系数，默认 1e-2。
        beta2_decay (float): :math:`\tau`，默认 -0.8。
        eps (Tuple[float 或 None, float]): :math:`(\epsilon_1, \epsilon_2)`，默认 (None, 1e-3)。
        d (float): 更新的截断阈值 :math:`d`，默认 1.0。
        weight_decay (float): 解耦的权重衰减系数 :math:`\lambda`，默认 0。
        foreach (bool 或 None): 接受任意取值；edunn 只有逐张量的实现。
        maximize (bool): 最大化目标函数。
    """

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")

        defaults = {
            "lr": lr,
            "beta2_decay": beta2_decay,
            "eps": eps,
            "d": d,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
        _ensure_tensor_step(self)

    def _init_state(self, param):
        state = self.state[param]
        if len(state) == 0:
            grad = param.grad
            state["step"] = _creation.tensor(0.0, dtype=_get_scalar_dtype())
            if grad.dim() > 1:
                row_shape = list(grad.shape)
                row_shape[-1] = 1
                state["row_var"] = grad.new_zeros(row_shape)  # (..., n, 1)
                col_shape = list(grad.shape)
                col_shape[-2] = 1
                state["col_var"] = grad.new_zeros(col_shape)  # (..., 1, m)
            else:
                state["variance"] = _creation.zeros_like(grad)
        return state

    @no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()

        _reject_sparse_grads(self, "Adafactor does not support sparse gradients")
        for group in self.param_groups:
            eps1 = group["eps"][0]
            for param in group["params"]:
                if param.grad is None:
                    continue
                if eps1 is None:
                    # 与 torch 相同：取第一个参数的 dtype，之后整组沿用
                    eps1 = float(ml_dtypes.finfo(param.dtype.numpy).eps)
                self._update(param, self._init_state(param), group, eps1)

        return loss

    @staticmethod
    def _update(param, state, group, eps1):
        lr = _to_scalar(group["lr"])
        eps2, d = group["eps"][1], group["d"]
        grad = param.grad if not group["maximize"] else -param.grad
        step_t = state["step"]

        step_t.add_(1)
        step_float = step_t.item()
        one_minus_beta2_t = step_float ** group["beta2_decay"]
        rho_t = min(lr, 1 / (step_float ** 0.5))
        alpha = max(eps2, param.norm(2).item() / (param.numel() ** 0.5)) * rho_t

        if group["weight_decay"] != 0:
            param.mul_(1 - lr * group["weight_decay"])

        if grad.dim() > 1:
            row_var, col_var = state["row_var"], state["col_var"]
            # 按 torch 的写法先求范数再平方，等于 (G * G).mean(dim)，但不生成与 G 同样大的中间量
            row_mean = grad.norm(2, dim=-1, keepdim=True).square() / grad.size(-1)
            row_var.lerp_(row_mean, one_minus_beta2_t)
            col_mean = grad.norm(2, dim=-2, keepdim=True).square() / grad.size(-2)
            col_var.lerp_(col_mean, one_minus_beta2_t)
            var_estimate = row_var @ col_var  # (..., n, 1) @ (..., 1, m) -> (..., n, m)
            var_estimate = var_estimate / row_var.mean(dim=-2, keepdim=True).clamp(min=eps1)
        else:
            variance = state["variance"]
            variance.lerp_(grad * grad, one_minus_beta2_t)
            var_estimate = variance.clone()

        # 先截断到 eps1 的平方再开方，等于 max(sqrt(V), eps1)
        update = var_estimate.clamp(min=eps1 * eps1).rsqrt() * grad
        denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * d))
        param.add_(update, alpha=_get_value(-alpha / denom))
