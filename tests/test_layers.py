"""各层与 torch 对照：float64 下输出、输入梯度、参数梯度与缓冲区一致（rtol 1e-10），打印与报错一致。

每个层在随机抽取的形状与选项上运行；两边的权重由 ``check_module`` 从 torch 复制到 edunn。
"""

import math
import warnings

import numpy as np
import pytest
import torch

import edunn
from edunn import nn
from edunn.testing import assert_close, check_module, copy_weights, from_torch, to_torch

RTOL, ATOL = 1e-10, 1e-12
# torch 对偶数卷积核的 padding="same" 给出一条性能提示，与对照无关
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
SEEDS = range(4)


def build(name, *args, **kwargs):
    """同样的构造参数建一对层（edunn, torch），都转成 float64。参数里的张量用 lib 参数化的函数给出。"""
    def realise(lib, value):
        return value(lib) if callable(value) and not isinstance(value, type) else value

    mine = getattr(nn, name)(*[realise(edunn, a) for a in args], **{k: realise(edunn, v) for k, v in kwargs.items()})
    theirs = getattr(torch.nn, name)(*[realise(torch, a) for a in args],
                                     **{k: realise(torch, v) for k, v in kwargs.items()})
    return mine.double(), theirs.double()


def randn(rng, *shape, requires_grad=True):
    return edunn.tensor(rng.standard_normal(shape), requires_grad=requires_grad)


def check(mine, theirs, *inputs):
    assert repr(mine) == repr(theirs)
    return check_module(mine, theirs, *inputs, rtol=RTOL, atol=ATOL)


def same_error(edunn_call, torch_call, exact=True):
    with pytest.raises(Exception) as expected:
        torch_call()
    with pytest.raises(type(expected.value)) as actual:
        edunn_call()
    if exact:
        assert str(actual.value) == str(expected.value).replace("torch", "edunn")
    return actual.value, expected.value


# ----------------------------------------------------------------------
# Linear, Bilinear, Identity
# ----------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_linear_matches_torch(seed):
    rng = np.random.RandomState(seed)
    n_in, n_out = rng.randint(1, 7, size=2)
    batch = [tuple(), (rng.randint(1, 5),), (2, rng.randint(1, 4))][seed % 3]
    mine, theirs = build("Linear", int(n_in), int(n_out), bias=bool(seed % 2))
    check(mine, theirs, randn(rng, *batch, n_in))


def test_linear_wrong_in_features_raises_like_torch():
    mine, theirs = build("Linear", 4, 2)
    x = np.ones((5, 3))
    same_error(lambda: mine(edunn.tensor(x)), lambda: theirs(torch.tensor(x)))


@pytest.mark.parametrize("seed", SEEDS)
def test_bilinear_matches_torch(seed):
    rng = np.random.RandomState(seed)
    in1, in2, out = (int(v) for v in rng.randint(1, 5, size=3))
    batch = rng.randint(1, 5)
    mine, theirs = build("Bilinear", in1, in2, out, bias=bool(seed % 2))
    check(mine, theirs, randn(rng, batch, in1), randn(rng, batch, in2))


def test_bilinear_rejects_zero_in1_features():
    same_error(lambda: nn.Bilinear(0, 2, 3), lambda: torch.nn.Bilinear(0, 2, 3))


def test_identity_ignores_arguments_and_returns_input():
    mine, theirs = nn.Identity(3, unused=True), torch.nn.Identity(3, unused=True)
    x = edunn.ones(2)
    assert mine(x) is x
    assert repr(mine) == repr(theirs)


# ----------------------------------------------------------------------
# Conv1d, Conv2d
# ----------------------------------------------------------------------

