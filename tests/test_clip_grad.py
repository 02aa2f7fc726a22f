"""edunn.nn.utils（梯度裁剪、参数与向量互转）对照 torch。"""

import math
import warnings

import pytest
import torch
import torch.nn.utils as TU

import edunn
from edunn.nn import utils
from edunn.testing import assert_close, from_torch

RTOL, ATOL = 1e-10, 1e-12


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _parameter_pairs(shapes=((3, 4), (5,), (2, 2, 3)), scale=1.0, without_grad=(), dtype=torch.float64):
    """同样数值的参数与梯度，edunn 一份、torch 一份；without_grad 中的下标没有梯度。"""
    theirs, ours = [], []
    for index, shape in enumerate(shapes):
        param = torch.randn(shape, dtype=dtype, requires_grad=True)
        if index not in without_grad:
            param.grad = torch.randn(shape, dtype=dtype) * scale
        mine = from_torch(param)
        if param.grad is not None:
            mine.grad = from_torch(param.grad)
        theirs.append(param)
        ours.append(mine)
    return ours, theirs


def _assert_grads_equal(ours, theirs):
    for mine, reference in zip(ours, theirs):
        if reference.grad is None:
            assert mine.grad is None
        else:
            assert_close(mine.grad, reference.grad, rtol=RTOL, atol=ATOL, equal_nan=True)


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.0, 0.5, math.inf, -math.inf, 0])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = _parameter_pairs(without_grad=(1,))
    total = utils.clip_grad_norm_(ours, max_norm, norm_type)
    expected = TU.clip_grad_norm_(theirs, max_norm, norm_type)
    assert_close(total, expected, rtol=RTOL, atol=ATOL)
    _assert_grads_equal(ours, theirs)


def test_clip_grad_norm_scales_only_when_norm_exceeds_max():
    ours, theirs = _parameter_pairs(scale=10.0)
    before = [p.grad.numpy().copy() for p in ours]
    total = utils.clip_grad_norm_(ours, 1.0)
    after_norm = math.sqrt(sum(float((p.grad * p.grad).sum()) for p in ours))
    assert float(total) > 1.0
    assert after_norm == pytest.approx(1.0, rel=1e-5)
    ratios = {round(float(p.grad.numpy().ravel()[0] / b.ravel()[0]), 12) for p, b in zip(ours, before)}
    assert len(ratios) == 1  # 所有梯度乘同一个系数，方向不变


def test_clip_grad_norm_float32_matches_torch():
    ours, theirs = _parameter_pairs(dtype=torch.float32, scale=3.0)
    total = utils.clip_grad_norm_(ours, 2.0)
    expected = TU.clip_grad_norm_(theirs, 2.0)
    assert total.dtype is edunn.float32
    assert_close(total, expected)
    for mine, reference in zip(ours, theirs):
        assert_close(mine.grad, reference.grad)


def test_clip_grad_norm_accepts_single_tensor_and_generator():
    ours, theirs = _parameter_pairs(shapes=((4, 3),), scale=5.0)
    assert_close(utils.clip_grad_norm_(ours[0], 1.0), TU.clip_grad_norm_(theirs[0], 1.0), rtol=RTOL, atol=ATOL)
    ours, theirs = _parameter_pairs(scale=5.0)
    assert_close(utils.clip_grad_norm_(iter(ours), 1.0), TU.clip_grad_norm_(iter(theirs), 1.0), rtol=RTOL,
                 atol=ATOL)
    _assert_grads_equal(ours, theirs)


@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_grad_norm_foreach_flag_gives_same_result(foreach):
    ours, theirs = _parameter_pairs(scale=4.0)
    total = utils.clip_grad_norm_(ours, 1.0, foreach=foreach)
    assert_close(total, TU.clip_grad_norm_(theirs, 1.0), rtol=RTOL, atol=ATOL)
    _assert_grads_equal(ours, theirs)


def test_clip_grad_norm_without_grads_returns_zero_like_torch():
    ours, theirs = _parameter_pairs(without_grad=(0, 1, 2))
    total = utils.clip_grad_norm_(ours, 1.0)
    expected = TU.clip_grad_norm_(theirs, 1.0)
    assert_close(total, expected)
    assert total.dtype is edunn.float32


