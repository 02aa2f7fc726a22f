"""嵌入（embedding）查表算子。"""

from .._backend import scatter_add
from ..autograd.function import ArrayFunction
from .pointwise import xp_of


class Embedding(ArrayFunction):
    """查表：``out = weight[indices]``。反向把每行梯度加回它来自的那一行（同一下标出现多次时累加）。"""

    node_name = "EmbeddingBackward0"

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        ctx.save_for_backward(indices)
        ctx.weight_shape = weight.shape
        ctx.padding_idx, ctx.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        return xp_of(weight).take(weight, indices, axis=0)

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        xp = xp_of(grad)
        num_embeddings, dim = ctx.weight_shape
        flat = indices.reshape(-1)
        rows = grad.reshape(-1, dim)
        if ctx.scale_grad_by_freq:
            counts = xp.bincount(flat, minlength=num_embeddings)
            rows = rows / counts[flat][:, None].astype(rows.dtype)
        if ctx.padding_idx is not None:
            keep = flat != ctx.padding_idx
            flat, rows = flat[keep], rows[keep]
        grad_weight = xp.zeros(ctx.weight_shape, dtype=grad.dtype)
        scatter_add(xp, grad_weight, flat, rows)
        return grad_weight, None, None, None
