"""``nn.Module`` 内部用到的自定义 autograd 运算。"""

from ...autograd.function import Function


class BackwardHookFunction(Function):
    """恒等运算：把模块的输入（或输出）原样传过去，只为在反向图里留下一个节点。

    模块的完整反向钩子挂在这个节点上：梯度流过输出一侧的节点时记下 grad_output，
    流过输入一侧的节点时就得到了 grad_input。不需要梯度的张量标成不可导，原样通过。
    """

    node_name = "BackwardHookFunctionBackward"

    @staticmethod
    def forward(ctx, *tensors):
        ctx.mark_non_differentiable(*[t for t, needed in zip(tensors, ctx.needs_input_grad) if not needed])
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        # 不需要梯度的输入也原样返回（引擎已把缺失的梯度补成 0）：torch 的钩子在这些位置看到的是全零张量
        return grads
