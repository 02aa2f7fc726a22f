"""Integer tensors reject a float alpha in add/sub and integer division in addcdiv, as torch does."""

import pytest
import torch

import edunn

CASES = {
    "add_float_alpha": lambda lib, a: a.add(a, alpha=0.5),
    "sub_float_alpha": lambda lib, a: a.sub(a, alpha=0.5),
    "add_scalar_float_alpha": lambda lib, a: a.add(1, alpha=0.5),
    "add_inplace_float_alpha": lambda lib, a: a.clone().add_(a, alpha=0.5),
    "addcdiv_integer": lambda lib, a: a.addcdiv(a, a),
    "addcdiv_float_self_integer_operands": lambda lib, a: a.double().addcdiv(a, a),
    "addcdiv_inplace_integer": lambda lib, a: a.clone().addcdiv_(a, lib.tensor(3)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_integral_op_raises_like_torch(name):
    case = CASES[name]
    with pytest.raises(RuntimeError) as torch_error:
        case(torch, torch.tensor([1, 2, 3]))
    with pytest.raises(type(torch_error.value)) as edunn_error:
        case(edunn, edunn.tensor([1, 2, 3]))

    assert str(edunn_error.value).split()[:4] == str(torch_error.value).split()[:4]


def test_failed_inplace_op_leaves_tensor_unchanged():
    a = edunn.tensor([1, 2, 3])
    with pytest.raises(RuntimeError):
        a.addcdiv_(a, a)
    with pytest.raises(RuntimeError):
        a.add_(a, alpha=0.5)

    assert a.tolist() == [1, 2, 3]
    assert a._version == 0


@pytest.mark.parametrize("alpha", [2, 0.5])
def test_float_operands_accept_any_alpha(alpha):
    values = [1.0, 2.0, 3.0]
    expected = torch.tensor([1, 2, 3]).add(torch.tensor(values, dtype=torch.float64), alpha=alpha)
    actual = edunn.tensor([1, 2, 3]).add(edunn.tensor(values, dtype=edunn.float64), alpha=alpha)

    assert actual.tolist() == expected.tolist()
    assert str(actual.dtype).split(".")[1] == str(expected.dtype).split(".")[1]


def test_addcdiv_with_one_float_operand_divides_truly():
    expected = torch.tensor([1, 2, 3]).addcdiv(torch.tensor([1.0, 1.0, 1.0]), torch.tensor([2, 4, 8]))
    actual = edunn.tensor([1, 2, 3]).addcdiv(edunn.tensor([1.0, 1.0, 1.0]), edunn.tensor([2, 4, 8]))

    assert actual.tolist() == expected.tolist()