def conv_options(rng, ndim):
    groups = int(rng.choice([1, 2]))
    in_channels = groups * int(rng.randint(1, 3))
    out_channels = groups * int(rng.randint(1, 3))
    kernel = tuple(int(k) for k in rng.randint(1, 4, size=ndim))
    dilation = tuple(int(d) for d in rng.randint(1, 3, size=ndim))
    padding_choice = rng.randint(4)
    if padding_choice == 0:
        padding, stride = "same", (1,) * ndim
    elif padding_choice == 1:
        padding, stride = "valid", tuple(int(s) for s in rng.randint(1, 3, size=ndim))
    else:
        padding = tuple(int(p) for p in rng.randint(0, 3, size=ndim))
        stride = tuple(int(s) for s in rng.randint(1, 3, size=ndim))
    padding_mode = str(rng.choice(["zeros", "reflect", "replicate", "circular"]))
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bool(rng.randint(2)),
                  padding_mode=padding_mode)
    if ndim == 1:  # 一维时也测整数写法
        kwargs = {k: (v[0] if isinstance(v, tuple) else v) for k, v in kwargs.items()}
        kernel = kernel[0]
    return in_channels, out_channels, kernel, kwargs


@pytest.mark.parametrize("seed", range(8))
def test_conv1d_matches_torch(seed):
    rng = np.random.RandomState(100 + seed)
    in_channels, out_channels, kernel, kwargs = conv_options(rng, 1)
    mine, theirs = build("Conv1d", in_channels, out_channels, kernel, **kwargs)
    length = int(rng.randint(7, 11))
    shape = (in_channels, length) if seed % 4 == 0 else (int(rng.randint(1, 3)), in_channels, length)
    check(mine, theirs, randn(rng, *shape))


@pytest.mark.parametrize("seed", range(8))
def test_conv2d_matches_torch(seed):
    rng = np.random.RandomState(200 + seed)
    in_channels, out_channels, kernel, kwargs = conv_options(rng, 2)
    mine, theirs = build("Conv2d", in_channels, out_channels, kernel, **kwargs)
    size = tuple(int(s) for s in rng.randint(7, 10, size=2))
    shape = (in_channels, *size) if seed % 4 == 0 else (int(rng.randint(1, 3)), in_channels, *size)
    check(mine, theirs, randn(rng, *shape))


@pytest.mark.parametrize("kwargs", [
    dict(padding=2, padding_mode="reflect"), dict(padding=(1, 3), padding_mode="circular"),
    dict(padding="same", padding_mode="replicate", dilation=2), dict(padding=(0, 2), padding_mode="reflect"),
])
def test_conv2d_padding_modes_match_torch(kwargs):
    rng = np.random.RandomState(7)
    mine, theirs = build("Conv2d", 2, 3, 3, **kwargs)
    check(mine, theirs, randn(rng, 2, 2, 5, 6))


def test_conv2d_seed_model_shapes():
    mine, theirs = build("Conv2d", 1, 20, 5)
    rng = np.random.RandomState(0)
    check(mine, theirs, randn(rng, 2, 1, 12, 12))


@pytest.mark.parametrize("kwargs", [
    dict(groups=0), dict(groups=2), dict(padding="same", stride=2),
])
def test_conv_constructor_errors_match_torch(kwargs):
    same_error(lambda: nn.Conv2d(3, 4, 3, **kwargs), lambda: torch.nn.Conv2d(3, 4, 3, **kwargs))


def test_conv_rejects_unknown_padding_string_and_mode():
    for kwargs in (dict(padding="full"), dict(padding_mode="zero")):
        mine, theirs = same_error(lambda: nn.Conv2d(2, 2, 3, **kwargs), lambda: torch.nn.Conv2d(2, 2, 3, **kwargs),
                                  exact=False)
        # torch 的消息里有一个 set，打印顺序随进程变化，所以只比较开头
        assert str(mine).split("{")[0] == str(theirs).split("{")[0]


def test_conv_reflect_padding_too_large_raises_like_torch():
    mine, theirs = build("Conv1d", 1, 1, 7, padding=3, padding_mode="reflect")
    x = np.ones((1, 1, 3))
    same_error(lambda: mine(edunn.tensor(x)), lambda: theirs(torch.tensor(x)))
    mine, theirs = build("Conv1d", 1, 1, 9, padding=4, padding_mode="circular")
    same_error(lambda: mine(edunn.tensor(x)), lambda: theirs(torch.tensor(x)))


