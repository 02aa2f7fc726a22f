"""钩子句柄：注册钩子的函数都返回 ``RemovableHandle``，调用 ``remove()`` 就把钩子摘掉。

用法与 ``torch.utils.hooks.RemovableHandle`` 相同：钩子存在一个以 ``handle.id`` 为键的字典里。
字典能被弱引用时（``OrderedDict`` 可以），句柄只弱引用它，句柄活得比钩子的主人久也不妨碍回收；
普通 ``dict`` 不能被弱引用，句柄就直接持有它。

``BackwardHook`` 实现 ``nn.Module`` 的完整反向钩子，对应 ``torch.utils.hooks.BackwardHook``。
"""

import warnings
import weakref


def _reference(hooks_dict):
    """返回一个无参函数，调用它得到 hooks_dict（已被回收时得到 None）。"""
    try:
        return weakref.ref(hooks_dict)
    except TypeError:
        return lambda: hooks_dict


class RemovableHandle:
    """一个已注册钩子的句柄：``remove()`` 之后钩子不再被调用；也可以用作上下文管理器。

    ``extra_dict`` 是同一个钩子还登记了的其他字典（一个或多个，键同样是 ``id``），
    ``remove()`` 时一并删除，例如 Module 的钩子另记的"是否带 kwargs"表。
    """

    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = _reference(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1

        if extra_dict is None:
            extra_dicts = ()
        elif isinstance(extra_dict, dict):
            extra_dicts = (extra_dict,)
        else:
            extra_dicts = tuple(extra_dict)
        self.extra_dict_ref = tuple(_reference(d) for d in extra_dicts)

    def remove(self):
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            hooks = ref()
            if hooks is not None:
                hooks.pop(self.id, None)

    def __getstate__(self):
        extras = tuple(ref() for ref in self.extra_dict_ref)
        return (self.hooks_dict_ref(), self.id, extras)

    def __setstate__(self, state):
        hooks_dict, self.id, extras = state
        self.hooks_dict_ref = _reference(hooks_dict) if hooks_dict is not None else (lambda: None)
        self.extra_dict_ref = tuple(_reference(d) for d in extras if d is not None)
        # 反序列化出的 id 不能与以后新注册的钩子撞号。
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


def _wrap_grads(arrays):
    """引擎传给节点钩子的是数组；模块钩子要的是张量（缺失的梯度保持 None）。"""
    from .._tensor import Tensor

    return tuple(None if a is None else Tensor._wrap(a) for a in arrays)


def _unwrap_grads(grads, what):
    from .._tensor import Tensor

    arrays = []
    for position, grad in enumerate(grads):
        if grad is not None and not isinstance(grad, Tensor):
            raise TypeError(f"{what} must contain Tensors or None, but got {type(grad).__name__} at index {position}")
        arrays.append(None if grad is None else grad._array)
    return arrays


class BackwardHook:
    """实现模块的完整反向钩子（``register_full_backward_hook``/``register_full_backward_pre_hook``）。

    前向时在模块的输入和输出外各包一层恒等运算 ``BackwardHookFunction``。反向时梯度先到达
    输出一侧的节点：记下 grad_output，运行 pre-hook（可替换 grad_output）。再到达输入一侧的节点：
    这时 grad_input 已经算好，运行钩子 ``hook(module, grad_input, grad_output)``（可替换 grad_input）。
    非张量参数在 grad_input/grad_output 里的位置是 None。
    """

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.module = module

        self.grad_outputs = None
        self.n_outputs = -1
        self.output_tensors_index = None
        self.n_inputs = -1
        self.input_tensors_index = None

    def _pack_with_none(self, indices, values, size):
        packed = [None] * size
        for index, value in zip(indices, values, strict=True):
            packed[index] = value
        return tuple(packed)

    def _unpack_none(self, indices, values):
        return tuple(values[index] for index in indices)

    def _set_user_hook(self, grad_fn):
        def hook(grad_input_arrays, _):
            if self.grad_outputs is None:
                # 梯度没经过模块输出就到达了输入（例如只对输入的一部分求导），没有 grad_output 可给
                return None
            grad_input = self._pack_with_none(self.input_tensors_index, _wrap_grads(grad_input_arrays),
                                              self.n_inputs)
            for user_hook in self.user_hooks:
                result = user_hook(self.module, grad_input, self.grad_outputs)
                if result is None:
                    continue
                if len(result) != len(grad_input):
                    raise RuntimeError("Backward hook returned an invalid number of grad_input, "
                                       f"got {len(result)}, but expected {len(grad_input)}")
                grad_input = result
            self.grad_outputs = None
            return _unwrap_grads(self._unpack_none(self.input_tensors_index, grad_input), "grad_input")

        grad_fn.register_hook(hook)

    def _apply_on_tensors(self, register, args):
        """给 args 中的张量接上恒等节点并调用 register(节点)；没有张量需要梯度时原样返回。"""
        from .._tensor import Tensor
        from ..autograd.grad_mode import is_grad_enabled
        from ..nn.modules._functions import BackwardHookFunction

        indices = [i for i, arg in enumerate(args) if isinstance(arg, Tensor)]
        tensors = [args[i] for i in indices]
        if not (any(t.requires_grad for t in tensors) and is_grad_enabled()):
            return args, None

        new_tensors = BackwardHookFunction.apply(*tensors)
        for original, new in zip(tensors, new_tensors):
            new._make_view_of(original)  # 与原张量共享版本计数器：就地修改原张量后，反向仍能发现
        grad_fns = [t.grad_fn for t in new_tensors
                    if t.grad_fn is not None and t.grad_fn.name() == "BackwardHookFunctionBackward"]
        register(grad_fns[0])

        values = list(args)
        for index, value in zip(indices, new_tensors):
            values[index] = value
        wrapped = tuple(values) if type(args) is tuple else type(args)(*values)
        return wrapped, indices

    def setup_input_hook(self, args):
        result, indices = self._apply_on_tensors(self._set_user_hook, args)
        self.n_inputs = len(args)
        self.input_tensors_index = indices
        return result

    def setup_output_hook(self, args):
        def register(grad_fn):
            def hook(_, grad_output_arrays):
                self.grad_outputs = self._pack_with_none(self.output_tensors_index,
                                                         _wrap_grads(grad_output_arrays), self.n_outputs)
                expected = len(self.grad_outputs)
                for user_pre_hook in self.user_pre_hooks:
                    result = user_pre_hook(self.module, self.grad_outputs)
                    if result is None:
                        continue
                    if len(result) != expected:
                        raise RuntimeError("Backward pre hook returned an invalid number of grad_output, "
                                           f"got {len(result)}, but expected {expected}")
                    self.grad_outputs = result
                local_grad_outputs = self.grad_outputs

                if self.input_tensors_index is None:
                    # 没有输入需要梯度：输入一侧的节点不存在，钩子只能在这里、以全 None 的 grad_input 调用
                    warnings.warn("Full backward hook is firing when gradients are computed with respect to "
                                  "module outputs since no inputs require gradients. See the docstring of "
                                  "edunn.nn.Module.register_full_backward_hook for more details.",
                                  stacklevel=5)
                    grad_inputs = self._pack_with_none([], [], self.n_inputs)
                    for user_hook in self.user_hooks:
                        result = user_hook(self.module, grad_inputs, self.grad_outputs)
                        if result is not None and not (isinstance(result, tuple)
                                                       and all(item is None for item in result)):
                            raise RuntimeError("Backward hook for Modules where no input requires gradient "
                                               "should always return None or None for all gradients.")
                    self.grad_outputs = None

                if local_grad_outputs is not None:
                    return _unwrap_grads(tuple(local_grad_outputs[i] for i in self.output_tensors_index),
                                         "grad_output")
                return None

            grad_fn.register_hook(hook)

        is_tuple = isinstance(args, tuple)
        if not is_tuple:
            args = (args,)
        result, indices = self._apply_on_tensors(register, args)
        self.n_outputs = len(args)
        self.output_tensors_index = indices
        return result if is_tuple else result[0]