def test_clip_grad_norm_empty_generator_warns_like_torch():
    message = "`parameters` is an empty generator, no gradient clipping will occur."
    with pytest.warns(UserWarning, match=message):
        TU.clip_grad_norm_((p for p in []), 1.0)
    with pytest.warns(UserWarning, match=message):
        utils.clip_grad_norm_((p for p in []), 1.0)


def test_clip_grad_norm_nonfinite_raises_like_torch():
    ours, theirs = _parameter_pairs()
    ours[0].grad[0, 0] = math.inf
    theirs[0].grad[0, 0] = math.inf
    with pytest.raises(RuntimeError) as expected:
        TU.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as actual:
        utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    assert str(actual.value) == str(expected.value)
    _assert_grads_equal(ours, theirs)  # 报错时梯度没有被改动


def test_clip_grad_norm_nonfinite_without_error_scales_like_torch():
    ours, theirs = _parameter_pairs()
    ours[1].grad[2] = math.nan
    theirs[1].grad[2] = math.nan
    total = utils.clip_grad_norm_(ours, 1.0)
    expected = TU.clip_grad_norm_(theirs, 1.0)
    assert_close(total, expected, equal_nan=True)
    _assert_grads_equal(ours, theirs)


def test_get_total_norm_and_clip_grads_with_norm_match_torch():
    ours, theirs = _parameter_pairs(scale=3.0)
    total = utils.get_total_norm([p.grad for p in ours], 3.0)
    expected = TU.get_total_norm([p.grad for p in theirs], 3.0)
    assert_close(total, expected, rtol=RTOL, atol=ATOL)
    utils.clip_grads_with_norm_(ours, 0.7, total)
    TU.clip_grads_with_norm_(theirs, 0.7, expected)
    _assert_grads_equal(ours, theirs)


def test_clip_grad_norm_does_not_record_graph():
    ours, _ = _parameter_pairs(scale=3.0)
    total = utils.clip_grad_norm_(ours, 1.0)
    assert total.grad_fn is None
    assert all(p.grad.grad_fn is None for p in ours)


def test_deprecated_clip_grad_norm_warns():
    ours, theirs = _parameter_pairs(scale=3.0)
    with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated in favor of"):
        total = utils.clip_grad_norm(ours, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = TU.clip_grad_norm(theirs, 1.0)
    assert_close(total, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("clip_value", [0.3, 5.0])
def test_clip_grad_value_matches_torch(clip_value):
    ours, theirs = _parameter_pairs(without_grad=(2,))
    assert utils.clip_grad_value_(ours, clip_value) is None
    TU.clip_grad_value_(theirs, clip_value)
    _assert_grads_equal(ours, theirs)


def test_clip_grad_value_accepts_single_tensor():
    ours, theirs = _parameter_pairs(shapes=((6,),))
    utils.clip_grad_value_(ours[0], 0.2)
    TU.clip_grad_value_(theirs[0], 0.2)
    _assert_grads_equal(ours, theirs)


# ---------------------------------------------------------------------------
# 参数与向量
# ---------------------------------------------------------------------------


def test_parameters_to_vector_matches_torch_and_passes_gradients():
    ours, theirs = _parameter_pairs()
    vector = utils.parameters_to_vector(ours)
    expected = TU.parameters_to_vector(theirs)
    assert_close(vector, expected, rtol=0, atol=0)
    weights = torch.randn(expected.shape, dtype=torch.float64)
    (vector * from_torch(weights)).sum().backward()
    (expected * weights).sum().backward()
    _assert_grads_equal(ours, theirs)


def test_vector_to_parameters_matches_torch_and_shares_storage():
    ours, theirs = _parameter_pairs()
    source = torch.arange(12 + 5 + 12, dtype=torch.float64)
    vector = from_torch(source)
    utils.vector_to_parameters(vector, ours)
    TU.vector_to_parameters(source, theirs)
    for mine, reference in zip(ours, theirs):
        assert_close(mine, reference, rtol=0, atol=0)
    vector[0] = -1.0
    assert float(ours[0].reshape(-1)[0]) == -1.0  # 参数成了 vector 的视图，与 torch 相同


def test_vector_to_parameters_rejects_non_tensor():
    with pytest.raises(TypeError) as expected:
        TU.vector_to_parameters([1.0, 2.0], [torch.zeros(2)])
    with pytest.raises(TypeError) as actual:
        utils.vector_to_parameters([1.0, 2.0], [edunn.zeros(2)])
    assert str(actual.value) == str(expected.value).replace("torch.", "edunn.")
