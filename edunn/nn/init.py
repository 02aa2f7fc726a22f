r"""``edunn.nn.init``：参数初始化。每个函数就地改写张量（在 no_grad 下进行，版本号加一）并返回它。

分布的参数（界限、标准差、fan 的算法）与 torch 完全相同；随机数来自 edunn 自己的生成器，
所以具体数值与 torch 不同，只在统计意义上一致。

几个初始化的依据（fan_in / fan_out 见 ``_calculate_fan_in_and_fan_out``）：

- Xavier（Glorot）：$\mathrm{std} = \text{gain}\sqrt{2 / (\text{fan\_in} + \text{fan\_out})}$，让前向与反向的方差都大致不变；
- Kaiming（He）：$\mathrm{std} = \text{gain} / \sqrt{\text{fan}}$，为 ReLU 一类只保留一半信号的激活设计；
- 均匀分布 $U(-b, b)$ 的标准差是 $b / \sqrt{3}$，所以均匀版本取 $b = \sqrt{3}\,\mathrm{std}$。

``generator`` 参数（与 torch 接受 ``torch.Generator`` 的位置相同）：None 时用 edunn 的全局随机流；
也可以传入 ``edunn.Generator``，或直接传一个 ``numpy.random.Generator``（cuda 张量也可传 ``cupy.random.Generator``）。
"""

import math
import warnings

import numpy as np

from .. import _backend
from .._generator import Generator
from .._ops.pointwise import xp_of
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
    "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
    "sparse_",
]

_LINEAR_LIKE = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    r"""激活函数对应的推荐增益（gain），用来放大初始化的标准差。

    ========================  ==============================================
    linear、conv*、sigmoid     $1$
    tanh                      $5/3$
    relu                      $\sqrt{2}$
    leaky_relu                $\sqrt{2 / (1 + \text{negative\_slope}^2)}$，param 默认 0.01
    selu                      $3/4$
    ========================  ==============================================
    """
    if nonlinearity in _LINEAR_LIKE or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif (isinstance(param, int) and not isinstance(param, bool)) or isinstance(param, float):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    """``fan_in = size(1) * 感受野``、``fan_out = size(0) * 感受野``，感受野是第 2 维之后各维的乘积。

    对 Linear 的 weight ``(out, in)`` 就是 ``(in, out)``；对卷积核 ``(C_out, C_in, kh, kw)`` 是
    ``(C_in * kh * kw, C_out * kh * kw)``。
    """
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive_field_size = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field_size, tensor.shape[0] * receptive_field_size


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


# ---------------------------------------------------------------------------
# 采样与写回
# ---------------------------------------------------------------------------


def _sampling_dtype(tensor):
    """numpy 只能直接生成 float32/float64；半精度先按 float32 生成再转换。"""
    if tensor.dtype in (_backend.float32, _backend.float64):
        return tensor.dtype.numpy
    return np.float32


def _require_floating(kernel, tensor):
    if not tensor.dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{tensor.dtype._torch_name}\'')


def _generator(tensor, generator):
    """返回 numpy/cupy 的随机数生成器：edunn.Generator 取出它内部的那一个。"""
    if generator is None:
        return _backend.generator(tensor.device)
    if isinstance(generator, Generator):
        return generator._rng
    return generator


def _write(tensor, values):
    """把 values 写进 tensor 的存储（no_grad 下的就地复制，版本号加一）；values 可以在另一台设备上。"""
    values = _backend.move_array(values.astype(tensor.dtype.numpy, copy=False), tensor.device)
    with no_grad():
        tensor.copy_(Tensor._wrap(values, tensor.device))
    return tensor


def _uniform(tensor, a, b, generator):
    gen = _generator(tensor, generator)
    values = gen.random(tuple(tensor.shape), dtype=_sampling_dtype(tensor))
    return _write(tensor, values * (b - a) + a)


def _normal(tensor, mean, std, generator):
    gen = _generator(tensor, generator)
    values = gen.standard_normal(tuple(tensor.shape), dtype=_sampling_dtype(tensor))
    return _write(tensor, values * std + mean)


