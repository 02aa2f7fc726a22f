"""edunn.nn 的各个层，按 torch 的文件划分：module.py 是基类，container.py 是容器，其余每个文件一族层。"""

from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .module import Module

__all__ = ["Module", "ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "Sequential"]
