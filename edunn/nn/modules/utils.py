"""层的构造函数共用的小工具：把 ``3`` 或 ``(3, 5)`` 统一成元组。"""

import collections.abc
from itertools import repeat


def _ntuple(n, name="parse"):
    def parse(value):
        if isinstance(value, collections.abc.Iterable):
            return tuple(value)
        return tuple(repeat(value, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")


def _reverse_repeat_tuple(values, n):
    """``(a, b)`` -> ``(b, b, a, a)``（n=2）：卷积的 padding 换成"从最后一维起、每维左右各一个"的顺序。"""
    return tuple(x for x in reversed(values) for _ in range(n))