# ---------------------------------------------------------------------------
# 基本分布与常数
# ---------------------------------------------------------------------------


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """用 $U(a, b)$ 填充。"""
    _require_floating("check_uniform_bounds", tensor)
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}")
    return _uniform(tensor, a, b, generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    r"""用 $\mathcal{N}(\text{mean}, \text{std}^2)$ 填充。"""
    _require_floating("normal_kernel_cpu", tensor)
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    return _normal(tensor, mean, std, generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    r"""截断正态分布：$\mathcal{N}(\text{mean}, \text{std}^2)$ 限制在 $[a, b]$ 上（a、b 是绝对值，不是标准差的倍数）。

    用拒绝采样：$[a, b]$ 覆盖的概率较大时直接从正态分布抽、丢掉区间外的；较小时改为在 $[a, b]$
    上均匀地抽候选，按正态密度与区间内密度峰值之比接受，避免几乎全被拒绝。
    """
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of values may be "
            "incorrect.",
            UserWarning,
            stacklevel=2,
        )
    _require_floating("normal_kernel_cpu", tensor)
    gen = _generator(tensor, generator)
    shape = tuple(tensor.shape)
    dtype = _sampling_dtype(tensor)

    def normal_cdf(value):
        return (1.0 + math.erf(value / math.sqrt(2.0))) / 2.0

    coverage = normal_cdf((b - mean) / std) - normal_cdf((a - mean) / std)
    if coverage > 0.3:
        def draw():
            candidates = gen.standard_normal(shape, dtype=dtype) * std + mean
            return candidates, (candidates >= a) & (candidates <= b)
    else:
        mode = max(a, min(mean, b))  # 区间内密度最大的点
        log_peak = -0.5 * ((mode - mean) / std) ** 2

        def draw():
            candidates = gen.random(shape, dtype=dtype) * (b - a) + a
            log_density = -0.5 * ((candidates - mean) / std) ** 2 - log_peak
            # 1 - U 落在 (0, 1]，取对数不会遇到 log(0)
            return candidates, xp_of(candidates).log1p(-gen.random(shape, dtype=dtype)) <= log_density

    values, accepted = draw()
    xp = xp_of(values)
    pending = ~accepted
    while bool(pending.any()):
        candidates, accepted = draw()
        values = xp.where(pending & accepted, candidates, values)
        pending = pending & ~accepted
    return _write(tensor, values)


def constant_(tensor, val):
    """全部填成 val。"""
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    with no_grad():
        return tensor.zero_()


def eye_(tensor):
    """二维张量填成单位矩阵（非方阵时主对角线为 1）；Linear 用它可保持输入不变。"""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _write(tensor, tensor._xp.eye(*tensor.shape))


def dirac_(tensor, groups=1):
    """卷积核填成 Dirac delta：每组前 ``min(C_out/groups, C_in)`` 个通道原样通过，卷积等于恒等映射。"""
    dimensions = tensor.dim()
    if dimensions not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = sizes[0] // groups
    values = np.zeros(tuple(sizes))
    center = tuple(size // 2 for size in sizes[2:])
    for g in range(groups):
        for d in range(min(out_per_group, sizes[1])):
            values[(g * out_per_group + d, d) + center] = 1
    return _write(tensor, tensor._xp.asarray(values))


# ---------------------------------------------------------------------------
# Xavier 与 Kaiming
# ---------------------------------------------------------------------------


def xavier_uniform_(tensor, gain=1.0, generator=None):
    r"""$U(-b, b)$，$b = \text{gain}\sqrt{6 / (\text{fan\_in} + \text{fan\_out})}$。"""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    r"""$\mathcal{N}(0, \mathrm{std}^2)$，$\mathrm{std} = \text{gain}\sqrt{2 / (\text{fan\_in} + \text{fan\_out})}$。"""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    r"""$U(-b, b)$，$b = \text{gain}\sqrt{3 / \text{fan}}$；``a`` 是 leaky_relu 的负斜率，``mode`` 选 fan_in 或 fan_out。

    ``nn.Linear`` 与 ``nn.Conv2d`` 的默认初始化就是 ``kaiming_uniform_(w, a=math.sqrt(5))``。
    """
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", UserWarning, stacklevel=2)
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    r"""$\mathcal{N}(0, \mathrm{std}^2)$，$\mathrm{std} = \text{gain} / \sqrt{\text{fan}}$。"""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", UserWarning, stacklevel=2)
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


# ---------------------------------------------------------------------------
# 正交与稀疏
# ---------------------------------------------------------------------------


def orthogonal_(tensor, gain=1, generator=None):
    """（半）正交矩阵：对标准正态矩阵做 QR 分解取 Q，再按 R 对角线的符号翻转各列，
    使 Q 在正交矩阵上均匀分布。二维以上的张量按 ``(size(0), 其余)`` 展平处理。
    """
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    gen = _generator(tensor, generator)
    flattened = gen.standard_normal((rows, cols), dtype=_sampling_dtype(tensor))
    xp = xp_of(flattened)
    if rows < cols:
        flattened = flattened.T
    q, r = xp.linalg.qr(flattened)
    q = q * xp.sign(xp.diagonal(r))
    if rows < cols:
        q = q.T
    return _write(tensor, (q * gain).reshape(tuple(tensor.shape)))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    r"""二维张量：先按 $\mathcal{N}(0, \mathrm{std}^2)$ 填充，再在每一列随机选 ``ceil(sparsity * rows)`` 个元素置 0。"""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    gen = _generator(tensor, generator)
    values = gen.standard_normal((rows, cols), dtype=_sampling_dtype(tensor)) * std
    for column in range(cols):
        values[gen.permutation(rows)[:num_zeros], column] = 0
    return _write(tensor, values)


def _deprecated(function):
    new_name = function.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(
            f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.",
            FutureWarning,
            stacklevel=2,
        )
        return function(*args, **kwargs)

    deprecated_init.__name__ = old_name
    deprecated_init.__doc__ = f"已弃用，请用 ``{new_name}``。"
    return deprecated_init


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
