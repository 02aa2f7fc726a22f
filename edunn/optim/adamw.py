"""AdamW：权重衰减与梯度解耦的 Adam。"""

from .adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    r"""AdamW：``Adam(..., decoupled_weight_decay=True)``，权重衰减默认 1e-2。

    .. math::
       \begin{aligned}
       &\textbf{输入: } \gamma \text{（lr）},\ \beta_1, \beta_2,\ \epsilon,\ \lambda \text{（weight\_decay）},\
         \textit{amsgrad},\ \textit{maximize} \\
       &\textbf{初始化: } m_0 \leftarrow 0,\ v_0 \leftarrow 0,\ v_0^{\max} \leftarrow 0 \\
       &\textbf{for } t = 1, 2, \ldots \textbf{ do} \\
       &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}),\quad
         \textbf{if } \textit{maximize}:\ g_t \leftarrow -g_t \\
       &\quad \theta_{t-1} \leftarrow (1 - \gamma\lambda)\, \theta_{t-1}
         \qquad \text{（衰减直接作用在参数上，不进入 } m_t, v_t\text{）} \\
       &\quad m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t,\quad
         v_t \leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
       &\quad \textbf{if } \textit{amsgrad}:\ v_t^{\max} \leftarrow \max(v_{t-1}^{\max}, v_t),\
         \hat v_t \leftarrow v_t^{\max} / (1 - \beta_2^t)
         \quad \textbf{else}:\ \hat v_t \leftarrow v_t / (1 - \beta_2^t) \\
       &\quad \theta_t \leftarrow \theta_{t-1} - \gamma\, \frac{m_t / (1 - \beta_1^t)}{\sqrt{\hat v_t} + \epsilon} \\
       &\textbf{return } \theta_t
       \end{aligned}

    与带 L2 惩罚的 Adam 不同：L2 项 :math:`\lambda\theta` 加进梯度后会被 :math:`\sqrt{\hat v_t}` 缩放，
    梯度大的坐标衰减得少；AdamW 让每个坐标按同一比例 :math:`1-\gamma\lambda` 衰减。
    状态与参数含义同 :class:`Adam`。
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        # 载入任何状态后仍然是 AdamW：即便保存的组里 decoupled_weight_decay 为 False。
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
