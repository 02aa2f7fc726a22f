"""Adamax：把 Adam 的二阶矩换成梯度绝对值的指数加权最大值（无穷范数）。"""

from .._creation import tensor, zeros_like
from .._functions import maximum
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer, _ensure_tensor_step, _get_scalar_dtype, _get_value, _reject_sparse_grads

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax：Adam 基于无穷范数的变体。

    .. math::
       \begin{aligned}
       &\textbf{输入: } \gamma \text{（lr）},\ \beta_1, \beta_2 \text{（betas）},\ \epsilon \text{（eps）},\
         \lambda \text{（weight\_decay）},\ \textit{maximize} \\
       &\textbf{初始化: } m_0 \leftarrow 0,\ u_0 \leftarrow 0 \\
       &\textbf{for } t = 1, 2, \ldots \textbf{ do} \\
       &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}),\quad
         \textbf{if } \textit{maximize}:\ g_t \leftarrow -g_t \\
       &\quad \textbf{if } \lambda \ne 0:\ g_t \leftarrow g_t + \lambda \theta_{t-1} \\
       &\quad m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
       &\quad u_t \leftarrow \max(\beta_2 u_{t-1},\ |g_t| + \epsilon) \\
       &\quad \theta_t \leftarrow \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t}\, \frac{m_t}{u_t} \\
       &\textbf{return } \theta_t
       \end{aligned}

    状态：``step``、``exp_avg``（:math:`m_t`）、``exp_inf``（:math:`u_t`）。:math:`\epsilon` 加在取最大值之前，
    所以 :math:`u_t \ge \epsilon`，分母不会为零。

    Args:
        params: 参数、``(名字, 参数)`` 对或参数组字典的可迭代对象。
        lr (float 或 Tensor): 学习率，默认 2e-3。
        betas (tuple[float, float]): :math:`(\beta_1, \beta_2)`，默认 (0.9, 0.999)。
        eps (float): 默认 1e-8。
        weight_decay (float): L2 惩罚系数，默认 0。
        foreach (bool 或 None): 接受任意取值；edunn 只有逐张量的实现，结果不变。
        maximize (bool): 最大化目标函数。
        differentiable, capturable: 只接受 False，原因见 ``edunn.optim.optimizer``。
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
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
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
        _ensure_tensor_step(self)

    @no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()

        _reject_sparse_grads(self, "Adamax does not support sparse gradients")
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
                    state["exp_inf"] = zeros_like(param)
                exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]

                state["step"] += 1

                if weight_decay != 0:
                    grad = grad.add(param, alpha=weight_decay)

                exp_avg.lerp_(grad, 1 - beta1)
                maximum(exp_inf.mul_(beta2), grad.abs().add_(eps), out=exp_inf)

                bias_correction = 1 - beta1 ** _get_value(state["step"])
                clr = lr / bias_correction
                param.addcdiv_(exp_avg, exp_inf, value=-_get_value(clr))

        return loss
