"""``Parameter`` 与 ``Buffer``：被赋给模块属性时会自动登记的两种张量。

- ``Parameter`` 是 ``Tensor`` 的子类，默认 ``requires_grad=True``；模块的 ``parameters()`` 只收集它。
- ``Buffer`` 标记"属于模块状态、但不参与训练"的张量（如 BatchNorm 的 ``running_mean``）。
  与 torch 2.13 一样，``Buffer(t)`` 返回的是普通 ``Tensor``，只是带上了 ``persistent`` 标记，
  ``isinstance(x, Buffer)`` 靠这个标记判断。
"""

from .._tensor import Tensor


class Parameter(Tensor):
    """模块参数：与 ``data`` 共享数组和版本计数器的叶子张量。

    对参数做运算得到的是普通 ``Tensor``（``Tensor._wrap`` 总是创建 ``Tensor``），这与 torch 相同。
    即使在 ``no_grad()`` 里创建，``requires_grad`` 也按参数取值，默认 True。
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from .._creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter data must be a Tensor, but got {type(data).__name__}")
        out = object.__new__(cls)
        out._init_from(data._array, data._device)
        # 与 detach() 一样共享版本计数器：对 data 的就地修改也算作对参数的修改
        out._version_counter = data._version_counter
        out.requires_grad = requires_grad
        return out

    def __init__(self, data=None, requires_grad=True):
        pass  # 构造全部在 __new__ 里完成；这里只是挡住 Tensor.__init__

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        # 与 torch 一样：复制数值和 requires_grad，不复制 .grad
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        return _rebuild_parameter, (self.data, self.requires_grad)


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class _BufferMeta(type):
    def __instancecheck__(cls, instance):
        return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """把张量标记成缓冲区（buffer）：赋给模块属性时等价于 ``register_buffer(name, t, persistent)``。

    返回 ``data.detach()``，即与 data 共享数组的普通 ``Tensor``，附带 ``persistent`` 与 ``_is_buffer``。
    """

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            from .._creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer data must be a Tensor, but got {type(data).__name__}")
        out = data.detach()
        out._base = None  # 缓冲区是独立的叶子，不是 data 的视图
        out.requires_grad_(data.requires_grad)
        out.persistent = persistent
        out._is_buffer = True
        return out


__all__ = ["Buffer", "Parameter"]
