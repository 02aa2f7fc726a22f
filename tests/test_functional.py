"""edunn.nn.functional 对照 torch：float64 下输出与所有梯度 rtol 1e-10；错误输入的异常类型与信息。

输入在 torch 一侧生成（固定种子），再逐位复制给 edunn；``check_function`` 用同一个随机上游梯度
在两边各做一次反向传播，比较输出与每个 requires_grad 输入的梯度。
"""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import edunn
import edunn.nn.functional as F
from edunn.testing import assert_close, check_function, from_torch

RTOL, ATOL = 1e-10, 1e-12
FAST = settings(max_examples=30, deadline=None)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    edunn.manual_seed(0)


def randn(*shape, requires_grad=True, scale=1.0):
    """float64 的 edunn 张量，数值来自 torch 的随机流。"""
    return from_torch((torch.randn(shape, dtype=torch.float64) * scale).requires_grad_(requires_grad))


def rand(*shape, requires_grad=True):
    return from_torch(torch.rand(shape, dtype=torch.float64).requires_grad_(requires_grad))


def integers(low, high, shape):
    return from_torch(torch.randint(low, high, shape))


def assert_matches_torch(function, reference, *args, **kwargs):
    result = check_function(function, reference, *args, rtol=RTOL, atol=ATOL, **kwargs)
    assert result, repr(result)
    return result


# ---------------------------------------------------------------------------
# linear / bilinear
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("input_shape", [(5,), (4, 5), (2, 3, 5), (2, 1, 3, 5)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_matches_torch(input_shape, with_bias):
    bias = randn(3) if with_bias else None
    assert_matches_torch(F.linear, TF.linear, randn(*input_shape), randn(3, 5), bias)


def test_linear_accepts_vector_weight_and_broadcast_bias():
    assert_matches_torch(F.linear, TF.linear, randn(4, 5), randn(5))
    assert_matches_torch(F.linear, TF.linear, randn(4, 5), randn(3, 5), randn(4, 3))


@pytest.mark.parametrize("lead", [(), (4,), (2, 3)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_bilinear_matches_torch(lead, with_bias):
    bias = randn(6) if with_bias else None
    assert_matches_torch(F.bilinear, TF.bilinear, randn(*lead, 3), randn(*lead, 4), randn(6, 3, 4), bias)


# ---------------------------------------------------------------------------
# 卷积
# ---------------------------------------------------------------------------


@st.composite
def conv_cases(draw, spatial_dims):
    groups = draw(st.sampled_from([1, 2, 3]))
    c_in = groups * draw(st.integers(1, 2))
    c_out = groups * draw(st.integers(1, 2))
    kernel = [draw(st.integers(1, 3)) for _ in range(spatial_dims)]
    dilation = [draw(st.integers(1, 2)) for _ in range(spatial_dims)]
    padding_kind = draw(st.sampled_from(["int", "same", "valid"]))
    if padding_kind == "same":
        stride = [1] * spatial_dims
        padding = "same"
        pads = [d * (k - 1) for k, d in zip(kernel, dilation)]
    else:
        stride = [draw(st.integers(1, 3)) for _ in range(spatial_dims)]
        padding = [draw(st.integers(0, 2)) for _ in range(spatial_dims)] if padding_kind == "int" else "valid"
        pads = [2 * p for p in padding] if padding_kind == "int" else [0] * spatial_dims
    effective = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    sizes = [draw(st.integers(max(1, e - p), e - p + 5)) for e, p in zip(effective, pads)]
    batch = draw(st.sampled_from([None, 1, 3]))
    return dict(groups=groups, c_in=c_in, c_out=c_out, kernel=kernel, dilation=tuple(dilation),
                stride=tuple(stride), padding=padding if isinstance(padding, str) else tuple(padding),
                sizes=sizes, batch=batch, bias=draw(st.booleans()))


def _run_conv_case(function, reference, case):
    lead = () if case["batch"] is None else (case["batch"],)
    x = randn(*lead, case["c_in"], *case["sizes"])
    weight = randn(case["c_out"], case["c_in"] // case["groups"], *case["kernel"])
    bias = randn(case["c_out"]) if case["bias"] else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch 对偶数核的 padding="same" 发出一次性能提示
        assert_matches_torch(function, reference, x, weight, bias, stride=case["stride"], padding=case["padding"],
                             dilation=case["dilation"], groups=case["groups"])


@FAST
@given(conv_cases(2))
def test_conv2d_matches_torch(case):
    _run_conv_case(F.conv2d, TF.conv2d, case)


@settings(max_examples=20, deadline=None)
@given(conv_cases(1))
def test_conv1d_matches_torch(case):
    _run_conv_case(F.conv1d, TF.conv1d, case)


@settings(max_examples=8, deadline=None)
@given(conv_cases(3))
def test_conv3d_matches_torch(case):
    _run_conv_case(F.conv3d, TF.conv3d, case)


def test_conv2d_int_arguments_expand_to_both_dims():
    x, weight = randn(2, 3, 9, 8), randn(4, 3, 3, 2)
    assert_matches_torch(F.conv2d, TF.conv2d, x, weight, None, 2, 1, 2, 1)


def test_conv2d_without_weight_grad_skips_saving_columns():
    x, weight = randn(2, 3, 6, 6), randn(4, 3, 3, 3, requires_grad=False)
    out = F.conv2d(x, weight)
    assert out.grad_fn.cols is None
    assert_matches_torch(F.conv2d, TF.conv2d, x, weight)


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=1, dilation=(2, 1)),
    dict(kernel_size=2, stride=2),
])
def test_unfold_matches_torch(kwargs):
    assert_matches_torch(F.unfold, TF.unfold, randn(2, 3, 7, 6), **kwargs)
    assert_matches_torch(F.unfold, TF.unfold, randn(3, 7, 6), **kwargs)


@pytest.mark.parametrize("kwargs", [
    dict(output_size=(5, 6), kernel_size=(2, 3), padding=1, stride=(2, 1)),
    dict(output_size=4, kernel_size=2, dilation=2),
])
def test_fold_matches_torch(kwargs):
    kernel = kwargs["kernel_size"]
    kernel = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    blocks = TF.unfold(torch.zeros(1, 1, *(kwargs["output_size"] if isinstance(kwargs["output_size"], tuple)
                                           else (kwargs["output_size"],) * 2)),
                       kernel, kwargs.get("dilation", 1), kwargs.get("padding", 0), kwargs.get("stride", 1)).shape[-1]
    assert_matches_torch(F.fold, TF.fold, randn(2, 3 * kernel[0] * kernel[1], blocks), **kwargs)


def test_unfold_then_matmul_equals_conv2d():
    x, weight = randn(2, 3, 6, 5, requires_grad=False), randn(4, 3, 3, 3, requires_grad=False)
    cols = F.unfold(x, 3)  # (N, C * 9, L)
    out = (weight.reshape(4, -1) @ cols).reshape(2, 4, 4, 3)
    assert_close(out, F.conv2d(x, weight), rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------------------
# 填充
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("amounts", [(1, 2), (2, 0, 1, 3), (-1, 2, 1, -2), (1, 1, 0, 2, 3, 1)])
def test_constant_pad_matches_torch(amounts):
    assert_matches_torch(F.pad, TF.pad, randn(2, 3, 5, 4), amounts)
    assert_matches_torch(F.pad, TF.pad, randn(2, 3, 5, 4), amounts, value=-1.5)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape, amounts", [
    ((2, 5), (2, 1)),
    ((2, 3, 5), (1, 3)),
    ((2, 4, 5), (1, 2, 3, 1)),
    ((1, 2, 5, 4), (3, 0, 2, 1)),
    ((1, 2, 3, 4, 5), (1, 1, 2, 0, 1, 2)),
    ((2, 3, 5), (-1, 2)),
])
def test_nonconstant_pad_matches_torch(mode, shape, amounts):
    assert_matches_torch(F.pad, TF.pad, randn(*shape), amounts, mode=mode)


# ---------------------------------------------------------------------------
# 池化
# ---------------------------------------------------------------------------


@st.composite
def pool_cases(draw, with_dilation):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if with_dilation else (1, 1)
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    effective = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    sizes = [draw(st.integers(max(1, e - 2 * p), e + 6)) for e, p in zip(effective, padding)]
    ceil_mode = draw(st.booleans())
    # 每个窗口至少要盖住一个输入元素：torch 2.13 的 max_pool2d 反向在全是补零的窗口上会破坏内存
    for size, k, s, p, d in zip(sizes, kernel, stride, padding, dilation):
        out = _pool_out(size, k, s, p, d, ceil_mode)
        assume(all(any(0 <= o * s + j * d - p < size for j in range(k)) for o in range(out)))
    return dict(kernel=kernel, stride=stride, padding=padding, dilation=dilation, sizes=sizes,
                ceil_mode=ceil_mode, batched=draw(st.booleans()))


def _pool_out(size, k, s, p, d, ceil_mode):
    span = size + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    return out - 1 if ceil_mode and (out - 1) * s >= size + p else out


@FAST
@given(pool_cases(with_dilation=True))
def test_max_pool2d_matches_torch_with_indices(case):
    lead = (2, 3) if case["batched"] else (3,)
    assert_matches_torch(F.max_pool2d, TF.max_pool2d, randn(*lead, *case["sizes"]), case["kernel"], case["stride"],
                         case["padding"], case["dilation"], case["ceil_mode"], return_indices=True)


def test_max_pool2d_ties_pick_first_position_like_torch():
    x = from_torch(torch.randint(0, 2, (2, 2, 6, 6)).double().requires_grad_())
    assert_matches_torch(F.max_pool2d, TF.max_pool2d, x, 3, 1, 1, return_indices=True)


def test_max_pool2d_nan_wins_like_torch():
    values = torch.randn(1, 1, 4, 4, dtype=torch.float64)
    values[0, 0, 1, 0] = math.nan
    out, indices = F.max_pool2d(from_torch(values), 2, return_indices=True)
    expected, expected_indices = TF.max_pool2d(values, 2, return_indices=True)
    assert_close(out, expected, equal_nan=True)
    assert_close(indices, expected_indices)


def test_max_pool2d_all_minus_inf_window():
    values = torch.full((1, 1, 3, 3), -math.inf, dtype=torch.float64)
    out, indices = F.max_pool2d(from_torch(values), 2, 2, 1, return_indices=True)
    expected, expected_indices = TF.max_pool2d(values, 2, 2, 1, return_indices=True)
    assert_close(out, expected)
    assert_close(indices, expected_indices)


def test_max_pool2d_integer_input_matches_torch():
    values = torch.randint(-5, 5, (2, 3, 5, 5))
    out, indices = F.max_pool2d(from_torch(values), 2, 1, 1, return_indices=True)
    expected, expected_indices = TF.max_pool2d(values, 2, 1, 1, return_indices=True)
    assert_close(out, expected)
    assert_close(indices, expected_indices)


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=1), dict(ceil_mode=True, stride=2)])
def test_max_pool1d_matches_torch(kwargs):
    assert_matches_torch(F.max_pool1d, TF.max_pool1d, randn(2, 3, 9), 3, return_indices=True, **kwargs)
    assert_matches_torch(F.max_pool1d, TF.max_pool1d, randn(3, 9), 3, **kwargs)


