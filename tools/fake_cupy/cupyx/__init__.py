"""The part of ``cupyx`` that edunn uses, for the numpy-backed CuPy stand-in (see ``cupy/__init__.py``)."""

import numpy as _np

import cupy as _cupy

# CuPy's scatter_add is built on CUDA's atomic add and rejects other dtypes.
_SCATTER_ADD_DTYPES = (_np.int32, _np.float16, _np.float32, _np.float64, _np.uint32, _np.uint64)


def scatter_add(a, slices, value):
    if not isinstance(a, _cupy.ndarray):
        raise TypeError(f"Unsupported type {type(a)}")
    values = value._a if isinstance(value, _cupy.ndarray) else _np.asarray(value, dtype=a.dtype)
    if isinstance(value, _np.ndarray):
        raise TypeError(f"Unsupported type {type(value)}")
    if not issubclass(values.dtype.type, _SCATTER_ADD_DTYPES):
        raise TypeError("scatter_add only supports int32, float16, float32, float64, uint32, uint64 as data type")
    _np.add.at(a._a, _cupy._unwrap(slices), values)
