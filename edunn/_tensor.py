"""``edunn.Tensor``：一个数组，加上自动求导需要的几样东西。

- ``_array``：真正的数据，numpy 或 cupy 数组；
- ``grad_fn``：产生它的反向节点（叶子张量为 None），``_output_nr`` 是它在该节点输出中的序号；
- ``grad``：反向传播累加到叶子上的梯度；
- ``_version``：就地修改的次数。视图与原张量共享同一个计数器，反向时据此发现"保存的值被改过"。
"""

import copy
import numbers
import warnings

import numpy as np

from . import _backend
from ._backend import can_cast, result_type
from ._coo import COOArray
from ._layout import strided
from ._ops import linalg, pointwise, reduction, shape
from ._ops import memory_format as layouts
from ._tensor_str import tensor_repr
from .autograd.function import AccumulateGrad, ArrayFunction
from .autograd.grad_mode import is_grad_enabled, no_grad


class Size(tuple):
    """张量的形状，是一个元组；打印为 ``edunn.Size([2, 3])``。"""

    def __repr__(self):
        return f"edunn.Size({list(self)})"

    def numel(self):
        return int(np.prod(self, dtype=np.int64)) if self else 1


def _type_label(d):
    return d._torch_name if d._torch_name != "Bool" else "Bool"


def _broadcast_shapes(shape_a, shape_b):
    ndim = max(len(shape_a), len(shape_b))
    out = []
    for i in range(1, ndim + 1):
        a = shape_a[-i] if i <= len(shape_a) else 1
        b = shape_b[-i] if i <= len(shape_b) else 1
        if a != b and a != 1 and b != 1:
            raise RuntimeError(
                f"The size of tensor a ({a}) must match the size of tensor b ({b}) "
                f"at non-singleton dimension {ndim - i}"
            )
        out.append(max(a, b) if a != 0 and b != 0 else 0)
    return tuple(reversed(out))


_PLAIN_NUMBERS = (float, int, bool)


def _is_plain_number(value):
    """Python 内建的 float/int/bool（就地运算快速路径直接交给 ufunc 的数值）。"""
    return type(value) in _PLAIN_NUMBERS


def _is_scalar(value):
    return isinstance(value, numbers.Number) and not isinstance(value, np.ndarray)


