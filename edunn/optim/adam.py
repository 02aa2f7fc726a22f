"""Adam：一阶矩与二阶矩的指数滑动平均，加偏差修正；可选 AMSGrad 与解耦的权重衰减。"""

from .._creation import tensor, zeros_like
from .._functions import maximum
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer, _ensure_tensor_step, _get_scalar_dtype, _get_value, _reject_sparse_grads

__all__ = ["Adam"]


class Adam(Optimizer):
    r"""Adam（adaptive moment estimation）。

    .. math::
       \begin{aligned}
       &\textbf{输入: } \gamma \text{（lr）},\ \beta_1, \beta_2 \text{（betas）},\ \epsilon \text{（eps）},\
         \lambda \text{（weight\_decay）},\ \textit{amsgrad},\ \textit{maximize},\
         \textit{decoupled\_weight\_decay} \\
       &\textbf{初始化: } m_0 \leftarrow 0,\ v_0 \leftarrow 0,\ v_0^{\max} \leftarrow 0 \\
       &\textbf{for } t = 1, 2, \ldots \textbf{ do} \\
       &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}),\quad
         \textbf{if } \textit{maximize}:\ g_t \leftarrow -g_t \\
       &\quad \textbf{if } \lambda \ne 0: \\
       &\qquad \textbf{if } \textit{decoupled\_weight\_decay}:\
         \theta_{t-1} \leftarrow (1 - \gamma\lambda)\, \theta_{t-1}
         \quad \textbf{else}:\ g_t \leftarrow g_t + \lambda \theta_{t-1} \\
       &\quad m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
       &\quad v_t \leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
       &\quad \textbf{if } \textit{amsgrad}:\ v_t^{\max} \leftarrow \max(v_{t-1}^{\max}, v_t),\
         \hat v_t \leftarrow v_t^{\max} / (1 - \beta_2^t)
         \quad \textbf{else}:\ \hat v_t \leftarrow v_t / (1 - \beta_2^t) \\
       &\quad \hat m_t \leftarrow m_t / (1 - \beta_1^t) \\
       &\quad \theta_t \leftarrow \theta_{t-1} - \gamma\, \hat m_t / (\sqrt{\hat v_t} + \epsilon) \\
       &\textbf{return } \theta_t
       \end{aligned}

    状态：``step``（CPU 上的标量张量，float32；默认 dtype 为 float64 时是 float64）、``exp_avg``
    （:math:`m_t`）、``exp_avg_sq``（:math:`v_t`），amsgrad 时还有 ``max_exp_avg_sq``。
    实际计算按 torch 的顺序：:math:`\theta \leftarrow \theta - \frac{\gamma}{1-\beta_1^t}\cdot
    \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}`，偏差修正用 Python 浮点数算。

    Args:
        params: 参数、``(名字, 参数)`` 对或参数组字典的可迭代对象。
        lr (float 或 Tensor): 学习率，默认 1e-3。
        betas (tuple[float, float]): :math:`(\beta_1, \beta_2)`，默认 (0.9, 0.999)。
        eps (float): 加在分母上的小数，默认 1e-8。
        weight_decay (float): 权重衰减系数，默认 0。
        amsgrad (bool): 用历史最大的二阶矩做分母（AMSGrad）。
        maximize (bool): 最大化目标函数。
        decoupled_weight_decay (bool): 权重衰减直接乘在参数上、不进入矩估计，即 AdamW。
        foreach (bool 或 None): 接受任意取值；edunn 只有逐张量的实现，结果不变。
        capturable, differentiable, fused: 只接受 False/None，原因见 ``edunn.optim.optimizer``。

    限制：``betas`` 只支持 Python 浮点数；torch 允许的张量 betas 会抛 NotImplementedError。
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
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
        both_floats = isinstance(betas[0], float) and isinstance(betas[1], float)
        both_tensors = isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor)
        if not (both_floats or both_tensors):
            raise ValueError("betas must be either both floats or both Tensors")
        if both_tensors:
            raise NotImplementedError("edunn supports float betas only; pass betas=(float, float)")

        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("fused", None)
        _ensure_tensor_step(self)

    @no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()

        _reject_sparse_grads(self, "Adam does not support sparse gradients, please consider SparseAdam instead")
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
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = zeros_like(param)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]

                state["step"] += 1

                if weight_decay != 0:
                    if group["decoupled_weight_decay"]:
                        param.mul_(_get_value(1 - lr * weight_decay))
                    else:
                        grad = grad.add(param, alpha=weight_decay)

                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)

                step = _get_value(state["step"])
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                step_size = lr / bias_correction1
                bias_correction2_sqrt = bias_correction2 ** 0.5

                if group["amsgrad"]:
                    max_exp_avg_sq = state["max_exp_avg_sq"]
                    maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                    denom = max_exp_avg_sq.sqrt().div_(bias_correction2_sqrt).add_(eps)
                else:
                    denom = exp_avg_sq.sqrt().div_(bias_correction2_sqrt).add_(eps)

                param.addcdiv_(exp_avg, denom, value=-_get_value(step_size))

        return loss
