"""反向传播引擎：按拓扑序走一遍计算图，把梯度从输出送到叶子。"""

from collections import deque

from .function import AccumulateGrad, Function


def _zeros_for(meta):
    from .._backend import get_array_module

    shape, dtype, device = meta
    return get_array_module(device).zeros(shape, dtype=dtype.numpy)


def _count_dependencies(roots):
    """每个节点被多少条边指向；只有所有下游梯度都到齐，节点才能执行。"""
    dependencies = {}
    # 多个输出可能来自同一个节点（split、unbind），每个节点只能数一次
    stack = list(dict.fromkeys(node for node in roots if node is not None))
    seen = set(stack)
    while stack:
        node = stack.pop()
        for next_node, _ in node.next_functions:
            if next_node is None:
                continue
            dependencies[next_node] = dependencies.get(next_node, 0) + 1
            if next_node not in seen:
                seen.add(next_node)
                stack.append(next_node)
    return dependencies


def _call_node(node, grad_outputs, retain_graph):
    for nr, hooks in node._tensor_pre_hooks.items():
        for hook in list(hooks.values()):
            replaced = hook(grad_outputs[nr])
            if replaced is not None:
                grad_outputs[nr] = replaced
    for hook in list(node._pre_hooks.values()):
        replaced = hook(tuple(grad_outputs))
        if replaced is not None:
            grad_outputs = list(replaced)

    if isinstance(node, AccumulateGrad):
        node.apply(grad_outputs)
        grad_inputs = []
    else:
        filled = [g if g is not None or meta is None else _zeros_for(meta)
                  for g, meta in zip(grad_outputs, node._output_meta)]
        grad_inputs = node.apply_backward(filled)
        if not retain_graph:
            node._saved = None
            node._freed = True

    for hook in list(node._hooks.values()):
        replaced = hook(tuple(grad_inputs), tuple(grad_outputs))
        if replaced is not None:
            grad_inputs = list(replaced)
    return grad_inputs


def run_backward(roots, root_grads, retain_graph=False, capture=None):
    """从 ``roots``（(节点, 输出序号) 列表）出发执行反向传播。

    ``capture`` 用于 ``autograd.grad``：一个 {(节点, 输出序号): None} 字典，引擎把到达这些位置的
    梯度写进去，并且不改动叶子的 ``.grad``。
    """
    buffers = {}

    def deliver(node, nr, grad):
        slot = buffers.setdefault(node, [None] * max(1, len(node._output_meta)))
        if grad is None:
            return
        slot[nr] = grad if slot[nr] is None else slot[nr] + grad

    for (node, nr), grad in zip(roots, root_grads):
        deliver(node, nr, grad)

    dependencies = _count_dependencies([node for node, _ in roots])
    ready = deque(node for node in dict.fromkeys(n for n, _ in roots) if dependencies.get(node, 0) == 0)

    while ready:
        node = ready.popleft()
        grad_outputs = buffers.pop(node, [None] * max(1, len(node._output_meta)))

        if capture is not None:
            for nr, grad in enumerate(grad_outputs):
                if (node, nr) in capture and grad is not None:
                    captured = capture[(node, nr)]
                    capture[(node, nr)] = grad if captured is None else captured + grad
            if isinstance(node, AccumulateGrad):
                continue

        if all(g is None for g in grad_outputs):
            grad_inputs = [None] * len(node.next_functions)
        else:
            grad_inputs = _call_node(node, list(grad_outputs), retain_graph)

        for (next_node, nr), grad in zip(node.next_functions, grad_inputs):
            if next_node is None:
                continue
            deliver(next_node, nr, grad)
            dependencies[next_node] -= 1
            if dependencies[next_node] == 0:
                ready.append(next_node)


__all__ = ["run_backward", "Function"]
