"""设备与数据类型：edunn 里唯一知道 numpy 与 cupy 区别的地方。

每个张量的设备决定它的数组模块（array module）：``cpu`` 用 numpy，``cuda`` 用 cupy。
算子与优化器只通过 ``xp = tensor._xp`` 取数组模块，不写 ``if device == ...`` 分支。
"""

import math
import os

import ml_dtypes
import numpy as np

# ---------------------------------------------------------------------------
# 设备（device）
# ---------------------------------------------------------------------------


class device:
    """设备描述，与 ``torch.device`` 相同：``device("cpu")``、``device("cuda:0")``、``device("cuda", 1)``。"""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments: got {type!r}")
        if ":" in type:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {type}")
            type, _, index_text = type.partition(":")
            if not index_text.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{index_text}'")
            index = int(index_text)
        if type not in ("cpu", "cuda"):
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: {type}"
            )
        if type == "cpu" and index not in (None, 0):
            raise RuntimeError(f"CPU device index must be -1 or zero, got {index}")
        if type == "cuda" and index is None:
            index = 0
        self.type = type
        self.index = None if type == "cpu" else index

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


def as_device(value):
    """把字符串、整数（CUDA 序号）或 device 统一成 device。"""
    if value is None:
        return device("cpu")
    if isinstance(value, device):
        return value
    if isinstance(value, int):
        return device("cuda", value)
    return device(value)


# ---------------------------------------------------------------------------
# CUDA：通过 cupy 使用 GPU
# ---------------------------------------------------------------------------

class CUDAUnavailableError(RuntimeError, AssertionError):
    """CUDA 不可用（没有 CuPy、驱动或 GPU）。

    它同时是 RuntimeError 与 AssertionError：torch 没有 CUDA 支持时抛 AssertionError（"Torch not
    compiled with CUDA enabled"），没有驱动或 GPU 时抛 RuntimeError，照搬 torch 写法的 except 都能接住它。
    """


_cupy = None
_cuda_failure = None  # 第一次失败的信息：之后直接报同样的原因，不再反复尝试导入
_cuda_count = 0


def _load_cupy():
    """导入 cupy、数出 GPU 并在 GPU 上跑一个小核函数；缺了哪一样，就抛出指出哪一样的 CUDAUnavailableError。"""
    global _cupy, _cuda_failure, _cuda_count
    if _cupy is not None:
        return _cupy
    if _cuda_failure is not None:
        raise CUDAUnavailableError(_cuda_failure)
    try:
        import cupy
    except ImportError as error:
        _cuda_failure = (
            f"edunn needs CuPy to use a CUDA GPU, but CuPy could not be imported ({error}). Install the CuPy "
            "wheel that matches your NVIDIA driver: pip install 'edunn[cuda]' for CUDA 12, "
            "pip install 'edunn[cuda13]' for CUDA 13."
        )
        raise CUDAUnavailableError(_cuda_failure) from error
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # cupy 在没有驱动或 GPU 时抛 CUDARuntimeError
        _cuda_failure = (
            f"CuPy is installed but CUDA cannot be used: {error}. "
            "Check that an NVIDIA GPU and its driver are present (nvidia-smi lists them)."
        )
        raise CUDAUnavailableError(_cuda_failure) from error
    if count == 0:
        _cuda_failure = "CuPy is installed but no CUDA GPU is visible; check nvidia-smi and CUDA_VISIBLE_DEVICES."
        raise CUDAUnavailableError(_cuda_failure)
    try:
        # 第一个核函数要由 NVRTC 现场编译：缺 CUDA 运行库时在这里就报错，而不是在第一次运算时
        (cupy.arange(3, dtype=cupy.float32) * 2).sum().item()
    except Exception as error:
        _cuda_failure = (
            f"CuPy found {count} CUDA GPU(s) but cannot run a kernel: {error}. CuPy needs the CUDA "
            "runtime libraries: install them with the CuPy wheel's [ctk] extra "
            "(pip install 'cupy-cuda12x[ctk]' or 'cupy-cuda13x[ctk]') or install a CUDA Toolkit."
        )
        raise CUDAUnavailableError(_cuda_failure) from error
    _cupy, _cuda_count = cupy, count
    return cupy


def _check_cuda_index(dev):
    if not 0 <= dev.index < _cuda_count:
        raise RuntimeError(
            f"CUDA error: invalid device ordinal: {dev} was requested, but only {_cuda_count} CUDA "
            f"device(s) are visible (cuda:0 to cuda:{_cuda_count - 1})."
        )