@FAST
@given(pool_cases(with_dilation=False), st.booleans(), st.sampled_from([None, 1, 3]))
def test_avg_pool2d_matches_torch(case, count_include_pad, divisor_override):
    lead = (2, 3) if case["batched"] else (3,)
    assert_matches_torch(F.avg_pool2d, TF.avg_pool2d, randn(*lead, *case["sizes"]), case["kernel"], case["stride"],
                         case["padding"], case["ceil_mode"], count_include_pad, divisor_override)


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=1, count_include_pad=False),
                                    dict(ceil_mode=True, stride=2, padding=1)])
def test_avg_pool1d_matches_torch(kwargs):
    assert_matches_torch(F.avg_pool1d, TF.avg_pool1d, randn(2, 3, 9), 3, **kwargs)


@pytest.mark.parametrize("input_shape", [(2, 3, 7, 5), (3, 7, 5)])
@pytest.mark.parametrize("output_size", [1, (3, 2), (7, 5), (4, None), (None, 3), (9, 6)])
def test_adaptive_avg_pool2d_matches_torch(input_shape, output_size):
    assert_matches_torch(F.adaptive_avg_pool2d, TF.adaptive_avg_pool2d, randn(*input_shape), output_size)


# ---------------------------------------------------------------------------
# 归一化
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 5), (2, 3, 2, 2, 3)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_matches_torch(shape, affine):
    running_mean, running_var = randn(3, requires_grad=False), rand(3, requires_grad=False)
    weight, bias = (randn(3), randn(3)) if affine else (None, None)
    torch_stats = None
    for step in range(3):  # 多步更新，running 统计量的误差不会被一次调用掩盖
        result = assert_matches_torch(F.batch_norm, TF.batch_norm, randn(*shape), running_mean, running_var,
                                      weight, bias, True, 0.3, 1e-3)
        if torch_stats is None:
            torch_stats = result.torch_args[1:3]
        else:
            TF.batch_norm(result.torch_args[0].detach(), *torch_stats, training=True, momentum=0.3, eps=1e-3)
            torch_stats = [s.clone() for s in torch_stats]
    assert_close(running_mean, result.torch_args[1], rtol=RTOL, atol=ATOL)
    assert_close(running_var, result.torch_args[2], rtol=RTOL, atol=ATOL)


def test_batch_norm_running_stats_follow_torch_over_steps():
    mean_e, var_e = randn(4, requires_grad=False), rand(4, requires_grad=False)
    mean_t, var_t = torch.tensor(mean_e.numpy()), torch.tensor(var_e.numpy())
    for step in range(1, 6):
        x = torch.randn(8, 4, 3, dtype=torch.float64)
        momentum = 1.0 / step  # BatchNorm 在 momentum=None 时传入的累计平均系数
        F.batch_norm(from_torch(x), mean_e, var_e, training=True, momentum=momentum)
        TF.batch_norm(x, mean_t, var_t, training=True, momentum=momentum)
        assert_close(mean_e, mean_t, rtol=RTOL, atol=ATOL)
        assert_close(var_e, var_t, rtol=RTOL, atol=ATOL)


def test_batch_norm_running_var_uses_unbiased_estimate():
    x = randn(5, 2, requires_grad=False)
    running_mean, running_var = edunn.zeros(2, dtype=edunn.float64), edunn.zeros(2, dtype=edunn.float64)
    F.batch_norm(x, running_mean, running_var, training=True, momentum=1.0)
    assert_close(running_var, x.var(0, unbiased=True), rtol=RTOL, atol=ATOL)
    assert_close(running_mean, x.mean(0), rtol=RTOL, atol=ATOL)


