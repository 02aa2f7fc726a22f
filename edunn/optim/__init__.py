"""优化器：``Optimizer`` 基类与各个算法，名字、超参数、状态与 ``torch.optim`` 一一对应。"""

from . import optimizer
from .adafactor import Adafactor
from .asgd import ASGD
from .lbfgs import LBFGS
from .muon import Muon
from .optimizer import Optimizer
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = ["ASGD", "Adafactor", "LBFGS", "Muon", "Optimizer", "Rprop", "SGD", "SparseAdam"]
