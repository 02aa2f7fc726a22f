"""形状运算与索引。它们不改变数值，只改变排布，所以反向就是把梯度"排回去"。"""

import numpy as np

from .._backend import reshape_view, scatter_add
from ..autograd.function import ArrayFunction
from .pointwise import sum_to, xp_of


class Reshape(ArrayFunction):
    """view/reshape/squeeze/unsqueeze 共用的节点；node_name 由调用者按 torch 的名字给出。

    reshape 的名字还取决于能否不复制：连续的输入是 ViewBackward0，不连续但能共享内存的是
    ReshapeAliasBackward0，必须复制的是 UnsafeViewBackward0。
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
        ctx.dim = dim
        ctx.sizes = [a.shape[dim] for a in arrays]
        return xp_of(*arrays).concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        xp = xp_of(grad)
        bounds = np.cumsum(ctx.sizes)[:-1]
        return (None, *xp.split(grad, bounds, axis=ctx.dim))


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
            return xp.asarray(item)
        return item

    if isinstance(index, tuple):
        return tuple(convert(i) for i in index)
    return convert(index)


def is_basic_index(index):
    """只含整数、切片、None、Ellipsis 的索引是基本索引，结果是视图。"""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, slice, type(None), type(Ellipsis))) and not isinstance(i, bool)
               for i in items)


class Index(ArrayFunction):
    node_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, a, index):
        ctx.shape, ctx.dtype, ctx.index = a.shape, a.dtype, index
        ctx.basic = is_basic_index(index)
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
