"""稀疏 COO 张量：``Embedding(sparse=True)`` 给出的梯度，``SparseAdam``、``Adagrad``、``SGD`` 按行使用它。

一个查表层一步只用到少数几行，稠密梯度却要为整张表分配内存、写满零。稀疏梯度只记
被用到的行：``_indices()`` 是行号（形状 ``(sparse_dim, nnz)``），``_values()`` 是这些行的梯度
（形状 ``(nnz, *dense_shape)``）。同一行出现多次时表示它们的和；``coalesce()`` 合并重复行。

``SparseTensor`` 是 ``Tensor`` 的子类（``isinstance(g, edunn.Tensor)`` 为真，与 torch 相同），
``is_sparse`` 为真，``layout`` 是 ``edunn.sparse_coo``。它支持梯度与优化器用得到的运算：
元数据、``coalesce``、``to_dense``、``clone``/``detach``/``to``、与标量的乘除、稀疏加稀疏、
``zero_``、``sum()``、``norm()``；稠密张量可以 ``add_``/``add``/``sub`` 一个稀疏张量。
其余运算抛出 ``NotImplementedError``（torch 对稀疏张量不支持的运算也抛这个类型）。

限制：edunn 的稀疏张量不参与自动求导（``requires_grad=True`` 会报错），也只有 COO 一种布局。
"""

import numbers

import numpy as np

from . import _backend
from ._coo import COOArray
from ._layout import sparse_coo
from ._tensor import Tensor


def _backend_name(device):
    return "SparseCPU" if device.type == "cpu" else "SparseCUDA"


def _unsupported(name):
    def method(self, *args, **kwargs):
        raise NotImplementedError(
            f"Could not run '{name}' with arguments from the '{_backend_name(self.device)}' backend: "
            "edunn's sparse COO tensors do not support this operation; call to_dense() first"
        )

    method.__name__ = name
    return method


def _reject_recording(dense, inplace):
    """稀疏张量不参与求导：对一个正在记录梯度的稠密张量做稠密 + 稀疏，只能报错而不能悄悄断开计算图。"""
    from .autograd.grad_mode import is_grad_enabled

    if not (is_grad_enabled() and dense.requires_grad):
        return
    if inplace:
        dense._check_inplace_allowed()
    raise NotImplementedError(
        "edunn cannot record gradients through dense + sparse addition; run it under edunn.no_grad()"
    )


def _is_scalar_like(value):
    if isinstance(value, Tensor):
        return not value.is_sparse and value.dim() == 0
    return isinstance(value, numbers.Number)


