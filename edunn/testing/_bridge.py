"""edunn 张量与 torch 张量互相转换。数值按位复制，dtype 一一对应，requires_grad 一并带上。"""

import numpy as np

from .. import _backend
from .._tensor import Tensor


def _torch():
    try:
        import torch
    except ImportError as error:
        raise ImportError("edunn.testing needs torch to compare against: pip install 'edunn[testing]'") from error
    return torch


def _torch_dtype(torch, dtype):
    return getattr(torch, dtype.name)


def to_torch(value, device=None):
    """把 edunn 张量（或嵌套在 list/tuple/dict 里的张量）复制成 torch 张量。

    ``device`` 默认与原张量相同（edunn 的 cuda:0 对应 torch 的 cuda:0）。
    """
    torch = _torch()
    if isinstance(value, Tensor) and value.is_sparse:
        indices = to_torch(value._indices(), device)
        values = to_torch(value._values(), device)
        # 显式给出 check_invariants，torch 就不会发出"invariant checks are implicitly disabled"的警告
        return torch.sparse_coo_tensor(indices, values, tuple(value.shape), is_coalesced=value.is_coalesced(),
                                       check_invariants=True)
    if isinstance(value, Tensor):
        host = _backend.to_numpy(value._array)
        if value.dtype is _backend.bfloat16:
            out = torch.from_numpy(host.view(np.uint16).copy()).view(torch.bfloat16)
        else:
            out = torch.from_numpy(np.array(host, copy=True))
        out = out.to(str(device) if device is not None else str(value.device))
        if value.requires_grad:
            out.requires_grad_(True)
        return out
    if isinstance(value, dict):
        return type(value)((k, to_torch(v, device)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(to_torch(v, device) for v in value)
    return value


def from_torch(value, device=None):
    """把 torch 张量（或嵌套结构中的张量）复制成 edunn 张量。"""
    torch = _torch()
    if isinstance(value, torch.Tensor) and value.layout == torch.sparse_coo:
        from .._coo import COOArray
        from .._sparse import SparseTensor

        indices = from_torch(value._indices(), device)
        values = from_torch(value._values(), device)
        coo = COOArray(indices._array, values._array, tuple(value.shape), value.is_coalesced())
        return SparseTensor._from_coo(coo, values.device)
    if isinstance(value, torch.Tensor):
        detached = value.detach()
        source_device = str(detached.device) if detached.device.type == "cpu" else f"cuda:{detached.device.index or 0}"
        target = _backend.as_device(device if device is not None else source_device)
        if detached.dtype == torch.bfloat16:
            host = detached.cpu().view(torch.uint16).numpy().view(_backend.bfloat16.numpy).copy()
        else:
            host = detached.cpu().numpy().copy()
        out = Tensor._wrap(_backend.move_array(host, target), target)
        if value.requires_grad and value.is_leaf:
            out.requires_grad_(True)
        return out
    if isinstance(value, dict):
        return type(value)((k, from_torch(v, device)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(from_torch(v, device) for v in value)
    return value
