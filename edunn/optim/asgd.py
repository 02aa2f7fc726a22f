"""平均随机梯度下降（ASGD）：一边做衰减步长的 SGD，一边维护参数的滑动平均。"""

from .. import _creation
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer, _ensure_tensor_step, _get_scalar_dtype, _reject_sparse_grads, _to_scalar

__all__ = ["ASGD"]


class ASGD(Optimizer):
    r"""平均随机梯度下降（averaged stochastic gradient descent，Polyak–Ruppert 平均）。

    .. math::
       \begin{aligned}
       &\textbf{输入: } \gamma \text{（lr）},\ \lambda \text{（lambd）},\ \alpha \text{（alpha）},\
         t_0 \text{（t0）},\ w \text{（weight\_decay）},\ \theta_0 \text{（参数）},\ \textit{maximize} \\
       &\textbf{初始化: } \eta_0 \leftarrow \gamma,\ \mu_0 \leftarrow 1,\ \bar\theta_0 \leftarrow 0 \\
       &\textbf{for } t = 1, 2, \ldots \textbf{ do} \\
       &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}),\quad
         \textbf{if } \textit{maximize}:\ g_t \leftarrow -g_t \\
       &\quad \textbf{if } w \ne 0:\ g_t \leftarrow g_t + w\,\theta_{t-1} \\
       &\quad \theta_t \leftarrow (1 - \lambda \eta_{t-1})\,\theta_{t-1} - \eta_{t-1} g_t \\
       &\quad \bar\theta_t \leftarrow \begin{cases}
           \theta_t & \mu_{t-1} = 1 \\
           \bar\theta_{t-1} + \mu_{t-1}(\theta_t - \bar\theta_{t-1}) & \text{否则}
         \end{cases} \\
       &\quad \eta_t \leftarrow \gamma / (1 + \lambda \gamma t)^{\alpha} \\
       &\quad \mu_t \leftarrow 1 / \max(1,\ t - t_0) \\
       &\textbf{return } \theta_t,\ \bar\theta_t
       \end{aligned}

    状态：``step``、``eta``（:math:`\eta`）、``mu``（:math:`\mu`）都是零维张量，dtype 是 float32
    （默认 dtype 为 float64 时是 float64），与 torch 相同；所以参数更新用的 :math:`\eta` 是存成
    float32 之后的值。``ax`` 是平均参数 :math:`\bar\theta`，形状与参数相同。注意时序：
    第 :math:`t` 步用的是上一步算出的 :math:`\eta_{t-1}, \mu_{t-1}`，本步最后才更新它们；
    :math:`t \le t_0 + 1` 时 :math:`\mu = 1`，``ax`` 只是参数的副本，之后才真正开始平均。

    Args:
        params: 参数、``(名字, 参数)`` 对或参数组字典的可迭代对象。
        lr (float 或 Tensor): 学习率 :math:`\gamma`，默认 1e-2。
        lambd (float): 衰减项 :math:`\lambda`，默认 1e-4。
        alpha (float): :math:`\eta` 衰减的幂 :math:`\alpha`，默认 0.75。
        t0 (float): 从第几步开始平均，默认 1e6。
        weight_decay (float): L2 惩罚系数，默认 0。
        foreach (bool 或 None): 选 torch 的哪一种写法。torch 的批量实现（foreach=True）把更新改写成
            :math:`\theta \leftarrow \theta - \eta (g + \lambda\theta)`，并且总是按 :math:`\mu` 平均，
            舍入与逐张量的写法不同；edunn 两种写法都实现，结果分别与 torch 的对应实现一致。
            None 时与 torch 相同：参数都在 CUDA 上时用批量写法，否则用逐张量写法。
        maximize (bool): 最大化目标函数。
        differentiable (bool): 只接受 False。
        capturable (bool): 只接受 False（edunn 不做 CUDA 图捕获）。
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")

        defaults = {
            "lr": lr,
            "lambd": lambd,
            "alpha": alpha,
            "t0": t0,
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
        _ensure_tensor_step(self, keys=("step", "eta", "mu"))

    def _init_state(self, param, group):
        state = self.state[param]
        if len(state) == 0:
            scalar_dtype = _get_scalar_dtype()
            state["step"] = _creation.zeros((), dtype=scalar_dtype, device=param.device)
            state["eta"] = _creation.as_tensor(_to_scalar(group["lr"]), dtype=scalar_dtype,
                                               device=param.device).clone().detach()
            state["mu"] = _creation.ones((), dtype=scalar_dtype, device=param.device)
            state["ax"] = _creation.zeros_like(param)
        return state

    @no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()

        _reject_sparse_grads(self, "ASGD does not support sparse gradients")
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            foreach = group["foreach"]
            if foreach is None:
                foreach = bool(params) and all(p.device.type == "cuda" for p in params)
            for param in params:
                self._update(param, self._init_state(param, group), group, foreach)

        return loss

    @staticmethod
    def _update(param, state, group, foreach):
        lr = _to_scalar(group["lr"])
        lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
        weight_decay = group["weight_decay"]
        grad = param.grad if not group["maximize"] else -param.grad
        step_t, eta, mu, ax = state["step"], state["eta"], state["mu"], state["ax"]

        step_t.add_(1)
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)

        if foreach:
            # torch 批量实现的写法：theta - eta * (g + lambd * theta)，平均总是按 mu 做
            param.addcmul_(grad.add(param, alpha=lambd), eta, value=-1)
            ax.addcmul_(param.sub(ax), mu)
        else:
            eta_value = eta.item()
            param.mul_(1 - lambd * eta_value)
            param.add_(grad, alpha=-eta_value)
            if mu.item() != 1:
                ax.add_(param.sub(ax).mul_(mu))
            else:
                ax.copy_(param)

        # 新的 eta、mu 在 Python 浮点数里算，再写进低精度的状态张量（torch 也这样做）。
        step = step_t.item()
        if foreach:
            eta.copy_(ASGD._eta_in_step_dtype(lr, lambd, alpha, step_t))
        else:
            eta.copy_(_creation.as_tensor(lr / ((1 + lambd * lr * step) ** alpha)))
        mu.copy_(_creation.as_tensor(1 / max(1, step - t0)))

    @staticmethod
    def _eta_in_step_dtype(lr, lambd, alpha, step_t):
        """torch 批量实现的 eta：直接用 step 张量算，每一步都在 step 的 dtype（通常 float32）里舍入。"""
        base = 1 + lambd * lr * step_t
        # numpy 的 float32 幂运算不总是正确舍入；先在 float64 里算再舍入，与 torch 的标量 powf 一致
        power = (base.double() ** alpha).to(step_t.dtype)
        # torch 把 ``lr / tensor`` 算成 ``tensor.reciprocal() * lr``，两次舍入
        return power.reciprocal() * lr
