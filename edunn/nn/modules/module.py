"""``Module``：状态（参数、缓冲区、子模块）加上计算（``forward``）。

登记全靠 ``__setattr__``：把 ``Parameter`` 赋给属性，它进入 ``_parameters``；把 ``Module``
赋给属性，它进入 ``_modules``；把 ``Buffer`` 赋给属性（或调用 ``register_buffer``），它进入
``_buffers``。其余的值照常存进实例的 ``__dict__``。读取时 ``__getattr__`` 再去这三个字典里找。
遍历（``named_modules``、``named_parameters``……）都从 ``_modules`` 递归出发，同一个对象只访问一次。

钩子（hook）让使用者在不改 ``forward`` 的前提下观察或改写计算：前向钩子包在 ``_call_impl`` 里的
``forward`` 前后，反向钩子借助恒等节点挂进计算图（见 ``edunn.utils.hooks.BackwardHook``）。
``state_dict``/``load_state_dict`` 按名字导出、载入参数与持久缓冲区；与 torch 不同，载入失败时
模块保持原样。``to``、``float``、``cuda`` 等转换都经过 ``_apply``。
"""

import contextvars
import copy
import functools
import itertools
import warnings
import weakref
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

from ... import _backend
from ..._ops import memory_format as _layouts
from ..._tensor import Tensor
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...utils.hooks import BackwardHook, RemovableHandle, _unwrap_grads, _wrap_grads
from ..parameter import Buffer, Parameter

_EXTRA_STATE_KEY_SUFFIX = "_extra_state"


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """``load_state_dict`` 的返回值：缺少的键与多出的键；两者都为空时打印成一句话。"""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class _WrappedHook:
    """保存一个钩子；给了 module 时调用为 ``hook(module, ...)``。只弱引用 module，不让钩子延长它的寿命。"""

    def __init__(self, hook, module=None):
        self.hook = hook
        functools.update_wrapper(self, hook)
        self.with_module = module is not None
        if self.with_module:
            self.module = weakref.ref(module)

    def __call__(self, *args, **kwargs):
        if self.with_module:
            module = self.module()
            if module is None:
                raise RuntimeError("You are trying to call the hook of a dead Module!")
            return self.hook(module, *args, **kwargs)
        return self.hook(*args, **kwargs)

    def __getstate__(self):
        # 复制（deepcopy/pickle）模块时，钩子跟着指向模块的新副本
        state = {"hook": self.hook, "with_module": self.with_module}
        if self.with_module:
            state["module"] = self.module()
        return state

    def __setstate__(self, state):
        self.hook = state["hook"]
        self.with_module = state["with_module"]
        if self.with_module:
            if state["module"] is None:
                raise RuntimeError("You are trying to revive the hook of a dead Module!")
            self.module = weakref.ref(state["module"])


# ---------------------------------------------------------------------------
# 全局钩子：对所有模块生效，与 torch.nn.modules.module 中的同名函数相同，主要用于调试与性能分析。
# ---------------------------------------------------------------------------

_global_buffer_registration_hooks = OrderedDict()
_global_module_registration_hooks = OrderedDict()
_global_parameter_registration_hooks = OrderedDict()
_global_backward_pre_hooks = OrderedDict()
_global_backward_hooks = OrderedDict()
_global_is_full_backward_hook = None
_global_forward_pre_hooks = OrderedDict()
_global_forward_hooks = OrderedDict()
_global_forward_hooks_always_called = OrderedDict()
_global_forward_hooks_with_kwargs = OrderedDict()


def _has_any_global_hook():
    return bool(_global_backward_pre_hooks or _global_backward_hooks or _global_forward_pre_hooks
                or _global_forward_hooks or _global_forward_hooks_always_called
                or _global_forward_hooks_with_kwargs)


def _register_global(hooks, hook, extra_dict=None):
    handle = RemovableHandle(hooks, extra_dict=extra_dict)
    hooks[handle.id] = hook
    return handle


def register_module_buffer_registration_hook(hook):
    """每次登记缓冲区前调用 ``hook(module, name, buffer)``；返回值不为 None 时替换要登记的缓冲区。"""
    return _register_global(_global_buffer_registration_hooks, hook)


def register_module_module_registration_hook(hook):
    """每次登记子模块前调用 ``hook(module, name, submodule)``；返回值不为 None 时替换子模块。"""
    return _register_global(_global_module_registration_hooks, hook)


def register_module_parameter_registration_hook(hook):
    """每次登记参数前调用 ``hook(module, name, param)``；返回值不为 None 时替换参数。"""
    return _register_global(_global_parameter_registration_hooks, hook)


