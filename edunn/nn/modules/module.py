"""``Module``：状态（参数、缓冲区、子模块）加上计算（``forward``）。

登记全靠 ``__setattr__``：把 ``Parameter`` 赋给属性，它进入 ``_parameters``；把 ``Module``
赋给属性，它进入 ``_modules``；把 ``Buffer`` 赋给属性（或调用 ``register_buffer``），它进入
``_buffers``。其余的值照常存进实例的 ``__dict__``。读取时 ``__getattr__`` 再去这三个字典里找。
遍历（``named_modules``、``named_parameters``……）都从 ``_modules`` 递归出发，同一个对象只访问一次。

这里还没有钩子与 ``state_dict``/``load_state_dict``：前向/反向钩子将接在 ``_call_impl`` 上，
所有类型与设备转换（``to``、``double``、``cuda`` ……）都经过 ``_apply``。
"""

from ... import _backend
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ..parameter import Buffer, Parameter


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
    """子类必须覆盖的前向计算。调用模块实例（而不是直接调用 forward），以便将来运行钩子。"""
    raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')


def _parse_to(*args, **kwargs):
    """解析 ``Module.to`` 的参数，返回 (device, dtype)；两者都可能是 None。"""
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
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
    return device, dtype


class Module:
    """所有神经网络层与模型的基类。子类在 ``__init__`` 里先调用 ``super().__init__()``，再给属性赋值。"""

    training: bool
    call_super_init = False

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
        """模块被调用时真正执行的地方。前向/反向钩子将来在这里包住 ``forward``。"""
        return self.forward(*args, **kwargs)

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
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as child module '{name}' "
                    "(edunn.nn.Module or None expected)"
                )
            modules[name] = value
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
        device, dtype = _parse_to(*args, **kwargs)
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError(
                f"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype={dtype}"
            )

        def convert(t):
            return t.to(device, dtype if t.is_floating_point() else None)

        return self._apply(convert)

    def cuda(self, device=None):
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
