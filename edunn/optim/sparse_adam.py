"""SparseAdam：给稀疏梯度用的 Adam，只更新梯度里出现的那些行。"""

import math

from .. import _creation
from .._sparse import sparse_coo_tensor
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer, _to_scalar

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    r"""Adam 的"掩码"版本：参数稠密、梯度稀疏（例如 ``nn.Embedding(sparse=True)``）时使用。

    设 :math:`I_t` 是第 :math:`t` 步稀疏梯度里出现的行（合并重复行之后），只有这些行参与更新：

    .. math::
       \begin{aligned}
       &\textbf{输入: } \gamma \text{（lr）},\ \beta_1, \beta_2 \text{（betas）},\ \epsilon \text{（eps）},\
         \theta_0 \text{（参数）},\ \textit{maximize} \\
       &\textbf{初始化: } m_0 \leftarrow 0,\ v_0 \leftarrow 0 \\
       &\textbf{for } t = 1, 2, \ldots \textbf{ do} \\
       &\quad g_t \leftarrow \operatorname{coalesce}(\nabla_\theta f_t(\theta_{t-1})),\quad
         \textbf{if } \textit{maximize}:\ g_t \leftarrow -g_t \\
       &\quad \textbf{对 } i \in I_t: \\
       &\qquad m_{t,i} \leftarrow \beta_1 m_{t-1,i} + (1 - \beta_1) g_{t,i} \\
       &\qquad v_{t,i} \leftarrow \beta_2 v_{t-1,i} + (1 - \beta_2) g_{t,i}^2 \\
       &\qquad \theta_{t,i} \leftarrow \theta_{t-1,i} - \frac{\gamma \sqrt{1 - \beta_2^t}}{1 - \beta_1^t}
         \cdot \frac{m_{t,i}}{\sqrt{v_{t,i}} + \epsilon} \\
       &\quad \textbf{对 } i \notin I_t:\ m, v, \theta \text{ 的第 } i \text{ 行都不变} \\
       &\textbf{return } \theta_t
       \end{aligned}

    与稠密的 Adam 不同，没出现的行的动量不衰减；而 :math:`t` 是这个参数的全局步数（每次
    ``step`` 都加一），所以偏差修正按全局步数算，不按这一行被更新过几次算。
    滑动平均写成 :math:`m \leftarrow m + (1 - \beta_1)(g - m)`，与 torch 的运算顺序相同。

    状态：``step``（Python 整数，与 torch 相同）、``exp_avg``（:math:`m`）、``exp_avg_sq``（:math:`v`）。

    Args:
        params: 参数、``(名字, 参数)`` 对或参数组字典的可迭代对象；参数必须是稠密张量。
        lr (float 或 Tensor): 学习率，默认 1e-3。
        betas (Tuple[float, float]): :math:`(\beta_1, \beta_2)`，默认 (0.9, 0.999)。
        eps (float): 分母中的 :math:`\epsilon`，默认 1e-8。
        maximize (bool): 最大化目标函数。
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")

        defaults = {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)

        sparse_params = [
            [group_index, param_index]
            for group_index, group in enumerate(self.param_groups)
            for param_index, param in enumerate(group["params"])
            if param.is_sparse
        ]
        if sparse_params:
            raise ValueError(
                f"Sparse params at indices {sparse_params}: SparseAdam requires dense parameter tensors"
            )

    @no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()

        # 先检查全部梯度再更新：报错时没有任何参数或状态被改动。
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is not None and not param.grad.is_sparse:
                    raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead")

        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state[param]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = _creation.zeros_like(param)
                    state["exp_avg_sq"] = _creation.zeros_like(param)
                state["step"] += 1
                self._update(param, state, group)

        return loss

    @staticmethod
    def _update(param, state, group):
        beta1, beta2 = group["betas"]
        lr = _to_scalar(group["lr"])
        grad = param.grad if not group["maximize"] else -param.grad
        grad = grad.coalesce()  # 更新不是线性的：同一行的梯度必须先加起来
        indices, values = grad._indices(), grad._values()
        if values.numel() == 0:
            return  # 这一步没有用到任何行；step 已经加一，与 torch 相同

        def make_sparse(row_values):
            return sparse_coo_tensor(indices, row_values, grad.shape, is_coalesced=True)

        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]

        # old <- old + (1 - beta) * (new - old)，只对出现的行
        old_exp_avg = exp_avg.sparse_mask(grad)._values()
        exp_avg_update = (values - old_exp_avg) * (1 - beta1)
        exp_avg.add_(make_sparse(exp_avg_update))
        old_exp_avg_sq = exp_avg_sq.sparse_mask(grad)._values()
        exp_avg_sq_update = (values * values - old_exp_avg_sq) * (1 - beta2)
        exp_avg_sq.add_(make_sparse(exp_avg_sq_update))

        numer = exp_avg_update + old_exp_avg
        denom = (exp_avg_sq_update + old_exp_avg_sq).sqrt() + group["eps"]

        step = state["step"]
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = lr * math.sqrt(bias_correction2) / bias_correction1
        param.add_(make_sparse(-step_size * (numer / denom)))
