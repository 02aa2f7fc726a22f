"""优化器：``Optimizer`` 基类与各个算法，名字、超参数、状态与 ``torch.optim`` 一一对应。"""

from . import optimizer
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "Optimizer", "RAdam", "RMSprop", "SGD"]

from . import lr_scheduler  # noqa: E402  与 torch.optim.lr_scheduler 对应
from . import swa_utils  # noqa: E402  与 torch.optim.swa_utils 对应