def get_array_module(dev):
    """返回设备对应的数组模块：cpu -> numpy，cuda -> cupy（首次使用时才导入）。

    cupy 不可用时抛出说明原因的异常；cuda 序号超出可见 GPU 的个数时抛 RuntimeError，与 torch 相同。
    """
    if dev.type == "cpu":
        return np
    cupy = _load_cupy()
    _check_cuda_index(dev)
    return cupy


def cuda_is_available():
    try:
        _load_cupy()
    except CUDAUnavailableError:
        return False
    return True


def cuda_unavailable_reason():
    """cuda 设备不可用的原因（一句话）；可用时返回 None。测试用它作为跳过的理由。"""
    try:
        _load_cupy()
    except CUDAUnavailableError as error:
        return str(error)
    return None


def cuda_device_count():
    return _cuda_count if cuda_is_available() else 0


def cuda_device(value=None):
    """把 ``Tensor.cuda(device)``/``edunn.cuda.*(device)`` 的参数统一成 cuda 设备；None 表示当前设备。"""
    if value is None:
        return device("cuda", cuda_current_device())
    dev = as_device(value)
    if dev.type != "cuda":
        raise RuntimeError(f"Invalid device, must be cuda device, got {dev}")
    return dev


def cuda_current_device():
    return _load_cupy().cuda.runtime.getDevice()


def cuda_device_name(dev):
    cupy = _load_cupy()
    if not 0 <= dev.index < _cuda_count:
        raise AssertionError(f"Invalid device id: {dev} (visible CUDA devices: {_cuda_count})")
    name = cupy.cuda.runtime.getDeviceProperties(dev.index)["name"]
    return name.decode() if isinstance(name, bytes) else name


def cuda_synchronize(dev):
    """等 dev 上已提交的所有核函数执行完。"""
    cupy = get_array_module(dev)
    cupy.cuda.Device(dev.index).synchronize()


def array_device(array):
    """返回数组所在的设备。"""
    if isinstance(array, (np.ndarray, np.generic)) or np.isscalar(array):
        return device("cpu")
    return device("cuda", int(array.device.id))


def is_device_array(value):
    """value 是不是 GPU 上的数组（cupy.ndarray）；不导入 cupy。"""
    return type(value).__module__.startswith("cupy") and hasattr(value, "shape")


def check_device_dtype(dev, d):
    """cupy 没有 bfloat16：在 cuda 上创建或转换成 bfloat16 时给出清楚的错误。"""
    if dev.type == "cuda" and d is bfloat16:
        raise TypeError(
            "edunn's cuda device does not support bfloat16 because CuPy has no bfloat16 dtype; "
            "use float16 or float32 on cuda, or keep bfloat16 tensors on the cpu."
        )


def move_array(array, dev):
    """把数组复制到目标设备（相同设备时原样返回）。"""
    src = array_device(array)
    if src == dev:
        return array
    if dev.type == "cpu":
        return array.get()
    cupy = get_array_module(dev)
    if getattr(array, "dtype", None) == bfloat16.numpy:
        check_device_dtype(dev, bfloat16)
    with cupy.cuda.Device(dev.index):
        return cupy.asarray(array)


def default_device():
    """笔记本和测试的默认设备，来自环境变量 EDUNN_DEVICE（默认 cpu）。"""
    return as_device(os.environ.get("EDUNN_DEVICE", "cpu"))


# ---------------------------------------------------------------------------
# 数据类型（dtype）
# ---------------------------------------------------------------------------


class dtype:
    """edunn 的数据类型，名字与 torch 相同；``numpy`` 属性是存储用的 numpy 类型。"""

    __slots__ = ("name", "numpy", "is_floating_point", "is_signed", "itemsize", "_rank", "_torch_name")

    def __init__(self, name, numpy_dtype, is_floating_point, rank, torch_name):
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self.is_floating_point = is_floating_point
        self.is_signed = name != "bool"
        self.itemsize = self.numpy.itemsize
        self._rank = rank
        self._torch_name = torch_name

    @property
    def is_complex(self):
        return False

    def __repr__(self):
        return f"edunn.{self.name}"

    def __reduce__(self):
        return self.name