def test_batch_norm_update_bumps_running_stat_versions():
    running_mean, running_var = edunn.zeros(3, dtype=edunn.float64), edunn.ones(3, dtype=edunn.float64)
    before = (running_mean._version, running_var._version)
    F.batch_norm(randn(4, 3), running_mean, running_var, training=True)
    assert running_mean._version > before[0]
    assert running_var._version > before[1]


@pytest.mark.parametrize("shape", [(6, 3), (2, 3, 4, 5)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_eval_matches_torch(shape, affine):
    weight, bias = (randn(3), randn(3)) if affine else (None, None)
    running_mean, running_var = randn(3, requires_grad=False), rand(3, requires_grad=False)
    result = assert_matches_torch(F.batch_norm, TF.batch_norm, randn(*shape), running_mean, running_var, weight,
                                  bias, False, 0.1, 1e-5)
    assert_close(running_mean, result.torch_args[1])


def test_batch_norm_training_without_running_stats_matches_torch():
    assert_matches_torch(F.batch_norm, TF.batch_norm, randn(4, 3, 5), None, None, randn(3), randn(3), True)


@pytest.mark.parametrize("shape, normalized", [((4, 5), (5,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)),
                                               ((6,), [6])])
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
def test_layer_norm_matches_torch(shape, normalized, affine):
    weight = randn(*normalized) if affine != "none" else None
    bias = randn(*normalized) if affine == "both" else None
    assert_matches_torch(F.layer_norm, TF.layer_norm, randn(*shape), normalized, weight, bias, 1e-4)


# ---------------------------------------------------------------------------
# 激活函数与 softmax
# ---------------------------------------------------------------------------

ACTIVATIONS = [
    ("relu", {}), ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.3}), ("gelu", {}),
    ("gelu", {"approximate": "tanh"}), ("silu", {}), ("tanh", {}), ("sigmoid", {}), ("elu", {"alpha": 0.7}),
    ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 3.0}), ("logsigmoid", {}), ("relu6", {}),
    ("hardtanh", {"min_val": -0.5, "max_val": 0.8}),
]


@pytest.mark.parametrize("name, kwargs", ACTIVATIONS)
def test_activation_matches_torch(name, kwargs):
    x = randn(4, 7, scale=3.0)
    assert_matches_torch(getattr(F, name), getattr(TF, name), x, **kwargs)


@pytest.mark.parametrize("name", ["gelu", "silu", "logsigmoid", "softplus", "elu", "sigmoid"])
def test_activation_extreme_inputs_match_torch(name):
    x = from_torch(torch.tensor([-800.0, -40.0, -8.0, 0.0, 8.0, 40.0, 800.0], dtype=torch.float64,
                                requires_grad=True))
    assert_matches_torch(getattr(F, name), getattr(TF, name), x)


@pytest.mark.parametrize("name, kwargs", [("relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("silu", {}),
                                          ("elu", {}), ("relu6", {}), ("hardtanh", {})])
def test_inplace_activation_returns_input_and_keeps_gradient(name, kwargs):
    source = randn(3, 4, scale=4.0)
    x = source * 1.0
    version = x._version
    out = getattr(F, name)(x, inplace=True, **kwargs)
    assert out is x
    assert x._version > version

    torch_source = torch.tensor(source.detach().numpy(), requires_grad=True)
    expected = getattr(TF, name)(torch_source * 1.0, inplace=False, **kwargs)
    assert_close(x, expected, rtol=RTOL, atol=ATOL)
    x.sum().backward()
    expected.sum().backward()
    assert_close(source.grad, torch_source.grad, rtol=RTOL, atol=ATOL)


def test_inplace_activation_on_grad_leaf_raises():
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        F.leaky_relu(randn(3), inplace=True)


@pytest.mark.parametrize("function", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("shape, dim", [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((2, 3, 4), 1), ((), 0)])
def test_softmax_family_matches_torch(function, shape, dim):
    assert_matches_torch(getattr(F, function), getattr(TF, function), randn(*shape, scale=5.0), dim)


@pytest.mark.parametrize("function", ["softmax", "log_softmax"])
def test_softmax_is_stable_for_large_logits(function):
    x = from_torch(torch.tensor([[1000.0, 0.0, -1000.0], [5e4, 5e4, 5e4]], dtype=torch.float64,
                                requires_grad=True))
    assert_matches_torch(getattr(F, function), getattr(TF, function), x, 1)


def test_softmax_dtype_argument_casts_first():
    x = from_torch(torch.randn(3, 4))
    out = F.softmax(x, 1, dtype=edunn.float64)
    assert out.dtype is edunn.float64
    assert_close(out, TF.softmax(torch.tensor(x.numpy()), 1, dtype=torch.float64), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4), (2, 3, 4, 5)])
def test_softmax_without_dim_warns_and_picks_torch_dim(shape):
    x = randn(*shape, requires_grad=False)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated"):
        out = F.softmax(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = TF.softmax(torch.tensor(x.numpy()))
    assert_close(out, expected, rtol=RTOL, atol=ATOL)


def test_float32_softmax_and_conv_stay_float32():
    x = from_torch(torch.randn(2, 3, 5, 5))
    assert F.softmax(x, 1).dtype is edunn.float32
    assert F.conv2d(x, from_torch(torch.randn(2, 3, 3, 3))).dtype is edunn.float32
    assert F.gelu(x).dtype is edunn.float32


# ---------------------------------------------------------------------------
# dropout
# ---------------------------------------------------------------------------


def test_dropout_zeroes_fraction_p_and_scales_the_rest():
    x = edunn.ones(200_000, dtype=edunn.float64)
    out = F.dropout(x, p=0.3)
    values = out.numpy()
    assert abs((values == 0).mean() - 0.3) < 0.005
    assert np.allclose(values[values != 0], 1 / 0.7, rtol=0, atol=1e-15)


def test_dropout_gradient_is_the_same_mask():
    x = randn(1000)
    out = F.dropout(x, p=0.5)
    out.sum().backward()
    scale = (out.detach() / x.detach()).numpy()
    assert_close(x.grad, from_torch(torch.from_numpy(scale)), rtol=RTOL, atol=ATOL)


def test_dropout_eval_and_p_zero_return_input_itself():
    x = randn(10)
    assert F.dropout(x, p=0.5, training=False) is x
    assert F.dropout(x, p=0.0) is x


def test_dropout_p_one_zeroes_everything():
    x = randn(10)
    out = F.dropout(x, p=1.0)
    assert (out.numpy(force=True) == 0).all()
    assert out.grad_fn is not None


def test_dropout_inplace_modifies_input():
    x = randn(1000) * 1.0
    out = F.dropout(x, p=0.5, inplace=True)
    assert out is x
    assert (x.detach().numpy() == 0).any()


def test_dropout_defaults_to_training():
    # F.dropout 不知道模型处于何种模式：不传 training 时总在丢弃
    x = edunn.ones(1000)
    assert (F.dropout(x).numpy() == 0).any()


def test_dropout_uses_edunn_seed():
    x = edunn.ones(100)
    edunn.manual_seed(3)
    first = F.dropout(x).numpy().copy()
    edunn.manual_seed(3)
    assert (F.dropout(x).numpy() == first).all()


# ---------------------------------------------------------------------------
# embedding 与 one_hot
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [dict(), dict(padding_idx=2), dict(padding_idx=-1), dict(scale_grad_by_freq=True),
                                    dict(padding_idx=0, scale_grad_by_freq=True)])
