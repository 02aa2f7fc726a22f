"""弹性反向传播（Rprop）：只看梯度的符号，每个元素有自己的步长。"""

from .. import _creation
from .._functions import where
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer, _ensure_tensor_step, _get_scalar_dtype, _reject_sparse_grads, _to_scalar

__all__ = ["Rprop"]


class Rprop(Optimizer):
    r"""弹性反向传播（resilient backpropagation）。

    .. math::
       \begin{aligned}
       &\textbf{输入: } \gamma \text{（lr）},\ \eta_-, \eta_+ \text{（etas）},\
         \Gamma_{\min}, \Gamma_{\max} \text{（step\_sizes）},\ \theta_0 \text{（参数）},\ \textit{maximize} \\
       &\textbf{初始化: } g^{\text{prev}} \leftarrow 0,\ s_0 \leftarrow \gamma \text{（逐元素的步长）} \\
       &\textbf{for } t = 1, 2, \ldots \textbf{ do} \\
       &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}),\quad
         \textbf{if } \textit{maximize}:\ g_t \leftarrow -g_t \\
       &\quad \textbf{对每个元素 } i: \\
       &\qquad \textbf{if } g^{\text{prev}}_i g_{t,i} > 0:\ s_{t,i} \leftarrow \min(s_{t-1,i}\,\eta_+,\ \Gamma_{\max}) \\
       &\qquad \textbf{else if } g^{\text{prev}}_i g_{t,i} < 0:\
         s_{t,i} \leftarrow \max(s_{t-1,i}\,\eta_-,\ \Gamma_{\min}),\ \ g_{t,i} \leftarrow 0 \\
       &\qquad \textbf{else}:\ s_{t,i} \leftarrow s_{t-1,i} \\
       &\quad \theta_t \leftarrow \theta_{t-1} - s_t \odot \operatorname{sign}(g_t) \\
       &\quad g^{\text{prev}} \leftarrow g_t \\
       &\textbf{return } \theta_t
       \end{aligned}

    符号翻转的元素（上一步越过了极小值）这一步不动，并把记下的梯度置零，于是下一步它的
    乘积为 0、步长保持不变——不会因为又一次"翻转"连续缩小两次。与 torch 相同，步长的
    截断（clamp）对三种情况都做，所以 :math:`\Gamma_{\min}, \Gamma_{\max}` 也约束了未变的步长。

    状态：``step``（CPU 上的零维张量，float32，默认 dtype 为 float64 时是 float64）、
    ``prev``（:math:`g^{\text{prev}}`）、``step_size``（:math:`s`），与 torch 的名字和 dtype 相同。

    Args:
        params: 参数、``(名字, 参数)`` 对或参数组字典的可迭代对象。
        lr (float 或 Tensor): 初始步长 :math:`\gamma`，默认 1e-2。
        etas (Tuple[float, float]): :math:`(\eta_-, \eta_+)`，步长的缩小与放大倍数，默认 (0.5, 1.2)。
        step_sizes (Tuple[float, float]): 步长的下限与上限，默认 (1e-6, 50)。
        capturable (bool): 只接受 False（edunn 不做 CUDA 图捕获）。
        foreach (bool 或 None): 接受任意取值；edunn 只有逐张量的实现，结果相同。
        maximize (bool): 最大化目标函数。
        differentiable (bool): 只接受 False。
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False,
                 foreach=None, maximize=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")

        defaults = {
            "lr": lr,
            "etas": etas,
            "step_sizes": step_sizes,
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

    def _init_state(self, param, group):
        state = self.state[param]
        if len(state) == 0:
            state["step"] = _creation.zeros((), dtype=_get_scalar_dtype())
            state["prev"] = _creation.zeros_like(param)
            state["step_size"] = _creation.full_like(param.grad, _to_scalar(group["lr"]))
        return state

    @no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()

        _reject_sparse_grads(self, "Rprop does not support sparse gradients")
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is not None:
                    self._update(param, self._init_state(param, group), group)

        return loss

    @staticmethod
    def _update(param, state, group):
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        grad = param.grad if not group["maximize"] else -param.grad
        prev, step_size = state["prev"], state["step_size"]

        state["step"].add_(1)

        # 乘积的符号决定每个元素的步长倍数：同号放大、异号缩小、有一边为零不变（NaN 保持 NaN）。
        sign = grad.mul(prev).sign()
        factor = where(sign.gt(0), etaplus, where(sign.lt(0), etaminus, where(sign.eq(0), 1, sign)))
        step_size.mul_(factor).clamp_(step_size_min, step_size_max)

        grad = where(factor.eq(etaminus), 0, grad)
        param.addcmul_(grad.sign(), step_size, value=-1)
        prev.copy_(grad)