bool_ = dtype("bool", np.bool_, False, 0, "Bool")
uint8 = dtype("uint8", np.uint8, False, 1, "Byte")
int8 = dtype("int8", np.int8, False, 1, "Char")
int16 = dtype("int16", np.int16, False, 2, "Short")
int32 = dtype("int32", np.int32, False, 3, "Int")
int64 = dtype("int64", np.int64, False, 4, "Long")
float16 = dtype("float16", np.float16, True, 5, "Half")
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, True, 5, "BFloat16")
float32 = dtype("float32", np.float32, True, 6, "Float")
float64 = dtype("float64", np.float64, True, 7, "Double")

all_dtypes = (bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64)
_by_numpy = {d.numpy: d for d in all_dtypes}
_by_name = {d.name: d for d in all_dtypes}
_by_name.update({"bool": bool_, "half": float16, "float": float32, "double": float64,
                 "long": int64, "int": int32, "short": int16})

_default_float = float32


def get_default_dtype():
    return _default_float


def set_default_dtype(d):
    global _default_float
    d = as_dtype(d)
    if d not in (float16, bfloat16, float32, float64):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float = d


def as_dtype(value):
    """把 edunn.dtype、名字（"float32"）或 numpy 类型统一成 edunn.dtype；不支持时抛 TypeError。"""
    if isinstance(value, dtype):
        return value
    if isinstance(value, str) and value in _by_name:
        return _by_name[value]
    if value is float:
        return float64
    if value is int:
        return int64
    if value is bool:
        return bool_
    try:
        np_dtype = np.dtype(value)
    except TypeError:
        np_dtype = None
    if np_dtype is not None and np_dtype in _by_numpy:
        return _by_numpy[np_dtype]
    supported = ", ".join(d.name for d in all_dtypes)
    raise TypeError(f"unsupported dtype {value!r}; edunn supports: {supported}")


def dtype_of_array(array):
    try:
        return _by_numpy[array.dtype]
    except KeyError:
        supported = ", ".join(d.name for d in all_dtypes)
        raise TypeError(f"unsupported array dtype {array.dtype}; edunn supports: {supported}") from None


def _category(d):
    if d is bool_:
        return 0
    return 2 if d.is_floating_point else 1


def promote_types(a, b):
    """两个 dtype 的公共类型，与 ``torch.promote_types`` 一致。"""
    if a is b:
        return a
    if {a, b} == {float16, bfloat16}:
        return float32
    if {a, b} == {uint8, int8}:
        return int16
    return a if a._rank >= b._rank else b


def result_type(*operands):
    """按 torch 的规则求运算结果类型。

    参与者分三级：有维度的张量 > 零维张量 > Python 数值。同一类别（bool < 整数 < 浮点）内，
    高一级参与者决定结果；低一级参与者只有在类别更高时才改变结果，此时零维张量给出它自己的
    dtype，Python 数值给出该类别的默认类型（浮点为默认浮点类型，整数为 int64）。
    """
    dims, zero_dims, scalars = [], [], []
    for op in operands:
        if isinstance(op, bool):
            scalars.append(bool_)
        elif isinstance(op, int):
            scalars.append(int64)
        elif isinstance(op, float):
            scalars.append(float64)
        elif hasattr(op, "dtype") and hasattr(op, "dim"):
            (dims if op.dim() > 0 else zero_dims).append(op.dtype)
        else:
            raise TypeError(f"unsupported operand type {type(op).__name__}")

    def combine(types):
        out = None
        for t in types:
            out = t if out is None else promote_types(out, t)
        return out

    result = combine(dims)
    zero = combine(zero_dims)
    if zero is not None and (result is None or _category(zero) > _category(result)):
        result = zero
    scalar = combine(scalars)
    if scalar is not None and (result is None or _category(scalar) > _category(result)):
        category = _category(scalar)
        result = {0: bool_, 1: int64, 2: _default_float}[category]
    return result


def can_cast(src, dst):
    """结果类型 src 能否写进 dst 类型的张量（就地运算用），与 ``torch.can_cast`` 一致。"""
    return _category(src) <= _category(dst)


def torch_type_name(d):
    """torch 报错信息里的旧式类型名，例如 float32 -> FloatTensor。"""
    return f"torch.{d._torch_name}Tensor"


# ---------------------------------------------------------------------------
# 随机数
# ---------------------------------------------------------------------------

_generators = {}
_seed = None
_cuda_seed = None  # edunn.cuda.manual_seed 设定的种子，只作用于 cuda 设备