class Tensor:
    __slots__ = ("_array", "_device", "_requires_grad", "grad_fn", "_output_nr", "_grad",
                 "_base", "_version_counter", "_accumulate_node", "_retains_grad", "__weakref__",
                 "__dict__")

    # numpy 标量或数组在左边时（np.float64(2) * t），让 numpy 把运算交回 Tensor 的反向运算方法
    __array_ufunc__ = None

    # ------------------------------------------------------------------
    # 构造
    # ------------------------------------------------------------------

    def __init__(self, data=None, *, dtype=None, device=None, requires_grad=False):
        from ._creation import tensor as make_tensor

        made = make_tensor([] if data is None else data, dtype=dtype or _backend.get_default_dtype(),
                           device=device, requires_grad=requires_grad)
        self._init_from(made._array, made._device)
        self.requires_grad = requires_grad

    def _init_from(self, array, device):
        self._array = array
        self._device = device
        self._requires_grad = False
        self.grad_fn = None
        self._output_nr = 0
        self._grad = None
        self._base = None
        self._version_counter = [0]
        self._accumulate_node = None
        self._retains_grad = False

    @classmethod
    def _wrap(cls, array, device=None):
        """把一个数组包成张量（不复制）；稀疏的 ``COOArray`` 包成 ``SparseTensor``。"""
        if isinstance(array, COOArray):
            from ._sparse import SparseTensor

            return SparseTensor._from_coo(array, device)
        out = object.__new__(Tensor)
        if isinstance(array, np.generic) or not hasattr(array, "shape"):
            array = np.asarray(array)  # numpy 的全规约返回标量，统一成零维数组
        if device is None:
            device = _backend.array_device(array)
        _backend.dtype_of_array(array)  # 不支持的 dtype 在这里就报错
        out._init_from(array, device)
        return out

    def _make_view_of(self, base):
        """标记为 base 的视图：共享版本计数器。"""
        self._base = base._base if base._base is not None else base
        self._version_counter = base._version_counter
        return self

    # ------------------------------------------------------------------
    # 基本属性
    # ------------------------------------------------------------------

    is_sparse = False  # 稀疏 COO 张量（``SparseTensor``）里为 True

    @property
    def layout(self):
        return strided

    @property
    def shape(self):
        return Size(self._array.shape)

    def size(self, dim=None):
        if dim is None:
            return self.shape
        return self._array.shape[self._wrap_dim(dim)]

    def dim(self):
        return self._array.ndim

    @property
    def ndim(self):
        return self._array.ndim

    def numel(self):
        return int(self._array.size)

    nelement = numel

    @property
    def dtype(self):
        return _backend.dtype_of_array(self._array)

    @property
    def device(self):
        return self._device

    @property
    def is_cuda(self):
        return self._device.type == "cuda"

    @property
    def _xp(self):
        return _backend.get_array_module(self._device)

    def element_size(self):
        return self._array.itemsize

    @property
    def itemsize(self):
        return self._array.itemsize

    @property
    def nbytes(self):
        return int(self._array.nbytes)

    def stride(self, dim=None):
        strides = tuple(s // self._array.itemsize for s in self._array.strides)
        return strides if dim is None else strides[self._wrap_dim(dim)]

    def is_contiguous(self, memory_format=None):
        """步长是否符合给定的内存格式（默认行主序）；``edunn.channels_last`` 只对 4 维张量可能为 True。"""
        return layouts.is_contiguous_as(self._array, layouts.check_memory_format(memory_format))

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def data_ptr(self):
        return self._array.__array_interface__["data"][0] if self._device.type == "cpu" else self._array.data.ptr

    @property
    def _version(self):
        return self._version_counter[0]

    def _bump_version(self):
        self._version_counter[0] += 1

    def _wrap_dim(self, dim, ndim=None):
        ndim = self._array.ndim if ndim is None else ndim
        rank = max(ndim, 1)
        if not -rank <= dim < rank:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {dim})"
            )
        return dim % rank

    # ------------------------------------------------------------------
    # 自动求导相关属性
    # ------------------------------------------------------------------

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if value and not self.dtype.is_floating_point:
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients, got {self.dtype}"
            )
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def grad(self):
        if self.grad_fn is not None and not self._retains_grad:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
                "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
                "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor.",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor of size "
                    f"'{list(self.shape)}'. Please ensure that the gradient and the tensor are the same size"
                )
            if value.dtype is not self.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{value.dtype}' to a tensor with dtype "
                    f"'{self.dtype}'. The gradient must match the tensor's dtype"
                )
            if value.device != self.device:
                raise RuntimeError(
                    f"assigned grad has data located on a different device: expected {self.device}, got {value.device}"
                )
        self._grad = value

    @property
    def retains_grad(self):
        return self._retains_grad

    @property
    def data(self):
        """与自己共享数据、但不参与求导的张量（版本计数器不共享，这与 torch 相同）。"""
        return Tensor._wrap(self._array, self._device)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._array = value._array
        self._device = value._device

    def _gradient_edge(self):
        """反向传播时梯度要送往的 (节点, 输出序号)。叶子张量的节点是 AccumulateGrad。"""
        if self.grad_fn is not None:
            return self.grad_fn, self._output_nr
        if self._accumulate_node is None:
            self._accumulate_node = AccumulateGrad(self)
        return self._accumulate_node, 0

    def detach(self):
        out = Tensor._wrap(self._array, self._device)
        return out._make_view_of(self)

    def detach_(self):
        if self._base is not None and self._base.requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._output_nr = 0
        self._requires_grad = False
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        from .autograd import backward

        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    def register_hook(self, hook):
        """``hook(grad) -> 新的 grad 或 None``，在这个张量的梯度算出后、继续传播前调用。"""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        device = self._device

        def array_hook(grad_array):
            result = hook(Tensor._wrap(grad_array, device))
            return None if result is None else result._array

        node, nr = self._gradient_edge()
        return node._add_tensor_pre_hook(nr, array_hook)

    def register_post_accumulate_grad_hook(self, hook):
        """``hook(tensor)`` 在梯度累加进叶子的 ``.grad`` 之后调用。"""
        if not self.is_leaf:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from .utils.hooks import RemovableHandle

        node, _ = self._gradient_edge()
        handle = RemovableHandle(node._post_hooks)
        node._post_hooks[handle.id] = hook
        return handle

    def retain_grad(self):
        """让非叶子张量在反向传播后也保留 ``.grad``。"""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.is_leaf or self._retains_grad:
            return
        self._retains_grad = True
        import weakref

        ref = weakref.ref(self)
        device = self._device

        def keep(grad_array):
            owner = ref()
            if owner is not None:
                if owner._grad is None:
                    owner._grad = Tensor._wrap(grad_array.copy(), device)
                else:
                    owner._grad = Tensor._wrap(owner._grad._array + grad_array, device)
            return None

        self.grad_fn._add_tensor_pre_hook(self._output_nr, keep)

    # ------------------------------------------------------------------
    # 转换
    # ------------------------------------------------------------------

    def item(self):
        if self._array.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._array.size} elements cannot be converted to Scalar"
            )
        value = self._array.reshape(()).item() if self._device.type == "cpu" else self._array.reshape(()).get().item()
        if self.dtype in (_backend.float16, _backend.bfloat16):
            value = float(value)
        return value

    def tolist(self):
        values = _backend.to_numpy(self._array)
        if self.dtype in (_backend.float16, _backend.bfloat16):
            values = values.astype(np.float64)
        return values.tolist()

    def numpy(self, *, force=False):
        if self.requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        if self._device.type != "cpu":
            if not force:
                raise TypeError(
                    f"can't convert {self._device} device type tensor to numpy. "
                    "Use Tensor.cpu() to copy the tensor to host memory first."
                )
            return _backend.to_numpy(self._array)
        return self._array

    def __array__(self, dtype=None, copy=None):
        values = self.numpy() if not self.requires_grad else self._array
        return values if dtype is None else values.astype(dtype)

    def to(self, *args, **kwargs):
        """``to(dtype)``、``to(device)``、``to(device, dtype)``、``to(other)``；什么都不变时返回自己。"""
        dtype = kwargs.pop("dtype", None)
        dev = kwargs.pop("device", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        layout = layouts.check_memory_format(kwargs.pop("memory_format", None))
        if kwargs:
            raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
        for a in args:
            if isinstance(a, Tensor):
                dtype, dev = a.dtype, a.device
            elif isinstance(a, _backend.dtype):
                dtype = a
            elif isinstance(a, (str, _backend.device, int)) and not isinstance(a, bool):
                dev = a
            elif a is None:
                continue
            else:
                dtype = _backend.as_dtype(a)
        target_dtype = self.dtype if dtype is None else _backend.as_dtype(dtype)
        target_device = self._device if dev is None else _backend.as_device(dev)
        if target_device.type == "cuda":
            _backend.get_array_module(target_device)  # 没有 cupy 或 GPU 时在这里给出清楚的错误
        if layout is layouts.preserve_format:
            layout = None
        if layout is not None:
            layouts.check_rank(self._array, layout)
        # 与 torch 相同：要求的格式与从步长推断出的格式一致时才不复制
        relayout = layout is not None and layouts.suggest_memory_format(self._array) is not layout
        if target_dtype is self.dtype and target_device == self._device and not copy and not relayout:
            return self
        out = self
        if target_device != self._device:
            out = _ToDevice.apply(out, target_device)
        if target_dtype is not out.dtype:
            out = pointwise.Cast.apply(out, target_dtype.numpy)
        if relayout:
            out = layouts.ToMemoryFormat.apply(out, layout)
        elif out is self and copy:
            out = layouts.CloneAs.apply(self, layouts.preserve_format)
        return out

    def cpu(self):
        return self.to("cpu")

    def to_sparse(self, sparse_dim=None):
        """稀疏 COO 副本：前 ``sparse_dim`` 维（默认全部）上不全为零的位置成为坐标。"""
        from ._sparse import to_sparse

        return to_sparse(self, sparse_dim)

    def sparse_mask(self, mask):
        """取自己在稀疏张量 ``mask`` 的坐标上的值，组成与 mask 同坐标的稀疏张量。"""
        from ._sparse import sparse_mask

        return sparse_mask(self, mask)

    def cuda(self, device=None):
        return self.to(_backend.device("cuda", 0 if device is None else device)
                       if not isinstance(device, (str, _backend.device)) else device)

    def type(self, dtype=None):
        """不带参数时返回类型名（``edunn.FloatTensor``）；带参数时转换成 dtype 或类型名所指的类型。"""
        if dtype is None:
            # torch 把 GPU 张量的类型名写成 torch.cuda.FloatTensor，错误信息里会用到
            prefix = "edunn.cuda." if self._device.type == "cuda" else "edunn."
            return _backend.torch_type_name(self.dtype).replace("torch.", prefix)
        if isinstance(dtype, str):
            # 类型名决定 dtype；带 ".cuda." 的名字（edunn.cuda.FloatTensor）同时把张量搬到 GPU，与 torch 相同
            names = {}
            for d in _backend.all_dtypes:
                short = _backend.torch_type_name(d).split(".")[-1]
                for library in ("edunn", "torch"):
                    names[f"{library}.{short}"] = (d, None)
                    names[f"{library}.cuda.{short}"] = (d, "cuda")
            if dtype not in names:
                raise ValueError(f"invalid type: '{dtype}'")
            dtype, device = names[dtype]
            if device is not None:
                return self.to(device, dtype)
        return self.to(_backend.as_dtype(dtype))

    def float(self):
        return self.to(_backend.float32)

    def double(self):
        return self.to(_backend.float64)

    def half(self):
        return self.to(_backend.float16)

    def bfloat16(self):
        return self.to(_backend.bfloat16)

    def long(self):
        return self.to(_backend.int64)

    def int(self):
        return self.to(_backend.int32)

    def bool(self):
        return self.to(_backend.bool_)

    def type_as(self, other):
        return self.to(other.dtype)

    def clone(self, memory_format=None):
        """复制一份；默认 ``preserve_format``：稠密的输入保持原来的步长，否则得到行主序的结果。"""
        layout = layouts.check_memory_format(memory_format) or layouts.preserve_format
        layouts.check_rank(self._array, layout)
        return layouts.CloneAs.apply(self, layout)

    def contiguous(self, memory_format=None):
        """符合给定内存格式（默认行主序）时返回自己，否则复制成该格式。"""
        layout = layouts.check_memory_format(memory_format) or layouts.contiguous_format
        if self.is_contiguous(layout):
            return self
        if layout is layouts.preserve_format:
            raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
        layouts.check_rank(self._array, layout)
        return layouts.CloneAs.apply(self, layout)

    def share_memory_(self):
        """返回自己。限制：numpy/cupy 数组不能放进进程间共享内存，edunn 的这个方法什么也不做。"""
        return self

    def is_shared(self):
        """edunn 的张量从不在进程间共享内存（见 ``share_memory_``），总是返回 False。"""
        return False

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        from ._creation import tensor

        return tensor(data, dtype=dtype or self.dtype, device=device or self._device, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        from ._creation import zeros

        return zeros(*size, dtype=dtype or self.dtype, device=device or self._device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        from ._creation import ones

        return ones(*size, dtype=dtype or self.dtype, device=device or self._device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        from ._creation import full

        return full(size, fill_value, dtype=dtype or self.dtype, device=device or self._device,
                    requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)

    # ------------------------------------------------------------------
    # 逐元素运算
    # ------------------------------------------------------------------

    def _binary(self, other, function, reverse=False, float_result=False, **kwargs):
        """两元运算的共同准备：类型提升、设备与形状检查，然后交给 function。"""
        if not isinstance(other, Tensor) and not _is_scalar(other):
            return NotImplemented
        if isinstance(other, Tensor) and other.is_sparse:
            raise NotImplementedError(
                f"edunn supports only dense + sparse and dense - sparse between a dense and a sparse tensor, "
                f"not {function.__name__}; call to_dense() on the sparse tensor first"
            )
        dtype = result_type(self, other)
        if float_result and not dtype.is_floating_point:
            dtype = _backend.get_default_dtype()
        a, b = (other, self) if reverse else (self, other)
        if isinstance(a, Tensor) and isinstance(b, Tensor):
            if a._device != b._device:
                raise RuntimeError(
                    "Expected all tensors to be on the same device, but found at least two devices, "
                    f"{a._device} and {b._device}!"
                )
            _broadcast_shapes(a.shape, b.shape)
        return function.apply(_cast_operand(a, dtype, self._device), _cast_operand(b, dtype, self._device), **kwargs)

    def add(self, other, alpha=1):
        if isinstance(other, Tensor) and other.is_sparse:
            return other._dense_plus(self, alpha)
        self._check_alpha(other, alpha)
        return self._binary(other, pointwise.Add, alpha=alpha)

    def sub(self, other, alpha=1):
        if isinstance(other, Tensor) and other.is_sparse:
            return other._dense_plus(self, -alpha)
        self._check_not_bool("Subtraction, the `-` operator,", other)
        self._check_alpha(other, alpha)
        return self._binary(other, pointwise.Sub, alpha=alpha)

    def _check_alpha(self, other, alpha):
        # torch 不让浮点 alpha 悄悄截断成整数
        if isinstance(alpha, float) and (isinstance(other, Tensor) or _is_scalar(other)) \
                and not result_type(self, other).is_floating_point:
            raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")

    def mul(self, other):
        return self._binary(other, pointwise.Mul)

    def div(self, other):
        return self._binary(other, pointwise.Div, float_result=True)

    def pow(self, exponent):
        return self._binary(exponent, pointwise.PowTensor if isinstance(exponent, Tensor) else pointwise.Pow)

    def _check_not_bool(self, what, other=None):
        if self.dtype is _backend.bool_ and (other is None or getattr(other, "dtype", None) is _backend.bool_
                                              or isinstance(other, bool)):
            raise RuntimeError(
                f"{what} with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead."
                if other is not None else
                f"{what} on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or "
                "`logical_not()` operator instead."
            )

    __add__ = add

    def __radd__(self, other):
        return self._binary(other, pointwise.Add, reverse=True)

    def __sub__(self, other):
        return self.sub(other)

    def __rsub__(self, other):
        return self._binary(other, pointwise.Rsub, reverse=True)

    __mul__ = mul

    def __rmul__(self, other):
        return self._binary(other, pointwise.Mul, reverse=True)

    __truediv__ = div

    def __rtruediv__(self, other):
        # torch 把 number / tensor 算成 reciprocal(tensor) * number，结果的末位与 Div 不同
        if not _is_scalar(other):
            return NotImplemented
        return self.reciprocal() * other

    __pow__ = pow

    def __rpow__(self, other):
        return self._binary(other, pointwise.RPow, reverse=True)

    def __matmul__(self, other):
        return self.matmul(other)

    def __rmatmul__(self, other):
        return other.matmul(self)

    def __floordiv__(self, other):
        return self._no_grad_binary(other, lambda a, b: a // b)

    def __mod__(self, other):
        return self._no_grad_binary(other, lambda a, b: a % b)

    def _no_grad_binary(self, other, op, out_dtype=None):
        """不可导的两元运算（比较、整除、取模、逻辑运算）：结果不进计算图。"""
        dtype = result_type(self, other)
        other_array = other._array if isinstance(other, Tensor) else other
        if isinstance(other, Tensor):
            if other._device != self._device:
                raise RuntimeError(
                    "Expected all tensors to be on the same device, but found at least two devices, "
                    f"{self._device} and {other._device}!"
                )
            _broadcast_shapes(self.shape, other.shape)
            other_array = other_array.astype(dtype.numpy, copy=False)
        result = op(self._array.astype(dtype.numpy, copy=False), other_array)
        if out_dtype is not None:
            result = result.astype(out_dtype.numpy, copy=False)
        return Tensor._wrap(self._xp.asarray(result), self._device)

    def eq(self, other):
        return self._no_grad_binary(other, lambda a, b: a == b)

    def ne(self, other):
        return self._no_grad_binary(other, lambda a, b: a != b)

    def lt(self, other):
        return self._no_grad_binary(other, lambda a, b: a < b)

    def le(self, other):
        return self._no_grad_binary(other, lambda a, b: a <= b)

    def gt(self, other):
        return self._no_grad_binary(other, lambda a, b: a > b)

    def ge(self, other):
        return self._no_grad_binary(other, lambda a, b: a >= b)

    def __eq__(self, other):
        if not isinstance(other, Tensor) and not _is_scalar(other):
            return NotImplemented
        return self.eq(other)

    def __ne__(self, other):
        if not isinstance(other, Tensor) and not _is_scalar(other):
            return NotImplemented
        return self.ne(other)

    __lt__, __le__, __gt__, __ge__ = lt, le, gt, ge
    __hash__ = object.__hash__  # 张量按身份作字典键（优化器的 state 就这样用）

    def __and__(self, other):
        return self._no_grad_binary(other, lambda a, b: a & b)

    def __or__(self, other):
        return self._no_grad_binary(other, lambda a, b: a | b)

    def __xor__(self, other):
        return self._no_grad_binary(other, lambda a, b: a ^ b)

    def __invert__(self):
        if self.dtype.is_floating_point:
            raise TypeError(f"~ (bitwise_not) is only supported for integer and bool tensors, got {self.dtype}")
        return Tensor._wrap(~self._array, self._device)

    def logical_not(self):
        return Tensor._wrap(self._xp.logical_not(self._array), self._device)

    def isnan(self):
        return Tensor._wrap(self._xp.isnan(self._array), self._device)

    def isinf(self):
        return Tensor._wrap(self._xp.isinf(self._array), self._device)

    def isfinite(self):
        return Tensor._wrap(self._xp.isfinite(self._array), self._device)

    def _unary(self, function, floating=False, *args):
        tensor = self
        if floating and not self.dtype.is_floating_point:
            tensor = self.to(_backend.get_default_dtype())
        return function.apply(tensor, *args)

    def neg(self):
        self._check_not_bool("Negation, the `-` operator,")
        return self._unary(pointwise.Neg)

    __neg__ = neg

    def __pos__(self):
        return self

    def exp(self):
        return self._unary(pointwise.Exp, True)

    def log(self):
        return self._unary(pointwise.Log, True)

    def log1p(self):
        return self._unary(pointwise.Log1p, True)

    def sqrt(self):
        return self._unary(pointwise.Sqrt, True)

    def rsqrt(self):
        return self._unary(pointwise.Rsqrt, True)

    def abs(self):
        return self._unary(pointwise.Abs)

    __abs__ = abs

    def sign(self):
        return self._unary(pointwise.Sign)

    def tanh(self):
        return self._unary(pointwise.Tanh, True)

    def sigmoid(self):
        return self._unary(pointwise.Sigmoid, True)

    def relu(self):
        return self._unary(pointwise.Relu)

    def sin(self):
        return self._unary(pointwise.Sin, True)

    def cos(self):
        return self._unary(pointwise.Cos, True)

    def square(self):
        return self.pow(2)

    def reciprocal(self):
        return self._unary(pointwise.Reciprocal, True)

    def floor(self):
        return Tensor._wrap(self._xp.floor(self._array), self._device)

    def ceil(self):
        return Tensor._wrap(self._xp.ceil(self._array), self._device)

    def round(self):
        return Tensor._wrap(self._xp.round(self._array), self._device)

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("edunn.clamp: At least one of 'min' or 'max' must not be None")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            bounds = [self.new_tensor(b) if _is_scalar(b) else b for b in (min, max)]
            given = [b for b in bounds if b is not None]
            dtype = result_type(self, *given)
            for b in given:
                _broadcast_shapes(self.shape, b.shape)
            low, high = (None if b is None else b.to(dtype) for b in bounds)
            return pointwise.ClampTensor.apply(self.to(dtype), low, high)
        return pointwise.Clamp.apply(self, min, max)

    clip = clamp

    def clamp_min(self, min):
        return self.clamp(min=min)

    def clamp_max(self, max):
        return self.clamp(max=max)

    def maximum(self, other):
        return self._binary(other, pointwise.Maximum)

    def minimum(self, other):
        return self._binary(other, pointwise.Minimum)

    def where(self, condition, other):
        from ._functions import where

        return where(condition, self, other)

    def masked_fill(self, mask, value):
        if not isinstance(mask, Tensor) or mask.dtype is not _backend.bool_:
            got = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
            raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {got}")
        if isinstance(value, Tensor):
            if value.dim() != 0:
                raise RuntimeError(
                    "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                    f"{value.dim()} dimension(s)."
                )
            value = value.to(self.dtype)
        _broadcast_shapes(self.shape, mask.shape)
        return pointwise.MaskedFill.apply(self, mask, value)

    def lerp(self, end, weight):
        for name, other in (("end", end), ("weight", weight)):
            if isinstance(other, Tensor) and other.dtype is not self.dtype:
                raise RuntimeError(f"expected dtype {self.dtype} for `{name}` but got dtype {other.dtype}")
        if not isinstance(end, Tensor):
            raise TypeError(f"lerp(): argument 'end' must be Tensor, not {type(end).__name__}")
        shape = _broadcast_shapes(self.shape, end.shape)
        if isinstance(weight, Tensor):
            _broadcast_shapes(shape, weight.shape)
        else:
            weight = float(weight)
        return pointwise.Lerp.apply(self, end, weight)

    def addcmul(self, tensor1, tensor2, value=1):
        return self._pointwise3(pointwise.Addcmul, tensor1, tensor2, value)

    def addcdiv(self, tensor1, tensor2, value=1):
        if not tensor1.dtype.is_floating_point and not tensor2.dtype.is_floating_point:
            raise RuntimeError(
                "Integer division with addcdiv is no longer supported, and in a future release addcdiv will "
                "perform a true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented "
                "as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as "
                "(input + value * tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the "
                "latter implementation: (input + value * tensor1 / tensor2), for all dtypes."
            )
        return self._pointwise3(pointwise.Addcdiv, tensor1, tensor2, value)

    def _pointwise3(self, function, tensor1, tensor2, value):
        """addcmul/addcdiv 的共同准备：三个张量一起做类型提升，并检查它们能互相广播。"""
        for name, other in (("tensor1", tensor1), ("tensor2", tensor2)):
            if not isinstance(other, Tensor):
                raise TypeError(f"{function.__name__.lower()}(): argument '{name}' must be Tensor, "
                                f"not {type(other).__name__}")
        dtype = result_type(self, tensor1, tensor2)
        _broadcast_shapes(_broadcast_shapes(self.shape, tensor1.shape), tensor2.shape)
        operands = [t if t.dtype is dtype else t.to(dtype) for t in (self, tensor1, tensor2)]
        return function.apply(*operands, value=value)

    # ------------------------------------------------------------------
    # 矩阵乘法
    # ------------------------------------------------------------------

    def matmul(self, other):
        if not isinstance(other, Tensor):
            raise TypeError(f"matmul(): argument 'other' must be Tensor, not {type(other).__name__}")
        if self.dim() == 0 or other.dim() == 0:
            raise RuntimeError(
                f"both arguments to matmul need to be at least 1D, but they are {self.dim()}D and {other.dim()}D"
            )
        if self._device != other._device:
            raise RuntimeError(
                "Expected all tensors to be on the same device, but found at least two devices, "
                f"{self._device} and {other._device}!"
            )
        if self.dtype is not other.dtype:
            raise RuntimeError(
                f"expected m1 and m2 to have the same dtype, but got: {self.dtype} != {other.dtype}"
            )
        if self.dim() > 2 and other.dim() > 2:
            _broadcast_shapes(self.shape[:-2], other.shape[:-2])
        linalg.check_matmul_shapes(tuple(self.shape), tuple(other.shape))
        return linalg.Matmul.apply(self, other)

    def mm(self, mat2):
        if self.dim() != 2:
            raise RuntimeError(f"self must be a matrix (got a {self.dim()}-D tensor of shape {list(self.shape)})")
        if mat2.dim() != 2:
            raise RuntimeError(f"mat2 must be a matrix (got a {mat2.dim()}-D tensor of shape {list(mat2.shape)})")
        return self.matmul(mat2)

    def bmm(self, mat2):
        if self.dim() != 3:
            raise RuntimeError(f"batch1 must be a 3D tensor (got shape {list(self.shape)})")
        if mat2.dim() != 3:
            raise RuntimeError(f"batch2 must be a 3D tensor (got shape {list(mat2.shape)})")
        if self.shape[0] != mat2.shape[0]:
            raise RuntimeError(
                f"Expected size for first two dimensions of batch2 tensor to be: [{self.shape[0]}, "
                f"{self.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}]."
            )
        return self.matmul(mat2)

    def dot(self, other):
        if self.dim() != 1 or other.dim() != 1:
            raise RuntimeError(
                f"1D tensors expected, but got {self.dim()}D and {other.dim()}D tensors"
            )
        if self.shape != other.shape:
            raise RuntimeError(
                "inconsistent tensor size, expected tensor [%d] and src [%d] to have the same number of "
                "elements, but got %d and %d elements respectively"
                % (self.shape[0], other.shape[0], self.shape[0], other.shape[0])
            )
        return self.matmul(other)

    @property
    def T(self):
        return self.permute(*reversed(range(self.dim())))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def t(self):
        if self.dim() > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.dim()}D")
        return self._swap(0, -1, "TBackward0")

    # ------------------------------------------------------------------
    # 规约
    # ------------------------------------------------------------------

    def _dims(self, dim):
        return reduction.normalize_dims(dim, self.dim())

    def sum(self, dim=None, keepdim=False, *, dtype=None):
        target = _backend.as_dtype(dtype) if dtype is not None else (
            self.dtype if self.dtype.is_floating_point else _backend.int64)
        source = self if target is self.dtype else self.to(target)
        return reduction.Sum.apply(source, None if dim is None else self._dims(dim), keepdim)

    def mean(self, dim=None, keepdim=False, *, dtype=None):
        target = _backend.as_dtype(dtype) if dtype is not None else self.dtype
        if not target.is_floating_point:
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either a floating point or "
                f"complex dtype. Got: {_type_label(self.dtype)}"
            )
        source = self if target is self.dtype else self.to(target)
        return reduction.Mean.apply(source, None if dim is None else self._dims(dim), keepdim)

    def _extreme(self, dim, keepdim, largest):
        name = "max" if largest else "min"
        if dim is None:
            if self.numel() == 0:
                raise RuntimeError(
                    f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                    "Specify the reduction dim with the 'dim' argument."
                )
            return reduction.AMax.apply(self, None, False, largest)
        dim = self._wrap_dim(dim)
        values, indices = reduction.MaxDim.apply(self, dim, keepdim, largest)
        return _MinMax(values, indices, name)

    def max(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        return self._extreme(dim, keepdim, True)

    def min(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        return self._extreme(dim, keepdim, False)

    def amax(self, dim=None, keepdim=False):
        return reduction.AMax.apply(self, self._dims(dim), keepdim, True)

    def amin(self, dim=None, keepdim=False):
        return reduction.AMax.apply(self, self._dims(dim), keepdim, False)

    def argmax(self, dim=None, keepdim=False):
        if dim is None:
            return Tensor._wrap(self._xp.asarray(self._array.argmax(), dtype=np.int64), self._device)
        return self.max(dim, keepdim).indices

    def argmin(self, dim=None, keepdim=False):
        if dim is None:
            return Tensor._wrap(self._xp.asarray(self._array.argmin(), dtype=np.int64), self._device)
        return self.min(dim, keepdim).indices

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return self._var_or_std(reduction.Var, dim, unbiased, keepdim, correction)

    def _var_or_std(self, function, dim, unbiased, keepdim, correction):
        if unbiased is not None and correction is not None:
            raise TypeError("var()/std() received an invalid combination of arguments: pass either 'unbiased' "
                            "or 'correction', not both")
        if correction is None:
            correction = 1 if unbiased in (None, True) else 0
        source = self if self.dtype.is_floating_point else self.to(_backend.get_default_dtype())
        return function.apply(source, self._dims(dim), correction, keepdim)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return self._var_or_std(reduction.Std, dim, unbiased, keepdim, correction)

    def norm(self, p="fro", dim=None, keepdim=False):
        if p == "fro" and isinstance(dim, (tuple, list)) and len(dim) > 2:
            # torch 把三个及以上的维交给 matrix_norm，而矩阵范数只接受两个维
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
        if p == "fro" or p is None:
            p = 2
        if isinstance(p, str):
            raise RuntimeError(f"norm(): unsupported norm type {p!r}; edunn supports numeric p and 'fro'")
        if not self.dtype.is_floating_point:
            raise RuntimeError(
                f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {_type_label(self.dtype)}"
            )
        return reduction.Norm.apply(self, float(p), self._dims(dim), keepdim)

    def logsumexp(self, dim, keepdim=False):
        source = self if self.dtype.is_floating_point else self.to(_backend.get_default_dtype())
        return reduction.LogSumExp.apply(source, self._dims(dim), keepdim)

    def all(self, dim=None, keepdim=False):
        axes = self._dims(dim)
        return Tensor._wrap(self._xp.asarray(self._array.astype(bool).all(axis=axes, keepdims=keepdim)), self._device)

    def any(self, dim=None, keepdim=False):
        axes = self._dims(dim)
        return Tensor._wrap(self._xp.asarray(self._array.astype(bool).any(axis=axes, keepdims=keepdim)), self._device)

    # ------------------------------------------------------------------
    # 形状
    # ------------------------------------------------------------------

    def _infer_shape(self, shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
            shape = tuple(shape[0])
        shape = tuple(int(s) for s in shape)
        numel = self.numel()
        if shape.count(-1) > 1:
            raise RuntimeError("only one dimension can be inferred")
        if -1 in shape:
            known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
            if known == 0 or numel % known != 0:
                raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
            shape = tuple(numel // known if s == -1 else s for s in shape)
        if int(np.prod(shape, dtype=np.int64)) != numel or any(s < 0 for s in shape):
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        return shape

    def reshape(self, *shape):
        return shape_module_reshape(self, self._infer_shape(shape), "ReshapeBackward")

    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], _backend.dtype):
            raise NotImplementedError("view(dtype) is not supported by edunn")
        shape = self._infer_shape(shape)
        if _backend.reshape_view(self._array, shape) is None:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one dimension "
                "spans across two contiguous subspaces). Use .reshape(...) instead."
            )
        return shape_module_reshape(self, shape)

    def view_as(self, other):
        return self.view(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.dim() == 0:
            return self.reshape(1)
        start, end = self._wrap_dim(start_dim), self._wrap_dim(end_dim)
        if start > end:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        if start == end:
            return self  # 与 torch 相同：没有维度要合并时返回输入本身
        dims = self.shape
        middle = int(np.prod(dims[start:end + 1], dtype=np.int64))
        return self.reshape(*dims[:start], middle, *dims[end + 1:])

    def unflatten(self, dim, sizes):
        dim = self._wrap_dim(dim)
        dims = self.shape
        return self.reshape(*dims[:dim], *sizes, *dims[dim + 1:])

    def permute(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        if len(dims) != self.dim():
            raise RuntimeError(
                f"permute(sparse_coo): number of dimensions in the tensor input does not match the length of "
                f"the desired ordering of dimensions i.e. input.dim() = {self.dim()} is not equal to "
                f"len(dims) = {len(dims)}"
            )
        dims = tuple(self._wrap_dim(d) for d in dims)
        if len(set(dims)) != len(dims):
            raise RuntimeError("permute(): duplicate dims are not allowed.")
        return shape.Permute.apply(self, dims)._make_view_of(self)

    def transpose(self, dim0, dim1):
        return self._swap(dim0, dim1, "TransposeBackward0")

    def _swap(self, dim0, dim1, node_name):
        order = list(range(self.dim()))
        d0, d1 = self._wrap_dim(dim0), self._wrap_dim(dim1)
        if order:
            order[d0], order[d1] = order[d1], order[d0]
        return shape.Permute.apply(self, tuple(order), node_name)._make_view_of(self)

    swapaxes = transpose

    def squeeze(self, dim=None):
        if dim is None:
            new_shape = [n for n in self.shape if n != 1]
            node_name = "SqueezeBackward0"
        else:
            dims = {self._wrap_dim(d) for d in ((dim,) if isinstance(dim, int) else dim)}
            new_shape = [n for i, n in enumerate(self.shape) if not (i in dims and n == 1)]
            node_name = "SqueezeBackward1" if isinstance(dim, int) else "SqueezeBackward2"
        return shape_module_reshape(self, tuple(new_shape), node_name)

    def unsqueeze(self, dim):
        dim = self._wrap_dim(dim, self.dim() + 1)
        new_shape = list(self.shape)
        new_shape.insert(dim, 1)
        return shape_module_reshape(self, tuple(new_shape), "UnsqueezeBackward0")

    def expand(self, *sizes):
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        if len(sizes) < self.dim():
            raise RuntimeError(
                f"expand({self.type()}{{{list(self.shape)}}}, size=[{', '.join(map(str, sizes))}]): the number "
                f"of sizes provided ({len(sizes)}) must be greater or equal to the number of dimensions in the "
                f"tensor ({self.dim()})"
            )
        own = (1,) * (len(sizes) - self.dim()) + tuple(self.shape)
        target = []
        for i, (want, have) in enumerate(zip(sizes, own)):
            if want == -1:
                want = have
            if have != 1 and want != have:
                raise RuntimeError(
                    f"The expanded size of the tensor ({want}) must match the existing size ({have}) at "
                    f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(self.shape)}"
                )
            target.append(want)
        return shape.Expand.apply(self, tuple(target))._make_view_of(self)

    def expand_as(self, other):
        return self.expand(other.shape)

    def split(self, split_size_or_sections, dim=0):
        dim = self._wrap_dim(dim)
        length = self.shape[dim]
        if isinstance(split_size_or_sections, int):
            step = split_size_or_sections
            if step <= 0 and length > 0:
                raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {length}")
            sizes = [min(step, length - start) for start in range(0, length, step)] if length else [0]
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != length:
                raise RuntimeError(
                    f"split_with_sizes expects split_sizes to sum exactly to {length} (input tensor's size at "
                    f"dimension {dim}), but got split_sizes={sizes}"
                )
        node_name = "SplitBackward0" if isinstance(split_size_or_sections, int) else "SplitWithSizesBackward0"
        pieces = shape.Split.apply(self, sizes, dim, node_name)
        return tuple(p._make_view_of(self) for p in pieces)

    def chunk(self, chunks, dim=0):
        if chunks <= 0:
            raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
        length = self.shape[self._wrap_dim(dim)]
        step = -(-length // chunks) if length else 1
        return self.split(step, dim)

    def unbind(self, dim=0):
        pieces = shape.Unbind.apply(self, self._wrap_dim(dim))
        return tuple(p._make_view_of(self) for p in pieces)

    # ------------------------------------------------------------------
    # 索引
    # ------------------------------------------------------------------

    def _convert_index(self, index):
        converted = shape._index_arrays(self._xp, index)
        items = converted if isinstance(converted, tuple) else (converted,)
        for item in items:
            if hasattr(item, "dtype") and item.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        shape.check_index(self.shape, converted)
        return converted

    def __getitem__(self, index):
        converted = self._convert_index(index)
        out = shape.Index.apply(self, converted)
        if shape.is_basic_index(converted):
            out._make_view_of(self)
        return out

    def __setitem__(self, index, value):
        converted = self._convert_index(index)
        if isinstance(value, Tensor):
            if value._device != self._device:
                raise RuntimeError(
                    "Expected all tensors to be on the same device, but found at least two devices, "
                    f"{self._device} and {value._device}!"
                )
            value_array = value._array
            selected = self._array[converted].shape
            _check_expandable(value.shape, selected)
        else:
            value_array = value
        record = is_grad_enabled() and (self.requires_grad or (isinstance(value, Tensor) and value.requires_grad))
        if record and self.is_leaf and self.requires_grad:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
        if not record:
            self._array[converted] = value_array
            self._bump_version()
            return
        self._check_inplace_allowed()
        source = self._snapshot()
        value_tensor = value.to(self.dtype) if isinstance(value, Tensor) else value
        result = shape.IndexPut.apply(source, converted, value_tensor)
        self._adopt(result)

    def __len__(self):
        if self.dim() == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.dim() == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous (numel={self.numel()})"
            )
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __format__(self, spec):
        if self.dim() == 0 and spec:
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __repr__(self):
        return tensor_repr(self)

    def __deepcopy__(self, memo):
        """复制数值、``requires_grad``、``.grad`` 与实例属性（如缓冲区的 ``persistent``），与 torch 相同。

        副本有自己的数组和版本计数器，不带计算图，也不再是谁的视图。
        """
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment. Call detach() on the tensor before copying it.")
        if id(self) in memo:
            return memo[id(self)]
        with no_grad():
            new_tensor = self.clone()
        if self.requires_grad:
            new_tensor.requires_grad_()
        if self._grad is not None:
            new_tensor.grad = copy.deepcopy(self._grad, memo)
        new_tensor.__dict__ = copy.deepcopy(self.__dict__, memo)
        memo[id(self)] = new_tensor
        return new_tensor

    # ------------------------------------------------------------------
    # 就地运算（in-place）
    # ------------------------------------------------------------------

    def _check_inplace_allowed(self):
        if self.is_leaf and self.requires_grad:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        if self._base is not None:
            # 限制：torch 能在求导时对视图做就地运算（重写 base 的计算图），edunn 暂不支持。
            raise NotImplementedError(
                "edunn does not support in-place operations on a view while gradients are recorded; "
                "use the out-of-place operation or clone() the view first"
            )

    def _snapshot(self):
        """复制当前值、但接在同一个计算图位置上的张量：就地运算的反向需要修改前的值。"""
        out = Tensor._wrap(self._array.copy(), self._device)
        out.grad_fn, out._output_nr, out._requires_grad = self.grad_fn, self._output_nr, self._requires_grad
        out._accumulate_node = self._accumulate_node
        return out

    def _write(self, result):
        if not can_cast(result.dtype, self.dtype):
            raise RuntimeError(
                f"result type {_type_label(result.dtype)} can't be cast to the desired output type "
                f"{_type_label(self.dtype)}"
            )
        if result.shape != self.shape:
            broadcast = _broadcast_shapes(result.shape, self.shape)
            if broadcast != tuple(self.shape):
                raise RuntimeError(
                    f"output with shape {list(self.shape)} doesn't match the broadcast shape {list(broadcast)}"
                )
        self._array[...] = result._array
        self._bump_version()

    def _adopt(self, result):
        """就地运算记录梯度时：值已写入，计算图位置换成新结果的节点。"""
        if result.dtype is not self.dtype:
            result = result.to(self.dtype)
        self._write(result)
        self.grad_fn, self._output_nr = result.grad_fn, result._output_nr
        self._requires_grad = result.requires_grad

    def _inplace(self, method, *args, **kwargs):
        """就地运算的统一实现：先按非就地的方式算出结果，再写回自己的存储。

        不记录梯度时（例如优化器在 no_grad 下更新参数）直接写回；记录梯度时，用修改前的
        副本参与运算，然后把自己的 ``grad_fn`` 换成结果的节点，这与 torch 的语义一致。
        """
        record = is_grad_enabled() and (
            self.requires_grad or any(isinstance(a, Tensor) and a.requires_grad
                                      for a in list(args) + list(kwargs.values())))
        if not record:
            with no_grad():
                self._write(method(self, *args, **kwargs))
            return self
        self._check_inplace_allowed()
        self._adopt(method(self._snapshot(), *args, **kwargs))
        return self

    def _fast_inplace_operands(self, *operands):
        """就地运算能否直接用数组模块的 ufunc（``out=`` 写回自己）完成；能则返回各操作数的数组或数值。

        条件：不记录梯度；自己是浮点张量；张量操作数与自己同设备、同 dtype，形状能广播到自己的形状；
        数值操作数是 Python 的 int/float/bool。这时结果类型就是自己的 dtype，torch 的类型与形状检查
        都已满足。不满足时返回 None，调用方走 ``_inplace`` 的通用路径，由它报出 torch 的错误。
        """
        if is_grad_enabled() and (self._requires_grad or any(
                isinstance(o, Tensor) and o._requires_grad for o in operands)):
            return None
        array = self._array
        if array.dtype.kind != "f":
            return None
        converted = []
        for operand in operands:
            if type(operand) in _PLAIN_NUMBERS:
                converted.append(operand)
            elif isinstance(operand, Tensor):
                other = operand._array
                if operand.is_sparse:
                    return None
                if operand._device is not self._device and operand._device != self._device:
                    return None
                if other.dtype != array.dtype:
                    return None
                if other.shape != array.shape and _broadcast_shapes(other.shape, array.shape) != array.shape:
                    return None
                converted.append(other)
            else:
                return None  # numpy 标量等少见情形交给通用路径
        return converted

    def _finish_fast_inplace(self):
        self._bump_version()
        return self

    def add_(self, other, alpha=1):
        if isinstance(other, Tensor) and other.is_sparse:
            return other._add_into_dense(self, alpha)  # 只写被用到的行
        operands = self._fast_inplace_operands(other, alpha)
        if operands is None:
            return self._inplace(Tensor.add, other, alpha=alpha)
        other_array, alpha = operands
        xp = self._xp
        if alpha != 1:
            other_array = other_array * alpha if _is_plain_number(other_array) else xp.multiply(other_array, alpha)
        xp.add(self._array, other_array, out=self._array)
        return self._finish_fast_inplace()

    def sub_(self, other, alpha=1):
        if isinstance(other, Tensor) and other.is_sparse:
            return other._add_into_dense(self, -alpha)
        operands = self._fast_inplace_operands(other, alpha)
        if operands is None:
            return self._inplace(Tensor.sub, other, alpha=alpha)
        other_array, alpha = operands
        xp = self._xp
        if alpha != 1:
            other_array = other_array * alpha if _is_plain_number(other_array) else xp.multiply(other_array, alpha)
        xp.subtract(self._array, other_array, out=self._array)
        return self._finish_fast_inplace()

    def mul_(self, other):
        operands = self._fast_inplace_operands(other)
        if operands is None:
            return self._inplace(Tensor.mul, other)
        self._xp.multiply(self._array, operands[0], out=self._array)
        return self._finish_fast_inplace()

    def div_(self, other):
        operands = self._fast_inplace_operands(other)
        if operands is None:
            return self._inplace(Tensor.div, other)
        self._xp.true_divide(self._array, operands[0], out=self._array)
        return self._finish_fast_inplace()

    def pow_(self, exponent):
        return self._inplace(Tensor.pow, exponent)

    def addcmul_(self, tensor1, tensor2, value=1):
        operands = self._fast_inplace_operands(tensor1, tensor2, value)
        if operands is None or _is_plain_number(operands[0]) or _is_plain_number(operands[1]):
            return self._inplace(Tensor.addcmul, tensor1, tensor2, value=value)
        array1, array2, value = operands
        xp = self._xp
        # torch 的 CPU 内核按 self + (value * t1) * t2 的顺序计算；同样的顺序给出同样的舍入。
        product = xp.multiply(array1, value) if value != 1 else xp.multiply(array1, array2)
        if value != 1:
            xp.multiply(product, array2, out=product)
        xp.add(self._array, product, out=self._array)
        return self._finish_fast_inplace()

    def addcdiv_(self, tensor1, tensor2, value=1):
        operands = self._fast_inplace_operands(tensor1, tensor2, value)
        if operands is None or _is_plain_number(operands[0]) or _is_plain_number(operands[1]):
            return self._inplace(Tensor.addcdiv, tensor1, tensor2, value=value)
        array1, array2, value = operands
        xp = self._xp
        # 顺序同 torch 的 CPU 内核：self + (value * t1) / t2。
        quotient = xp.multiply(array1, value) if value != 1 else xp.true_divide(array1, array2)
        if value != 1:
            xp.true_divide(quotient, array2, out=quotient)
        xp.add(self._array, quotient, out=self._array)
        return self._finish_fast_inplace()

    def lerp_(self, end, weight):
        operands = self._fast_inplace_operands(end, weight)
        if operands is None or _is_plain_number(operands[0]) or not _is_plain_number(operands[1]):
            return self._inplace(Tensor.lerp, end, weight)
        end_array, weight = operands
        xp = self._xp
        difference = xp.subtract(end_array, self._array)
        # 与 torch 相同：权重小于 0.5 时从 self 出发，否则从 end 倒推，两端都能精确取到。
        if abs(weight) < 0.5:
            xp.multiply(difference, weight, out=difference)
            xp.add(self._array, difference, out=self._array)
        else:
            xp.multiply(difference, 1 - weight, out=difference)
            xp.subtract(end_array, difference, out=self._array)
        return self._finish_fast_inplace()

    def clamp_(self, min=None, max=None):
        return self._inplace(Tensor.clamp, min=min, max=max)

    clip_ = clamp_

    def clamp_min_(self, min):
        return self._inplace(Tensor.clamp, min=min)

    def clamp_max_(self, max):
        return self._inplace(Tensor.clamp, max=max)

    def sqrt_(self):
        if self._fast_inplace_operands() is None:
            return self._inplace(Tensor.sqrt)
        self._xp.sqrt(self._array, out=self._array)
        return self._finish_fast_inplace()

    def neg_(self):
        return self._inplace(Tensor.neg)

    def exp_(self):
        return self._inplace(Tensor.exp)

    def abs_(self):
        return self._inplace(Tensor.abs)

    def sign_(self):
        return self._inplace(Tensor.sign)

    def relu_(self):
        return self._inplace(Tensor.relu)

    def maximum_(self, other):
        operands = self._fast_inplace_operands(other)
        if operands is None or _is_plain_number(operands[0]):
            return self._inplace(Tensor.maximum, other)
        self._xp.maximum(self._array, operands[0], out=self._array)
        return self._finish_fast_inplace()

    def masked_fill_(self, mask, value):
        return self._inplace(Tensor.masked_fill, mask, value)

    def copy_(self, src, non_blocking=False):
        if not isinstance(src, Tensor):
            raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
        broadcast = _broadcast_shapes(self.shape, src.shape)
        if broadcast != tuple(self.shape):
            raise RuntimeError(
                f"output with shape {list(self.shape)} doesn't match the broadcast shape {list(broadcast)}"
            )
        record = is_grad_enabled() and (self.requires_grad or src.requires_grad)
        moved = src.to(self._device) if src._device != self._device else src
        if not record:
            self._array[...] = moved._array.astype(self.dtype.numpy, copy=False)
            self._bump_version()
            return self
        self._check_inplace_allowed()
        converted = moved.to(self.dtype)
        expanded = converted.expand(self.shape) if converted.shape != self.shape else converted
        self._adopt(expanded + 0 if expanded is src else expanded)
        return self

    def zero_(self):
        return self._fill(0, "ZeroBackward0")

    def fill_(self, value):
        if isinstance(value, Tensor):
            if value.dim() != 0:
                raise RuntimeError(
                    f"fill_ only supports 0-dimension value tensor but got tensor with {value.dim()} dimensions."
                )
            # 限制：torch 会把梯度传给张量形式的 value（FillBackward3），edunn 只取它的数值
            value = value.item()
        return self._fill(value, "FillBackward2")

    def _fill(self, value, node_name):
        if is_grad_enabled() and self.requires_grad:
            # 记录梯度时填充也是一步运算：之前的计算图不再影响这个张量的值
            self._check_inplace_allowed()
            self._adopt(pointwise.Fill.apply(self._snapshot(), value, node_name))
            return self
        self._array[...] = value
        self._bump_version()
        return self

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)


def _check_expandable(shape, target):
    """shape 能否按广播规则扩展成 target；不能时抛出 torch 的 expand 报错。

    与 torch 的赋值相同，shape 前面多出来的长度为 1 的维先去掉。
    """
    shape = tuple(shape)
    while len(shape) > len(target) and shape[0] == 1:
        shape = shape[1:]
    offset = len(target) - len(shape)
    if offset < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(target)}) must be greater or equal to the number of "
            f"dimensions in the tensor ({len(shape)})"
        )
    for i, (have, want) in enumerate(zip(shape, target[offset:])):
        if have != 1 and have != want:
            raise RuntimeError(
                f"The expanded size of the tensor ({want}) must match the existing size ({have}) at non-singleton "
                f"dimension {i + offset}.  Target sizes: {list(target)}.  Tensor sizes: {list(shape)}"
            )


class _MinMax(tuple):
    """``max(dim)``/``min(dim)`` 的返回值：可以解包，也可以用 ``.values``/``.indices``。"""

    def __new__(cls, values, indices, name="max"):
        out = super().__new__(cls, (values, indices))
        out._name = name
        return out

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

    def __repr__(self):
        return f"edunn.return_types.{self._name}(\nvalues={self[0]!r},\nindices={self[1]!r})"


def shape_module_reshape(tensor, new_shape, node_name="ViewBackward0"):
    """reshape/view/squeeze/unsqueeze 的共同实现；结果与输入共享内存时标记为视图。"""
    out = shape.Reshape.apply(tensor, tuple(new_shape), node_name)
    xp = tensor._xp
    if xp.may_share_memory(out._array, tensor._array):
        out._make_view_of(tensor)
    return out


def _cast_operand(value, dtype, device):
    if isinstance(value, Tensor):
        return value if value.dtype is dtype else value.to(dtype)
    # Python 数值按结果类型转成零维数组，保证运算在 dtype 里完成
    return _backend.get_array_module(device).asarray(value, dtype=dtype.numpy)


class _ToDevice(ArrayFunction):
    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, a, target):
        ctx.source = _backend.array_device(a)
        return _backend.move_array(a, target)

    @staticmethod
    def backward(ctx, grad):
        return _backend.move_array(grad, ctx.source), None
