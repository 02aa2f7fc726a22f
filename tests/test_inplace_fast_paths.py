"""不记录梯度时就地运算走数组模块的 ufunc（out=）快速路径：数值、检查、版本号都要与通用路径和 torch 一致。"""

import numpy as np
import pytest
import torch

import edunn
from edunn.testing import from_torch

CASES = {
    "add_": (lambda x, y, z: x.add_(y)),
    "add_ alpha": (lambda x, y, z: x.add_(y, alpha=-0.37)),
    "add_ scalar": (lambda x, y, z: x.add_(2.5, alpha=3)),
    "sub_ alpha": (lambda x, y, z: x.sub_(y, alpha=0.5)),
    "mul_": (lambda x, y, z: x.mul_(y)),
    "mul_ scalar": (lambda x, y, z: x.mul_(0.999)),
    "div_": (lambda x, y, z: x.div_(z)),
    "addcmul_": (lambda x, y, z: x.addcmul_(y, z, value=0.001)),
    "addcmul_ default value": (lambda x, y, z: x.addcmul_(y, z)),
    "addcdiv_": (lambda x, y, z: x.addcdiv_(y, z, value=-0.01)),
    "addcdiv_ default value": (lambda x, y, z: x.addcdiv_(y, z)),
    "lerp_ small weight": (lambda x, y, z: x.lerp_(y, 0.1)),
    "lerp_ large weight": (lambda x, y, z: x.lerp_(y, 0.7)),
    "sqrt_": (lambda x, y, z: x.abs_().sqrt_()),
}


def operands(dtype, shape=(5, 7), seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, dtype=dtype, generator=generator)
    y = torch.randn(shape, dtype=dtype, generator=generator)
    z = torch.rand(shape, dtype=dtype, generator=generator) + 0.5
    return (x, y, z), tuple(from_torch(t) for t in (x, y, z))


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_fast_inplace_matches_torch(name, dtype):
    (x, y, z), (ex, ey, ez) = operands(dtype)
    with torch.no_grad():
        CASES[name](x, y, z)
    with edunn.no_grad():
        result = CASES[name](ex, ey, ez)
    assert result is ex
    # torch 的 CPU 内核可能用融合乘加（FMA），结果与分步计算差一个舍入单位。
    rtol = 1e-15 if dtype == torch.float64 else 1e-6
    np.testing.assert_allclose(ex.numpy(), x.numpy(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name", sorted(CASES))
def test_fast_inplace_bumps_version(name):
    _, (ex, ey, ez) = operands(torch.float64)
    before = ex._version
    with edunn.no_grad():
        CASES[name](ex, ey, ez)
    assert ex._version > before


def test_fast_inplace_broadcasts_other_into_self():
    x = edunn.zeros(2, 3, dtype=edunn.float64)
    x.add_(edunn.tensor([1.0, 2.0, 3.0], dtype=edunn.float64), alpha=2)
    assert x.tolist() == [[2.0, 4.0, 6.0], [2.0, 4.0, 6.0]]


def test_fast_inplace_rejects_growing_self_like_torch():
    x = edunn.zeros(3, dtype=edunn.float64)
    with pytest.raises(RuntimeError) as error:
        x.add_(edunn.ones(2, 3, dtype=edunn.float64))
    with pytest.raises(RuntimeError) as torch_error:
        torch.zeros(3, dtype=torch.float64).add_(torch.ones(2, 3, dtype=torch.float64))
    assert str(error.value) == str(torch_error.value)
    assert x.tolist() == [0.0, 0.0, 0.0]


def test_fast_inplace_rejects_float_into_int_like_torch():
    x = edunn.zeros(3, dtype=edunn.int64)
    with pytest.raises(RuntimeError) as error:
        x.mul_(0.5)
    with pytest.raises(RuntimeError) as torch_error:
        torch.zeros(3, dtype=torch.int64).mul_(0.5)
    assert str(error.value) == str(torch_error.value)


def test_fast_inplace_writes_through_a_view():
    base = edunn.zeros(2, 4, dtype=edunn.float64)
    column = base[:, 1]
    with edunn.no_grad():
        column.add_(edunn.ones(2, dtype=edunn.float64), alpha=5)
    assert base.tolist() == [[0.0, 5.0, 0.0, 0.0], [0.0, 5.0, 0.0, 0.0]]
    assert base._version == column._version


def test_fast_inplace_with_self_as_operand():
    x = edunn.tensor([1.0, 2.0], dtype=edunn.float64)
    x.addcmul_(x, x, value=2)
    assert x.tolist() == [3.0, 10.0]


def test_mixed_dtype_operand_takes_general_path_and_rounds_once():
    x32 = torch.tensor([1.0, 2.0, 3.0])
    y64 = torch.tensor([1e-8, 1.0 / 3.0, 2.0 / 3.0], dtype=torch.float64)
    ex, ey = from_torch(x32), from_torch(y64)
    x32.add_(y64)
    ex.add_(ey)
    assert ex.dtype is edunn.float32
    np.testing.assert_array_equal(ex.numpy(), x32.numpy())


def test_inplace_on_leaf_requiring_grad_still_raises():
    x = edunn.zeros(2, dtype=edunn.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1.0)


def test_inplace_recording_grad_still_builds_graph():
    w = edunn.tensor([1.0, 2.0], dtype=edunn.float64, requires_grad=True)
    y = w * 1.0
    y.addcmul_(w, w, value=0.5)
    y.sum().backward()
    assert w.grad.tolist() == [2.0, 3.0]


def test_maximum_with_out_writes_in_place():
    x = edunn.tensor([1.0, 5.0], dtype=edunn.float64)
    result = edunn.maximum(x, edunn.tensor([3.0, 2.0], dtype=edunn.float64), out=x)
    assert result is x
    assert x.tolist() == [3.0, 5.0]


def test_lerp_uses_torch_formula_for_large_weight():
    start = torch.tensor([0.1, -3.7, 1e-3], dtype=torch.float64)
    end = torch.tensor([2.3, 1.0 / 3.0, 7.0], dtype=torch.float64)
    expected = torch.lerp(start, end, 0.9)
    actual = edunn.lerp(from_torch(start), from_torch(end), 0.9)
    np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=1e-15, atol=0)
    assert edunn.lerp(from_torch(start), from_torch(end), 1.0).tolist() == end.tolist()
