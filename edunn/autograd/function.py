"""计算图的节点与 ``Function``。

每次可求导的运算都会创建一个节点（Node），挂在输出张量的 ``grad_fn`` 上。节点记住：
反向传播要用的中间值（``save_for_backward``），以及通往输入的边 ``next_functions``。
节点本身也充当 ``ctx``，这与 torch 相同。
"""

import re

from .._coo import COOArray
from .grad_mode import is_grad_enabled, no_grad

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


class Node:
    """计算图中的一个反向节点。``next_functions`` 是 ``(节点, 输出序号)`` 的元组，与 torch 相同。"""

    def __init__(self):
        self.next_functions = ()
        self._saved = None
        self._freed = False
        self._output_meta = []  # 每个输出的 (shape, dtype, device)，缺失的梯度按它补零
        self._tensor_pre_hooks = {}  # 输出序号 -> {id: hook}，来自 Tensor.register_hook
        self._pre_hooks = {}
        self._hooks = {}
        self.metadata = {}

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"

    def register_hook(self, hook):
        """``hook(grad_inputs, grad_outputs)`` 在节点算完后调用，返回值可替换 grad_inputs。"""
        # 在函数里导入：edunn.utils 包初始化时会导入 Tensor，而 Tensor 依赖本模块。
        from ..utils.hooks import RemovableHandle

        handle = RemovableHandle(self._hooks)
        self._hooks[handle.id] = hook
        return handle

    def register_prehook(self, hook):
        """``hook(grad_outputs)`` 在节点计算前调用，返回值可替换 grad_outputs。"""
        from ..utils.hooks import RemovableHandle

        handle = RemovableHandle(self._pre_hooks)
        self._pre_hooks[handle.id] = hook
        return handle

    def _add_tensor_pre_hook(self, output_nr, hook):
        from ..utils.hooks import RemovableHandle

        hooks = self._tensor_pre_hooks.setdefault(output_nr, {})
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def apply(self, grad_outputs):
        raise NotImplementedError


class AccumulateGrad(Node):
    """叶子张量的终点：把梯度累加进 ``tensor.grad``。"""

    def __init__(self, variable):
        super().__init__()
        self.variable = variable
        self._post_hooks = {}

    def apply(self, grad_outputs):
        from .._coo import COOArray
        from .._tensor import Tensor

        (grad,) = grad_outputs
        leaf = self.variable
        if grad is None:
            return ()
        old = leaf.grad
        if old is None:
            # 复制一份：同一个梯度数组可能同时流向多个叶子（例如 a + b 的反向）。
            leaf.grad = Tensor._wrap(grad.astype(leaf.dtype.numpy, copy=True), leaf.device)
        elif old.is_sparse and isinstance(grad, COOArray):
            # 稀疏 + 稀疏：torch 做 ``grad += new``，.grad 还是同一个稀疏张量。
            old.add_(Tensor._wrap(grad, leaf.device))
        elif old.is_sparse:
            # 稀疏 + 稠密：torch 换成一个新的稠密张量。
            leaf.grad = Tensor._wrap(old._array.astype(grad.dtype, copy=False) + grad, leaf.device)
        elif isinstance(grad, COOArray):
            grad.add_into(old._array)
            old._bump_version()
        else:
            old._array += grad.astype(old._array.dtype, copy=False)
            old._bump_version()
        for hook in list(self._post_hooks.values()):
            hook(leaf)
        return ()


