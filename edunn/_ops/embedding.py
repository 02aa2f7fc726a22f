"""嵌入（embedding）查表算子。"""

import numpy as np

from .._backend import scatter_add
from .._coo import COOArray
from ..autograd.function import ArrayFunction
from .pointwise import xp_of


class Embedding(ArrayFunction):
    """查表：``out = weight[indices]``。反向把每行梯度加回它来自的那一行（同一下标出现多次时累加）。

    ``sparse=True`` 时反向返回稀疏 COO 梯度：坐标就是（去掉 padding_idx 之后的）下标本身，
    值是对应的输出梯度行，重复的下标不合并，与 torch 相同。
    """

    node_name = "EmbeddingBackward0"

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq, sparse=False):
        ctx.save_for_backward(indices)
        ctx.weight_shape = weight.shape
        ctx.padding_idx, ctx.scale_grad_by_freq, ctx.sparse = padding_idx, scale_grad_by_freq, sparse
        return xp_of(weight).take(weight, indices, axis=0)

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        xp = xp_of(grad)
        num_embeddings, dim = ctx.weight_shape
        flat = indices.reshape(-1)
        rows = grad.reshape(-1, dim)
        if ctx.sparse:
            return Embedding._sparse_grad(ctx, flat, rows), None, None, None, None
        if ctx.scale_grad_by_freq:
            counts = xp.bincount(flat, minlength=num_embeddings)
            rows = rows / counts[flat][:, None].astype(rows.dtype)
        if ctx.padding_idx is not None:
            keep = flat != ctx.padding_idx
            flat, rows = flat[keep], rows[keep]
        grad_weight = xp.zeros(ctx.weight_shape, dtype=grad.dtype)
        scatter_add(xp, grad_weight, flat, rows)
        return grad_weight, None, None, None, None

    @staticmethod
    def _sparse_grad(ctx, flat, rows):
        if ctx.scale_grad_by_freq:
            raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse gradients")
        if ctx.padding_idx is not None:
            keep = flat != ctx.padding_idx
            flat, rows = flat[keep], rows[keep]
        indices = flat.reshape(1, -1).astype(np.int64)
        # 与 torch 相同：至多一个非零行时标记为已合并
        return COOArray(indices, rows.copy(), ctx.weight_shape, coalesced=indices.shape[1] <= 1)
