"""edunn：动手重建 PyTorch 的核心，名字与语义都与 torch 2.13 对齐。"""

from . import autograd
from ._backend import (
    all_dtypes,
    bfloat16,
    can_cast,
    device,
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    manual_seed,
    promote_types,
    result_type,
    set_default_dtype,
    uint8,
)
from ._backend import bool_ as bool  # noqa: A001  与 torch.bool 同名
from ._creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from ._layout import layout, sparse_coo, strided
from ._sparse import SparseTensor, sparse_coo_tensor
from ._functions import *  # noqa: F401,F403  add、exp、cat、stack、where 等函数形式
from ._functions import cat, is_floating_point, is_tensor, max, maximum, min, minimum, norm, stack, where
from ._generator import Generator
from ._ops.memory_format import channels_last, channels_last_3d, contiguous_format, memory_format, preserve_format
from ._tensor import Size, Tensor
from .autograd.grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from . import cuda, nn, utils
from .serialization import load, save
from . import optim

half, float, double = float16, float32, float64  # noqa: A001
long, int = int64, int32  # noqa: A001

__version__ = "0.1.0"
