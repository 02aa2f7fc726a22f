"""edunn.nn：参数、模块、容器与各种层。"""

from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from .parameter import Buffer, Parameter

__all__ = ["Buffer", "Parameter", *_modules_all]
