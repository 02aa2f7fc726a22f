"""形状运算与索引。它们不改变数值，只改变排布，所以反向就是把梯度"排回去"。"""

import numpy as np

from .._backend import reshape_view, scatter_add
from ..autograd.function import ArrayFunction
from .pointwise import sum_to, xp_of


class Reshape(ArrayFunction):
    """view/reshape/squeeze/unsqueeze 共用的节点；node_name 由调用者按 torch 的名字给出。

    reshape 传入 "ReshapeBackward"，由这里按能否不复制来定名：连续的输入是 ViewBackward0，
    不连续但能共享内存的是 ReshapeAliasBackward0，必须复制的是 UnsafeViewBackward0。
    """

    node_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, a, shape, node_name="ViewBackward0"):
        ctx.shape = a.shape
        view = reshape_view(a, shape)
        if node_name == "ReshapeBackward":
            if view is None:
                node_name = "UnsafeViewBackward0"
            elif a.flags.c_contiguous:
                node_name = "ViewBackward0"
            else:
                node_name = "ReshapeAliasBackward0"
        ctx.node_name = node_name
        return view if view is not None else a.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Permute(ArrayFunction):
    """permute、transpose、t() 共用；node_name 给出 torch 对应的名字。"""

    node_name = "PermuteBackward0"

    @staticmethod
    def forward(ctx, a, dims, node_name="PermuteBackward0"):
        ctx.node_name = node_name
        ctx.inverse = tuple(np.argsort(dims))
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(ctx.inverse)


class Expand(ArrayFunction):
    node_name = "ExpandBackward0"

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return xp_of(a).broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return sum_to(grad, ctx.shape)


class Cat(ArrayFunction):
    node_name = "CatBackward0"

    @staticmethod
    def forward(ctx, dim, *arrays):
        # torch 允许把形状为 (0,) 的一维空张量与任意维数的张量拼接：跳过它，它的梯度也是 (0,) 的空数组
        ndim = max(a.ndim for a in arrays)
        ctx.skipped = [a.ndim == 1 and a.shape[0] == 0 and ndim != 1 for a in arrays]
        kept = [a for a, skip in zip(arrays, ctx.skipped) if not skip]
        ctx.dim = dim
        ctx.sizes = [a.shape[dim] for a in kept]
        return xp_of(*arrays).concatenate(kept, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        xp = xp_of(grad)
        bounds = np.cumsum(ctx.sizes)[:-1]
        pieces = iter(xp.split(grad, bounds, axis=ctx.dim))
        return (None, *[xp.zeros((0,), dtype=grad.dtype) if skip else next(pieces) for skip in ctx.skipped])


class Stack(ArrayFunction):
    node_name = "StackBackward0"

    @staticmethod
    def forward(ctx, dim, *arrays):
        ctx.dim = dim
        return xp_of(*arrays).stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        xp = xp_of(grad)
        pieces = xp.split(grad, grad.shape[ctx.dim], axis=ctx.dim)
        return (None, *[p.squeeze(ctx.dim) for p in pieces])


class Split(ArrayFunction):
    """按给定长度切成几段；每段都是输入的视图，反向把各段梯度拼回去（缺的段补零）。

    torch 把按固定长度切（split(int)、chunk）记作 SplitBackward0，按长度列表切记作 SplitWithSizesBackward0。
    """

    node_name = "SplitWithSizesBackward0"

    @staticmethod
    def forward(ctx, a, sizes, dim, node_name="SplitWithSizesBackward0"):
        ctx.node_name = node_name
        ctx.dim = dim
        bounds = np.cumsum(sizes)[:-1]
        return tuple(xp_of(a).split(a, bounds, axis=dim))

    @staticmethod
    def backward(ctx, *grads):
        return xp_of(*grads).concatenate(grads, axis=ctx.dim)


class Unbind(ArrayFunction):
    """沿 dim 拆成若干个少一维的视图；反向把各片的梯度沿 dim 叠回去。"""

    node_name = "UnbindBackward0"

    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = dim
        return tuple(xp_of(a).moveaxis(a, dim, 0))

    @staticmethod
    def backward(ctx, *grads):
        return xp_of(*grads).stack(grads, axis=ctx.dim)


def _index_arrays(xp, index):
    """把索引中的张量换成数组，列表换成整数数组。"""
    from .._tensor import Tensor

    def convert(item):
        if isinstance(item, Tensor):
            return item._array
        if isinstance(item, list):
            # 空列表在 numpy 里默认是 float64，torch 把它当作空的整数下标
            return xp.asarray(item) if item else xp.zeros(0, dtype=np.int64)
        return item

    if isinstance(index, tuple):
        return tuple(convert(i) for i in index)
    return convert(index)


def _index_width(item):
    """一个下标项占用张量的几维：布尔掩码占它自己的维数，None、Ellipsis 与 Python 布尔值不占。"""
    if item is None or item is Ellipsis or isinstance(item, bool):
        return 0
    if hasattr(item, "dtype") and item.dtype.kind == "b":
        return item.ndim
    return 1


def check_index(shape, index):
    """交给 numpy 之前按 torch 的规则检查下标，抛出 torch 的 IndexError（numpy 的报错说的是 array 与 axis）。"""
    items = index if isinstance(index, tuple) else (index,)
    consumed = sum(_index_width(item) for item in items)
    if consumed > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    dim = 0
    for item in items:
        if item is Ellipsis:
            dim += len(shape) - consumed
            continue
        width = _index_width(item)
        if width and hasattr(item, "dtype") and item.dtype.kind == "b":
            for j in range(width):
                if item.shape[j] != shape[dim + j]:
                    raise IndexError(
                        f"The shape of the mask {list(item.shape)} at index {j} does not match the shape of the "
                        f"indexed tensor {list(shape)} at index {dim + j}"
                    )
        elif width and not isinstance(item, slice):
            size = shape[dim]
            picks = [int(item)] if isinstance(item, (int, np.integer)) else (
                [int(item.min()), int(item.max())] if item.size else [])
            for pick in picks:
                if not -size <= pick < size:
                    raise IndexError(f"index {pick} is out of bounds for dimension {dim} with size {size}")
        dim += width


def is_basic_index(index):
    """只含整数、切片、None、Ellipsis 的索引是基本索引，结果是视图。"""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, slice, type(None), type(Ellipsis))) and not isinstance(i, bool)
               for i in items)


