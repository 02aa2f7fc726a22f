"""RMSprop：用梯度平方的指数滑动平均缩放学习率；可选中心化与动量。"""

from .._creation import tensor, zeros_like
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer, _ensure_tensor_step, _get_scalar_dtype, _get_value, _reject_sparse_grads

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop（root mean square propagation）。

    .. math::
       \begin{aligned}
       &\textbf{输入: } \gamma \text{（lr）},\ \alpha \text{（alpha）},\ \epsilon \text{（eps）},\
         \lambda \text{（weight\_decay）},\ \mu \text{（momentum）},\ \textit{centered},\ \textit{maximize} \\
       &\textbf{初始化: } v_0 \leftarrow 0,\ b_0 \leftarrow 0,\ \bar g_0 \leftarrow 0 \\
       &\textbf{for } t = 1, 2, \ldots \textbf{ do} \\
       &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}),\quad
         \textbf{if } \textit{maximize}:\ g_t \leftarrow -g_t \\
       &\quad \textbf{if } \lambda \ne 0:\ g_t \leftarrow g_t + \lambda \theta_{t-1} \\
       &\quad v_t \leftarrow \alpha v_{t-1} + (1 - \alpha) g_t^2 \\
       &\quad \textbf{if } \textit{centered}:\ \bar g_t \leftarrow \alpha \bar g_{t-1} + (1 - \alpha) g_t,\
         \ d_t \leftarrow \sqrt{v_t - \bar g_t^2} + \epsilon
         \quad \textbf{else}:\ d_t \leftarrow \sqrt{v_t} + \epsilon \\
       &\quad \textbf{if } \mu > 0:\ b_t \leftarrow \mu b_{t-1} + g_t / d_t,\ \
         \theta_t \leftarrow \theta_{t-1} - \gamma b_t
         \quad \textbf{else}:\ \theta_t \leftarrow \theta_{t-1} - \gamma\, g_t / d_t \\
       &\textbf{return } \theta_t
       \end{aligned}

    状态：``step``、``square_avg``（:math:`v_t`），momentum > 0 时有 ``momentum_buffer``（:math:`b_t`），
    centered 时有 ``grad_avg``（:math:`\bar g_t`）。这两项只在参数第一次更新时按当时的设置创建，与 torch 相同。

    Args:
        params: 参数、``(名字, 参数)`` 对或参数组字典的可迭代对象。
        lr (float 或 Tensor): 学习率，默认 1e-2。
        alpha (float): 平滑常数 :math:`\alpha`，默认 0.99。
        eps (float): 加在分母上的小数，默认 1e-8。
        weight_decay (float): L2 惩罚系数，默认 0。
        momentum (float): 动量系数 :math:`\mu`，默认 0。
        centered (bool): 减去梯度均值的平方，用方差而不是二阶矩归一化。
        foreach (bool 或 None): 接受任意取值；edunn 只有逐张量的实现，结果不变。
        maximize (bool): 最大化目标函数。
        capturable, differentiable: 只接受 False，原因见 ``edunn.optim.optimizer``。
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")

        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
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

        _reject_sparse_grads(self, "RMSprop does not support sparse gradients")
        for group in self.param_groups:
            lr = _get_value(group["lr"])
            alpha = group["alpha"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            momentum = group["momentum"]

            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad if not group["maximize"] else -param.grad

                state = self.state[param]
                if len(state) == 0:
                    state["step"] = tensor(0.0, dtype=_get_scalar_dtype())
                    state["square_avg"] = zeros_like(param)
                    if momentum > 0:
                        state["momentum_buffer"] = zeros_like(param)
                    if group["centered"]:
                        state["grad_avg"] = zeros_like(param)
                square_avg = state["square_avg"]

                state["step"] += 1

                if weight_decay != 0:
                    grad = grad.add(param, alpha=weight_decay)

                square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)

                if group["centered"]:
                    grad_avg = state["grad_avg"]
                    grad_avg.lerp_(grad, 1 - alpha)
                    avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
                else:
                    avg = square_avg.sqrt()
                avg.add_(eps)

                if momentum > 0:
                    buf = state["momentum_buffer"]
                    buf.mul_(momentum).addcdiv_(grad, avg)
                    param.add_(buf, alpha=-lr)
                else:
                    param.addcdiv_(grad, avg, value=-lr)

        return loss
