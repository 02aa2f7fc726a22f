"""Adadelta：用参数更新量自身的滑动平均代替全局学习率。"""

from .._creation import tensor, zeros_like
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer, _ensure_tensor_step, _get_scalar_dtype, _get_value, _reject_sparse_grads

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta。

    .. math::
       \begin{aligned}
       &\textbf{输入: } \gamma \text{（lr）},\ \rho \text{（rho）},\ \epsilon \text{（eps）},\
         \lambda \text{（weight\_decay）},\ \textit{maximize} \\
       &\textbf{初始化: } v_0 \leftarrow 0 \text{（梯度平方的平均）},\ u_0 \leftarrow 0 \text{（更新量平方的平均）} \\
       &\textbf{for } t = 1, 2, \ldots \textbf{ do} \\
       &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}),\quad
         \textbf{if } \textit{maximize}:\ g_t \leftarrow -g_t \\
       &\quad \textbf{if } \lambda \ne 0:\ g_t \leftarrow g_t + \lambda \theta_{t-1} \\
       &\quad v_t \leftarrow \rho v_{t-1} + (1 - \rho) g_t^2 \\
       &\quad \Delta x_t \leftarrow \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t \\
       &\quad u_t \leftarrow \rho u_{t-1} + (1 - \rho) \Delta x_t^2 \\
       &\quad \theta_t \leftarrow \theta_{t-1} - \gamma \Delta x_t \\
       &\textbf{return } \theta_t
       \end{aligned}

    状态：``step``、``square_avg``（:math:`v_t`）、``acc_delta``（:math:`u_t`）。分子 :math:`\sqrt{u_{t-1}+\epsilon}`
    与分母的单位相同，所以原始算法不需要学习率；torch 仍保留 ``lr``（默认 1.0）作为整体缩放。

    Args:
        params: 参数、``(名字, 参数)`` 对或参数组字典的可迭代对象。
        lr (float 或 Tensor): 乘在更新量上的系数，默认 1.0。
        rho (float): 滑动平均系数 :math:`\rho`，取值 [0, 1]，默认 0.9。
        eps (float): 加在两个平方根里的小数，默认 1e-6。
        weight_decay (float): L2 惩罚系数，默认 0。
        foreach (bool 或 None): 接受任意取值；edunn 只有逐张量的实现，结果不变。
        maximize (bool): 最大化目标函数。
        capturable, differentiable: 只接受 False，原因见 ``edunn.optim.optimizer``。
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")

        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "capturable": capturable,
            "foreach": foreach,
            "differentiable": differentiable,
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

        _reject_sparse_grads(self, "Adadelta does not support sparse gradients")
        for group in self.param_groups:
            lr = _get_value(group["lr"])
            rho = group["rho"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]

            for param in group["params"]:
                if param.grad is None:
                    continue

                state = self.state[param]
                if len(state) == 0:
                    state["step"] = tensor(0.0, dtype=_get_scalar_dtype())
                    state["square_avg"] = zeros_like(param)
                    state["acc_delta"] = zeros_like(param)
                square_avg, acc_delta = state["square_avg"], state["acc_delta"]

                state["step"] += 1
                grad = param.grad if not group["maximize"] else -param.grad

                if weight_decay != 0:
                    grad = grad.add(param, alpha=weight_decay)

                square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
                std = square_avg.add(eps).sqrt_()
                delta = acc_delta.add(eps).sqrt_()
                delta.div_(std).mul_(grad)
                acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)

                param.add_(delta, alpha=-lr)

        return loss