def register_module_forward_pre_hook(hook):
    """所有模块的前向 pre-hook，``hook(module, args)``；先于各模块自己的 pre-hook 运行。"""
    return _register_global(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    """所有模块的前向钩子，``hook(module, args, output)``（``with_kwargs=True`` 时多一个 kwargs）。

    先于各模块自己的前向钩子运行。``always_call=True`` 时即使 forward 抛出异常也会调用。
    """
    handle = _register_global(_global_forward_hooks, hook,
                              extra_dict=[_global_forward_hooks_always_called, _global_forward_hooks_with_kwargs])
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle


def register_module_backward_hook(hook):
    """旧式（非完整）的全局反向钩子，已被 ``register_module_full_backward_hook`` 取代。"""
    global _global_is_full_backward_hook
    if _global_is_full_backward_hook is True:
        raise RuntimeError("Cannot use both regular backward hooks and full backward hooks as a global "
                           "Module hook. Please use only one of them.")
    _global_is_full_backward_hook = False
    return _register_global(_global_backward_hooks, hook)


def register_module_full_backward_pre_hook(hook):
    """所有模块的反向 pre-hook，``hook(module, grad_output)``；先于各模块自己的反向 pre-hook 运行。"""
    return _register_global(_global_backward_pre_hooks, hook)


def register_module_full_backward_hook(hook):
    """所有模块的完整反向钩子，``hook(module, grad_input, grad_output)``；先于各模块自己的反向钩子运行。"""
    global _global_is_full_backward_hook
    if _global_is_full_backward_hook is False:
        raise RuntimeError("Cannot use both regular backward hooks and full backward hooks as a global "
                           "Module hook. Please use only one of them.")
    _global_is_full_backward_hook = True
    return _register_global(_global_backward_hooks, hook)


# load_state_dict 运行期间收集待执行的复制/赋值（见 Module.load_state_dict）；不在载入中时为 None
_pending_load = contextvars.ContextVar("edunn_pending_load", default=None)


def _typename(value):
    """错误信息里的类型名，规则同 ``torch.typename``：张量写成 ``edunn.FloatTensor``，内置类型不带模块名。"""
    if isinstance(value, Tensor):
        return value.type()
    module = getattr(value, "__module__", "") or ""
    if hasattr(value, "__qualname__"):
        qualname = value.__qualname__
    elif hasattr(value, "__name__"):
        qualname = value.__name__
    else:
        module = type(value).__module__ or ""
        qualname = type(value).__qualname__
    if module in ("", "builtins"):
        return qualname
    return f"{module}.{qualname}"


def _addindent(text, spaces):
    """把多行字符串除第一行外的每一行缩进 spaces 个空格；空行保持为空。"""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    first = lines.pop(0)
    rest = [" " * spaces + line if line.strip() else "" for line in lines]
    return first + "\n" + "\n".join(rest)


def _forward_unimplemented(self, *input):
    """子类必须覆盖的前向计算。调用模块实例（而不是直接调用 forward），钩子才会运行。"""
    raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')


def _run_module_registration_hooks(module, name, submodule):
    for hook in _global_module_registration_hooks.values():
        output = hook(module, name, submodule)
        if output is not None:
            submodule = output
    return submodule


def _parse_to(*args, **kwargs):
    """解析 ``Module.to`` 的参数，返回 (device, dtype, memory_format)；三者都可能是 None。"""
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    memory_format = _layouts.check_memory_format(kwargs.pop("memory_format", None))
    if kwargs:
        raise TypeError(f"to() received an invalid combination of arguments - got unexpected keyword "
                        f"argument '{next(iter(kwargs))}'")
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, _backend.dtype):
            dtype = arg
        elif isinstance(arg, bool):
            continue  # to(dtype, non_blocking) 的第二个位置参数
        elif isinstance(arg, (str, _backend.device, int)):
            device = arg
        elif arg is not None:
            raise TypeError(f"to() received an invalid combination of arguments - got {type(arg).__name__}")
    if device is not None:
        device = _backend.as_device(device)
    if dtype is not None:
        dtype = _backend.as_dtype(dtype)
    return device, dtype, memory_format


def _node_level_hook(hook):
    """把 ``hook(grad_input, grad_output)``（张量）包成计算图节点的钩子（引擎传的是数组）。"""

    def array_hook(grad_input_arrays, grad_output_arrays):
        result = hook(_wrap_grads(grad_input_arrays), _wrap_grads(grad_output_arrays))
        if result is None:
            return None
        if not isinstance(result, tuple):
            raise TypeError(f"expected tuple, but hook returned '{type(result).__name__}'")
        if len(result) != len(grad_input_arrays):
            name = getattr(hook, "__name__", repr(hook))
            raise RuntimeError(f"hook '{name}' has returned an incorrect number of values "
                               f"(got {len(result)}, but expected {len(grad_input_arrays)})")
        return _unwrap_grads(result, "backward hook result")

    return array_hook


class _LoadFailure(Exception):
    """复制某个参数时出错；消息是 torch 在 error_msgs 里写的那一行。"""


class _LoadAction:
    """``load_state_dict`` 检查通过后才执行的一步：复制（copy）、赋值（assign）或设置额外状态（extra）。"""

    def __init__(self, kind, module, name, key, param, value):
        self.kind, self.module, self.name, self.key = kind, module, name, key
        self.param, self.value = param, value

    def run(self):
        if self.kind == "extra":
            self.module.set_extra_state(self.value)
            return
        try:
            with no_grad():
                if self.kind == "copy":
                    self.param.copy_(self.value)
                    return
                value = self.value
                if isinstance(self.param, Parameter):
                    # assign=True 时换成 checkpoint 里的张量，但仍是 Parameter，requires_grad 跟随模块
                    if isinstance(value, Parameter):
                        value.requires_grad_(self.param.requires_grad)
                    else:
                        value = Parameter(value, requires_grad=self.param.requires_grad)
                setattr(self.module, self.name, value)
        except Exception as error:
            raise _LoadFailure(
                f'While copying the parameter named "{self.key}", whose dimensions in the model are '
                f"{self.param.size()} and whose dimensions in the checkpoint are {self.value.size()}, "
                f"an exception occurred : {error.args}."
            ) from error

    def snapshot(self):
        """记下这一步会改动的东西，返回一个把它们恢复原样的函数。"""
        module = self.module
        if self.kind == "copy":
            param, old = self.param, self.param._array.copy()

            def restore_values():
                param._array[...] = old
                param._bump_version()

            return restore_values
        if self.kind == "assign":
            old_state = (dict(module._parameters), dict(module._buffers), set(module._non_persistent_buffers_set),
                         module.__dict__.get(self.name, _MISSING))

            def restore_slots():
                parameters, buffers, non_persistent, attribute = old_state
                for store, saved in ((module._parameters, parameters), (module._buffers, buffers)):
                    store.clear()
                    store.update(saved)
                module._non_persistent_buffers_set.clear()
                module._non_persistent_buffers_set.update(non_persistent)
                if attribute is not _MISSING:
                    module.__dict__[self.name] = attribute

            return restore_slots
        if getattr(type(module), "get_extra_state", Module.get_extra_state) is Module.get_extra_state:
            return lambda: None
        old_extra = module.get_extra_state()
        try:
            old_extra = copy.deepcopy(old_extra)
        except Exception:  # 不能深复制的额外状态只好按引用保存
            pass
        return lambda: module.set_extra_state(old_extra)