class Function(Node):
    """自定义可求导运算的基类，用法与 ``torch.autograd.Function`` 相同::

        class Exp(Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx, grad):
                (y,) = ctx.saved_tensors
                return grad * y

        y = Exp.apply(x)

    ``forward`` 拿到的是张量（在 no_grad 下运行），``backward`` 拿到并返回梯度张量。
    edunn 内部的算子继承 ``ArrayFunction``，前向与反向直接处理数组。
    """

    _array_level = False

    def __init__(self):
        super().__init__()
        self.needs_input_grad = ()
        self._non_differentiable = set()
        self._input_slots = []  # (参数位置, 下一个节点, 输出序号, 输入的 numpy dtype)

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom autograd.Function to use it with backward mode AD.")

    def name(self):
        # 算子可在 forward 里设 ctx.node_name，按参数给出 torch 对应的名字（如 SumBackward0/1）
        return getattr(self, "node_name", type(self).__name__ + "Backward")

    # -- ctx 的接口 -------------------------------------------------------

    def save_for_backward(self, *values):
        self._saved = values

    def mark_non_differentiable(self, *outputs):
        self._non_differentiable.update(id(o) for o in outputs)

    def mark_dirty(self, *tensors):
        """edunn 的就地运算在 Tensor 层处理，这里只为兼容 torch 的写法。"""

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        if self._saved is None:
            return ()
        for tensor, version, producer in self._saved_versions:
            if tensor._version != version:
                raise RuntimeError(_modified_message(tensor, version, producer))
        return self._saved

    # -- 建图 -------------------------------------------------------------

    @classmethod
    def apply(cls, *args, **kwargs):
        from .._tensor import Tensor

        tensors = [a for a in args if isinstance(a, Tensor)]
        if not tensors:
            raise TypeError(f"{cls.__name__}.apply expected at least one Tensor argument")
        device = tensors[0].device
        for t in tensors[1:]:
            if t.device != device:
                raise RuntimeError(
                    "Expected all tensors to be on the same device, but found at least two devices, "
                    f"{device} and {t.device}!"
                )

        record = is_grad_enabled() and any(t.requires_grad for t in tensors)
        ctx = cls()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad and record for a in args)

        if cls._array_level:
            inputs = [a._array if isinstance(a, Tensor) else a for a in args]
            raw = cls.forward(ctx, *inputs, **kwargs)
        else:
            with no_grad():
                inputs = [a.detach() if isinstance(a, Tensor) else a for a in args]
                raw = cls.forward(ctx, *inputs, **kwargs)

        is_tuple = isinstance(raw, tuple)
        outputs_raw = raw if is_tuple else (raw,)
        outputs = []
        for value in outputs_raw:
            if value is None or (not cls._array_level and not isinstance(value, Tensor)):
                outputs.append(value)
                continue
            array = value if cls._array_level else value._array
            out = Tensor._wrap(array)  # 设备从数组本身读出：换设备的运算输出在另一台设备上
            outputs.append(out)

        if record:
            ctx._connect(args, outputs, outputs_raw)
        else:
            ctx._saved = None

        return tuple(outputs) if is_tuple else outputs[0]

    def _connect(self, args, outputs, outputs_raw):
        from .._tensor import Tensor

        slots = []
        for position, a in enumerate(args):
            if isinstance(a, Tensor) and a.requires_grad:
                slots.append((position, a._gradient_edge(), a.dtype.numpy))
            elif isinstance(a, Tensor):
                slots.append((position, (None, 0), a.dtype.numpy))
        self._input_slots = [(pos, node, nr, dt) for pos, (node, nr), dt in slots]
        self.next_functions = tuple((node, nr) for _, node, nr, _ in self._input_slots)

        for nr, (out, raw) in enumerate(zip(outputs, outputs_raw)):
            if out is None:
                self._output_meta.append(None)
                continue
            self._output_meta.append((out.shape, out.dtype, out.device))
            if id(raw) in self._non_differentiable or not out.dtype.is_floating_point:
                continue
            out.grad_fn = self
            out._output_nr = nr
            out._requires_grad = True

        # 保存中间值时记下它们所属张量的版本号，反向时核对，以发现被就地修改的情况。
        self._saved_versions = []
        if self._saved:
            candidates = list(zip(args, [a._array if isinstance(a, Tensor) else None for a in args]))
            candidates += [(o, o._array if o is not None else None) for o in outputs]
            saved = []
            for value in self._saved:
                owner = value if isinstance(value, Tensor) else None
                if owner is None:
                    for tensor, array in candidates:
                        if isinstance(tensor, Tensor) and array is value:
                            owner = tensor
                            break
                if owner is not None:
                    # 也记下保存时产生它的节点：之后的就地运算会换掉 grad_fn，报错要说原来的那个
                    self._saved_versions.append((owner, owner._version, (owner.grad_fn, owner._output_nr)))
                saved.append(value)
            self._saved = tuple(saved)

    def apply_backward(self, grad_outputs):
        """引擎调用：把输出的梯度变成每个输入的梯度，按 ``_input_slots`` 对齐。"""
        from .._tensor import Tensor

        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        # NOTE: 稀疏梯度（例如 Embedding(sparse=True) 的权重不是叶子时）在这里变成稠密数组再往回传；
        # 数值相同，但叶子最后拿到的是稠密梯度，而 torch 的部分反向公式能保持稀疏。
        grad_outputs = [g.to_dense() if isinstance(g, COOArray) else g for g in grad_outputs]
        if self._array_level:
            grads = type(self).backward(self, *grad_outputs)
        else:
            device = next(m[2] for m in self._output_meta if m is not None)
            wrapped = [None if g is None else Tensor._wrap(g, device) for g in grad_outputs]
            with no_grad():
                grads = type(self).backward(self, *wrapped)
        if not isinstance(grads, tuple):
            grads = (grads,)
        result = []
        for position, node, _, input_dtype in self._input_slots:
            g = grads[position] if position < len(grads) else None
            if isinstance(g, Tensor):
                g = g._array
            if g is not None and node is not None and g.dtype != input_dtype:
                # 反向公式里的 Python 数值或布尔掩码可能提升精度；梯度总是回到输入的 dtype。
                g = g.astype(input_dtype)
            result.append(g)
        return result


