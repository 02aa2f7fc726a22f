"""RAdam：在自适应学习率的方差还不可靠的前几步，先退回带动量的 SGD。"""

from .._creation import tensor, zeros_like
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer, _ensure_tensor_step, _get_scalar_dtype, _get_value, _reject_sparse_grads

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""RAdam（rectified Adam）。

    .. math::
       \begin{aligned}
       &\textbf{输入: } \gamma \text{（lr）},\ \beta_1, \beta_2 \text{（betas）},\ \epsilon \text{（eps）},\
         \lambda \text{（weight\_decay）},\ \textit{decoupled\_weight\_decay},\ \textit{maximize} \\
       &\textbf{初始化: } m_0 \leftarrow 0,\ v_0 \leftarrow 0,\
         \rho_\infty \leftarrow 2 / (1 - \beta_2) - 1 \\
       &\textbf{for } t = 1, 2, \ldots \textbf{ do} \\
       &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}),\quad
         \textbf{if } \textit{maximize}:\ g_t \leftarrow -g_t \\
       &\quad \textbf{if } \lambda \ne 0: \\
       &\qquad \textbf{if } \textit{decoupled\_weight\_decay}:\
         \theta_{t-1} \leftarrow (1 - \gamma\lambda)\, \theta_{t-1}
         \quad \textbf{else}:\ g_t \leftarrow g_t + \lambda \theta_{t-1} \\
       &\quad m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t,\quad
         v_t \leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
       &\quad \hat m_t \leftarrow m_t / (1 - \beta_1^t) \\
       &\quad \rho_t \leftarrow \rho_\infty - 2 t \beta_2^t / (1 - \beta_2^t) \\
       &\quad \textbf{if } \rho_t > 5: \\
       &\qquad l_t \leftarrow \sqrt{1 - \beta_2^t} \,/\, (\sqrt{v_t} + \epsilon) \\
       &\qquad r_t \leftarrow \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}} \\
       &\qquad \theta_t \leftarrow \theta_{t-1} - \gamma\, \hat m_t\, l_t\, r_t \\
       &\quad \textbf{else}: \\
       &\qquad \theta_t \leftarrow \theta_{t-1} - \gamma\, \hat m_t \\
       &\textbf{return } \theta_t
       \end{aligned}

    :math:`\rho_t` 是自适应学习率所依据的"简单移动平均"的近似长度；它不超过 5 时方差估计太不可靠，
    这一步不做自适应缩放（阈值 5 与 torch 相同）。状态：``step``、``exp_avg``、``exp_avg_sq``。

    Args:
        params: 参数、``(名字, 参数)`` 对或参数组字典的可迭代对象。
        lr (float 或 Tensor): 学习率，默认 1e-3。
        betas (tuple[float, float]): :math:`(\beta_1, \beta_2)`，默认 (0.9, 0.999)。
        eps (float): 默认 1e-8。
        weight_decay (float): 权重衰减系数，默认 0。
        decoupled_weight_decay (bool): 像 AdamW 那样直接衰减参数。
        foreach (bool 或 None): 接受任意取值；edunn 只有逐张量的实现，结果不变。
        maximize (bool): 最大化目标函数。
        capturable, differentiable: 只接受 False，原因见 ``edunn.optim.optimizer``。
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")

        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "decoupled_weight_decay": decoupled_weight_decay,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("capturable", False)
        _ensure_tensor_step(self)

    @no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()

        _reject_sparse_grads(self, "RAdam does not support sparse gradients")
        for group in self.param_groups:
            lr = group["lr"]
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]

            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad if not group["maximize"] else -param.grad

                state = self.state[param]
                if len(state) == 0:
                    state["step"] = tensor(0.0, dtype=_get_scalar_dtype())
                    state["exp_avg"] = zeros_like(param)
                    state["exp_avg_sq"] = zeros_like(param)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]

                state["step"] += 1
                step = _get_value(state["step"])

                if weight_decay != 0:
                    if group["decoupled_weight_decay"]:
                        param.mul_(_get_value(1 - lr * weight_decay))
                    else:
                        grad = grad.add(param, alpha=weight_decay)

                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)

                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                bias_corrected_exp_avg = exp_avg / bias_correction1

                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2

                if rho_t > 5.0:
                    adaptive_lr = (bias_correction2 ** 0.5) / exp_avg_sq.sqrt().add_(eps)
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    param.add_(bias_corrected_exp_avg * lr * adaptive_lr * rect, alpha=-1.0)
                else:
                    param.add_(bias_corrected_exp_avg * lr, alpha=-1.0)

        return loss