def test_conv2d_wrong_channels_raises_like_torch():
    mine, theirs = build("Conv2d", 3, 4, 3)
    x = np.ones((1, 2, 5, 5))
    error, _ = same_error(lambda: mine(edunn.tensor(x)), lambda: theirs(torch.tensor(x)))
    assert "to have 3 channels, but got 2 channels" in str(error)


@pytest.mark.parametrize("name, args, kwargs", [
    ("Conv1d", (2, 4, 3), dict(stride=2, padding=1, bias=False)),
    ("Conv2d", (2, 4, (3, 1)), dict(padding="valid")),
    ("Conv2d", (2, 4, 3), dict(padding="same", padding_mode="reflect", groups=2, dilation=2, bias=False)),
])
def test_conv_repr_matches_torch(name, args, kwargs):
    mine, theirs = build(name, *args, **kwargs)
    assert repr(mine) == repr(theirs)


# ----------------------------------------------------------------------
# BatchNorm
# ----------------------------------------------------------------------

BN_OPTIONS = [
    dict(), dict(momentum=None), dict(momentum=0.3, eps=1e-3), dict(affine=False),
    dict(track_running_stats=False), dict(bias=False), dict(affine=False, track_running_stats=False, momentum=None),
]


@pytest.mark.parametrize("options", BN_OPTIONS)
@pytest.mark.parametrize("name, shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)),
                                         ("BatchNorm2d", (3, 3, 4, 2))])
def test_batchnorm_train_steps_then_eval_match_torch(name, shape, options):
    rng = np.random.RandomState(len(shape))
    mine, theirs = build(name, 3, **options)
    for step in range(3):
        # 第一步复制权重，之后两边各自更新缓冲区，每一步都比较输出、梯度与缓冲区
        check_module(mine, theirs, randn(rng, *shape) * (step + 1) + step, rtol=RTOL, atol=ATOL, copy=step == 0)
    mine.eval()
    theirs.eval()
    check_module(mine, theirs, randn(rng, *shape), rtol=RTOL, atol=ATOL, copy=False)
    assert repr(mine) == repr(theirs)


def test_batchnorm_buffers_and_dtypes_match_torch():
    mine, theirs = nn.BatchNorm2d(4), torch.nn.BatchNorm2d(4)
    for (name, a), (other, b) in zip(mine.named_buffers(), theirs.named_buffers()):
        assert name == other
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        assert_close(a, b, rtol=0, atol=0)
    mine.double()
    assert mine.num_batches_tracked.dtype is edunn.int64
    assert mine.running_mean.dtype is edunn.float64


def test_batchnorm_cumulative_average_with_momentum_none():
    rng = np.random.RandomState(3)
    bn = nn.BatchNorm1d(2, momentum=None).double()
    batches = [rng.standard_normal((5, 2)) + i for i in range(4)]
    for batch in batches:
        bn(edunn.tensor(batch))
    expected_mean = np.mean([b.mean(axis=0) for b in batches], axis=0)
    expected_var = np.mean([b.var(axis=0, ddof=1) for b in batches], axis=0)
    assert_close(bn.running_mean, expected_mean, rtol=1e-12, atol=0)
    assert_close(bn.running_var, expected_var, rtol=1e-12, atol=0)
    assert bn.num_batches_tracked.item() == 4


def test_batchnorm_reset_running_stats():
    bn = nn.BatchNorm1d(2)
    bn(edunn.randn(4, 2) + 3)
    bn.reset_running_stats()
    assert bn.running_mean.tolist() == [0.0, 0.0]
    assert bn.running_var.tolist() == [1.0, 1.0]
    assert bn.num_batches_tracked.item() == 0


def test_batchnorm_eval_without_tracking_uses_batch_stats():
    rng = np.random.RandomState(1)
    mine, theirs = build("BatchNorm1d", 3, track_running_stats=False)
    mine.eval()
    theirs.eval()
    check(mine, theirs, randn(rng, 5, 3))


@pytest.mark.parametrize("name, shape", [("BatchNorm1d", (2, 3, 4, 5)), ("BatchNorm1d", (3,)),
                                         ("BatchNorm2d", (2, 3, 4)), ("BatchNorm2d", (1, 2, 3, 4, 5))])