class _ForwardOnlyContext:
    """不记录梯度时交给 ``forward`` 的 ctx：只接收属性，保存与标记都不做任何事。"""

    def __init__(self, input_count):
        # forward 可以据此跳过只有反向才用得到的工作（例如卷积保留展开后的列）
        self.needs_input_grad = (False,) * input_count

    def save_for_backward(self, *values):
        pass

    def mark_non_differentiable(self, *outputs):
        pass

    def mark_dirty(self, *tensors):
        pass


class ArrayFunction(Function):
    """edunn 内部算子的基类：``forward``/``backward`` 直接处理数组（numpy 或 cupy）。

    ``ctx.save_for_backward`` 保存数组；如果保存的是某个输入或输出张量的数组，
    引擎会记下该张量的版本号，以便发现反向前的就地修改。
    """

    _array_level = True

    @classmethod
    def apply(cls, *args, **kwargs):
        from .._tensor import Tensor

        # 不记录梯度时（例如优化器的 step）不建节点，省下建图的开销；设备检查照旧。
        tensors = [a for a in args if isinstance(a, Tensor)]
        if tensors and is_grad_enabled() and any(t._requires_grad for t in tensors):
            return super().apply(*args, **kwargs)
        if not tensors:
            raise TypeError(f"{cls.__name__}.apply expected at least one Tensor argument")
        device = tensors[0]._device
        for t in tensors[1:]:
            if t._device != device:
                raise RuntimeError(
                    "Expected all tensors to be on the same device, but found at least two devices, "
                    f"{device} and {t._device}!"
                )

        inputs = [a._array if isinstance(a, Tensor) else a for a in args]
        raw = cls.forward(_ForwardOnlyContext(len(args)), *inputs, **kwargs)
        if isinstance(raw, tuple):
            return tuple(None if value is None else Tensor._wrap(value) for value in raw)
        return Tensor._wrap(raw)


def _modified_message(tensor, expected_version, producer):
    from .._backend import torch_type_name

    shape = list(tensor.shape)
    where = ""
    node, output_nr = producer
    if node is not None:
        # torch 在这里写运算名而不是节点名：ExpBackward0 写作 Exp
        operation = re.sub(r"Backward\d*$", "", node.name())
        where = f", which is output {output_nr} of {operation},"
    type_name = torch_type_name(tensor.dtype).replace("torch.", "edunn.")
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{type_name} {shape}]{where} is at version "
        f"{tensor._version}; expected version {expected_version} instead."
    )
