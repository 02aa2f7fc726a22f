"""矩阵乘法。``matmul`` 的规则与 torch 相同：一维输入先补一维，批次维按广播处理。"""

from ..autograd.function import ArrayFunction
from .pointwise import sum_to, xp_of


class Matmul(ArrayFunction):
    node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        xp = xp_of(grad)
        # 一维输入按 torch 的规则看成 (1, n) 或 (n, 1)，算完再去掉补上的维
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = xp.expand_dims(g, -2)
        if b.ndim == 1:
            g = xp.expand_dims(g, -1)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = g @ xp.swapaxes(b2, -1, -2)
            grad_a = sum_to(grad_a, a2.shape)
            if a.ndim == 1:
                grad_a = grad_a.reshape(a.shape)
        if ctx.needs_input_grad[1]:
            grad_b = xp.swapaxes(a2, -1, -2) @ g
            grad_b = sum_to(grad_b, b2.shape)
            if b.ndim == 1:
                grad_b = grad_b.reshape(b.shape)
        return grad_a, grad_b