def manual_seed(seed):
    """为所有设备设定随机种子。edunn 用 numpy 的 PCG64，与 torch 的随机流不同。"""
    global _seed, _cuda_seed
    seed = int(seed)
    if seed < 0:
        raise RuntimeError(f"manual_seed expected a non-negative integer seed, got {seed}")
    _seed, _cuda_seed = seed, None
    _generators.clear()


def manual_seed_cuda(seed):
    """只为 cuda 设备设定随机种子（``edunn.cuda.manual_seed``）；没有 GPU 时也可以调用，与 torch 相同。"""
    global _cuda_seed
    seed = int(seed)
    if seed < 0:
        raise RuntimeError(f"manual_seed expected a non-negative integer seed, got {seed}")
    _cuda_seed = seed
    for key in [k for k in _generators if k.startswith("cuda")]:
        del _generators[key]


class _DeviceGenerator:
    """cuda 设备的随机数生成器：在 CPU 上用 PCG64 抽样，再把结果复制到 GPU。

    因为抽样方式与 cpu 设备完全相同，同一个种子在 cpu 与 cuda 上给出同样的随机数，
    章节的输出因此与设备无关。torch 不是这样：它的 cpu 与 cuda 随机流不同。
    代价是每次抽样多一次主机到 GPU 的复制。
    """

    def __init__(self, rng, dev):
        self._rng = rng
        self._device = dev

    def _sample(self, name, *args, **kwargs):
        values = getattr(self._rng, name)(*args, **kwargs)
        return move_array(values, self._device) if isinstance(values, np.ndarray) else values

    def random(self, *args, **kwargs):
        return self._sample("random", *args, **kwargs)

    def standard_normal(self, *args, **kwargs):
        return self._sample("standard_normal", *args, **kwargs)

    def normal(self, *args, **kwargs):
        return self._sample("normal", *args, **kwargs)

    def uniform(self, *args, **kwargs):
        return self._sample("uniform", *args, **kwargs)

    def integers(self, *args, **kwargs):
        return self._sample("integers", *args, **kwargs)

    def permutation(self, *args, **kwargs):
        return self._sample("permutation", *args, **kwargs)


def generator(dev):
    """设备 dev 的默认随机数生成器：cpu 上是 numpy 的 Generator，cuda 上是结果在 GPU 上的同一种生成器。"""
    key = str(dev)
    gen = _generators.get(key)
    if gen is None:
        seed = _cuda_seed if dev.type == "cuda" and _cuda_seed is not None else _seed
        rng = np.random.default_rng(seed if seed is not None else np.random.SeedSequence().entropy)
        if dev.type == "cuda":
            get_array_module(dev)  # 没有 cupy 或 GPU 时在这里给出清楚的错误
            rng = _DeviceGenerator(rng, dev)
        gen = rng
        _generators[key] = gen
    return gen


# ---------------------------------------------------------------------------
# 与设备有关的数组小工具（唯一允许区分 numpy / cupy 的地方）
# ---------------------------------------------------------------------------


def scatter_add(xp, target, index, values):
    """``target[index] += values``，重复下标会累加（numpy 的 add.at，cupy 的 scatter_add）。"""
    if xp is np:
        np.add.at(target, index, values)
    else:
        import cupyx

        cupyx.scatter_add(target, index, values)


def erf(xp, x):
    """逐元素的误差函数 erf。numpy 没有 erf：cpu 上用 scipy.special.erf，没有 scipy 时逐个调用 math.erf。"""
    if xp is np:
        try:
            from scipy.special import erf as scipy_erf
        except ImportError:
            return np.frompyfunc(math.erf, 1, 1)(x).astype(x.dtype)
        return scipy_erf(x).astype(x.dtype, copy=False)
    import cupyx.scipy.special

    return cupyx.scipy.special.erf(x)


def reshape_view(array, shape):
    """不复制地改变形状；做不到时返回 None。"""
    if isinstance(array, np.ndarray):
        try:
            return np.reshape(array, shape, copy=False)
        except ValueError:
            return None
    view = array.view()
    try:
        view.shape = shape
    except AttributeError:
        return None
    return view


def to_numpy(array):
    return array if isinstance(array, np.ndarray) else array.get()


def data_ptr(array):
    """数组第一个元素的地址（numpy 在主机内存里，cupy 在 GPU 显存里）。"""
    if isinstance(array, np.ndarray):
        return array.__array_interface__["data"][0]
    return array.data.ptr
