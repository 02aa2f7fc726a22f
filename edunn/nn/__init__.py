"""``edunn.nn``：神经网络的构件——参数、模块、容器、各种层，以及函数式接口、初始化与工具函数。"""

from . import functional, init, utils
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from .parameter import Buffer, Parameter

__all__ = ["Buffer", "Parameter", "functional", "init", "utils", *_modules_all]
