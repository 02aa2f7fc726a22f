"""edunn.nn.init 对照 torch。

增益与 fan 的公式直接比较数值；随机初始化的分布用两样本 Kolmogorov–Smirnov 检验与 torch 的样本比较
（两边随机流不同，但种子固定，所以结果可复现）。界限或标准差差 5% 就会被检验发现。
"""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.init as TI
from scipy import stats

import edunn
from edunn.nn import init
from edunn.testing import assert_close, from_torch

# 样本量与阈值：n = 200000 时，标准差差 5% 的两个正态分布，KS 检验的 p 值约 1e-15，远低于阈值
SAMPLES = (500, 400)
P_VALUE_FLOOR = 1e-4


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    edunn.manual_seed(0)


def _samples(initializer, shape=SAMPLES, *args, **kwargs):
    """同一个初始化函数在两边各跑一次，返回 (edunn 样本, torch 样本) 两个一维数组。"""
    module_name = initializer
    ours = edunn.empty(*shape, dtype=edunn.float64)
    theirs = torch.empty(*shape, dtype=torch.float64)
    getattr(init, module_name)(ours, *args, **kwargs)
    getattr(TI, module_name)(theirs, *args, **kwargs)
    return ours.numpy().ravel(), theirs.numpy().ravel()


def assert_same_distribution(ours, theirs):
    result = stats.ks_2samp(ours, theirs)
    assert result.pvalue > P_VALUE_FLOOR, f"KS statistic {result.statistic:.4f}, p = {result.pvalue:.2e}"


# ---------------------------------------------------------------------------
# 增益与 fan
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None), ("conv_transpose2d", None),
    ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
    ("leaky_relu", 3), ("leaky_relu", math.sqrt(5)), ("selu", None),
])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == TI.calculate_gain(nonlinearity, param)


@pytest.mark.parametrize("nonlinearity, param, message", [
    ("foo", None, "Unsupported nonlinearity foo"),
    ("leaky_relu", True, "negative_slope True not a valid number"),
    ("leaky_relu", "0.1", "negative_slope 0.1 not a valid number"),
])
def test_calculate_gain_rejects_like_torch(nonlinearity, param, message):
    with pytest.raises(ValueError) as expected:
        TI.calculate_gain(nonlinearity, param)
    assert str(expected.value) == message
    with pytest.raises(ValueError, match=f"^{message}$"):
        init.calculate_gain(nonlinearity, param)


@pytest.mark.parametrize("shape", [(3, 4), (5, 2), (6, 3, 5), (8, 4, 3, 3), (2, 3, 1, 2, 4), (4, 0)])
def test_fan_in_and_fan_out_match_torch(shape):
    ours = init._calculate_fan_in_and_fan_out(edunn.empty(*shape))
    theirs = TI._calculate_fan_in_and_fan_out(torch.empty(*shape))
    assert ours == theirs


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "FAN_OUT"])
def test_correct_fan_matches_torch(mode):
    assert init._calculate_correct_fan(edunn.empty(8, 4, 3, 3), mode) == \
        TI._calculate_correct_fan(torch.empty(8, 4, 3, 3), mode)


def test_fan_of_vector_raises_like_torch():
    message = "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
    with pytest.raises(ValueError, match=message):
        init._calculate_fan_in_and_fan_out(edunn.empty(3))
    with pytest.raises(ValueError, match=message):
        TI._calculate_fan_in_and_fan_out(torch.empty(3))


def test_bad_fan_mode_raises_like_torch():
    with pytest.raises(ValueError) as expected:
        TI.kaiming_uniform_(torch.empty(3, 4), mode="foo")
    with pytest.raises(ValueError) as actual:
        init.kaiming_uniform_(edunn.empty(3, 4), mode="foo")
    assert str(actual.value) == str(expected.value)


