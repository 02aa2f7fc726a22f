"""edunn.utils：数据加载等辅助工具。"""

from . import data  # noqa: F401
