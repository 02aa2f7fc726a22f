"""逐元素激活与 softmax 一族。每个类只保存超参数，计算交给 ``edunn.nn.functional``。"""

from ... import _functions
from .. import functional as F
from .module import Module


class ReLU(Module):
    r"""$\max(0, x)$。"""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    r"""$x$（$x \ge 0$）或 $\text{negative\_slope}\cdot x$（$x<0$）。"""

    def __init__(self, negative_slope=1e-2, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        inplace = ", inplace=True" if self.inplace else ""
        return f"negative_slope={self.negative_slope}{inplace}"


class GELU(Module):
    r"""$x\,\Phi(x)$；``approximate="tanh"`` 时用 tanh 近似。"""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    r"""$x\,\sigma(x)$，也叫 swish。"""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    def forward(self, input):
        return _functions.tanh(input)


class Sigmoid(Module):
    def forward(self, input):
        return _functions.sigmoid(input)


class Softmax(Module):
    r"""沿 ``dim`` 做 $\exp(x_i)/\sum_j \exp(x_j)$。``dim=None`` 沿用 torch 的旧规则推断维度并给出警告。"""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    r"""沿 ``dim`` 做 $x_i - \log\sum_j \exp(x_j)$，比先 softmax 再取对数稳定。"""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
