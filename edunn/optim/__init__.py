"""优化器：``Optimizer`` 基类与各个算法，名字、超参数、状态与 ``torch.optim`` 一一对应。"""

from . import optimizer
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .asgd import ASGD
from .lbfgs import LBFGS
from .muon import Muon
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = ["ASGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "LBFGS", "Muon", "NAdam",
           "Optimizer", "RAdam", "RMSprop", "Rprop", "SGD", "SparseAdam"]

from . import lr_scheduler  # noqa: E402  与 torch.optim.lr_scheduler 对应
from . import swa_utils  # noqa: E402  与 torch.optim.swa_utils 对应
