"""NAdam：把 Nesterov 动量的"先看一步"放进 Adam 的一阶矩。"""

from .._creation import tensor, zeros_like
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer, _ensure_tensor_step, _get_scalar_dtype, _get_value, _reject_sparse_grads

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam（Nesterov-accelerated Adam），动量系数按 momentum_decay 逐步升温。

    .. math::
       \begin{aligned}
       &\textbf{输入: } \gamma \text{（lr）},\ \beta_1, \beta_2 \text{（betas）},\ \epsilon \text{（eps）},\
         \lambda \text{（weight\_decay）},\ \psi \text{（momentum\_decay）},\
         \textit{decoupled\_weight\_decay},\ \textit{maximize} \\
       &\textbf{初始化: } m_0 \leftarrow 0,\ v_0 \leftarrow 0,\ \Pi_0 \leftarrow 1 \\
       &\textbf{for } t = 1, 2, \ldots \textbf{ do} \\
       &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}),\quad
         \textbf{if } \textit{maximize}:\ g_t \leftarrow -g_t \\
       &\quad \textbf{if } \lambda \ne 0: \\
       &\qquad \textbf{if } \textit{decoupled\_weight\_decay}:\
         \theta_{t-1} \leftarrow (1 - \gamma\lambda)\, \theta_{t-1}
         \quad \textbf{else}:\ g_t \leftarrow g_t + \lambda \theta_{t-1} \\
       &\quad \mu_t \leftarrow \beta_1 \big(1 - \tfrac12\, 0.96^{t\psi}\big),\quad
         \mu_{t+1} \leftarrow \beta_1 \big(1 - \tfrac12\, 0.96^{(t+1)\psi}\big) \\
       &\quad \Pi_t \leftarrow \Pi_{t-1}\, \mu_t \\
       &\quad m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t,\quad
         v_t \leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
       &\quad d_t \leftarrow \sqrt{v_t / (1 - \beta_2^t)} + \epsilon \\
       &\quad \theta_t \leftarrow \theta_{t-1}
         - \gamma \frac{1 - \mu_t}{1 - \Pi_t} \frac{g_t}{d_t}
         - \gamma \frac{\mu_{t+1}}{1 - \Pi_t \mu_{t+1}} \frac{m_t}{d_t} \\
       &\textbf{return } \theta_t
       \end{aligned}

    状态：``step``、``mu_product``（:math:`\Pi_t`）、``exp_avg``、``exp_avg_sq``。
    ``mu_product`` 与 ``step`` 一样是 CPU 上的 float32 标量张量（默认 dtype 为 float64 时是 float64），
    乘法在这个精度下进行。torch 这样做，改用 Python 浮点数会让结果逐步偏离 torch。

    Args:
        params: 参数、``(名字, 参数)`` 对或参数组字典的可迭代对象。
        lr (float 或 Tensor): 学习率，默认 2e-3。
        betas (tuple[float, float]): :math:`(\beta_1, \beta_2)`，默认 (0.9, 0.999)。
        eps (float): 默认 1e-8。
        weight_decay (float): 权重衰减系数，默认 0。
        momentum_decay (float): 动量升温速度 :math:`\psi`，默认 4e-3。
        decoupled_weight_decay (bool): 像 AdamW 那样直接衰减参数。
        foreach (bool 或 None): 接受任意取值；edunn 只有逐张量的实现，结果不变。
        maximize (bool): 最大化目标函数。
        capturable, differentiable: 只接受 False，原因见 ``edunn.optim.optimizer``。
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
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
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")

        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
        _ensure_tensor_step(self, keys=("step", "mu_product"))

    @no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()

        _reject_sparse_grads(self, "NAdam does not support sparse gradients")
        for group in self.param_groups:
            lr = group["lr"]
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            momentum_decay = group["momentum_decay"]

            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad if not group["maximize"] else -param.grad

                state = self.state[param]
                if len(state) == 0:
                    state["step"] = tensor(0.0, dtype=_get_scalar_dtype())
                    state["mu_product"] = tensor(1.0, dtype=_get_scalar_dtype())
                    state["exp_avg"] = zeros_like(param)
                    state["exp_avg_sq"] = zeros_like(param)
                exp_avg, exp_avg_sq, mu_product = state["exp_avg"], state["exp_avg_sq"], state["mu_product"]

                state["step"] += 1
                step = _get_value(state["step"])
                bias_correction2 = 1 - beta2 ** step

                if weight_decay != 0:
                    if group["decoupled_weight_decay"]:
                        param.mul_(_get_value(1 - lr * weight_decay))
                    else:
                        grad = grad.add(param, alpha=weight_decay)

                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                mu_product *= mu

                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = exp_avg_sq.div(bias_correction2).sqrt_().add_(eps)

                mu_product_next = _get_value(mu_product) * mu_next
                param.addcdiv_(grad, denom, value=_get_value(-lr * (1.0 - mu) / (1.0 - _get_value(mu_product))))
                param.addcdiv_(exp_avg, denom, value=_get_value((-lr * mu_next) / (1.0 - mu_product_next)))

        return loss