# ---------------------------------------------------------------------------
# 分布
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("initializer, args, kwargs", [
    ("uniform_", (), {}),
    ("uniform_", (-3.0, 0.5), {}),
    ("normal_", (), {}),
    ("normal_", (2.0, 0.3), {}),
    ("xavier_uniform_", (), {}),
    ("xavier_uniform_", (), {"gain": 5.0 / 3}),
    ("xavier_normal_", (), {"gain": 2.0}),
    ("kaiming_uniform_", (), {}),
    ("kaiming_uniform_", (), {"a": math.sqrt(5)}),
    ("kaiming_uniform_", (), {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", (), {}),
    ("kaiming_normal_", (), {"a": 0.1, "mode": "fan_out", "nonlinearity": "leaky_relu"}),
    ("trunc_normal_", (), {}),
    ("trunc_normal_", (), {"mean": 0.5, "std": 2.0, "a": -1.0, "b": 3.0}),
    ("trunc_normal_", (), {"mean": 0.0, "std": 1.0, "a": 2.0, "b": 3.0}),  # 覆盖率小于 0.3 的分支
])
def test_initializer_distribution_matches_torch(initializer, args, kwargs):
    ours, theirs = _samples(initializer, SAMPLES, *args, **kwargs)
    assert_same_distribution(ours, theirs)


@pytest.mark.parametrize("shape", [(200, 50), (20, 10, 5, 5)])
def test_kaiming_uniform_bound_matches_torch_formula(shape):
    weight = edunn.empty(*shape, dtype=edunn.float64)
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    fan_in, _ = TI._calculate_fan_in_and_fan_out(torch.empty(*shape))
    bound = math.sqrt(3.0) * TI.calculate_gain("leaky_relu", math.sqrt(5)) / math.sqrt(fan_in)
    values = weight.numpy()
    assert values.max() < bound
    assert values.min() >= -bound
    assert values.max() > 0.99 * bound  # 样本足够多时应贴近界限


@pytest.mark.parametrize("shape", [(300, 200), (30, 20, 5, 5)])
def test_xavier_normal_std_matches_torch_formula(shape):
    weight = edunn.empty(*shape, dtype=edunn.float64)
    init.xavier_normal_(weight, gain=1.5)
    fan_in, fan_out = TI._calculate_fan_in_and_fan_out(torch.empty(*shape))
    expected_std = 1.5 * math.sqrt(2.0 / (fan_in + fan_out))
    assert abs(weight.numpy().std() / expected_std - 1) < 0.02


@pytest.mark.parametrize("kwargs", [{}, {"mean": 1.0, "std": 0.5, "a": 0.0, "b": 1.2}, {"a": 2.0, "b": 2.5}])
def test_trunc_normal_stays_inside_bounds(kwargs):
    weight = edunn.empty(500, 100)
    init.trunc_normal_(weight, **kwargs)
    values = weight.numpy()
    assert values.min() >= kwargs.get("a", -2.0)
    assert values.max() <= kwargs.get("b", 2.0)


def test_trunc_normal_far_mean_warns_like_torch():
    with pytest.warns(UserWarning, match="mean is more than 2 std from \\[a, b\\] in nn.init.trunc_normal_"):
        init.trunc_normal_(edunn.empty(10), mean=5.0, std=1.0, a=-1.0, b=1.0)


def test_float32_initializers_keep_dtype():
    for name in ("uniform_", "normal_", "trunc_normal_", "kaiming_uniform_", "xavier_normal_", "orthogonal_"):
        weight = edunn.empty(4, 3)
        assert getattr(init, name)(weight).dtype is edunn.float32


# ---------------------------------------------------------------------------
# 就地语义
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name, args", [
    ("uniform_", ()), ("normal_", ()), ("trunc_normal_", ()), ("constant_", (0.5,)), ("ones_", ()), ("zeros_", ()),
    ("eye_", ()), ("xavier_uniform_", ()), ("xavier_normal_", ()), ("kaiming_uniform_", ()), ("kaiming_normal_", ()),
    ("orthogonal_", ()), ("sparse_", (0.5,)),
])
def test_initializer_works_in_place_without_recording_grad(name, args):
    weight = edunn.empty(4, 3, requires_grad=True)
    version = weight._version
    out = getattr(init, name)(weight, *args)
    assert out is weight
    assert weight._version > version
    assert weight.grad_fn is None
    assert weight.requires_grad


def test_constant_ones_zeros_eye_dirac_match_torch():
    for name, shape, args in [("constant_", (2, 3), (0.25,)), ("ones_", (2, 3), ()), ("zeros_", (2, 3), ()),
                              ("eye_", (2, 3), ()), ("eye_", (4, 2), ()), ("dirac_", (4, 2, 3), ()),
                              ("dirac_", (4, 2, 3, 3), (2,)), ("dirac_", (6, 3, 3, 1, 3), (3,))]:
        ours, theirs = edunn.empty(*shape), torch.empty(*shape)
        getattr(init, name)(ours, *args)
        getattr(TI, name)(theirs, *args)
        assert_close(ours, theirs, rtol=0, atol=0, msg=name)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 2, 3), (6, 6)])
def test_orthogonal_gives_orthonormal_rows_or_columns(shape):
    weight = edunn.empty(*shape, dtype=edunn.float64)
    init.orthogonal_(weight, gain=2.0)
    flat = weight.numpy().reshape(shape[0], -1) / 2.0
    rows, cols = flat.shape
    gram = flat @ flat.T if rows <= cols else flat.T @ flat
    assert np.allclose(gram, np.eye(min(rows, cols)), rtol=0, atol=1e-12)


