"""稀疏 COO（coordinate format）数据在数组层的表示：反向传播引擎里流动的稀疏梯度就是它。

一个形状为 ``shape`` 的 COO 张量由两个数组描述：

- ``indices``：int64，形状 ``(sparse_dim, nnz)``，每一列是一个非零"行"在前 ``sparse_dim`` 维上的坐标；
- ``values``：形状 ``(nnz, *shape[sparse_dim:])``，每个坐标对应的稠密块。

同一坐标可以出现多次，表示的值是它们的和。``coalesce()`` 把重复坐标合并并按坐标排序，
``coalesced`` 标记记录这一点（与 torch 的 ``is_coalesced()`` 相同：它是记录，不是每次检查）。
``edunn.Tensor`` 层面的稀疏张量见 ``_sparse.py``。
"""

import numpy as np

from . import _backend


class COOArray:
    """稀疏 COO 数据：``indices``、``values``、``shape`` 与 ``coalesced`` 标记。"""

    # numpy 数组遇到它做 ``ndarray + COOArray`` 时不要逐元素广播，而是交给 ``__radd__``。
    __array_ufunc__ = None

    def __init__(self, indices, values, shape, coalesced=False):
        self.indices = indices
        self.values = values
        self.shape = tuple(int(n) for n in shape)
        self.coalesced = bool(coalesced)

    # -- 与稠密数组相同的元数据 -------------------------------------------------

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def itemsize(self):
        return self.values.itemsize

    @property
    def sparse_dim(self):
        return int(self.indices.shape[0])

    @property
    def nnz(self):
        return int(self.indices.shape[1])

    @property
    def xp(self):
        return _backend.get_array_module(_backend.array_device(self.values))

    # -- 复制与类型转换 ---------------------------------------------------------

    def copy(self):
        return COOArray(self.indices.copy(), self.values.copy(), self.shape, self.coalesced)

    def astype(self, dtype, copy=True):
        if not copy and self.values.dtype == dtype:
            return self
        return COOArray(self.indices.copy() if copy else self.indices,
                        self.values.astype(dtype, copy=copy), self.shape, self.coalesced)

    # -- 合并重复坐标 -----------------------------------------------------------

    def coalesce(self):
        """返回坐标唯一且按字典序排好的副本；重复坐标的值相加。已合并时返回自己。"""
        if self.coalesced:
            return self
        xp = self.xp
        if self.nnz == 0:
            return COOArray(self.indices.copy(), self.values.copy(), self.shape, True)
        sparse_shape = self.shape[:self.sparse_dim]
        linear = xp.ravel_multi_index(tuple(self.indices), sparse_shape) if self.sparse_dim else \
            xp.zeros(self.nnz, dtype=np.int64)
        unique, inverse = xp.unique(linear, return_inverse=True)
        summed = xp.zeros((unique.shape[0],) + self.values.shape[1:], dtype=self.values.dtype)
        _backend.scatter_add(xp, summed, inverse.reshape(-1), self.values)
        indices = xp.stack(xp.unravel_index(unique, sparse_shape)).astype(np.int64) if self.sparse_dim else \
            xp.zeros((0, unique.shape[0]), dtype=np.int64)
        return COOArray(indices.reshape(self.sparse_dim, -1), summed, self.shape, True)

    def to_dense(self):
        xp = self.xp
        dense = xp.zeros(self.shape, dtype=self.values.dtype)
        self.add_into(dense)
        return dense

    def add_into(self, dense, alpha=1):
        """``dense += alpha * self``，就地写入；重复坐标按出现顺序依次累加。"""
        values = self.values if alpha == 1 else self.values * dense.dtype.type(alpha)
        _backend.scatter_add(self.xp, dense, tuple(self.indices), values.astype(dense.dtype, copy=False))
        return dense

    # -- 相加：引擎把流向同一位置的梯度相加，AccumulateGrad 把新梯度加进 .grad ----------------

    def merge(self, other, alpha=1):
        """``self + alpha * other``，两者都是稀疏的，结果仍是稀疏的，按 torch 的方式逐项归并。

        torch 不先合并重复坐标：它像归并排序那样同时走两张坐标表，每次比较两边当前的坐标，
        取较小的一边；相等时把两项加成一项。输入未合并时结果也未合并，合并推迟到 ``coalesce()``。
        """
        if other.nnz == 0:
            return COOArray(self.indices.copy(), self.values.copy(), self.shape, self.coalesced)
        scaled = other.values if alpha == 1 else other.values * other.values.dtype.type(alpha)
        if self.nnz == 0:
            return COOArray(other.indices.copy(), scaled.astype(self.dtype, copy=True), self.shape, other.coalesced)

        mine = _backend.to_numpy(self.indices).T.tolist()
        theirs = _backend.to_numpy(other.indices).T.tolist()
        take_mine, take_theirs = [], []  # 结果第 k 项来自两边的哪个位置（-1 表示不取）
        i = j = 0
        while i < len(mine) or j < len(theirs):
            if i >= len(mine):
                order = -1
            elif j >= len(theirs):
                order = 1
            else:
                order = (mine[i] < theirs[j]) - (mine[i] > theirs[j])
            take_mine.append(i if order >= 0 else -1)
            take_theirs.append(j if order <= 0 else -1)
            i += order >= 0
            j += order <= 0

        xp = self.xp
        take_mine = xp.asarray(take_mine, dtype=np.int64)
        take_theirs = xp.asarray(take_theirs, dtype=np.int64)
        from_mine, from_theirs = take_mine >= 0, take_theirs >= 0
        indices = xp.where(from_mine, self.indices[:, take_mine], other.indices[:, take_theirs])
        values = xp.zeros((take_mine.shape[0],) + self.values.shape[1:], dtype=self.dtype)
        values[from_mine] = self.values[take_mine[from_mine]]
        values[from_theirs] += scaled[take_theirs[from_theirs]].astype(self.dtype, copy=False)
        return COOArray(indices, values, self.shape, self.coalesced and other.coalesced)

    def __add__(self, other):
        if isinstance(other, COOArray):
            return self.merge(other)
        if hasattr(other, "shape"):
            result = other.astype(np.result_type(other.dtype, self.dtype), copy=True)
            return self.add_into(result)
        return NotImplemented

    __radd__ = __add__

    def __repr__(self):
        return (f"COOArray(shape={self.shape}, nnz={self.nnz}, dtype={self.dtype}, "
                f"coalesced={self.coalesced})")