class SparseTensor(Tensor):
    """COO 布局的稀疏张量；``_array`` 是一个 ``COOArray``。"""

    is_sparse = True

    @classmethod
    def _from_coo(cls, coo, device=None):
        out = object.__new__(SparseTensor)
        if device is None:
            device = _backend.array_device(coo.values)
        _backend.dtype_of_array(coo.values)
        out._init_from(coo, device)
        return out

    def _new(self, coo):
        return SparseTensor._from_coo(coo, self._device)

    # ------------------------------------------------------------------
    # 元数据
    # ------------------------------------------------------------------

    @property
    def layout(self):
        return sparse_coo

    @property
    def requires_grad(self):
        return False

    @requires_grad.setter
    def requires_grad(self, value):
        if value:
            raise NotImplementedError(
                "edunn's sparse COO tensors do not support autograd; use a dense tensor to record gradients"
            )

    def sparse_dim(self):
        return self._array.sparse_dim

    def dense_dim(self):
        return self.dim() - self._array.sparse_dim

    def _nnz(self):
        return self._array.nnz

    def is_coalesced(self):
        return self._array.coalesced

    def is_contiguous(self, memory_format=None):
        return False

    def _indices(self):
        """坐标，形状 ``(sparse_dim, nnz)``，与本张量共享内存；未合并时可能有重复。"""
        return Tensor._wrap(self._array.indices, self._device)

    def _values(self):
        """值，形状 ``(nnz, *dense_shape)``，与本张量共享内存。"""
        return Tensor._wrap(self._array.values, self._device)

    def indices(self):
        if not self._array.coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call .coalesce() first")
        return self._indices()

    def values(self):
        if not self._array.coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call .coalesce() first")
        return self._values()

    # ------------------------------------------------------------------
    # 转换
    # ------------------------------------------------------------------

    def coalesce(self):
        """合并重复坐标并排序；已合并时返回自己（与 torch 相同）。"""
        if self._array.coalesced:
            return self
        return self._new(self._array.coalesce())

    def to_dense(self):
        return Tensor._wrap(self._array.to_dense(), self._device)

    def clone(self, memory_format=None):
        return self._new(self._array.copy())

    def to(self, *args, **kwargs):
        """``to(dtype)``、``to(device)``、``to(device, dtype)``；什么都不变时返回自己。"""
        dtype = kwargs.pop("dtype", None)
        dev = kwargs.pop("device", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
        for arg in args:
            if isinstance(arg, Tensor):
                dtype, dev = arg.dtype, arg.device
            elif isinstance(arg, _backend.dtype):
                dtype = arg
            elif isinstance(arg, (str, _backend.device)):
                dev = arg
            elif arg is not None:
                dtype = _backend.as_dtype(arg)
        target_dtype = self.dtype if dtype is None else _backend.as_dtype(dtype)
        target_device = self._device if dev is None else _backend.as_device(dev)
        if target_dtype is self.dtype and target_device == self._device and not copy:
            return self
        coo = self._array
        indices = _backend.move_array(coo.indices, target_device)
        values = _backend.move_array(coo.values, target_device).astype(target_dtype.numpy, copy=True)
        if indices is coo.indices:
            indices = indices.copy()
        return SparseTensor._from_coo(COOArray(indices, values, coo.shape, coo.coalesced), target_device)

    def float(self):
        return self.to(_backend.float32)

    def double(self):
        return self.to(_backend.float64)

    def cpu(self):
        return self.to("cpu")

    # ------------------------------------------------------------------
    # 运算
    # ------------------------------------------------------------------

    def _scaled(self, factor):
        """``self * factor``（factor 是标量）；保留坐标与合并标记，这与 torch 相同。"""
        if not _is_scalar_like(factor):
            raise NotImplementedError(
                "edunn's sparse COO tensors can only be multiplied or divided by a scalar; call to_dense() first"
            )
        dtype = _backend.result_type(self, factor)
        scale = factor.item() if isinstance(factor, Tensor) else factor
        coo = self._array
        values = coo.values.astype(dtype.numpy, copy=False) * dtype.numpy.type(scale)
        return self._new(COOArray(coo.indices.copy(), values.astype(dtype.numpy, copy=False), coo.shape, coo.coalesced))

    def mul(self, other):
        return self._scaled(other)

    __mul__ = mul
    __rmul__ = mul

    def div(self, other):
        if not _is_scalar_like(other):
            return self._scaled(other)  # 抛出同样的"只能与标量相乘除"错误
        dtype = _backend.result_type(self, other)
        if not dtype.is_floating_point:
            dtype = _backend.get_default_dtype()
        scale = other.item() if isinstance(other, Tensor) else other
        coo = self._array
        values = coo.values.astype(dtype.numpy, copy=False) / dtype.numpy.type(scale)
        return self._new(COOArray(coo.indices.copy(), values, coo.shape, coo.coalesced))

    __truediv__ = div

    def neg(self):
        coo = self._array
        return self._new(COOArray(coo.indices.copy(), -coo.values, coo.shape, coo.coalesced))

    __neg__ = neg

    def _assign(self, result):
        """就地运算：把结果的数据搬进自己的 COOArray（别名如 detach() 的结果也看得到）。"""
        if not _backend.can_cast(result.dtype, self.dtype):
            raise RuntimeError(
                f"result type {result.dtype._torch_name} can't be cast to the desired output type "
                f"{self.dtype._torch_name}"
            )
        coo, new = self._array, result._array
        coo.indices = new.indices
        coo.values = new.values.astype(coo.values.dtype, copy=False)
        coo.coalesced = new.coalesced
        self._bump_version()
        return self

    def mul_(self, other):
        return self._assign(self._scaled(other))

    def div_(self, other):
        return self._assign(self.div(other))

    def _check_same_size(self, other):
        if tuple(other.shape) != tuple(self.shape):
            raise RuntimeError(
                f"add: expected sizes of 'self' and 'other' to match, but {list(self.shape)} != "
                f"{list(other.shape)}"
            )

    def add(self, other, alpha=1):
        """稀疏 + 稀疏，结果稀疏；两边逐项归并，不先合并重复坐标（见 ``COOArray.merge``）。"""
        if not (isinstance(other, Tensor) and other.is_sparse):
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
        self._check_same_size(other)
        if other._device != self._device:
            raise RuntimeError(
                "Expected all tensors to be on the same device, but found at least two devices, "
                f"{self._device} and {other._device}!"
            )
        dtype = _backend.result_type(self, other)
        mine = self._array.astype(dtype.numpy, copy=False)
        return self._new(mine.merge(other._array.astype(dtype.numpy, copy=False), alpha))

    __add__ = add

    def __radd__(self, other):
        # Python 先问子类的反射运算：``dense + sparse`` 会先到这里。
        if isinstance(other, Tensor) and not other.is_sparse:
            return self._dense_plus(other, 1)
        return _unsupported("__radd__")(self)

    def __rsub__(self, other):
        if isinstance(other, Tensor) and not other.is_sparse:
            return self._dense_plus(other, -1)
        return _unsupported("__rsub__")(self)

    def add_(self, other, alpha=1):
        return self._assign(self.add(other, alpha=alpha))

    def sub(self, other, alpha=1):
        return self.add(other, alpha=-alpha)

    __sub__ = sub

    def sub_(self, other, alpha=1):
        return self._assign(self.sub(other, alpha=alpha))

    def zero_(self):
        """清空为没有非零元的稀疏张量（torch 的 ``zero_`` 也这样做，并标记为已合并）。"""
        coo = self._array
        xp = coo.xp
        coo.indices = xp.zeros((coo.sparse_dim, 0), dtype=np.int64)
        coo.values = xp.zeros((0,) + coo.values.shape[1:], dtype=coo.values.dtype)
        coo.coalesced = True
        self._bump_version()
        return self

    def sum(self, dim=None, keepdim=False, *, dtype=None):
        if dim is not None:
            return _unsupported("sum.dim_IntList")(self)
        return self.coalesce()._values().sum(dtype=dtype)

    def norm(self, p="fro", dim=None, keepdim=False):
        if dim is not None:
            return _unsupported("norm.dim")(self)
        return self.coalesce()._values().norm(p)

    def _add_into_dense(self, dense, alpha):
        """``dense.add_(self, alpha)``：只改动被用到的行，不生成整张稠密表。"""
        if tuple(dense.shape) != tuple(self.shape):
            raise RuntimeError(
                f"add: expected 'self' and 'other' to have same size, but self has size {list(dense.shape)} "
                f"while other has size {list(self.shape)} (FYI: dense-sparse addition does not currently "
                "support broadcasting)"
            )
        if not _backend.can_cast(_backend.result_type(dense, self), dense.dtype):
            raise RuntimeError(
                f"result type {self.dtype._torch_name} can't be cast to the desired output type "
                f"{dense.dtype._torch_name}"
            )
        _reject_recording(dense, inplace=True)
        self._array.add_into(dense._array, alpha)
        dense._bump_version()
        return dense

    def _dense_plus(self, dense, alpha):
        """``dense + alpha * self``，结果是稠密张量。"""
        _reject_recording(dense, inplace=False)
        dtype = _backend.result_type(dense, self)
        out = Tensor._wrap(dense._array.astype(dtype.numpy, copy=True), dense.device)
        return self._add_into_dense(out, alpha)

    # ------------------------------------------------------------------
    # 打印
    # ------------------------------------------------------------------

    def __repr__(self):
        from ._tensor_str import tensor_repr

        prefix = "tensor("
        indent = " " * len(prefix)
        indices = tensor_repr(self._indices(), prefix="indices=tensor(")
        values = tensor_repr(self._values(), prefix="values=tensor(")
        dtype_suffix = f", dtype={self.dtype!r})"
        if values.endswith(dtype_suffix):  # torch 只在最后一行写 dtype
            values = values[: -len(dtype_suffix)] + ")"
        lines = [
            prefix + indices.replace("\n", "\n" + indent) + ",",
            indent + values.replace("\n", "\n" + indent) + ",",
        ]
        suffixes = [f"size={tuple(self.shape)}", f"nnz={self._nnz()}"]
        if self.device.type != "cpu":
            suffixes.append(f"device='{self.device}'")
        if self.dtype is not _backend.get_default_dtype():
            suffixes.append(f"dtype={self.dtype!r}")
        suffixes.append("layout=edunn.sparse_coo")
        lines.append(indent + ", ".join(suffixes) + ")")
        return "\n".join(lines)


# 其余从 Tensor 继承来的运算都按稠密数组实现，对 COOArray 没有意义：统一改成清楚的错误。
_BLOCKED_DUNDERS = (
    "__getitem__", "__setitem__", "__iter__", "__array__", "__float__", "__int__", "__index__", "__bool__",
    "__matmul__", "__rmatmul__", "__pow__", "__rpow__", "__floordiv__", "__mod__", "__lt__", "__le__",
    "__gt__", "__ge__", "__and__", "__or__", "__xor__", "__invert__", "__abs__", "__rtruediv__", "__iadd__", "__isub__", "__imul__", "__itruediv__",
)
_KEPT = {
    "backward", "detach", "detach_", "dim", "element_size", "is_floating_point", "numel", "nelement",
    "register_hook", "register_post_accumulate_grad_hook", "requires_grad_", "retain_grad", "size", "type",
    "double", "float", "cpu",
}
for _name in list(vars(Tensor)) + list(_BLOCKED_DUNDERS):
    _attribute = vars(Tensor).get(_name)
    if _name in vars(SparseTensor) or _name in _KEPT or not callable(_attribute):
        continue
    if _name.startswith("_") and _name not in _BLOCKED_DUNDERS:
        continue
    setattr(SparseTensor, _name, _unsupported(_name))
del _name, _attribute


def _as_index_array(indices, device):
    if isinstance(indices, Tensor):
        if indices.is_sparse:
            raise TypeError("sparse_coo_tensor(): indices must be a dense tensor")
        array = indices._array
    else:
        array = _backend.get_array_module(device).asarray(np.asarray(indices))
    return _backend.move_array(array, device).astype(np.int64, copy=True)


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, requires_grad=False,
                      check_invariants=None, is_coalesced=None):
    """由坐标与值构造稀疏 COO 张量，参数与 ``torch.sparse_coo_tensor`` 相同。

    ``size`` 省略时取每个稀疏维上的最大坐标加一。坐标总会被检查（越界、负数），
    所以 ``check_invariants`` 只为兼容 torch 的写法而接受。``is_coalesced=True`` 由调用者保证坐标
    唯一且已排序（与 torch 相同，不做检查）。
    """
    if requires_grad:
        raise NotImplementedError(
            "edunn's sparse COO tensors do not support autograd; use a dense tensor to record gradients"
        )
    if isinstance(values, Tensor):
        value_device = values.device
    else:
        value_device = _backend.as_device("cpu")
    dev = _backend.as_device(device) if device is not None else value_device
    if isinstance(values, Tensor):
        value_tensor = values.to(dev)
        if dtype is not None:
            value_tensor = value_tensor.to(_backend.as_dtype(dtype))
    else:
        from ._creation import tensor

        value_tensor = tensor(values, dtype=dtype, device=dev)
    value_array = value_tensor._array.copy()
    index_array = _as_index_array(indices, dev)

    if index_array.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(index_array.shape)}")
    sparse_dim, nnz = index_array.shape
    if value_array.ndim == 0 or value_array.shape[0] != nnz:
        got = value_array.shape[0] if value_array.ndim else 1
        raise RuntimeError(
            f"indices and values must have same nnz, but got nnz from indices: {nnz}, nnz from values: {got}"
        )
    dense_shape = tuple(value_array.shape[1:])
    if size is None:
        maxima = _backend.to_numpy(index_array.max(axis=1) + 1) if nnz else np.zeros(sparse_dim, dtype=np.int64)
        size = tuple(int(n) for n in maxima) + dense_shape
    size = tuple(int(n) for n in size)
    if len(size) != sparse_dim + len(dense_shape):
        raise RuntimeError(
            f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = {len(size)}, "
            f"sparse_dim = {sparse_dim}, dense_dim = {len(dense_shape)}"
        )
    if size[sparse_dim:] != dense_shape:
        raise RuntimeError(
            f"values has incorrect size, expected {[nnz, *size[sparse_dim:]]}, got {[nnz, *dense_shape]}"
        )
    if nnz:
        lowest = _backend.to_numpy(index_array.min(axis=1))
        highest = _backend.to_numpy(index_array.max(axis=1))
        for dim in range(sparse_dim):
            if lowest[dim] < 0:
                raise RuntimeError(f"found negative index {int(lowest[dim])} for dim {dim}")
            if highest[dim] >= size[dim]:
                raise RuntimeError(
                    f"size is inconsistent with indices: for dim {dim}, size is {size[dim]} but found index "
                    f"{int(highest[dim])}"
                )
    coalesced = bool(is_coalesced) if is_coalesced is not None else nnz <= 1
    return SparseTensor._from_coo(COOArray(index_array, value_array, size, coalesced), dev)


