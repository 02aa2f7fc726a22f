"""A numpy-backed stand-in for CuPy that finds numpy-only code paths on machines without a GPU.

It keeps the rules of CuPy that numpy-only code breaks, so such code fails here as it would on a GPU:

- no implicit conversion to numpy: ``np.asarray(x)`` raises TypeError, ``x.get()`` copies to the host;
- no numpy arrays inside operations: functions, operators, indexing and assignment accept only these
  arrays, Python scalars and numpy scalars (``asarray``/``array`` are the way in);
- numpy functions and ufuncs called on these arrays dispatch here, as CuPy's ``__array_function__``
  and ``__array_ufunc__`` do;
- no bfloat16, and full reductions return 0-d arrays rather than scalars;
- ``cupyx.scatter_add`` accepts only the dtypes that CuPy's atomic add supports (no int64).

It is not a GPU: values, speed, asynchronous execution and kernel compilation tell nothing about CuPy.
It reports one device, ``cuda:0``. Run the suite against it with::

    PYTHONPATH=tools/fake_cupy:. EDUNN_DEVICE=cuda python -m pytest tests

NOTE: the rules were written from CuPy's documentation and source. A function that numpy has and CuPy
lacks still works here, so such a call is found only on a real GPU.
"""

import types

import numpy as _np

__version__ = "0.0.0+numpy-stand-in"

_ENTRY_POINTS = {"asarray", "array", "asanyarray", "ascontiguousarray"}


def _reject(value):
    raise TypeError(f"Unsupported type {type(value)}")


def _unwrap(value, allow_numpy=False):
    if isinstance(value, ndarray):
        return value._a
    if isinstance(value, _np.ndarray):
        if allow_numpy:
            return value
        _reject(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_unwrap(item, allow_numpy) for item in value)
    return value


def _wrap(value):
    if isinstance(value, _np.ndarray):
        if value.dtype.name == "bfloat16":
            raise TypeError("Unsupported dtype bfloat16")
        return ndarray(value)
    if isinstance(value, _np.generic):
        return _wrap(_np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(item) for item in value)
    if isinstance(value, list):
        return [_wrap(item) for item in value]
    return value


def _call(function, args, kwargs, allow_numpy=False):
    args = _unwrap(args, allow_numpy)
    kwargs = {key: _unwrap(item, allow_numpy) for key, item in kwargs.items()}
    return _wrap(function(*args, **kwargs))


class _Device:
    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)
        if self.id != 0:
            raise RuntimeError(f"cudaErrorInvalidDevice: invalid device ordinal {self.id}")

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def synchronize(self):
        pass


class _Pointer:
    def __init__(self, address):
        self.ptr = address


