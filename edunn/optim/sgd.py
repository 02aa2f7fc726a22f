"""随机梯度下降（SGD），可选动量、Nesterov 动量与权重衰减。"""

from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer, _get_value

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""随机梯度下降（stochastic gradient descent），可选动量（momentum）。

    .. math::
       \begin{aligned}
       &\textbf{输入: } \gamma \text{（lr）},\ \theta_0 \text{（参数）},\ f(\theta) \text{（目标函数）},\
         \lambda \text{（weight\_decay）},\ \mu \text{（momentum）},\ \tau \text{（dampening）},\
         \textit{nesterov},\ \textit{maximize} \\
       &\textbf{for } t = 1, 2, \ldots \textbf{ do} \\
       &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}),\quad
         \textbf{if } \textit{maximize}:\ g_t \leftarrow -g_t \\
       &\quad \textbf{if } \lambda \ne 0:\ g_t \leftarrow g_t + \lambda \theta_{t-1} \\
       &\quad \textbf{if } \mu \ne 0: \\
       &\qquad b_t \leftarrow \begin{cases} g_t & t = 1 \\ \mu b_{t-1} + (1 - \tau) g_t & t > 1 \end{cases} \\
       &\qquad g_t \leftarrow \begin{cases} g_t + \mu b_t & \textit{nesterov} \\ b_t & \text{否则} \end{cases} \\
       &\quad \theta_t \leftarrow \theta_{t-1} - \gamma g_t \\
       &\textbf{return } \theta_t
       \end{aligned}

    状态：``momentum_buffer``（即 :math:`b_t`，只在 momentum 非零时创建）。第一步直接取梯度本身，
    不乘 :math:`1-\tau`；学习率乘在动量之外（:math:`\theta \leftarrow \theta - \gamma b`），与 torch 相同。

    Args:
        params: 参数、``(名字, 参数)`` 对或参数组字典的可迭代对象。
        lr (float 或 Tensor): 学习率，默认 1e-3。
        momentum (float): 动量系数 :math:`\mu`，默认 0。
        dampening (float): 动量的阻尼 :math:`\tau`，默认 0。
        weight_decay (float): L2 惩罚系数 :math:`\lambda`，默认 0。
        nesterov (bool): 是否用 Nesterov 动量（要求 momentum > 0 且 dampening = 0）。
        maximize (bool): 最大化目标函数而不是最小化。
        foreach (bool 或 None): 接受 True/False/None。edunn 只有逐张量的实现，三种取值结果相同。
        differentiable (bool): 只接受 False：对 step 求导需要 create_graph，edunn 的自动求导没有。
        fused (bool 或 None): 只接受 None/False：edunn 没有融合内核（fused kernel）。
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    @no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()

        for group in self.param_groups:
            lr = _get_value(group["lr"])
            weight_decay = _get_value(group["weight_decay"])
            momentum = group["momentum"]
            dampening = group["dampening"]

            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad if not group["maximize"] else -param.grad

                if weight_decay != 0:
                    grad = grad.add(param, alpha=weight_decay)

                if momentum != 0:
                    state = self.state[param]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = grad.detach().clone()
                        state["momentum_buffer"] = buf
                    else:
                        buf.mul_(momentum).add_(grad, alpha=1 - dampening)

                    if group["nesterov"]:
                        grad = grad.add(buf, alpha=momentum)
                    else:
                        grad = buf

                param.add_(grad, alpha=-lr)

        return loss
