"""不记录梯度时内部算子直接算前向、不建节点：结果必须与记录梯度时相同。"""

import numpy as np
import pytest

import edunn

OPERATIONS = {
    "sqrt": lambda x, y: x.abs().sqrt(),
    "div by scalar": lambda x, y: x / 3.0,
    "scalar over tensor": lambda x, y: 2.0 / (y.abs() + 1),
    "neg": lambda x, y: -x,
    "add alpha": lambda x, y: x.add(y, alpha=0.5),
    "matmul": lambda x, y: x @ y.T,
    "sum dim": lambda x, y: x.sum(dim=1, keepdim=True),
    "max dim values": lambda x, y: x.max(dim=0).values,
    "max dim indices": lambda x, y: x.max(dim=0).indices,
    "split": lambda x, y: x.split(2, dim=1)[1],
    "index": lambda x, y: x[1:, ::2],
    "clone": lambda x, y: x.clone(),
    "cast": lambda x, y: x.to(edunn.float32),
}


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_no_grad_result_equals_recorded_result(name):
    edunn.manual_seed(0)
    x = edunn.randn(3, 4, dtype=edunn.float64, requires_grad=True)
    y = edunn.randn(3, 4, dtype=edunn.float64, requires_grad=True)
    recorded = OPERATIONS[name](x, y)
    with edunn.no_grad():
        plain = OPERATIONS[name](x, y)
    assert plain.grad_fn is None
    assert not plain.requires_grad
    assert plain.dtype is recorded.dtype
    np.testing.assert_array_equal(plain.numpy(), recorded.detach().numpy())


def test_no_grad_tuple_outputs_are_tensors():
    x = edunn.arange(6.0).reshape(2, 3)
    with edunn.no_grad():
        values, indices = x.max(dim=1)
    assert values.tolist() == [2.0, 5.0]
    assert indices.tolist() == [2, 2]


def test_tensors_without_grad_skip_graph_even_in_grad_mode():
    x = edunn.ones(2, dtype=edunn.float64)
    assert (x * 2).grad_fn is None


def test_recording_still_builds_graph_after_no_grad_ops():
    x = edunn.tensor([1.0, 4.0], dtype=edunn.float64, requires_grad=True)
    with edunn.no_grad():
        x.sqrt()
    y = x.sqrt().sum()
    y.backward()
    assert x.grad.tolist() == [0.5, 0.25]


@pytest.mark.parametrize("kind", ["conv1d", "conv2d"])
def test_no_grad_conv_equals_recorded_result(kind):
    # The conv forward reads ctx.needs_input_grad, so the forward-only context must provide it too.
    edunn.manual_seed(0)
    layer = (edunn.nn.Conv1d(2, 3, 3, padding=1) if kind == "conv1d" else edunn.nn.Conv2d(2, 3, 3, padding=1)).double()
    x = edunn.randn(*((2, 2, 5) if kind == "conv1d" else (2, 2, 5, 5)), dtype=edunn.float64)
    recorded = layer(x)
    with edunn.no_grad():
        plain = layer(x)

    assert recorded.grad_fn is not None
    assert plain.grad_fn is None
    np.testing.assert_array_equal(plain.numpy(), recorded.detach().numpy())
