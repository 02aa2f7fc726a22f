"""形状运算与索引。它们不改变数值，只改变排布，所以反向就是把梯度"排回去"。"""

import numpy as np

from .._backend import scatter_add
from ..autograd.function import ArrayFunction
from .pointwise import sum_to, xp_of


def _split_points(sizes):
    """各段长度 -> ``split`` 要的切分位置（Python 整数列表；cupy 不接受 numpy 数组作切分位置）。"""
    return [int(b) for b in np.cumsum(sizes)[:-1]]


class Reshape(ArrayFunction):
    node_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return a.reshape(shape)  # 能共享内存时 numpy 返回视图，否则复制

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Permute(ArrayFunction):
    node_name = "PermuteBackward0"

    @staticmethod
    def forward(ctx, a, dims):
        ctx.inverse = tuple(int(i) for i in np.argsort(dims))
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
        return (None, *xp.split(grad, _split_points(ctx.sizes), axis=ctx.dim))


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
    """按给定长度切成几段；每段都是输入的视图，反向把各段梯度拼回去（缺的段补零）。"""

    node_name = "SplitWithSizesBackward0"

    @staticmethod
    def forward(ctx, a, sizes, dim):
        ctx.dim = dim
        return tuple(xp_of(a).split(a, _split_points(sizes), axis=dim))

    @staticmethod
    def backward(ctx, *grads):
        return xp_of(*grads).concatenate(grads, axis=ctx.dim)


def _index_arrays(xp, index):
    """把索引中的张量换成数组，列表换成整数数组。"""
    from .._tensor import Tensor

    def convert(item):
        if isinstance(item, Tensor):
            return item._array
        if isinstance(item, (list, np.ndarray)):
            return xp.asarray(item)  # cuda 张量的下标须是 GPU 上的数组
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