def test_batchnorm_wrong_dim_raises_like_torch(name, shape):
    x = np.ones(shape)
    mine, theirs = getattr(nn, name)(3), getattr(torch.nn, name)(3)
    error, _ = same_error(lambda: mine(edunn.tensor(x)), lambda: theirs(torch.tensor(x, dtype=torch.float32)))
    assert f"{len(shape)}D" in str(error)
    assert mine.num_batches_tracked.item() == 0  # 报错前没有改动任何状态


# ----------------------------------------------------------------------
# LayerNorm
# ----------------------------------------------------------------------

@pytest.mark.parametrize("normalized_shape, options", [
    (4, dict()), ((3, 4), dict()), ([4], dict(elementwise_affine=False)), ((2, 3, 4), dict(bias=False, eps=1e-3)),
])
def test_layer_norm_matches_torch(normalized_shape, options):
    rng = np.random.RandomState(5)
    mine, theirs = build("LayerNorm", normalized_shape, **options)
    check(mine, theirs, randn(rng, 2, 2, 3, 4))


# ----------------------------------------------------------------------
# Dropout
# ----------------------------------------------------------------------

def test_dropout_eval_is_identity_like_torch():
    mine, theirs = build("Dropout", 0.4)
    mine.eval()
    theirs.eval()
    check(mine, theirs, randn(np.random.RandomState(0), 3, 4))


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_dropout_extreme_probabilities_match_torch(p):
    mine, theirs = build("Dropout", p)
    check(mine, theirs, randn(np.random.RandomState(1), 3, 4))


def test_dropout_train_zeroes_and_rescales():
    edunn.manual_seed(0)
    p = 0.3
    x = edunn.ones(200, 200, dtype=edunn.float64, requires_grad=True)
    out = nn.Dropout(p)(x)
    values = out.detach().numpy()
    kept = values != 0
    assert abs(1 - kept.mean() - p) < 0.01
    assert np.allclose(values[kept], 1 / (1 - p), rtol=1e-12)
    out.sum().backward()
    assert np.allclose(x.grad.numpy(), np.where(kept, 1 / (1 - p), 0.0), rtol=1e-12)


def test_dropout_rejects_bad_probability():
    for p in (-0.1, 1.5):
        same_error(lambda: nn.Dropout(p), lambda: torch.nn.Dropout(p))


def test_dropout_repr_matches_torch():
    assert repr(nn.Dropout(0.2, inplace=True)) == repr(torch.nn.Dropout(0.2, inplace=True))


# ----------------------------------------------------------------------
# 激活与 softmax
# ----------------------------------------------------------------------

class _DoubleThen:
    """先乘 2 再交给被测层：让 inplace 激活作用在非叶子张量上。"""

    @staticmethod
    def wrap(lib, layer):
        class DoubleThen(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.layer = layer

            def forward(self, x):
                return self.layer(x * 2)

        return DoubleThen()


@pytest.mark.parametrize("name, args, kwargs", [
    ("ReLU", (), {}), ("ReLU", (), dict(inplace=True)), ("LeakyReLU", (), {}), ("LeakyReLU", (0.2, True), {}),
    ("GELU", (), {}), ("GELU", (), dict(approximate="tanh")), ("SiLU", (), {}), ("SiLU", (), dict(inplace=True)),
    ("Tanh", (), {}), ("Sigmoid", (), {}), ("Softmax", (1,), {}), ("Softmax", (-1,), {}), ("LogSoftmax", (0,), {}),
    ("LogSoftmax", (), dict(dim=2)),
])
def test_activation_matches_torch(name, args, kwargs):
    rng = np.random.RandomState(11)
    mine, theirs = build(name, *args, **kwargs)
    assert repr(mine) == repr(theirs)
    check_module(_DoubleThen.wrap(edunn, mine), _DoubleThen.wrap(torch, theirs), randn(rng, 3, 4, 5),
                 rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (2, 3, 4, 5)])
