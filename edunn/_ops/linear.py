"""全连接层的两个算子：linear（$y = xW^T + b$）与 bilinear（$y_k = x_1^T W_k x_2 + b_k$）。

输入可以有任意多个前导维，计算时先展平成二维 ``(B, in)``，算完再还原。
"""

from ..autograd.function import ArrayFunction
from .pointwise import xp_of


class Linear(ArrayFunction):
    node_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias):
        out = (x @ weight.T).astype(x.dtype, copy=False)  # bfloat16 的矩阵乘法在 numpy 中返回 float32
        if bias is not None:
            out += bias
        ctx.save_for_backward(x, weight)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        grad_x = grad_weight = grad_bias = None
        grad_2d = grad.reshape(-1, weight.shape[0])  # (B, out)
        if ctx.needs_input_grad[0]:
            grad_x = grad @ weight
        if ctx.needs_input_grad[1]:
            grad_weight = grad_2d.T @ x.reshape(-1, weight.shape[1])
        if ctx.needs_input_grad[2]:
            grad_bias = grad_2d.sum(axis=0)
        return grad_x, grad_weight, grad_bias


class Bilinear(ArrayFunction):
    """``weight`` 的形状是 ``(out, in1, in2)``。"""

    node_name = "BilinearBackward0"

    @staticmethod
    def forward(ctx, x1, x2, weight, bias):
        k, i, j = weight.shape
        lead = x1.shape[:-1]
        a = x1.reshape(-1, i)  # (B, in1)
        b = x2.reshape(-1, j)  # (B, in2)
        # left[n, k, j] = sum_i a[n, i] * W[k, i, j]
        left = (a @ weight.transpose(1, 0, 2).reshape(i, k * j)).reshape(-1, k, j)
        out = (left * b[:, None, :]).sum(axis=-1)
        if bias is not None:
            out += bias
        ctx.save_for_backward(x1, x2, weight)
        ctx.left = left
        return out.reshape(lead + (k,))

    @staticmethod
    def backward(ctx, grad):
        x1, x2, weight = ctx.saved_tensors
        k, i, j = weight.shape
        a = x1.reshape(-1, i)
        b = x2.reshape(-1, j)
        g = grad.reshape(-1, k)  # (B, out)
        grad_x1 = grad_x2 = grad_weight = grad_bias = None

        if ctx.needs_input_grad[0]:
            # right[n, k, i] = sum_j W[k, i, j] * b[n, j]
            right = (b @ weight.transpose(2, 0, 1).reshape(j, k * i)).reshape(-1, k, i)
            grad_x1 = (g[:, :, None] * right).sum(axis=1).reshape(x1.shape)
        if ctx.needs_input_grad[1]:
            grad_x2 = (g[:, :, None] * ctx.left).sum(axis=1).reshape(x2.shape)
        if ctx.needs_input_grad[2]:
            outer = (g[:, :, None] * a[:, None, :]).reshape(-1, k * i)  # (B, out * in1)
            grad_weight = (outer.T @ b).reshape(k, i, j)
        if ctx.needs_input_grad[3]:
            grad_bias = g.sum(axis=0)
        return grad_x1, grad_x2, grad_weight, grad_bias

