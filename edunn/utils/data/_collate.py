"""把一批样本合成一个批次（collate）。"""

import collections.abc
import numbers

import numpy as np

from ..._tensor import Tensor


def default_collate(batch):
    """与 torch 的 default_collate 相同的规则：

    张量沿新的第 0 维堆叠；numpy 数组先转成张量；Python 浮点数 -> float64 张量，整数 -> int64 张量；
    字符串原样成列表；映射按键、序列按位置递归合并（namedtuple 保持类型）。
    """
    from ..._creation import tensor
    from ..._functions import stack

    first = batch[0]
    if isinstance(first, Tensor):
        return stack(batch, 0)
    if isinstance(first, np.ndarray):
        if first.dtype.kind in "OSU":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                            f"found numpy array of dtype {first.dtype}")
        return stack([tensor(b) for b in batch], 0)
    if isinstance(first, np.generic):
        return tensor(np.array(batch))
    if isinstance(first, bool):
        return tensor(batch)
    if isinstance(first, float):
        return tensor(batch, dtype="float64")
    if isinstance(first, numbers.Integral):
        return tensor(batch)
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, collections.abc.Mapping):
        return type(first)({key: default_collate([b[key] for b in batch]) for key in first}) \
            if not isinstance(first, collections.OrderedDict) else \
            collections.OrderedDict((key, default_collate([b[key] for b in batch])) for key in first)
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(default_collate(list(samples)) for samples in zip(*batch)))
    if isinstance(first, collections.abc.Sequence):
        lengths = {len(b) for b in batch}
        if len(lengths) != 1:
            raise RuntimeError("each element in list of batch should be of equal size")
        merged = [default_collate(list(samples)) for samples in zip(*batch)]
        return merged if isinstance(first, list) else type(first)(merged) if isinstance(first, tuple) else merged
    raise TypeError(
        "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        f"found {type(first).__name__}"
    )