def test_softmax_without_dim_matches_torch(name, shape):
    rng = np.random.RandomState(2)
    mine, theirs = build(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(mine, theirs, randn(rng, *shape))


# ----------------------------------------------------------------------
# 池化
# ----------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_max_pool2d_matches_torch(seed):
    rng = np.random.RandomState(300 + seed)
    kernel = int(rng.randint(2, 4))
    kwargs = dict(stride=[None, 1, 2, (1, 2)][seed], padding=int(rng.randint(0, kernel // 2 + 1)),
                  dilation=int(rng.randint(1, 3)), ceil_mode=bool(seed % 2))
    mine, theirs = build("MaxPool2d", kernel, **kwargs)
    check(mine, theirs, randn(rng, 2, 3, 9, 8))


def test_max_pool2d_return_indices_matches_torch():
    mine, theirs = build("MaxPool2d", 2, return_indices=True)
    x = randn(np.random.RandomState(4), 1, 2, 6, 6)
    values, indices = mine(x)
    expected_values, expected_indices = theirs(to_torch(x))
    assert_close(values, expected_values, rtol=0, atol=0)
    assert_close(indices, expected_indices, rtol=0, atol=0)


@pytest.mark.parametrize("seed", SEEDS)
def test_avg_pool2d_matches_torch(seed):
    rng = np.random.RandomState(400 + seed)
    kernel = (int(rng.randint(2, 4)), int(rng.randint(2, 4)))
    kwargs = dict(stride=[None, 1, 2, (2, 1)][seed], padding=int(rng.randint(0, 2)), ceil_mode=bool(seed % 2),
                  count_include_pad=bool(seed // 2), divisor_override=[None, 3][seed % 2])
    mine, theirs = build("AvgPool2d", kernel, **kwargs)
    check(mine, theirs, randn(rng, 2, 2, 7, 9))


@pytest.mark.parametrize("output_size", [1, 3, (2, 5), (None, 2), (4, None), (7, 6)])
def test_adaptive_avg_pool2d_matches_torch(output_size):
    rng = np.random.RandomState(9)
    mine, theirs = build("AdaptiveAvgPool2d", output_size)
    check(mine, theirs, randn(rng, 2, 3, 7, 6))


# ----------------------------------------------------------------------
# Embedding
# ----------------------------------------------------------------------

def indices(rng, num, *shape):
    return edunn.tensor(rng.randint(0, num, size=shape))


@pytest.mark.parametrize("options", [dict(), dict(padding_idx=0), dict(padding_idx=-1),
                                     dict(max_norm=1.0), dict(max_norm=0.5, norm_type=1.0, padding_idx=2)])
def test_embedding_matches_torch(options):
    rng = np.random.RandomState(12)
    mine, theirs = build("Embedding", 6, 4, **options)
    ids = indices(rng, 6, 3, 5)
    check(mine, theirs, ids)
    # max_norm 会就地缩放被查到的行：权重本身也要一致
    assert_close(mine.weight, theirs.weight, rtol=RTOL, atol=ATOL)


def test_embedding_padding_row_starts_at_zero():
    for options in (dict(padding_idx=1), dict(padding_idx=-2)):
        layer = nn.Embedding(5, 3, **options)
        row = options["padding_idx"] % 5
        assert layer.padding_idx == row
        assert layer.weight[row].tolist() == [0.0, 0.0, 0.0]


def test_embedding_bad_padding_idx_raises_like_torch():
    for padding_idx in (5, -6):
        same_error(lambda: nn.Embedding(5, 2, padding_idx=padding_idx),
                   lambda: torch.nn.Embedding(5, 2, padding_idx=padding_idx))


def test_embedding_from_pretrained():
    values = np.random.RandomState(3).standard_normal((4, 3))
    for freeze in (True, False):
        mine = nn.Embedding.from_pretrained(edunn.tensor(values), freeze=freeze, padding_idx=1)
        theirs = torch.nn.Embedding.from_pretrained(torch.tensor(values), freeze=freeze, padding_idx=1)
        assert mine.weight.requires_grad == theirs.weight.requires_grad == (not freeze)
        assert repr(mine) == repr(theirs)
        ids = np.array([[0, 1, 3]])
        assert_close(mine(edunn.tensor(ids)), theirs(torch.tensor(ids)), rtol=0, atol=0)
    same_error(lambda: nn.Embedding.from_pretrained(edunn.zeros(3)),
               lambda: torch.nn.Embedding.from_pretrained(torch.zeros(3)))


def test_embedding_repr_matches_torch():
    options = dict(padding_idx=2, max_norm=1.5, norm_type=1.0, scale_grad_by_freq=True)
    assert repr(nn.Embedding(5, 3, **options)) == repr(torch.nn.Embedding(5, 3, **options))


# ----------------------------------------------------------------------
# 损失
# ----------------------------------------------------------------------

REDUCTIONS = ["none", "mean", "sum"]


def probabilities(rng, *shape):
    return edunn.tensor(rng.uniform(0.05, 0.95, size=shape), requires_grad=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["MSELoss", "L1Loss"])
def test_regression_losses_match_torch(name, reduction):
    rng = np.random.RandomState(21)
    mine, theirs = build(name, reduction=reduction)
    check(mine, theirs, randn(rng, 3, 4), randn(rng, 3, 4, requires_grad=False))


def class_weight(lib):
    return lib.tensor([0.5, 1.0, 2.0, 1.5], dtype=lib.float64)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [dict(), dict(weight=class_weight), dict(ignore_index=1),
                                     dict(weight=class_weight, ignore_index=2)])
def test_nll_loss_matches_torch(options, reduction):
    rng = np.random.RandomState(22)
    mine, theirs = build("NLLLoss", reduction=reduction, **options)
    check(mine, theirs, randn(rng, 6, 4), indices(rng, 4, 6))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [dict(), dict(weight=class_weight), dict(ignore_index=0),
                                     dict(label_smoothing=0.2), dict(weight=class_weight, label_smoothing=0.1,
                                                                     ignore_index=3)])
def test_cross_entropy_loss_with_class_targets_matches_torch(options, reduction):
    rng = np.random.RandomState(23)
    mine, theirs = build("CrossEntropyLoss", reduction=reduction, **options)
    check(mine, theirs, randn(rng, 7, 4), indices(rng, 4, 7))
    check(mine, theirs, randn(rng, 2, 4, 3, 2), indices(rng, 4, 2, 3, 2))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [dict(), dict(weight=class_weight, label_smoothing=0.3)])
def test_cross_entropy_loss_with_probability_targets_matches_torch(options, reduction):
    rng = np.random.RandomState(24)
    mine, theirs = build("CrossEntropyLoss", reduction=reduction, **options)
    target = rng.uniform(size=(5, 4))
    target /= target.sum(axis=1, keepdims=True)
    check(mine, theirs, randn(rng, 5, 4), edunn.tensor(target))


def test_cross_entropy_bad_float_target():
    mine, theirs = build("CrossEntropyLoss")
    x, target = np.ones((3, 4)), np.zeros(3)
    same_error(lambda: mine(edunn.tensor(x), edunn.tensor(target)), lambda: theirs(torch.tensor(x), torch.tensor(target)))


def test_cross_entropy_int32_target_raises_like_torch():
    mine, theirs = build("CrossEntropyLoss")
    x, target = np.ones((3, 4)), np.zeros(3, dtype=np.int32)
    error, _ = same_error(lambda: mine(edunn.tensor(x), edunn.tensor(target)),
                          lambda: theirs(torch.tensor(x), torch.tensor(target)))
    assert "but got Int" in str(error)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("with_weight", [False, True])
def test_bce_loss_matches_torch(reduction, with_weight):
    rng = np.random.RandomState(25)
    weight = np.random.RandomState(1).uniform(0.5, 2.0, size=(3, 4))
    options = dict(weight=lambda lib: lib.tensor(weight, dtype=lib.float64)) if with_weight else {}
    mine, theirs = build("BCELoss", reduction=reduction, **options)
    check(mine, theirs, probabilities(rng, 3, 4), edunn.tensor(rng.uniform(size=(3, 4))))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [dict(), dict(pos_weight=lambda lib: lib.tensor([1.0, 2.0, 0.5, 3.0],
                                                                                     dtype=lib.float64)),
                                     dict(weight=lambda lib: lib.tensor([[0.5], [1.0], [2.0]], dtype=lib.float64))])
def test_bce_with_logits_loss_matches_torch(reduction, options):
    rng = np.random.RandomState(26)
    mine, theirs = build("BCEWithLogitsLoss", reduction=reduction, **options)
    check(mine, theirs, randn(rng, 3, 4) * 3, edunn.tensor(rng.uniform(size=(3, 4))))


def test_loss_weight_is_buffer_like_torch():
    mine, theirs = build("CrossEntropyLoss", weight=class_weight)
    assert [n for n, _ in mine.named_buffers()] == [n for n, _ in theirs.named_buffers()] == ["weight"]
    mine, theirs = build("BCEWithLogitsLoss")
    assert list(mine._buffers) == list(theirs._buffers) == ["weight", "pos_weight"]


@pytest.mark.parametrize("size_average, reduce", [(None, False), (False, None), (True, True), (False, True)])
def test_loss_legacy_arguments_map_to_reduction(size_average, reduce):
    with pytest.warns(UserWarning) as caught_mine:
        mine = nn.MSELoss(size_average=size_average, reduce=reduce)
    with pytest.warns(UserWarning) as caught_theirs:
        theirs = torch.nn.MSELoss(size_average=size_average, reduce=reduce)
    assert mine.reduction == theirs.reduction
    assert str(caught_mine[0].message) == str(caught_theirs[0].message)


# ----------------------------------------------------------------------
# Flatten, Unflatten
# ----------------------------------------------------------------------

@pytest.mark.parametrize("start_dim, end_dim", [(1, -1), (0, -1), (1, 2), (-2, -1)])
def test_flatten_matches_torch(start_dim, end_dim):
    mine, theirs = build("Flatten", start_dim, end_dim)
    check(mine, theirs, randn(np.random.RandomState(0), 2, 3, 4, 5))


@pytest.mark.parametrize("dim, sizes", [(1, (2, 6)), (-1, [2, -1]), (1, (3, -1)), (2, (1, 4, 1))])
def test_unflatten_matches_torch(dim, sizes):
    mine, theirs = build("Unflatten", dim, sizes)
    check(mine, theirs, randn(np.random.RandomState(0), 2, 12, 4))


@pytest.mark.parametrize("sizes", [5, (2, 2.0), "ab"])
def test_unflatten_rejects_bad_sizes(sizes):
    same_error(lambda: nn.Unflatten(1, sizes), lambda: torch.nn.Unflatten(1, sizes))


# ----------------------------------------------------------------------
# 默认初始化：分布与 torch 相同（随机流不同，所以比较统计量）
# ----------------------------------------------------------------------

def assert_uniform(tensor, bound):
    values = tensor.detach().numpy().reshape(-1)
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.98 * bound
    # U(-b, b) 的标准差是 b/sqrt(3)；样本数上万时相对误差远小于 3%
    assert abs(values.std() / (bound / math.sqrt(3)) - 1) < 0.03
    assert abs(values.mean()) < 0.05 * bound


def test_linear_default_init_is_uniform_with_torch_bound():
    edunn.manual_seed(0)
    layer = nn.Linear(400, 300)
    assert_uniform(layer.weight, 1 / math.sqrt(400))
    big_bias = nn.Linear(100, 20000)
    assert_uniform(big_bias.bias, 1 / math.sqrt(100))


def test_conv2d_default_init_uses_fan_in_of_group():
    edunn.manual_seed(1)
    layer = nn.Conv2d(8, 512, 3, groups=2)
    fan_in = 4 * 3 * 3
    assert_uniform(layer.weight, 1 / math.sqrt(fan_in))
    assert layer.weight.shape == torch.nn.Conv2d(8, 512, 3, groups=2).weight.shape


def test_bilinear_default_init_uses_in1_features():
    edunn.manual_seed(2)
    layer = nn.Bilinear(25, 40, 30)
    assert_uniform(layer.weight, 1 / math.sqrt(25))


def test_embedding_default_init_is_standard_normal():
    edunn.manual_seed(3)
    values = nn.Embedding(300, 100).weight.detach().numpy()
    assert abs(values.mean()) < 0.02
    assert abs(values.std() - 1) < 0.02


def test_norm_layers_default_init_matches_torch():
    for name, args in (("BatchNorm1d", (5,)), ("BatchNorm2d", (3,)), ("LayerNorm", ((2, 3),))):
        mine, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
        for (key, a), (other, b) in zip(list(mine.named_parameters()) + list(mine.named_buffers()),
                                        list(theirs.named_parameters()) + list(theirs.named_buffers())):
            assert key == other
            assert_close(a, b, rtol=0, atol=0)


def test_factory_kwargs_set_dtype():
    for name, args in (("Linear", (2, 3)), ("Conv1d", (2, 2, 3)), ("BatchNorm1d", (2,)), ("LayerNorm", (4,)),
                       ("Embedding", (5, 2)), ("Bilinear", (2, 2, 2))):
        layer = getattr(nn, name)(*args, dtype=edunn.float64)
        assert all(p.dtype is edunn.float64 for p in layer.parameters())


def test_copy_weights_reports_every_mismatch():
    mine, theirs = nn.Linear(3, 2), torch.nn.Linear(3, 4, bias=False)
    weight_before = mine.weight.tolist()
    with pytest.raises(ValueError) as error:
        copy_weights(theirs, mine)
    assert "weight: shape [4, 3] in source vs [2, 3] in destination" in str(error.value)
    assert "bias: missing in source" in str(error.value)
    assert mine.weight.tolist() == weight_before


def test_copy_weights_round_trip():
    mine, theirs = build("Conv2d", 2, 3, 3)
    copy_weights(theirs, mine)
    assert_close(mine.weight, theirs.weight, rtol=0, atol=0)
    with edunn.no_grad():
        mine.bias.fill_(0.25)
    copy_weights(mine, theirs)
    assert theirs.bias.tolist() == [0.25] * 3


def test_check_module_names_first_mismatch():
    mine, theirs = build("Linear", 3, 2)

    class Off(nn.Linear):
        def forward(self, x):
            return super().forward(x) + (self.weight * 0).sum() + self.bias.sum() * 1e-3

    off = Off(3, 2).double()
    with pytest.raises(AssertionError, match=r"^output\[0\]"):
        check_module(off, theirs, randn(np.random.RandomState(0), 4, 3))
    check_module(mine, theirs, randn(np.random.RandomState(0), 4, 3))


def test_check_module_rejects_mismatched_modes():
    mine, theirs = build("Dropout", 0.5)
    mine.eval()
    with pytest.raises(ValueError, match="training"):
        check_module(mine, theirs, edunn.ones(2))


def test_layers_round_trip_through_bridge_values():
    layer = nn.Linear(3, 2).double()
    back = from_torch(to_torch(layer.weight))
    assert_close(back, layer.weight, rtol=0, atol=0)


@pytest.mark.cuda
@pytest.mark.skipif(not edunn.cuda.is_available(), reason="needs cupy and a CUDA GPU")
def test_model_on_cuda_matches_torch_on_cpu():
    def make(lib):
        lnn = lib.nn
        return lnn.Sequential(lnn.Conv2d(1, 4, 3, padding=1), lnn.BatchNorm2d(4), lnn.ReLU(), lnn.MaxPool2d(2),
                              lnn.Flatten(), lnn.Linear(4 * 3 * 3, 5), lnn.LogSoftmax(dim=1)).double()

    mine, theirs = make(edunn), make(torch)
    weight = mine[0].weight
    assert mine.cuda() is mine
    assert mine[0].weight is weight
    assert all(t.device.type == "cuda" for t in list(mine.parameters()) + list(mine.buffers()))
    x = randn(np.random.RandomState(0), 2, 1, 6, 6).to("cuda")
    check_module(mine, theirs, x, rtol=RTOL, atol=ATOL)
    mine.cpu()
    assert weight.device.type == "cpu"
