"""优化器：``Optimizer`` 基类与各个算法，名字、超参数、状态与 ``torch.optim`` 一一对应。"""

from . import optimizer
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["SGD", "Optimizer"]

from . import lr_scheduler  # noqa: E402  与 torch.optim.lr_scheduler 对应
from . import swa_utils  # noqa: E402  与 torch.optim.swa_utils 对应