def test_embedding_matches_torch(kwargs):
    indices = from_torch(torch.tensor([[1, 2, 1, 0], [9, 2, 2, 5]]))
    assert_matches_torch(F.embedding, TF.embedding, indices, randn(10, 3), **kwargs)


def test_embedding_padding_row_gets_no_gradient():
    weight = randn(5, 3)
    F.embedding(from_torch(torch.tensor([0, 4, 4, 1])), weight, padding_idx=4).sum().backward()
    assert (weight.grad.numpy()[4] == 0).all()
    assert (weight.grad.numpy()[0] != 0).all()


def test_embedding_int32_indices_match_torch():
    assert_matches_torch(F.embedding, TF.embedding, from_torch(torch.tensor([3, 1], dtype=torch.int32)), randn(4, 2))


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0])
def test_embedding_max_norm_renormalises_rows(norm_type):
    weight = randn(6, 4, scale=2.0)
    indices = from_torch(torch.tensor([[0, 2], [2, 5]]))
    result = assert_matches_torch(F.embedding, TF.embedding, indices, weight, max_norm=1.5, norm_type=norm_type)
    assert_close(weight, result.torch_args[1], rtol=RTOL, atol=ATOL)
    unused = weight.detach().numpy()[[1, 3, 4]]
    assert np.linalg.norm(unused, ord=norm_type, axis=1).max() > 1.5  # 没用到的行保持原样


def test_one_hot_matches_torch():
    values = torch.tensor([[0, 3], [1, 1]])
    assert_close(F.one_hot(from_torch(values)), TF.one_hot(values))
    assert_close(F.one_hot(from_torch(values), 6), TF.one_hot(values, 6))


# ---------------------------------------------------------------------------
# 损失函数
# ---------------------------------------------------------------------------

REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_pointwise_loss_matches_torch(name, reduction):
    assert_matches_torch(getattr(F, name), getattr(TF, name), randn(3, 4), randn(3, 4), reduction=reduction)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_pointwise_loss_with_weight_matches_torch(name, reduction):
    assert_matches_torch(getattr(F, name), getattr(TF, name), randn(3, 4), randn(3, 4), reduction=reduction,
                         weight=rand(3, 4, requires_grad=True))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_pointwise_loss_broadcast_warns_like_torch(name):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = check_function(getattr(F, name), getattr(TF, name), randn(3, 1), randn(3), rtol=RTOL, atol=ATOL)
    assert result, repr(result)
    messages = [str(w.message) for w in caught if w.category is UserWarning]
    expected = [m.replace("torch.", "edunn.") for m in messages if "torch.Size" in m]
    assert expected and expected[0] in messages


def test_mse_loss_promotes_like_torch():
    x, target = from_torch(torch.randn(4)), from_torch(torch.randint(0, 3, (4,)))
    out = F.mse_loss(x, target)
    assert out.dtype is edunn.float32
    assert_close(out, TF.mse_loss(torch.tensor(x.numpy()), torch.tensor(target.numpy())))


@pytest.mark.parametrize("size_average, reduce, reduction", [(False, None, "sum"), (None, False, "none"),
                                                             (True, True, "mean")])
def test_legacy_reduction_arguments_warn_and_map_like_torch(size_average, reduce, reduction):
    x, target = randn(3, 4), randn(3, 4)
    with pytest.warns(UserWarning, match=f"please use reduction='{reduction}' instead"):
        out = F.mse_loss(x, target, size_average, reduce)
    assert_close(out, F.mse_loss(x, target, reduction=reduction), rtol=0, atol=0)


def _class_targets(shape, classes, ignore_index=-100, ignored=1):
    values = torch.randint(0, classes, shape)
    values.view(-1)[:ignored] = ignore_index
    return from_torch(values)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("input_shape", [(6, 4), (2, 4, 3), (2, 4, 3, 2)])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_matches_torch(reduction, input_shape, weighted):
    target_shape = (input_shape[0],) + input_shape[2:]
    weight = rand(4, requires_grad=False) if weighted else None
    assert_matches_torch(F.nll_loss, TF.nll_loss, randn(*input_shape), _class_targets(target_shape, 4, 3), weight,
                         ignore_index=3 if weighted else -100, reduction=reduction)


def test_nll_loss_unbatched_matches_torch():
    for reduction in REDUCTIONS:
        assert_matches_torch(F.nll_loss, TF.nll_loss, randn(5), from_torch(torch.tensor(2)), reduction=reduction)
        # torch 的反向不接受一维 input 配一维 target，这里只比较前向
        assert_matches_torch(F.nll_loss, TF.nll_loss, randn(5, requires_grad=False), from_torch(torch.tensor([3])),
                             reduction=reduction)


def test_nll_loss_accepts_uint8_targets():
    assert_matches_torch(F.nll_loss, TF.nll_loss, randn(4, 3), from_torch(torch.tensor([0, 2, 1, 2],
                                                                                     dtype=torch.uint8)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25, 1.0])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("input_shape", [(6, 5), (2, 5, 3, 2)])
def test_cross_entropy_class_indices_match_torch(reduction, label_smoothing, weighted, input_shape):
    target_shape = (input_shape[0],) + input_shape[2:]
    weight = rand(5, requires_grad=False) if weighted else None
    assert_matches_torch(F.cross_entropy, TF.cross_entropy, randn(*input_shape, scale=3.0),
                         _class_targets(target_shape, 5, ignored=2), weight, ignore_index=-100, reduction=reduction,
                         label_smoothing=label_smoothing)


def test_cross_entropy_custom_ignore_index_matches_torch():
    assert_matches_torch(F.cross_entropy, TF.cross_entropy, randn(6, 5), _class_targets((6,), 5, 1, 2),
                         ignore_index=1, label_smoothing=0.1)


def test_cross_entropy_unbatched_matches_torch():
    assert_matches_torch(F.cross_entropy, TF.cross_entropy, randn(5), from_torch(torch.tensor(3)),
                         label_smoothing=0.2)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_probability_targets_match_torch(reduction, label_smoothing, weighted):
    target = from_torch(torch.rand(4, 5, 3, dtype=torch.float64).softmax(1).requires_grad_())
    weight = rand(5, requires_grad=False) if weighted else None
    assert_matches_torch(F.cross_entropy, TF.cross_entropy, randn(4, 5, 3), target, weight, reduction=reduction,
                         label_smoothing=label_smoothing)