def test_orthogonal_entries_match_torch_distribution():
    ours, theirs = [], []
    for _ in range(40):
        weight = edunn.empty(30, 30, dtype=edunn.float64)
        init.orthogonal_(weight)
        ours.append(weight.numpy().ravel())
        reference = torch.empty(30, 30, dtype=torch.float64)
        TI.orthogonal_(reference)
        theirs.append(reference.numpy().ravel())
    assert_same_distribution(np.concatenate(ours), np.concatenate(theirs))


def test_sparse_zeroes_the_same_count_per_column_as_torch():
    ours, theirs = edunn.empty(10, 6), torch.empty(10, 6)
    init.sparse_(ours, 0.35)
    TI.sparse_(theirs, 0.35)
    assert ((ours.numpy() == 0).sum(axis=0) == (theirs.numpy() == 0).sum(axis=0)).all()


def test_zero_element_kaiming_warns_and_does_nothing():
    weight = edunn.empty(0, 3)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        assert init.kaiming_uniform_(weight) is weight
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        assert init.kaiming_normal_(weight) is weight


def test_generator_argument_makes_draws_reproducible():
    first, second = edunn.empty(3, 4), edunn.empty(3, 4)
    init.kaiming_uniform_(first, generator=np.random.default_rng(7))
    init.kaiming_uniform_(second, generator=np.random.default_rng(7))
    assert (first.numpy() == second.numpy()).all()


def test_edunn_generator_makes_draws_reproducible():
    first, second = edunn.empty(3, 4), edunn.empty(3, 4)
    init.trunc_normal_(first, generator=edunn.Generator().manual_seed(5))
    init.trunc_normal_(second, generator=edunn.Generator().manual_seed(5))
    assert (first.numpy() == second.numpy()).all()
    init.orthogonal_(first, generator=edunn.Generator().manual_seed(5))
    init.orthogonal_(second, generator=edunn.Generator().manual_seed(5))
    assert (first.numpy() == second.numpy()).all()


def test_manual_seed_makes_draws_reproducible():
    first, second = edunn.empty(3, 4), edunn.empty(3, 4)
    edunn.manual_seed(11)
    init.normal_(first)
    edunn.manual_seed(11)
    init.normal_(second)
    assert (first.numpy() == second.numpy()).all()


@pytest.mark.parametrize("old_name", ["uniform", "normal", "constant", "eye", "xavier_uniform", "kaiming_normal"])
def test_deprecated_alias_warns_like_torch(old_name):
    args = (0.5,) if old_name == "constant" else ()
    with pytest.warns(FutureWarning, match=f"`nn.init.{old_name}` is now deprecated in favor of "
                                           f"`nn.init.{old_name}_`"):
        getattr(init, old_name)(edunn.empty(3, 3), *args)


# ---------------------------------------------------------------------------
# 错误输入
# ---------------------------------------------------------------------------

ERROR_CASES = {
    "uniform_bounds": lambda I, t: I.uniform_(t(3), 1.0, 0.0),
    "normal_std": lambda I, t: I.normal_(t(3), 0.0, -1.0),
    "uniform_integer": lambda I, t: I.uniform_(t(3, integer=True)),
    "normal_integer": lambda I, t: I.normal_(t(3, integer=True)),
    "trunc_normal_integer": lambda I, t: I.trunc_normal_(t(3, integer=True)),
    "eye_dims": lambda I, t: I.eye_(t(3)),
    "dirac_dims": lambda I, t: I.dirac_(t(3, 3)),
    "dirac_groups": lambda I, t: I.dirac_(t(3, 3, 3), groups=2),
    "orthogonal_dims": lambda I, t: I.orthogonal_(t(3)),
    "sparse_dims": lambda I, t: I.sparse_(t(3), 0.5),
    "xavier_vector": lambda I, t: I.xavier_uniform_(t(3)),
}


@pytest.mark.parametrize("name", ERROR_CASES)
def test_bad_input_raises_like_torch(name):
    def edunn_empty(*shape, integer=False):
        return edunn.empty(*shape, dtype=edunn.int64 if integer else edunn.float32)

    def torch_empty(*shape, integer=False):
        return torch.empty(*shape, dtype=torch.int64 if integer else torch.float32)

    with pytest.raises(Exception) as expected:
        ERROR_CASES[name](TI, torch_empty)
    with pytest.raises(Exception) as actual:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ERROR_CASES[name](init, edunn_empty)
    assert type(actual.value) is type(expected.value)
    assert str(actual.value) == str(expected.value)


def test_initializer_on_tensor_from_torch_keeps_shape():
    weight = from_torch(torch.zeros(5, 4))
    init.xavier_uniform_(weight)
    assert weight.shape == (5, 4)
    assert (weight.numpy() != 0).all()
