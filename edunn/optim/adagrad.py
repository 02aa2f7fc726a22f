"""Adagrad：用梯度平方的累加和为每个坐标缩放学习率。"""

from .._creation import full_like, tensor
from .._sparse import sparse_coo_tensor
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer, _ensure_tensor_step, _get_scalar_dtype, _get_value

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad（adaptive gradient）。

    .. math::
       \begin{aligned}
       &\textbf{输入: } \gamma \text{（lr）},\ \eta \text{（lr\_decay）},\ \lambda \text{（weight\_decay）},\
         \tau \text{（initial\_accumulator\_value）},\ \epsilon \text{（eps）},\ \textit{maximize} \\
       &\textbf{初始化: } s_0 \leftarrow \tau \\
       &\textbf{for } t = 1, 2, \ldots \textbf{ do} \\
       &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}),\quad
         \textbf{if } \textit{maximize}:\ g_t \leftarrow -g_t \\
       &\quad \textbf{if } \lambda \ne 0:\ g_t \leftarrow g_t + \lambda \theta_{t-1} \\
       &\quad \tilde\gamma_t \leftarrow \gamma / (1 + (t - 1)\eta) \\
       &\quad s_t \leftarrow s_{t-1} + g_t^2 \\
       &\quad \theta_t \leftarrow \theta_{t-1} - \tilde\gamma_t\, g_t / (\sqrt{s_t} + \epsilon) \\
       &\textbf{return } \theta_t
       \end{aligned}

    状态：``step`` 与 ``sum``（即 :math:`s_t`）。与 torch 相同，构造时就为每个参数建好状态，
    初值取构造参数 ``initial_accumulator_value``（参数组里单独写的同名值不起作用）。

    稀疏梯度（``Embedding(sparse=True)`` 给出的）也可以用：先合并重复行，只更新出现的行的
    :math:`s` 与参数；这时不能有权重衰减（与 torch 相同，抛 RuntimeError）。

    Args:
        params: 参数、``(名字, 参数)`` 对或参数组字典的可迭代对象。
        lr (float 或 Tensor): 学习率，默认 1e-2。
        lr_decay (float): 学习率衰减 :math:`\eta`，默认 0。
        weight_decay (float): L2 惩罚系数，默认 0。
        initial_accumulator_value (float): 累加和的初值 :math:`\tau`，默认 0。
        eps (float): 加在分母上的小数，默认 1e-10。
        foreach (bool 或 None): 接受任意取值；edunn 只有逐张量的实现，结果不变。
        maximize (bool): 最大化目标函数。
        differentiable, fused: 只接受 False/None，原因见 ``edunn.optim.optimizer``。
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")

        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)

        for group in self.param_groups:
            for param in group["params"]:
                self._init_state(param)

    def _init_state(self, param):
        state = self.state[param]
        state["step"] = tensor(0.0, dtype=_get_scalar_dtype())
        state["sum"] = full_like(param, self.defaults["initial_accumulator_value"])

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)
        _ensure_tensor_step(self)

    @no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()

        # 稀疏梯度不能加权重衰减（torch 在更新到这个参数时才报错，edunn 先检查，报错时什么都没改）
        for group in self.param_groups:
            if group["weight_decay"] != 0 and any(p.grad is not None and p.grad.is_sparse for p in group["params"]):
                raise RuntimeError("weight_decay option is not compatible with sparse gradients")

        for group in self.param_groups:
            lr = group["lr"]
            lr_decay = group["lr_decay"]
            weight_decay = group["weight_decay"]
            eps = group["eps"]

            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state[param]
                if len(state) == 0:
                    # 构造之后用 add_param_group 加入的参数
                    self._init_state(param)
                state_sum = state["sum"]

                state["step"] += 1
                step = _get_value(state["step"])
                grad = param.grad if not group["maximize"] else -param.grad

                if weight_decay != 0:
                    grad = grad.add(param, alpha=weight_decay)

                clr = lr / (1 + (step - 1) * lr_decay)

                if grad.is_sparse:
                    self._sparse_update(param, grad, state_sum, eps, _get_value(clr))
                    continue

                state_sum.addcmul_(grad, grad, value=1)
                std = state_sum.sqrt().add_(eps)
                param.addcdiv_(grad, std, value=-_get_value(clr))

        return loss

    @staticmethod
    def _sparse_update(param, grad, state_sum, eps, clr):
        """稀疏梯度（例如 ``Embedding(sparse=True)``）：只更新出现的行的累加和与参数，与 torch 相同。"""
        grad = grad.coalesce()  # 更新不是线性的：同一行的梯度必须先加起来
        indices, values = grad._indices(), grad._values()

        def make_sparse(row_values):
            return sparse_coo_tensor(indices, row_values, grad.shape, is_coalesced=True)

        state_sum.add_(make_sparse(values * values))
        std_values = state_sum.sparse_mask(grad)._values().sqrt() + eps
        param.add_(make_sparse(values / std_values), alpha=-clr)