def sparse_mask(dense, mask):
    """``dense.sparse_mask(mask)``：取 dense 在 mask 的坐标上的值，组成与 mask 同坐标的稀疏张量。"""
    if not (isinstance(mask, Tensor) and mask.is_sparse):
        raise RuntimeError("sparse_mask expects mask to be a sparse COO tensor")
    if tuple(mask.shape) != tuple(dense.shape):
        raise RuntimeError(
            f"sparse_mask(): expected self and mask to have the same shape, but got: {list(dense.shape)} "
            f"and {list(mask.shape)}"
        )
    coo = mask._array
    values = dense._array[tuple(coo.indices)].copy()
    return SparseTensor._from_coo(COOArray(coo.indices.copy(), values, coo.shape, coo.coalesced), dense.device)


def to_sparse(dense, sparse_dim=None):
    """``dense.to_sparse(sparse_dim)``：前 sparse_dim 维上不全为零的位置成为坐标，结果已合并。"""
    sparse_dim = dense.dim() if sparse_dim is None else int(sparse_dim)
    if not 0 <= sparse_dim <= dense.dim():
        raise RuntimeError(
            f"sparse_dim argument must be in [0, {dense.dim()}] range, but {sparse_dim} is given"
        )
    array = dense._array
    xp = dense._xp
    if sparse_dim == 0:
        coo = COOArray(xp.zeros((0, 1), dtype=np.int64), array[None].copy(), array.shape, True)
        return SparseTensor._from_coo(coo, dense.device)
    blocks = array.reshape(array.shape[:sparse_dim] + (-1,)) if sparse_dim < dense.dim() else array[..., None]
    nonzero = (blocks != 0).any(axis=-1)
    indices = xp.stack(xp.nonzero(nonzero)).astype(np.int64).reshape(sparse_dim, -1)
    values = array[tuple(indices)].copy()
    return SparseTensor._from_coo(COOArray(indices, values, array.shape, True), dense.device)