@pytest.mark.parametrize("function", ["nll_loss", "cross_entropy"])
def test_mean_loss_all_ignored_is_nan(function):
    x = randn(3, 4)
    target = from_torch(torch.full((3,), -100))
    out = getattr(F, function)(x, target)
    assert math.isnan(out.item())
    out.backward()
    torch_x = torch.tensor(x.detach().numpy(), requires_grad=True)
    getattr(TF, function)(torch_x, torch.full((3,), -100)).backward()
    assert_close(x.grad, torch_x.grad, equal_nan=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_matches_torch(reduction, weighted):
    probabilities = from_torch(torch.rand(3, 4, dtype=torch.float64).clamp(0.01, 0.99).requires_grad_())
    weight = rand(4, requires_grad=False) if weighted else None
    assert_matches_torch(F.binary_cross_entropy, TF.binary_cross_entropy, probabilities, rand(3, 4), weight,
                         reduction=reduction)


def test_binary_cross_entropy_clamps_log():
    probabilities = from_torch(torch.tensor([0.0, 1.0, 0.5, 1e-50], dtype=torch.float64, requires_grad=True))
    target = from_torch(torch.tensor([1.0, 0.0, 1.0, 0.3], dtype=torch.float64))
    assert_matches_torch(F.binary_cross_entropy, TF.binary_cross_entropy, probabilities, target, reduction="none")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("with_pos_weight", [False, True])
def test_binary_cross_entropy_with_logits_matches_torch(reduction, weighted, with_pos_weight):
    weight = rand(3, 1, requires_grad=False) if weighted else None
    pos_weight = rand(4, requires_grad=False) * 3 if with_pos_weight else None
    assert_matches_torch(F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits,
                         randn(3, 4, scale=10.0), rand(3, 4), weight, reduction=reduction, pos_weight=pos_weight)


# ---------------------------------------------------------------------------
# 反向节点的名字
# ---------------------------------------------------------------------------

NODE_CASES = {
    "conv2d": lambda F, x: F.conv2d(x, x[:2, :, :3, :3]),
    "max_pool2d": lambda F, x: F.max_pool2d(x, 2),
    "avg_pool2d": lambda F, x: F.avg_pool2d(x, 2),
    "adaptive_avg_pool2d": lambda F, x: F.adaptive_avg_pool2d(x, 2),
    "batch_norm": lambda F, x: F.batch_norm(x, None, None, training=True),
    "layer_norm": lambda F, x: F.layer_norm(x, (5,)),
    "leaky_relu": lambda F, x: F.leaky_relu(x),
    "gelu": lambda F, x: F.gelu(x),
    "silu": lambda F, x: F.silu(x),
    "softmax": lambda F, x: F.softmax(x, 1),
    "log_softmax": lambda F, x: F.log_softmax(x, 1),
    "mse_loss": lambda F, x: F.mse_loss(x, x.detach()),
    "nll_loss": lambda F, x: F.nll_loss(x[:, :, 0, 0], x.new_zeros(2).long()),
    "binary_cross_entropy": lambda F, x: F.binary_cross_entropy(x.sigmoid(), x.detach().sigmoid()),
    "binary_cross_entropy_with_logits": lambda F, x: F.binary_cross_entropy_with_logits(x, x.detach()),
    "pad": lambda F, x: F.pad(x, (1, 1)),
}


@pytest.mark.parametrize("name", NODE_CASES)
def test_grad_fn_name_matches_torch(name):
    x = randn(2, 3, 5, 5)
    expected = NODE_CASES[name](TF, torch.tensor(x.detach().numpy(), requires_grad=True)).grad_fn.name()
    assert NODE_CASES[name](F, x).grad_fn.name() == expected


# ---------------------------------------------------------------------------
# 错误输入：异常类型与信息都与 torch 相同
# ---------------------------------------------------------------------------


def _arrays(*shape, dtype=np.float32):
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


def _long(values):
    return np.asarray(values, dtype=np.int64)


ERROR_CASES = {
    "linear_in_features": lambda F, t: F.linear(t(_arrays(2, 3)), t(_arrays(5, 4))),
    "linear_3d_in_features": lambda F, t: F.linear(t(_arrays(2, 6, 3)), t(_arrays(5, 4))),
    "linear_bias_size": lambda F, t: F.linear(t(_arrays(2, 3)), t(_arrays(5, 3)), t(_arrays(4))),
    "linear_dtype": lambda F, t: F.linear(t(_arrays(2, 3)), t(_arrays(5, 3, dtype=np.float64))),
    "linear_0d_input": lambda F, t: F.linear(t(np.array(1.0, dtype=np.float32)), t(_arrays(5, 3))),
    "linear_3d_weight": lambda F, t: F.linear(t(_arrays(2, 3)), t(_arrays(5, 3, 1))),
    "bilinear_batch": lambda F, t: F.bilinear(t(_arrays(2, 3)), t(_arrays(3, 4)), t(_arrays(5, 3, 4))),
    "bilinear_input1": lambda F, t: F.bilinear(t(_arrays(2, 2)), t(_arrays(2, 4)), t(_arrays(5, 3, 4))),
    "bilinear_input2": lambda F, t: F.bilinear(t(_arrays(2, 3)), t(_arrays(2, 4)), t(_arrays(5, 3, 3))),
    "bilinear_bias": lambda F, t: F.bilinear(t(_arrays(2, 3)), t(_arrays(2, 4)), t(_arrays(5, 3, 4)),
                                             t(_arrays(4))),
    "bilinear_input2_dtype": lambda F, t: F.bilinear(t(_arrays(2, 3)), t(_arrays(2, 4, dtype=np.float64)),
                                                     t(_arrays(5, 3, 4))),
    "bilinear_bias_dtype": lambda F, t: F.bilinear(t(_arrays(2, 3)), t(_arrays(2, 4)), t(_arrays(5, 3, 4)),
                                                   t(_arrays(5, dtype=np.float64))),
    "conv2d_channels": lambda F, t: F.conv2d(t(_arrays(2, 3, 5, 5)), t(_arrays(4, 2, 3, 3))),
    "conv2d_groups_channels": lambda F, t: F.conv2d(t(_arrays(2, 3, 5, 5)), t(_arrays(4, 1, 3, 3)), groups=2),
    "conv2d_groups_out_channels": lambda F, t: F.conv2d(t(_arrays(2, 4, 5, 5)), t(_arrays(3, 2, 3, 3)), groups=2),
    "conv2d_input_dims": lambda F, t: F.conv2d(t(_arrays(3, 5)), t(_arrays(4, 3, 3, 3))),
    "conv2d_weight_dims": lambda F, t: F.conv2d(t(_arrays(2, 3, 5, 5)), t(_arrays(4, 3, 3))),
    "conv2d_weight_1d": lambda F, t: F.conv2d(t(_arrays(1, 3, 5, 5)), t(_arrays(4))),
    "conv2d_kernel_too_big": lambda F, t: F.conv2d(t(_arrays(2, 3, 5, 5)), t(_arrays(4, 3, 7, 7))),
    "conv2d_dilated_kernel_too_big": lambda F, t: F.conv2d(t(_arrays(1, 3, 5, 5)), t(_arrays(4, 3, 3, 3)),
                                                           dilation=3),
    "conv2d_same_strided": lambda F, t: F.conv2d(t(_arrays(2, 3, 5, 5)), t(_arrays(4, 3, 3, 3)), stride=2,
                                                 padding="same"),
    "conv2d_padding_string": lambda F, t: F.conv2d(t(_arrays(2, 3, 5, 5)), t(_arrays(4, 3, 3, 3)), padding="foo"),
    "conv2d_negative_padding": lambda F, t: F.conv2d(t(_arrays(2, 3, 5, 5)), t(_arrays(4, 3, 3, 3)), padding=-1),
    "conv2d_zero_stride": lambda F, t: F.conv2d(t(_arrays(2, 3, 5, 5)), t(_arrays(4, 3, 3, 3)), stride=0),
    "conv2d_negative_stride": lambda F, t: F.conv2d(t(_arrays(2, 3, 5, 5)), t(_arrays(4, 3, 3, 3)),
                                                    stride=(1, -1)),
    "conv2d_zero_dilation": lambda F, t: F.conv2d(t(_arrays(2, 3, 5, 5)), t(_arrays(4, 3, 3, 3)), dilation=0),
    "conv2d_zero_groups": lambda F, t: F.conv2d(t(_arrays(2, 3, 5, 5)), t(_arrays(4, 3, 3, 3)), groups=0),
    "conv2d_padding_length": lambda F, t: F.conv2d(t(_arrays(2, 3, 5, 5)), t(_arrays(4, 3, 3, 3)),
                                                   padding=(1, 1, 1)),
    "conv2d_bias_size": lambda F, t: F.conv2d(t(_arrays(2, 3, 5, 5)), t(_arrays(4, 3, 3, 3)), t(_arrays(3))),
    "conv2d_dtype": lambda F, t: F.conv2d(t(_arrays(2, 3, 5, 5)), t(_arrays(4, 3, 3, 3, dtype=np.float64))),
    "conv2d_bias_dtype": lambda F, t: F.conv2d(t(_arrays(1, 3, 5, 5)), t(_arrays(4, 3, 3, 3)),
                                               t(_arrays(4, dtype=np.float64))),
    "conv1d_input_dims": lambda F, t: F.conv1d(t(_arrays(2, 3, 5, 5)), t(_arrays(4, 3, 3))),
    "conv1d_channels": lambda F, t: F.conv1d(t(_arrays(2, 3, 5)), t(_arrays(4, 2, 3))),
    "max_pool2d_padding": lambda F, t: F.max_pool2d(t(_arrays(2, 3, 5, 5)), 3, padding=2),
    "max_pool2d_output_too_small": lambda F, t: F.max_pool2d(t(_arrays(1, 2, 2, 2)), 3),
    "max_pool2d_input_dims": lambda F, t: F.max_pool2d(t(_arrays(2, 2)), 1),
    "max_pool2d_zero_stride": lambda F, t: F.max_pool2d(t(_arrays(2, 3, 5, 5)), 2, stride=0),
    "max_pool2d_negative_stride": lambda F, t: F.max_pool2d(t(_arrays(1, 2, 5, 5)), 2, stride=-1),
    "max_pool2d_zero_kernel": lambda F, t: F.max_pool2d(t(_arrays(1, 2, 5, 5)), 0, stride=1),
    "max_pool2d_zero_dilation": lambda F, t: F.max_pool2d(t(_arrays(2, 3, 5, 5)), 2, dilation=0),
    "max_pool2d_negative_padding": lambda F, t: F.max_pool2d(t(_arrays(1, 2, 5, 5)), 2, padding=-1),
    "max_pool2d_dilated_padding": lambda F, t: F.max_pool2d(t(_arrays(1, 2, 9, 9)), 3, padding=2, dilation=2),
    "max_pool2d_empty_channels": lambda F, t: F.max_pool2d(t(_arrays(1, 0, 5, 5)), 2),
    "max_pool2d_kernel_length": lambda F, t: F.max_pool2d(t(_arrays(2, 3, 5, 5)), (2, 2, 2)),
    "max_pool2d_stride_length": lambda F, t: F.max_pool2d(t(_arrays(1, 2, 5, 5)), 2, stride=(1, 1, 1)),
    "max_pool2d_padding_length": lambda F, t: F.max_pool2d(t(_arrays(1, 2, 5, 5)), 2, padding=(1, 1, 1)),
    "max_pool2d_dilation_length": lambda F, t: F.max_pool2d(t(_arrays(1, 2, 5, 5)), 2, dilation=(1, 1, 1)),
    "avg_pool2d_padding": lambda F, t: F.avg_pool2d(t(_arrays(2, 3, 5, 5)), 3, padding=2),
    "avg_pool2d_output_too_small": lambda F, t: F.avg_pool2d(t(_arrays(1, 2, 2, 2)), 3),
    "avg_pool2d_zero_divisor": lambda F, t: F.avg_pool2d(t(_arrays(2, 3, 5, 5)), 2, divisor_override=0),
    "avg_pool2d_input_dims": lambda F, t: F.avg_pool2d(t(_arrays(5, 5)), 2),
    "avg_pool2d_zero_kernel": lambda F, t: F.avg_pool2d(t(_arrays(1, 2, 5, 5)), 0, stride=1),
    "avg_pool2d_zero_stride": lambda F, t: F.avg_pool2d(t(_arrays(1, 2, 5, 5)), 2, stride=0),
    "avg_pool2d_kernel_length": lambda F, t: F.avg_pool2d(t(_arrays(1, 2, 5, 5)), (2, 2, 2)),
    "avg_pool2d_empty_channels": lambda F, t: F.avg_pool2d(t(_arrays(1, 0, 5, 5)), 2),
    "adaptive_avg_pool2d_input_dims": lambda F, t: F.adaptive_avg_pool2d(t(_arrays(2, 5)), 2),
    "adaptive_avg_pool2d_output_length": lambda F, t: F.adaptive_avg_pool2d(t(_arrays(2, 3, 5, 5)), (1, 2, 3)),
    "adaptive_avg_pool2d_empty": lambda F, t: F.adaptive_avg_pool2d(t(_arrays(2, 3, 0, 4)), 2),
    "batch_norm_one_value_per_channel": lambda F, t: F.batch_norm(t(_arrays(1, 3)), None, None, training=True),
    "batch_norm_eval_without_stats": lambda F, t: F.batch_norm(t(_arrays(4, 3)), None, None, training=False),
    "batch_norm_running_mean_size": lambda F, t: F.batch_norm(t(_arrays(4, 3)), t(_arrays(4)), t(_arrays(4)),
                                                              training=True),
    "batch_norm_running_var_size": lambda F, t: F.batch_norm(t(_arrays(4, 3)), t(_arrays(3)), t(_arrays(4)),
                                                             training=True),
    "batch_norm_weight_size": lambda F, t: F.batch_norm(t(_arrays(4, 3)), t(_arrays(3)), t(_arrays(3)),
                                                        weight=t(_arrays(4)), bias=t(_arrays(5)), training=True),
    "batch_norm_bias_size": lambda F, t: F.batch_norm(t(_arrays(4, 3)), t(_arrays(3)), t(_arrays(3)),
                                                      bias=t(_arrays(4)), training=True),
    "batch_norm_one_running_stat": lambda F, t: F.batch_norm(t(_arrays(4, 3)), t(_arrays(3)), None,
                                                             training=True),
    "batch_norm_eps_training": lambda F, t: F.batch_norm(t(_arrays(4, 3)), None, None, training=True, eps=0),
    "batch_norm_eps_eval": lambda F, t: F.batch_norm(t(_arrays(4, 3)), t(_arrays(3)), t(_arrays(3)), eps=-1),
    "batch_norm_momentum_none": lambda F, t: F.batch_norm(t(_arrays(4, 3)), t(_arrays(3)), t(_arrays(3)),
                                                          training=True, momentum=None),
    "layer_norm_weight_dtype": lambda F, t: F.layer_norm(t(_arrays(2, 3)), (3,), t(_arrays(3, dtype=np.float64))),
    "batch_norm_running_stats_dtype": lambda F, t: F.batch_norm(t(_arrays(2, 3)), t(_arrays(3, dtype=np.float64)),
                                                                t(_arrays(3, dtype=np.float64)), training=True),
    "layer_norm_shape": lambda F, t: F.layer_norm(t(_arrays(4, 3)), (4,)),
    "layer_norm_weight": lambda F, t: F.layer_norm(t(_arrays(4, 3)), (3,), weight=t(_arrays(4))),
    "layer_norm_bias": lambda F, t: F.layer_norm(t(_arrays(4, 3)), (3,), bias=t(_arrays(4))),
    "layer_norm_int_shape": lambda F, t: F.layer_norm(t(_arrays(4, 3)), 3),
    "layer_norm_empty_shape": lambda F, t: F.layer_norm(t(_arrays(4, 3)), ()),
    "dropout_p_above_one": lambda F, t: F.dropout(t(_arrays(3)), 1.5),
    "dropout_p_negative": lambda F, t: F.dropout(t(_arrays(3)), -0.1),
    "dropout_integer_input": lambda F, t: F.dropout(t(_long([1, 2, 3])), 0.5),
    "embedding_float_indices": lambda F, t: F.embedding(t(_arrays(2)), t(_arrays(3, 2))),
    "embedding_uint8_indices": lambda F, t: F.embedding(t(np.array([0, 1], dtype=np.uint8)), t(_arrays(3, 2))),
    "embedding_out_of_range": lambda F, t: F.embedding(t(_long([0, 5])), t(_arrays(3, 2))),
    "embedding_negative_index": lambda F, t: F.embedding(t(_long([0, -1])), t(_arrays(3, 2))),
    "embedding_padding_idx": lambda F, t: F.embedding(t(_long([0, 1])), t(_arrays(3, 2)), padding_idx=3),
    "embedding_negative_padding_idx": lambda F, t: F.embedding(t(_long([0, 1])), t(_arrays(3, 2)), padding_idx=-4),
    "embedding_weight_dims": lambda F, t: F.embedding(t(_long([0, 1])), t(_arrays(3))),
    "one_hot_float": lambda F, t: F.one_hot(t(_arrays(2))),
    "one_hot_negative": lambda F, t: F.one_hot(t(_long([0, -1]))),
    "one_hot_too_large": lambda F, t: F.one_hot(t(_long([0, 3])), 3),
    "one_hot_empty": lambda F, t: F.one_hot(t(_long([]))),
    "gelu_approximate": lambda F, t: F.gelu(t(_arrays(3)), approximate="foo"),
    "gelu_integer": lambda F, t: F.gelu(t(_long([1, 2]))),
    "silu_integer": lambda F, t: F.silu(t(_long([1, 2]))),
    "leaky_relu_integer": lambda F, t: F.leaky_relu(t(_long([1, 2]))),
    "elu_integer": lambda F, t: F.elu(t(_long([1, 2]))),
    "softplus_integer": lambda F, t: F.softplus(t(_long([1, 2]))),
    "softmax_integer": lambda F, t: F.softmax(t(_long([1, 2])), 0),
    "log_softmax_integer": lambda F, t: F.log_softmax(t(_long([1, 2])), 0),
    "softmax_dim": lambda F, t: F.softmax(t(_arrays(4, 3)), 3),
    "hardtanh_bounds": lambda F, t: F.hardtanh(t(_arrays(3)), 2.0, 1.0),
    "relu_not_tensor": lambda F, t: F.relu([1.0]),
    "linear_not_tensor": lambda F, t: F.linear([1.0], t(_arrays(2, 1))),
    "mse_loss_shapes": lambda F, t: F.mse_loss(t(_arrays(3, 2)), t(_arrays(4))),
    "mse_loss_integer": lambda F, t: F.mse_loss(t(_long([1, 2])), t(_long([1, 2]))),
    "mse_loss_weight_size": lambda F, t: F.mse_loss(t(_arrays(3)), t(_arrays(3)), weight=t(_arrays(2))),
    "mse_loss_reduction": lambda F, t: F.mse_loss(t(_arrays(3)), t(_arrays(3)), reduction="foo"),
    "cross_entropy_float_target": lambda F, t: F.cross_entropy(t(_arrays(4, 3)), t(_arrays(4))),
    "cross_entropy_int32_target": lambda F, t: F.cross_entropy(t(_arrays(4, 3)),
                                                               t(np.array([0, 1, 2, 1], dtype=np.int32))),
    "cross_entropy_target_out_of_bounds": lambda F, t: F.cross_entropy(t(_arrays(4, 3)), t(_long([0, 1, 5, 1]))),
    "cross_entropy_negative_target": lambda F, t: F.cross_entropy(t(_arrays(4, 3)), t(_long([0, 1, -5, 1]))),
    "cross_entropy_batch_size": lambda F, t: F.cross_entropy(t(_arrays(4, 3)), t(_long([0, 1, 1]))),
    "cross_entropy_probability_dtype": lambda F, t: F.cross_entropy(t(_arrays(4, 3)), t(_long(np.zeros((4, 3))))),
    "cross_entropy_probability_ignore_index": lambda F, t: F.cross_entropy(t(_arrays(4, 3)), t(_arrays(4, 3)),
                                                                           ignore_index=1),
    "cross_entropy_probability_weight": lambda F, t: F.cross_entropy(t(_arrays(4, 3)), t(_arrays(4, 3)),
                                                                     weight=t(_arrays(4))),
    "cross_entropy_weight_size": lambda F, t: F.cross_entropy(t(_arrays(4, 3)), t(_long([0, 1, 2, 1])),
                                                              weight=t(_arrays(4))),
    "cross_entropy_label_smoothing": lambda F, t: F.cross_entropy(t(_arrays(4, 3)), t(_long([0, 1, 2, 1])),
                                                                  label_smoothing=1.5),
    "cross_entropy_reduction": lambda F, t: F.cross_entropy(t(_arrays(4, 3)), t(_long([0, 1, 2, 1])),
                                                            reduction="foo"),
    "cross_entropy_spatial_target": lambda F, t: F.cross_entropy(t(_arrays(2, 3, 4)), t(_long(np.zeros((2, 5))))),
    "cross_entropy_integer_input": lambda F, t: F.cross_entropy(t(_long(np.zeros((4, 3)))), t(_long([0, 1, 2, 1]))),
    "nll_loss_0d_input": lambda F, t: F.nll_loss(t(np.array(1.0, dtype=np.float32)), t(np.array(1, dtype=np.int64))),
    "nll_loss_2d_target": lambda F, t: F.nll_loss(t(_arrays(4, 3)), t(_long(np.zeros((4, 1))))),
    "nll_loss_1d_input_long_target": lambda F, t: F.nll_loss(t(_arrays(3)), t(_long([1, 2]))),
    "nll_loss_float_target_batch": lambda F, t: F.nll_loss(t(_arrays(4, 3)), t(_arrays(3))),
    "nll_loss_weight_dtype": lambda F, t: F.nll_loss(t(_arrays(4, 3)), t(_long([0, 1, 2, 1])),
                                                     weight=t(_arrays(3, dtype=np.float64))),
    "nll_loss_weight_2d": lambda F, t: F.nll_loss(t(_arrays(4, 3)), t(_long([0, 1, 2, 1])),
                                                  weight=t(_arrays(2, 3))),
    "nll_loss_spatial_out_of_bounds": lambda F, t: F.nll_loss(t(_arrays(2, 3, 4)), t(_long(np.full((2, 4), 7)))),
    "nll_loss_integer_input": lambda F, t: F.nll_loss(t(_long(np.zeros((4, 3)))), t(_long([0, 1, 2, 1]))),
    "binary_cross_entropy_range": lambda F, t: F.binary_cross_entropy(t(np.array([1.5, 0.5], dtype=np.float32)),
                                                                      t(np.array([1.0, 0.0], dtype=np.float32))),
    "binary_cross_entropy_size": lambda F, t: F.binary_cross_entropy(t(np.full((3, 1), 0.5, np.float32)),
                                                                     t(np.full(3, 0.5, np.float32))),
    "binary_cross_entropy_weight": lambda F, t: F.binary_cross_entropy(t(np.full((3, 2), 0.5, np.float32)),
                                                                       t(np.full((3, 2), 0.5, np.float32)),
                                                                       weight=t(_arrays(4))),
    "binary_cross_entropy_long_target": lambda F, t: F.binary_cross_entropy(t(np.full((3, 2), 0.5, np.float32)),
                                                                            t(_long(np.ones((3, 2))))),
    "bce_with_logits_size": lambda F, t: F.binary_cross_entropy_with_logits(t(_arrays(3, 1)), t(_arrays(3))),
    "bce_with_logits_pos_weight": lambda F, t: F.binary_cross_entropy_with_logits(t(_arrays(3, 2)),
                                                                                  t(_arrays(3, 2)),
                                                                                  pos_weight=t(_arrays(3))),
    "bce_with_logits_long_target": lambda F, t: F.binary_cross_entropy_with_logits(t(_arrays(3, 2)),
                                                                                   t(_long(np.ones((3, 2))))),
    "pad_odd_length": lambda F, t: F.pad(t(_arrays(4, 3)), (1,)),
    "pad_too_long": lambda F, t: F.pad(t(_arrays(4, 3)), (1, 1, 1, 1, 1, 1)),
    "pad_reflect_too_wide": lambda F, t: F.pad(t(_arrays(4, 3)), (3, 3), mode="reflect"),
    "pad_reflect_1d_input": lambda F, t: F.pad(t(_arrays(3)), (1, 1), mode="reflect"),
    "pad_reflect_2d_on_2d": lambda F, t: F.pad(t(_arrays(3, 3)), (1, 1, 1, 1), mode="reflect"),
    "pad_replicate_1d_on_4d": lambda F, t: F.pad(t(_arrays(2, 2, 3, 3)), (1, 1), mode="replicate"),
    "pad_circular_wraps_twice": lambda F, t: F.pad(t(_arrays(1, 1, 3)), (4, 4), mode="circular"),
    "pad_mode": lambda F, t: F.pad(t(_arrays(4, 3)), (1, 1), mode="foo"),
    "pad_value_with_reflect": lambda F, t: F.pad(t(_arrays(1, 4, 3)), (1, 1), mode="reflect", value=1.0),
    "pad_crop_too_much": lambda F, t: F.pad(t(_arrays(3)), (-2, -2)),
    "pad_float_amount": lambda F, t: F.pad(t(_arrays(3)), (1.5, 1)),
    "linear_vector_weight_with_bias": lambda F, t: F.linear(t(_arrays(4, 5)), t(_arrays(5)), t(_arrays(2))),
}


def _raised(call):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call()
    except Exception as error:  # noqa: BLE001  这里要比较任意异常
        return error
    raise AssertionError("expected an exception, but the call returned normally")


def _first_line(error):
    return str(error).splitlines()[0].replace("torch.", "edunn.") if str(error) else ""


@pytest.mark.parametrize("name", ERROR_CASES)
def test_bad_input_raises_like_torch(name):
    case = ERROR_CASES[name]
    expected = _raised(lambda: case(TF, torch.from_numpy))
    actual = _raised(lambda: case(F, edunn.from_numpy))
    assert type(actual) is type(expected), f"{type(actual).__name__}: {actual}"
    assert _first_line(actual) == _first_line(expected)


def test_weight_requiring_grad_is_rejected_like_torch():
    x, target = randn(4, 3), from_torch(torch.tensor([0, 1, 2, 1]))
    with pytest.raises(RuntimeError, match="'nll_loss_forward' is not differentiable with respect to argument "
                                           "'weight'"):
        F.nll_loss(x, target, weight=randn(3))
    with pytest.raises(RuntimeError, match="argument 'pos_weight'"):
        F.binary_cross_entropy_with_logits(x, rand(4, 3), pos_weight=randn(3))
    with pytest.raises(RuntimeError, match="'native_batch_norm' is not differentiable with respect to argument "
                                           "'running_mean'"):
        F.batch_norm(x, randn(3), rand(3, requires_grad=False), training=True)


def test_failed_batch_norm_leaves_running_stats_unchanged():
    running_mean, running_var = randn(3, requires_grad=False), rand(3, requires_grad=False)
    before = (running_mean.numpy().copy(), running_var.numpy().copy(), running_mean._version)
    with pytest.raises(RuntimeError):
        F.batch_norm(randn(4, 3), running_mean, running_var, weight=randn(4), training=True)
    assert (running_mean.numpy() == before[0]).all()
    assert (running_var.numpy() == before[1]).all()
    assert running_mean._version == before[2]


def test_failed_embedding_with_max_norm_leaves_weight_unchanged():
    weight = randn(3, 2, scale=10.0, requires_grad=False)
    before = weight.numpy().copy()
    with pytest.raises(IndexError):
        F.embedding(from_torch(torch.tensor([0, 7])), weight, max_norm=1.0)
    assert (weight.numpy() == before).all()


# ---------------------------------------------------------------------------
# GPU
# ---------------------------------------------------------------------------


@pytest.mark.cuda
@pytest.mark.skipif(not edunn.cuda.is_available(), reason="needs cupy and a CUDA GPU")
def test_functional_ops_on_cuda_match_torch():
    def cuda(t):
        return t.to("cuda")

    x = cuda(randn(2, 3, 8, 8)).detach().requires_grad_()
    weight = cuda(randn(4, 3, 3, 3)).detach().requires_grad_()
    for function, reference, args, kwargs in [
        (F.conv2d, TF.conv2d, (x, weight), dict(padding=1, stride=2)),
        (F.max_pool2d, TF.max_pool2d, (x, 3), dict(stride=2, padding=1, return_indices=True)),
        (F.avg_pool2d, TF.avg_pool2d, (x, 3), dict(ceil_mode=True, stride=2)),
        (F.adaptive_avg_pool2d, TF.adaptive_avg_pool2d, (x, (3, 2)), {}),
        (F.batch_norm, TF.batch_norm, (x, None, None), dict(training=True)),
        (F.layer_norm, TF.layer_norm, (x, (8,)), {}),
        (F.gelu, TF.gelu, (x,), {}),
        (F.log_softmax, TF.log_softmax, (x, 1), {}),
        (F.pad, TF.pad, (x, (1, 2, 2, 1)), dict(mode="reflect")),
    ]:
        assert_matches_torch(function, reference, *args, **kwargs)
    logits = cuda(randn(6, 5)).detach().requires_grad_()
    target = cuda(_class_targets((6,), 5))
    assert_matches_torch(F.cross_entropy, TF.cross_entropy, logits, target, label_smoothing=0.1)
    indices = cuda(from_torch(torch.tensor([[1, 2], [0, 1]])))
    assert_matches_torch(F.embedding, TF.embedding, indices, cuda(randn(4, 3)).detach().requires_grad_(),
                         padding_idx=1)