def _basic_index_node_name(index, shape):
    """torch 从左到右把基本索引拆成 select、slice、unsqueeze，图里留下的是最后一步的节点名。

    元组里覆盖整个维度的切片什么也不做，被跳过；什么都没做时结果是别名（AliasBackward0）。
    """
    if isinstance(index, slice):
        return "SliceBackward0"
    items = index if isinstance(index, tuple) else (index,)
    consumed = sum(1 for item in items if item is not None and item is not Ellipsis)
    name = "AliasBackward0"
    dim = 0
    for item in items:
        if item is Ellipsis:
            dim += len(shape) - consumed
        elif item is None:
            name = "UnsqueezeBackward0"
        elif isinstance(item, int):
            name = "SelectBackward0"
            dim += 1
        else:
            # torch 只看写出来的值：从 0 开始、步长 1、终点不小于维长才算整段（-n: 不算）
            start = 0 if item.start is None else item.start
            step = 1 if item.step is None else item.step
            stop = shape[dim] if item.stop is None else item.stop
            if not (start == 0 and step == 1 and stop >= shape[dim]):
                name = "SliceBackward0"
            dim += 1
    return name


class Index(ArrayFunction):
    node_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, a, index):
        ctx.shape, ctx.dtype, ctx.index = a.shape, a.dtype, index
        ctx.basic = is_basic_index(index)
        if ctx.basic:
            ctx.node_name = _basic_index_node_name(index, a.shape)
        return a[index]

    @staticmethod
    def backward(ctx, grad):
        xp = xp_of(grad)
        out = xp.zeros(ctx.shape, dtype=grad.dtype)
        if ctx.basic:
            out[ctx.index] = grad
        else:
            # 高级索引可能重复选中同一元素，梯度要累加而不是覆盖
            scatter_add(xp, out, ctx.index, grad)
        return out, None


class IndexPut(ArrayFunction):
    """``a[index] = values`` 的函数式版本：被覆盖的位置不再把梯度传给 a。"""

    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, a, index, values):
        out = a.copy()
        out[index] = values
        ctx.index = index
        ctx.values_shape = values.shape if hasattr(values, "shape") else ()
        ctx.selected_shape = out[index].shape
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_a = grad.copy()
        grad_a[ctx.index] = 0
        grad_values = sum_to(grad[ctx.index].reshape(ctx.selected_shape), ctx.values_shape)
        return grad_a, None, grad_values