class ndarray:
    """A device array: a numpy array that refuses to be mixed with host arrays."""

    __slots__ = ("_a",)
    __hash__ = None

    def __init__(self, array):
        self._a = array

    # host transfer ------------------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a "
            "NumPy array explicitly."
        )

    def get(self):
        return self._a.copy()

    # numpy protocols ----------------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _call(getattr(ufunc, method), inputs, kwargs)

    def __array_function__(self, function, types_, args, kwargs):
        return _call(function, args, kwargs)

    # attributes ---------------------------------------------------------------------------------
    @property
    def shape(self):
        return self._a.shape

    @shape.setter
    def shape(self, value):
        self._a.shape = value

    @property
    def device(self):
        return _Device(0)

    @property
    def data(self):
        return _Pointer(self._a.__array_interface__["data"][0])

    def __getattr__(self, name):
        if name.startswith("__"):
            # __array_interface__, __array_struct__, __dlpack__ ...: numpy would use them to copy silently
            raise AttributeError(name)
        attribute = getattr(self._a, name)
        if callable(attribute):
            return lambda *args, **kwargs: _call(attribute, args, kwargs)
        return _wrap(attribute)

    # indexing -----------------------------------------------------------------------------------
    def __getitem__(self, index):
        return _wrap(self._a[_unwrap(index)])

    def __setitem__(self, index, value):
        self._a[_unwrap(index)] = _unwrap(value)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_wrap(row) for row in self._a)

    # conversion to Python scalars (these copy to the host in CuPy too) --------------------------
    def __bool__(self):
        return bool(self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __index__(self):
        return self._a.__index__()

    def __repr__(self):
        return repr(self._a).replace("array(", "fake_cupy_array(", 1)


def _operator(ufunc, reflected=False):
    if reflected:
        return lambda self, other: ufunc(other, self)
    return lambda self, other: ufunc(self, other)


def _in_place(ufunc):
    def apply(self, other):
        ufunc(self, other, out=(self,))
        return self

    return apply


for _name, _ufunc in [("add", _np.add), ("sub", _np.subtract), ("mul", _np.multiply),
                      ("truediv", _np.true_divide), ("floordiv", _np.floor_divide), ("mod", _np.remainder),
                      ("pow", _np.power), ("matmul", _np.matmul), ("and", _np.bitwise_and),
                      ("or", _np.bitwise_or), ("xor", _np.bitwise_xor)]:
    setattr(ndarray, f"__{_name}__", _operator(_ufunc))
    setattr(ndarray, f"__r{_name}__", _operator(_ufunc, reflected=True))
    setattr(ndarray, f"__i{_name}__", _in_place(_ufunc))
for _name, _ufunc in [("eq", _np.equal), ("ne", _np.not_equal), ("lt", _np.less), ("le", _np.less_equal),
                      ("gt", _np.greater), ("ge", _np.greater_equal)]:
    setattr(ndarray, f"__{_name}__", _operator(_ufunc))
ndarray.__neg__ = lambda self: _np.negative(self)
ndarray.__pos__ = lambda self: _np.positive(self)
ndarray.__abs__ = lambda self: _np.absolute(self)
ndarray.__invert__ = lambda self: _np.invert(self)


# module-level functions and constants -------------------------------------------------------------
def asnumpy(array):
    return array.get() if isinstance(array, ndarray) else _np.asarray(array)


def get_array_module(*arrays):
    import sys

    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in arrays) else _np


def _function(name, numpy_function):
    allow_numpy = name in _ENTRY_POINTS

    def function(*args, **kwargs):
        return _call(numpy_function, args, kwargs, allow_numpy)

    function.__name__ = name
    return function


def __getattr__(name):
    attribute = getattr(_np, name)
    if isinstance(attribute, types.ModuleType):
        raise AttributeError(f"the CuPy stand-in has no submodule {name!r}")
    if isinstance(attribute, type) or not callable(attribute):
        return attribute  # dtypes (float32, bool_, ...) and constants (pi, inf, newaxis)
    function = _function(name, attribute)
    globals()[name] = function
    return function


def _as_strided(x, shape=None, strides=None):
    from numpy.lib import stride_tricks

    return _wrap(stride_tricks.as_strided(_unwrap(x), shape, strides))


def _sliding_window_view(x, window_shape, axis=None, *, subok=False, writeable=False):
    from numpy.lib import stride_tricks

    return _wrap(stride_tricks.sliding_window_view(_unwrap(x), window_shape, axis, subok=subok, writeable=writeable))


# CuPy's cupy.lib.stride_tricks has these two functions, with these signatures.
lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(
    as_strided=_as_strided, sliding_window_view=_sliding_window_view))


def _device_count():
    return 1


def _device_properties(index):
    _Device(index)
    return {"name": b"edunn CuPy stand-in (numpy, no GPU)"}


cuda = types.SimpleNamespace(
    Device=_Device,
    runtime=types.SimpleNamespace(
        getDeviceCount=_device_count,
        getDevice=lambda: 0,
        getDeviceProperties=_device_properties,
        deviceSynchronize=lambda: None,
    ),
)