_MISSING = object()


def _schedule_load(action, error_msgs):
    """在 load_state_dict 中先登记，等全部检查通过再执行；单独调用 _load_from_state_dict 时立即执行。"""
    pending = _pending_load.get()
    if pending is not None:
        pending.append(action)
        return
    try:
        action.run()
    except _LoadFailure as failure:
        error_msgs.append(str(failure))


def _check_device_usable(device):
    """目标是 CUDA 设备时先确认 cupy 与 GPU 可用：在改动任何参数之前就报错，模块保持原样。"""
    if device is not None and _backend.as_device(device).type == "cuda":
        _backend.get_array_module(_backend.as_device(device))


def _empty_like_layout(tensor, device):
    """与 tensor 形状、dtype、步长布局相同的全零张量，放在 device 上（``to_empty`` 用）。"""
    xp = _backend.get_array_module(device)
    strides = _layouts.target_strides(tensor._array, _layouts.preserve_format)
    out = _layouts.empty_strided(xp, tuple(tensor.shape), strides, tensor.dtype.numpy)
    out[...] = 0
    return Tensor._wrap(out, device)


class Module:
    """所有神经网络层与模型的基类。子类在 ``__init__`` 里先调用 ``super().__init__()``，再给属性赋值。"""

    training: bool
    call_super_init = False
    # state_dict 的 _metadata 记下的版本号；子类改变状态的格式时调高它，并在 _load_from_state_dict 里兼容旧版本
    _version = 1

    def __init__(self, *args, **kwargs):
        if not self.call_super_init and kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() got an unexpected keyword argument '{next(iter(kwargs))}'"
            )
        if not self.call_super_init and args:
            raise TypeError(
                f"{type(self).__name__}.__init__() takes 1 positional argument but {len(args) + 1} were given"
            )
        # 绕过 Module.__setattr__：此时三个字典还不存在，登记逻辑无从谈起
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_backward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "_is_full_backward_hook", None)
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks_with_kwargs", OrderedDict())
        object.__setattr__(self, "_forward_hooks_always_called", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks_with_kwargs", OrderedDict())
        object.__setattr__(self, "_state_dict_hooks", OrderedDict())
        object.__setattr__(self, "_state_dict_pre_hooks", OrderedDict())
        object.__setattr__(self, "_load_state_dict_pre_hooks", OrderedDict())
        object.__setattr__(self, "_load_state_dict_post_hooks", OrderedDict())
        object.__setattr__(self, "_modules", {})
        if self.call_super_init:
            super().__init__(*args, **kwargs)

    forward = _forward_unimplemented

    # ------------------------------------------------------------------
    # 调用
    # ------------------------------------------------------------------

    def __call__(self, *args, **kwargs):
        return self._call_impl(*args, **kwargs)

    def _call_impl(self, *args, **kwargs):
        """模块被调用时真正执行的地方：按顺序运行前向 pre-hook、forward、前向钩子，并装好反向钩子。

        顺序与 torch 相同：全局钩子先于模块自己的钩子；pre-hook 的返回值替换位置参数（不是元组时包成
        一元组），``with_kwargs`` 的 pre-hook 返回 ``(args, kwargs)``；前向钩子的返回值替换输出。
        forward 或钩子抛出异常时，仍会调用还没运行过的 ``always_call=True`` 的前向钩子，再把异常抛出。
        """
        if not (self._backward_hooks or self._backward_pre_hooks or self._forward_hooks or self._forward_pre_hooks
                or _global_backward_pre_hooks or _global_backward_hooks
                or _global_forward_hooks or _global_forward_pre_hooks):
            return self.forward(*args, **kwargs)

        result = None
        called_always_called_hooks = set()

        def inner():
            nonlocal result, args, kwargs

            full_backward_hooks, non_full_backward_hooks = [], []
            backward_pre_hooks = []
            if self._backward_pre_hooks or _global_backward_pre_hooks:
                backward_pre_hooks = self._get_backward_pre_hooks()
            if self._backward_hooks or _global_backward_hooks:
                full_backward_hooks, non_full_backward_hooks = self._get_backward_hooks()

            for hook_id, hook in (*_global_forward_pre_hooks.items(), *self._forward_pre_hooks.items()):
                if hook_id in self._forward_pre_hooks_with_kwargs:
                    args_kwargs_result = hook(self, args, kwargs)
                    if args_kwargs_result is not None:
                        if isinstance(args_kwargs_result, tuple) and len(args_kwargs_result) == 2:
                            args, kwargs = args_kwargs_result
                        else:
                            raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, "
                                               f"new_kwargs), but got {args_kwargs_result}.")
                else:
                    args_result = hook(self, args)
                    if args_result is not None:
                        args = args_result if isinstance(args_result, tuple) else (args_result,)

            backward_hook = None
            if full_backward_hooks or backward_pre_hooks:
                backward_hook = BackwardHook(self, full_backward_hooks, backward_pre_hooks)
                args = backward_hook.setup_input_hook(args)

            result = self.forward(*args, **kwargs)
            for hook_id, hook in (*_global_forward_hooks.items(), *self._forward_hooks.items()):
                if hook_id in self._forward_hooks_always_called or hook_id in _global_forward_hooks_always_called:
                    called_always_called_hooks.add(hook_id)
                if hook_id in self._forward_hooks_with_kwargs or hook_id in _global_forward_hooks_with_kwargs:
                    hook_result = hook(self, args, kwargs, result)
                else:
                    hook_result = hook(self, args, result)
                if hook_result is not None:
                    result = hook_result

            if backward_hook is not None:
                if not isinstance(result, (Tensor, tuple)):
                    warnings.warn("For backward hooks to be called, module output should be a Tensor or a "
                                  f"tuple of Tensors but received {type(result)}", stacklevel=2)
                result = backward_hook.setup_output_hook(result)

            if non_full_backward_hooks:
                self._attach_non_full_backward_hooks(non_full_backward_hooks, args, result)
            return result

        try:
            return inner()
        except Exception:
            # 还没运行的 always_call 钩子在这里补上；它们自己的异常只变成警告，原来的异常照常抛出
            for hook_id, hook in _global_forward_hooks.items():
                if hook_id in _global_forward_hooks_always_called and hook_id not in called_always_called_hooks:
                    try:
                        hook_result = hook(self, args, result)
                        if hook_result is not None:
                            result = hook_result
                    except Exception as error:
                        warnings.warn("global module forward hook with ``always_call=True`` raised an exception "
                                      f"that was silenced as another error was raised in forward: {error}",
                                      stacklevel=2)
            for hook_id, hook in self._forward_hooks.items():
                if hook_id in self._forward_hooks_always_called and hook_id not in called_always_called_hooks:
                    try:
                        if hook_id in self._forward_hooks_with_kwargs:
                            hook_result = hook(self, args, kwargs, result)
                        else:
                            hook_result = hook(self, args, result)
                        if hook_result is not None:
                            result = hook_result
                    except Exception as error:
                        warnings.warn("module forward hook with ``always_call=True`` raised an exception that "
                                      f"was silenced as another error was raised in forward: {error}",
                                      stacklevel=2)
            raise

    # ------------------------------------------------------------------
    # 登记
    # ------------------------------------------------------------------

    def register_buffer(self, name, tensor, persistent=True):
        """登记一个缓冲区。``persistent=False`` 的缓冲区不进入 ``state_dict``；``None`` 占位但不参与遍历。"""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"buffer name should be a string. Got {_typename(name)}")
        if "." in name:
            raise KeyError('buffer name can\'t contain "."')
        if name == "":
            raise KeyError('buffer name can\'t be empty string ""')
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{_typename(tensor)}' object to buffer '{name}' (edunn Tensor or None required)"
            )
        for hook in _global_buffer_registration_hooks.values():
            output = hook(self, name, tensor)
            if output is not None:
                tensor = output
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name, param):
        """登记一个参数；``param`` 必须是 ``Parameter`` 或 None。"""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"parameter name should be a string. Got {_typename(name)}")
        if "." in name:
            raise KeyError('parameter name can\'t contain "."')
        if name == "":
            raise KeyError('parameter name can\'t be empty string ""')
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is None:
            self._parameters[name] = None
            return
        if not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                "(edunn.nn.Parameter or None required)"
            )
        if param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be created "
                f"explicitly. To express '{name}' as a function of another Tensor, compute the value in "
                "the forward() method."
            )
        for hook in _global_parameter_registration_hooks.values():
            output = hook(self, name, param)
            if output is not None:
                param = output
        self._parameters[name] = param

    def add_module(self, name, module):
        """登记一个子模块，之后可用 ``self.<name>`` 访问。"""
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {_typename(name)}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        module = _run_module_registration_hooks(self, name, module)
        self._modules[name] = module

    def register_module(self, name, module):
        """``add_module`` 的别名。"""
        self.add_module(name, module)

    # ------------------------------------------------------------------
    # 属性的读、写、删
    # ------------------------------------------------------------------

    def __getattr__(self, name):
        # 只有常规查找失败时 Python 才会调用这里，所以 __dict__ 里的普通属性不受影响
        state = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in state and name in state[store]:
                return state[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        def remove_from(*stores):
            for store in stores:
                if name in store:
                    if isinstance(store, dict):
                        del store[name]
                    else:
                        store.discard(name)

        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            remove_from(self.__dict__, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as parameter '{name}' "
                    "(edunn.nn.Parameter or None expected)"
                )
            self.register_parameter(name, value)
            return

        modules = self.__dict__.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            remove_from(self.__dict__, self._parameters, self._buffers, self._non_persistent_buffers_set)
            modules[name] = _run_module_registration_hooks(self, name, value)
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as child module '{name}' "
                    "(edunn.nn.Module or None expected)"
                )
            modules[name] = _run_module_registration_hooks(self, name, value)
            return

        buffers = self.__dict__.get("_buffers")
        if isinstance(value, Buffer) or (buffers is not None and name in buffers):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as buffer '{name}' "
                    "(edunn.nn.Buffer, edunn.Tensor or None expected)"
                )
            if isinstance(value, Buffer):
                persistent = value.persistent
            else:
                persistent = name not in self._non_persistent_buffers_set
            self.register_buffer(name, value, persistent)
            return
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        keys = (dir(type(self)) + list(self.__dict__) + list(self._parameters) + list(self._modules)
                + list(self._buffers))
        # "0"、"1" 这类名字（Sequential 的子模块）不是合法的 Python 属性名
        return sorted(key for key in keys if not key[0].isdigit())

    # ------------------------------------------------------------------
    # 按点分路径取子模块、参数、缓冲区
    # ------------------------------------------------------------------

    def get_submodule(self, target):
        """按 ``"net_b.net_c.conv"`` 这样的路径取子模块；空字符串返回自己。"""
        if target == "":
            return self
        module = self
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(module._get_name() + " has no attribute `" + item + "`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")
        return module

    def set_submodule(self, target, module, strict=False):
        """把路径 target 处的子模块换成 module；``strict=True`` 时只允许替换已有的子模块。"""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        atoms = target.split(".")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        parent = self if len(atoms) == 1 else self.get_submodule(".".join(atoms[:-1]))
        if strict and not hasattr(parent, atoms[-1]):
            raise AttributeError(parent._get_name() + " has no attribute `" + atoms[-1] + "`")
        if hasattr(parent, atoms[-1]) and not isinstance(getattr(parent, atoms[-1]), Module):
            raise AttributeError("`" + atoms[-1] + "` is not an nn.Module")
        setattr(parent, atoms[-1], module)

    def get_parameter(self, target):
        """按路径取参数，例如 ``"net_b.linear.weight"``。"""
        module_path, _, param_name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, param_name):
            raise AttributeError(module._get_name() + " has no attribute `" + param_name + "`")
        param = getattr(module, param_name)
        if not isinstance(param, Parameter):
            raise AttributeError("`" + param_name + "` is not an nn.Parameter")
        return param

    def get_buffer(self, target):
        """按路径取缓冲区，例如 ``"bn.running_mean"``。"""
        module_path, _, buffer_name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, buffer_name):
            raise AttributeError(module._get_name() + " has no attribute `" + buffer_name + "`")
        buffer = getattr(module, buffer_name)
        if buffer_name not in module._buffers:
            raise AttributeError("`" + buffer_name + "` is not a buffer")
        return buffer

    # ------------------------------------------------------------------
    # 遍历
    # ------------------------------------------------------------------

    def _named_members(self, get_members, prefix="", recurse=True, remove_duplicate=True):
        """named_parameters / named_buffers 的共同实现：先序遍历模块，同一个张量只给出一次。"""
        memo = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for module_prefix, module in modules:
            for key, value in get_members(module):
                if value is None or value in memo:
                    continue
                if remove_duplicate:
                    memo.add(value)
                yield module_prefix + ("." if module_prefix else "") + key, value

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """依次给出 (带路径的名字, 参数)。绑定在多处的同一个参数默认只给出第一次出现的名字。"""
        yield from self._named_members(lambda module: module._parameters.items(), prefix=prefix,
                                       recurse=recurse, remove_duplicate=remove_duplicate)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members(lambda module: module._buffers.items(), prefix=prefix,
                                       recurse=recurse, remove_duplicate=remove_duplicate)

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_children(self):
        """直接子模块；同一个子模块登记在两个名字下时只给出第一个。"""
        memo = set()
        for name, module in self._modules.items():
            if module is not None and module not in memo:
                memo.add(module)
                yield name, module

    def modules(self, remove_duplicate=True):
        for _, module in self.named_modules(remove_duplicate=remove_duplicate):
            yield module

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """先序遍历：先给出自己，再按登记顺序递归每个子模块。memo 记下已给出的模块。"""
        if memo is None:
            memo = set()
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            submodule_prefix = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, submodule_prefix, remove_duplicate)

    def apply(self, fn):
        """后序地对每个子模块、最后对自己调用 ``fn(module)``；常用来初始化权重。返回自己。"""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------
    # 模式与梯度
    # ------------------------------------------------------------------

    def train(self, mode=True):
        """递归地设置 ``training``。只有 Dropout、BatchNorm 这类层的行为会随之改变。"""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        """等价于 ``train(False)``。它不关闭自动求导，那是 ``no_grad()`` 的事。"""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """就地设置所有参数的 ``requires_grad``，用来冻结或解冻一部分模型。"""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """清掉所有参数的梯度：默认设为 None，``set_to_none=False`` 时就地置零。"""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
                continue
            if param.grad.grad_fn is not None:
                param.grad.detach_()
            else:
                param.grad.requires_grad_(False)
            param.grad.zero_()

    # ------------------------------------------------------------------
    # 类型与设备转换
    # ------------------------------------------------------------------

    def _apply(self, fn, recurse=True):
        """对每个参数、梯度与缓冲区施加 fn（如 ``t.double()``），是 ``to``、``float`` 等方法的共同实现。

        参数保持同一个对象，只把数据换成 ``fn(param)`` 的结果（torch 的 ``param.data = ...`` 路径），
        所以优化器里已有的引用仍然有效；梯度同样就地换数据。缓冲区则直接替换成新张量。
        """
        if recurse:
            for module in self.children():
                module._apply(fn)

        for param in self._parameters.values():
            if param is None:
                continue
            with no_grad():
                param_applied = fn(param)
            param.data = param_applied

            grad = param.grad
            if grad is not None:
                with no_grad():
                    grad_applied = fn(grad)
                grad.data = grad_applied

        for key, buffer in self._buffers.items():
            if buffer is not None:
                self._buffers[key] = fn(buffer)
        return self

    def to(self, *args, **kwargs):
        """``to(device)``、``to(dtype)``、``to(device, dtype)``、``to(tensor)``：就地移动/转换参数与缓冲区。

        dtype 只作用于浮点张量；整数缓冲区（如 ``num_batches_tracked``）只跟着换设备。
        """
        device, dtype, memory_format = _parse_to(*args, **kwargs)
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError(
                f"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype={dtype}"
            )
        _check_device_usable(device)

        def convert(t):
            if memory_format is not None and t.dim() in (4, 5):
                return t.to(device, dtype if t.is_floating_point() else None, memory_format=memory_format)
            return t.to(device, dtype if t.is_floating_point() else None)

        return self._apply(convert)

    def cuda(self, device=None):
        """把参数与缓冲区搬到 GPU（``device`` 为序号或 None 表示 0 号）。没有 cupy 或 GPU 时报错且不改动模块。"""
        target = _backend.device("cuda", 0 if device is None else device) \
            if not isinstance(device, (str, _backend.device)) else _backend.as_device(device)
        _check_device_usable(target)
        return self._apply(lambda t: t.cuda(device))

    def cpu(self):
        return self._apply(lambda t: t.cpu())

    def type(self, dst_type):
        return self._apply(lambda t: t.type(dst_type))

    def float(self):
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def double(self):
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def half(self):
        return self._apply(lambda t: t.half() if t.is_floating_point() else t)

    def bfloat16(self):
        return self._apply(lambda t: t.bfloat16() if t.is_floating_point() else t)

    def to_empty(self, *, device, recurse=True):
        """把参数与缓冲区换成 device 上形状、dtype 相同的新张量，不复制数值（常用于先建结构、后载入权重）。

        限制：edunn 的 ``empty`` 填 0 而不是留下未初始化的内存，所以得到的值是 0；torch 的值未定义。
        """
        target = _backend.as_device(device)
        _check_device_usable(target)
        return self._apply(lambda t: _empty_like_layout(t, target), recurse=recurse)

    def share_memory(self):
        """对每个参数与缓冲区调用 ``share_memory_()``，返回自己。

        限制：torch 用它把 CPU 张量放进共享内存，供 ``torch.multiprocessing`` 的子进程读写；
        edunn 的张量是普通的 numpy/cupy 数组，``Tensor.share_memory_`` 什么也不做。
        """
        return self._apply(lambda t: t.share_memory_())

    # ------------------------------------------------------------------
    # 打印
    # ------------------------------------------------------------------

    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """写在 ``Name(...)`` 括号里的额外信息，子类覆盖它（如 ``in_features=2, out_features=3``）。"""
        return ""

    def __repr__(self):
        # 额外信息按行处理，与子模块一样各占一行；只有一行额外信息且没有子模块时写在同一行
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _addindent(repr(module), 2) for key, module in self._modules.items()]
        lines = extra_lines + child_lines

        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    # ------------------------------------------------------------------
    # 钩子
    # ------------------------------------------------------------------

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """登记前向 pre-hook，在每次 ``forward`` 之前调用。

        ``hook(module, args) -> None 或新的 args``：返回值替换位置参数，不是元组时包成一元组。
        ``with_kwargs=True`` 时为 ``hook(module, args, kwargs) -> None 或 (新 args, 新 kwargs)``。
        ``prepend=True`` 排在本模块已有 pre-hook 之前（全局 pre-hook 总是更早）。返回 ``RemovableHandle``。
        """
        handle = RemovableHandle(self._forward_pre_hooks, extra_dict=self._forward_pre_hooks_with_kwargs)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """登记前向钩子，在每次 ``forward`` 算出输出之后调用。

        ``hook(module, args, output) -> None 或新的 output``；``with_kwargs=True`` 时为
        ``hook(module, args, kwargs, output)``。``always_call=True`` 时 forward 抛出异常也会调用。
        返回 ``RemovableHandle``。
        """
        handle = RemovableHandle(self._forward_hooks,
                                 extra_dict=[self._forward_hooks_with_kwargs, self._forward_hooks_always_called])
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """登记反向 pre-hook：``hook(module, grad_output) -> None 或新的 grad_output``。

        模块输出的梯度算出后、流进模块内部之前调用；返回的元组长度必须与 grad_output 相同。
        非张量输出在 grad_output 中是 None。装了反向钩子的模块，forward 收到的是输入的视图。
        """
        handle = RemovableHandle(self._backward_pre_hooks)
        self._backward_pre_hooks[handle.id] = hook
        if prepend:
            self._backward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_backward_hook(self, hook):
        """旧式反向钩子，已被 ``register_full_backward_hook`` 取代。

        它挂在模块输出的 ``grad_fn`` 上，看到的是"最后一个运算"的梯度而不是整个模块的：
        模块内部有多个运算时 grad_input 并不对应模块的输入（torch 会发出 FutureWarning）。
        """
        if self._is_full_backward_hook is True:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks on a single "
                               "Module. Please use only one of them.")
        self._is_full_backward_hook = False
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        return handle

    def register_full_backward_hook(self, hook, prepend=False):
        """登记完整反向钩子：``hook(module, grad_input, grad_output) -> None 或新的 grad_input``。

        通常在对模块输入的梯度算好时调用；没有输入需要梯度时，在对输出的梯度算好时调用
        （grad_input 全为 None）；没有输出需要梯度时不调用。返回的 grad_input 替换原来的。
        非张量参数在 grad_input 中是 None，不需要梯度的张量输入得到全零张量（与 torch 相同）；
        关键字参数不出现在 grad_input 中。
        """
        if self._is_full_backward_hook is False:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks on a single "
                               "Module. Please use only one of them.")
        self._is_full_backward_hook = True
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        if prepend:
            self._backward_hooks.move_to_end(handle.id, last=False)
        return handle

    def _get_backward_hooks(self):
        """返回 (完整反向钩子列表, 旧式反向钩子列表)，全局钩子在前。"""
        full_backward_hooks, non_full_backward_hooks = [], []
        if _global_is_full_backward_hook is True:
            full_backward_hooks += _global_backward_hooks.values()
        if self._is_full_backward_hook is True:
            full_backward_hooks += self._backward_hooks.values()
        if _global_is_full_backward_hook is False:
            non_full_backward_hooks += _global_backward_hooks.values()
        if self._is_full_backward_hook is False:
            non_full_backward_hooks += self._backward_hooks.values()
        return full_backward_hooks, non_full_backward_hooks

    def _get_backward_pre_hooks(self):
        return [*_global_backward_pre_hooks.values(), *self._backward_pre_hooks.values()]

    def _attach_non_full_backward_hooks(self, hooks, args, result):
        """把旧式反向钩子挂到输出中第一个张量的 ``grad_fn`` 上。"""
        value = result
        while not isinstance(value, Tensor):
            if isinstance(value, dict):
                value = next(v for v in value.values() if isinstance(v, Tensor))
            else:
                value = value[0]
        grad_fn = value.grad_fn
        if grad_fn is None:
            return
        for hook in hooks:
            grad_fn.register_hook(_node_level_hook(_WrappedHook(hook, self)))
        self._maybe_warn_non_full_backward_hook(args, result, grad_fn)

    def _maybe_warn_non_full_backward_hook(self, inputs, result, grad_fn):
        """旧式反向钩子拿到的梯度不完整时发出与 torch 相同的 FutureWarning。"""
        if not isinstance(result, Tensor):
            if not (isinstance(result, tuple) and all(isinstance(r, Tensor) for r in result)):
                warnings.warn("Using non-full backward hooks on a Module that does not return a single Tensor "
                              "or a tuple of Tensors is deprecated and will be removed in future versions. This "
                              "hook will be missing some of the grad_output. Please use "
                              "register_full_backward_hook to get the documented behavior.",
                              FutureWarning, stacklevel=2)
                return
        else:
            result = (result,)
        if not isinstance(inputs, Tensor):
            if not (isinstance(inputs, tuple) and all(isinstance(i, Tensor) for i in inputs)):
                warnings.warn("Using non-full backward hooks on a Module that does not take as input a single "
                              "Tensor or a tuple of Tensors is deprecated and will be removed in future versions. "
                              "This hook will be missing some of the grad_input. Please use "
                              "register_full_backward_hook to get the documented behavior.",
                              FutureWarning, stacklevel=2)
                return
        else:
            inputs = (inputs,)

        out_grad_fn = {r.grad_fn for r in result if r.grad_fn is not None}
        if len(out_grad_fn) == 0 or (len(out_grad_fn) == 1 and grad_fn not in out_grad_fn):
            warnings.warn("Using a non-full backward hook when outputs are nested in python data structure is "
                          "deprecated and will be removed in future versions. This hook will be missing some "
                          "grad_output.", FutureWarning, stacklevel=2)
        elif len(out_grad_fn) > 1:
            warnings.warn("Using a non-full backward hook when outputs are generated by different autograd Nodes "
                          "is deprecated and will be removed in future versions. This hook will be missing some "
                          "grad_output. Please use register_full_backward_hook to get the documented behavior.",
                          FutureWarning, stacklevel=2)
        else:
            inputs_grad_fn = {i.grad_fn for i in inputs if i.grad_fn is not None}
            next_functions = {node for node, _ in grad_fn.next_functions}
            if inputs_grad_fn != next_functions:
                warnings.warn("Using a non-full backward hook when the forward contains multiple autograd Nodes "
                              "is deprecated and will be removed in future versions. This hook will be missing "
                              "some grad_input. Please use register_full_backward_hook to get the documented "
                              "behavior.", FutureWarning, stacklevel=2)

    def _register_state_dict_hook(self, hook):
        """旧接口：``hook(module, state_dict, prefix, local_metadata)``，根模块上的返回值会替换 state_dict。"""
        if getattr(hook, "_from_public_api", False):
            raise RuntimeError("Cannot register the same function as the state dict post hook that was "
                               "previously registered via register_state_dict_post_hook")
        handle = RemovableHandle(self._state_dict_hooks)
        self._state_dict_hooks[handle.id] = hook
        return handle

    def register_state_dict_post_hook(self, hook):
        """登记 ``state_dict`` 的后置钩子 ``hook(module, state_dict, prefix, local_metadata) -> None``。

        钩子只能就地修改 state_dict；返回值不是 None 时 ``state_dict()`` 抛出 RuntimeError。
        """
        # 在钩子对象上做标记，state_dict() 据此区分它与旧接口登记的钩子（后者的返回值会被采用）
        hook._from_public_api = True
        handle = RemovableHandle(self._state_dict_hooks)
        self._state_dict_hooks[handle.id] = hook
        return handle

    def register_state_dict_pre_hook(self, hook):
        """登记 ``state_dict`` 的前置钩子 ``hook(module, prefix, keep_vars) -> None``。"""
        handle = RemovableHandle(self._state_dict_pre_hooks)
        self._state_dict_pre_hooks[handle.id] = hook
        return handle

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        """旧接口：与 ``register_load_state_dict_pre_hook`` 相同，但 ``with_module=False`` 时钩子不接收模块。"""
        handle = RemovableHandle(self._load_state_dict_pre_hooks)
        self._load_state_dict_pre_hooks[handle.id] = _WrappedHook(hook, self if with_module else None)
        return handle

    def register_load_state_dict_pre_hook(self, hook):
        """登记载入前的钩子 ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs) -> None``，在本模块从 state_dict 取值之前调用，可以就地改写 state_dict。"""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def register_load_state_dict_post_hook(self, hook):
        """登记载入后的钩子 ``hook(module, incompatible_keys) -> None``。

        ``incompatible_keys`` 的 ``missing_keys``/``unexpected_keys`` 可以就地修改，``strict=True`` 的检查
        以修改后的结果为准。钩子返回值不是 None 时抛出 AssertionError。
        """
        handle = RemovableHandle(self._load_state_dict_post_hooks)
        self._load_state_dict_post_hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------------
    # state_dict
    # ------------------------------------------------------------------

    def get_extra_state(self):
        """返回要放进 state_dict 的额外状态（键为 ``<前缀>_extra_state``）。子类与 set_extra_state 成对覆盖。"""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never be called: "
                           "state_dict() only calls it on classes that override it.")

    def set_extra_state(self, state):
        """载入 ``get_extra_state`` 保存的额外状态。子类与 get_extra_state 成对覆盖。"""
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never be called: "
                           "load_state_dict() only calls it on classes that override it.")

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """把本模块（不含子模块）的参数、持久缓冲区和额外状态写进 destination。"""
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        if getattr(type(self), "get_extra_state", Module.get_extra_state) is not Module.get_extra_state:
            destination[prefix + _EXTRA_STATE_KEY_SUFFIX] = self.get_extra_state()

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """返回模块的全部状态：键是带路径的名字，值是参数与持久缓冲区（默认 ``detach()`` 过，与模块共享内存）。

        结果是 ``OrderedDict``，顺序是先序遍历（先自己的参数、缓冲区，再逐个子模块）；值为 None 的参数与
        缓冲区、``persistent=False`` 的缓冲区不在其中。``_metadata`` 属性按模块路径记下 ``{"version": ...}``。
        共享的参数在每个出现的名字下各有一项。``keep_vars=True`` 时给出参数对象本身。
        """
        if args:
            warnings.warn("Positional args are being deprecated, use kwargs instead. Refer to the docstring of "
                          "edunn.nn.Module.state_dict for details.", FutureWarning, stacklevel=2)
            if destination is None:
                destination = args[0]
            if len(args) > 1 and prefix == "":
                prefix = args[1]
            if len(args) > 2 and keep_vars is False:
                keep_vars = args[2]

        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()

        local_metadata = dict(version=self._version)
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata

        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            hook_result = hook(self, destination, prefix, local_metadata)
            if not getattr(hook, "_from_public_api", False):
                if hook_result is not None:
                    destination = hook_result
            elif hook_result is not None:
                raise RuntimeError("state_dict post-hook must return None")
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        """从 state_dict 取出本模块（不含子模块）的参数、持久缓冲区与额外状态。

        子类可以覆盖它来兼容旧版本的状态（``local_metadata.get("version")``），然后调用 super()。
        检查（键、类型、形状）立即进行，问题记进 missing_keys/unexpected_keys/error_msgs；在
        ``load_state_dict`` 里调用时，复制与赋值先登记下来，等整棵模块树都检查通过后才执行。
        """
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)

        persistent_buffers = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set}
        local_state = {k: v for k, v in itertools.chain(self._parameters.items(), persistent_buffers.items())
                       if v is not None}
        assign = local_metadata.get("assign_to_params_buffers", False)

        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            input_param = state_dict[key]
            if not isinstance(input_param, Tensor):
                error_msgs.append(f'While copying the parameter named "{key}", expected edunn.Tensor or '
                                  f"Tensor-like object from checkpoint but received {type(input_param)}")
                continue
            # 兼容很早的 torch 检查点：标量曾被存成形状为 [1] 的张量
            if param.dim() == 0 and input_param.dim() == 1 and input_param.shape[0] == 1:
                input_param = input_param[0]
            if input_param.shape != param.shape:
                error_msgs.append(f"size mismatch for {key}: copying a param with shape {input_param.shape} from "
                                  f"checkpoint, the shape in current model is {param.shape}.")
                continue
            _schedule_load(_LoadAction("assign" if assign else "copy", self, name, key, param, input_param),
                           error_msgs)

        extra_state_key = prefix + _EXTRA_STATE_KEY_SUFFIX
        if getattr(type(self), "set_extra_state", Module.set_extra_state) is not Module.set_extra_state:
            if extra_state_key in state_dict:
                _schedule_load(_LoadAction("extra", self, _EXTRA_STATE_KEY_SUFFIX, extra_state_key, None,
                                           state_dict[extra_state_key]), error_msgs)
            elif strict:
                missing_keys.append(extra_state_key)
        elif strict and extra_state_key in state_dict:
            unexpected_keys.append(extra_state_key)

        if strict:
            for key in state_dict:
                if key.startswith(prefix) and key != extra_state_key:
                    input_name = key[len(prefix):].split(".", 1)
                    if len(input_name) > 1:  # 带点的名字属于子模块
                        if input_name[0] not in self._modules:
                            unexpected_keys.append(key)
                    elif input_name[0] not in local_state:
                        unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """把 state_dict 中的参数与持久缓冲区载入本模块及其子模块，返回 ``(missing_keys, unexpected_keys)``。

        ``strict=True`` 时键必须与 ``state_dict()`` 的键完全一致，否则抛出 RuntimeError 并列出所有问题。
        形状不符、值不是张量总是报错。默认就地 ``copy_``，参数对象不变（优化器的引用依然有效）；
        ``assign=True`` 时直接换成 state_dict 里的张量（dtype、设备随之改变），参数仍是 Parameter，
        ``requires_grad`` 保持模块原来的设置。

        与 torch 不同：出错时模块保持原样。没有载入后钩子时，整棵模块树检查完才开始复制；有载入后钩子时，
        为了让钩子像在 torch 里一样看到已载入的值，边检查边复制并记下旧值，出错时恢复。限制：无法撤销
        用户覆盖的 ``_load_from_state_dict`` 自己做的修改，也无法撤销 ``set_extra_state`` 在未覆盖
        ``get_extra_state`` 的类上的效果。
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")

        missing_keys, unexpected_keys, error_msgs = [], [], []
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:
            state_dict._metadata = metadata

        # 有载入后钩子时，torch 在每个模块的子树载入完之后调用它们，钩子看到的是已载入的值；为了与此
        # 一致，这种情况下边检查边复制，并记下旧值，出错时恢复。没有这类钩子时先检查完整棵树，再复制。
        has_post_hooks = any(module._load_state_dict_post_hooks for module in self.modules())
        pending, undo = [], []
        incompatible_keys = _IncompatibleKeys(missing_keys, unexpected_keys)

        def run_pending(keep_undo):
            for action in pending:
                if keep_undo:
                    undo.append(action.snapshot())
                try:
                    action.run()
                except _LoadFailure as failure:
                    error_msgs.append(str(failure))
            pending.clear()

        def load(module, local_state_dict, prefix=""):
            # 复制一份：torch 会把 assign 标记写进调用者的 _metadata，edunn 不改动传入的对象
            local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
            if assign:
                local_metadata["assign_to_params_buffers"] = assign
            module._load_from_state_dict(local_state_dict, prefix, local_metadata, True, missing_keys,
                                         unexpected_keys, error_msgs)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    child_state_dict = {k: v for k, v in local_state_dict.items() if k.startswith(child_prefix)}
                    load(child, child_state_dict, child_prefix)
            if has_post_hooks:
                run_pending(keep_undo=True)
                for hook in module._load_state_dict_post_hooks.values():
                    if hook(module, incompatible_keys) is not None:
                        raise AssertionError(
                            "Hooks registered with ``register_load_state_dict_post_hook`` are not expected to "
                            "return new values, if incompatible_keys need to be modified, it should be done "
                            "inplace.")

        def fail():
            if strict:
                if unexpected_keys:
                    error_msgs.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                        ", ".join(f'"{k}"' for k in unexpected_keys)))
                if missing_keys:
                    error_msgs.insert(0, "Missing key(s) in state_dict: {}. ".format(
                        ", ".join(f'"{k}"' for k in missing_keys)))
            return RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(error_msgs)))

        def failed():
            return bool(error_msgs) or (strict and bool(missing_keys or unexpected_keys))

        token = _pending_load.set(pending)
        try:
            load(self, state_dict)
            if not has_post_hooks:
                if failed():
                    raise fail()  # 什么都还没改
                run_pending(keep_undo=any(action.kind == "extra" for action in pending))
            if failed():
                raise fail()
        except BaseException:
            for restore in reversed(undo):
                restore()
            raise
        finally:
            _pending_load.reset(token)
        return _IncompatibleKeys(missing_keys, unexpected_keys)
