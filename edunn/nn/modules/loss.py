"""损失函数模块。每个类保存 ``reduction`` 等选项（``weight``/``pos_weight`` 作为缓冲区），计算交给 functional。

``reduction``：``"none"`` 返回逐元素损失，``"mean"``（默认）取平均，``"sum"`` 求和。旧参数
``size_average``/``reduce`` 仍被接受，按 torch 的规则换算成 reduction 并给出警告。
"""

import warnings

from .. import functional as F
from .module import Module


def _legacy_reduction(size_average, reduce):
    """把旧的 size_average/reduce 换算成 reduction（None 视为 True），与 torch 的换算表相同。"""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        reduction = "mean"
    elif reduce:
        reduction = "sum"
    else:
        reduction = "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
                  stacklevel=3)
    return reduction


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            self.reduction = _legacy_reduction(size_average, reduce)
        else:
            self.reduction = reduction


class _WeightedLoss(_Loss):
    """带逐类权重的损失：``weight`` 登记为缓冲区，所以会跟着 ``to()``/``double()`` 一起转换。"""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class L1Loss(_Loss):
    r"""$\ell_i = |x_i - y_i|$。"""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    r"""$\ell_i = (x_i - y_i)^2$。"""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class NLLLoss(_WeightedLoss):
    r"""输入是对数概率：$\ell_n = -w_{y_n} x_{n, y_n}$；``ignore_index`` 的样本不计入损失与分母。"""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    r"""``log_softmax`` 加 ``nll_loss``；目标可以是类别下标，也可以是每类的概率。

    ``label_smoothing`` $=\varepsilon$ 时目标换成 $(1-\varepsilon)\,\text{onehot} + \varepsilon / C$。
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class BCELoss(_WeightedLoss):
    r"""输入是概率：$\ell_i = -w_i\,[y_i \log x_i + (1-y_i)\log(1-x_i)]$，对数截断在 $-100$。"""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    r"""输入是 logit：sigmoid 与 BCE 合在一起算，数值上更稳定；``pos_weight`` 按类别放大正样本项。"""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, pos_weight=self.pos_weight,
                                                  reduction=self.reduction)
