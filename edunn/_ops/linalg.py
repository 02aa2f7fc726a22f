"""矩阵乘法。``matmul`` 的规则与 torch 相同：一维输入先补一维，批次维按广播处理。"""

import math

import numpy as np

from ..autograd.function import ArrayFunction
from .pointwise import sum_to, xp_of


def check_matmul_shapes(shape_a, shape_b):
    """内维不一致时抛出 torch 在同样情形下的报错：它按 dot、mv、mm 或 bmm 中实际调用的那一个来措辞。"""
    k_a = shape_a[-1]
    k_b = shape_b[-2] if len(shape_b) > 1 else shape_b[0]
    if k_a == k_b:
        return
    ranks = (len(shape_a), len(shape_b))
    if ranks == (1, 1):
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{k_a}] and src [{k_b}] to have the same number of "
            f"elements, but got {k_a} and {k_b} elements respectively"
        )
    if ranks[0] >= 2 and ranks[1] <= 2:
        # 批次维被折叠进行数：(..., n, k) 当作 (batch * n, k) 的矩阵
        rows = math.prod(shape_a[:-1])
        if ranks[1] == 1:
            raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{k_a}), vec ({k_b})")
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k_a} and {k_b}x{shape_b[-1]})")
    if ranks == (1, 2):
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied (1x{k_a} and {k_b}x{shape_b[-1]})")
    batch = math.prod(np.broadcast_shapes(shape_a[:-2], shape_b[:-2]))
    raise RuntimeError(
        f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {k_a}] but got: "
        f"[{batch}, {k_b}]."
    )


def _matmul_node_name(shape_a, shape_b):
    """torch 把 matmul 拆成 dot、mv、mm 或"把批次维折叠进行数后的 mm"，图里留下的是最后一步的节点名。"""
    ranks = (len(shape_a), len(shape_b))
    simple = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (1, 2): "SqueezeBackward4", (2, 2): "MmBackward0"}
    if ranks in simple:
        return simple[ranks]
    # 左边实际是一个矩阵、右边带批次维时，torch 算的是转置后的乘积，最后再转置回来
    left_is_matrix = ranks[0] == 2 or (ranks == (3, 3) and shape_a[0] == 1 and shape_b[0] != 1)
    if left_is_matrix and ranks[1] >= 3:
        return "TransposeBackward0" if shape_a[-2] == 1 or shape_b[-1] == 1 else "CloneBackward0"
    return "UnsafeViewBackward0"


class Matmul(ArrayFunction):
    node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.node_name = _matmul_node_name(a.shape, b.shape)
        ctx.save_for_backward(a, b)
        out = a @ b
        # numpy 对 bfloat16（ml_dtypes）做矩阵乘法时返回 float32；torch 的结果保持输入的 dtype
        return out if out.dtype == a.dtype else out.astype(a.dtype)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        xp = xp_of(grad)
        # 一维输入按 torch 的规则看成 (1, n) 或 (n, 1)，算完再去掉补上的维
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad
        if b.ndim == 1:
            g = xp.expand_dims(g, -1)
        if a.ndim == 1:
            g = xp.expand_dims(g, -2)
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
