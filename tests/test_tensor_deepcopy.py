"""copy.deepcopy of Tensor, Parameter and modules, compared with torch."""

import copy

import numpy as np
import pytest
import torch

import edunn
import edunn.nn as nn
from edunn.testing import assert_close, copy_weights


def test_deepcopy_tensor_copies_values_grad_and_attributes():
    pairs = []
    for lib in (torch, edunn):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        x.grad = lib.tensor([0.5, 0.25, 0.125], dtype=lib.float64)
        x.note = {"tag": [1, 2]}
        pairs.append((x, copy.deepcopy(x)))

    for x, y in pairs:
        assert y is not x
        assert y.requires_grad
        assert y.is_leaf
        assert y.grad is not x.grad
        assert y.note == x.note
        assert y.note is not x.note
    assert_close(pairs[1][1], pairs[0][1])
    assert_close(pairs[1][1].grad, pairs[0][1].grad)


def test_deepcopy_tensor_owns_its_array():
    x = edunn.tensor([1.0, 2.0], dtype=edunn.float64)
    y = copy.deepcopy(x)
    y.add_(1.0)

    assert x.tolist() == [1.0, 2.0]
    assert y.tolist() == [2.0, 3.0]
    assert x._version == 0


def test_deepcopy_view_is_not_a_view():
    base = edunn.arange(6, dtype=edunn.float64)
    y = copy.deepcopy(base[2:4])
    y.zero_()

    assert y._base is None
    assert base.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_deepcopy_keeps_shared_tensors_shared():
    x = edunn.ones(2)
    a, b = copy.deepcopy([x, x])

    assert a is b
    assert a is not x


def test_deepcopy_non_leaf_raises_like_torch():
    t = torch.ones(2, requires_grad=True) * 2
    e = edunn.ones(2, requires_grad=True) * 2

    with pytest.raises(RuntimeError, match="graph leaves") as torch_error:
        copy.deepcopy(t)
    with pytest.raises(type(torch_error.value), match="graph leaves"):
        copy.deepcopy(e)


def test_deepcopy_buffer_keeps_persistent_flag():
    b = nn.Buffer(edunn.ones(2), persistent=False)
    c = copy.deepcopy(b)

    assert isinstance(c, nn.Buffer)
    assert c.persistent is False


def test_deepcopy_module_matches_torch():
    torch_model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2)).double()
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)).double()
    copy_weights(torch_model, model)
    x = np.random.default_rng(0).standard_normal((5, 3))
    torch_model(torch.tensor(x))
    model(edunn.tensor(x))

    torch_copy = copy.deepcopy(torch_model)
    model_copy = copy.deepcopy(model)

    for (name, p), (_, q) in zip(model.named_parameters(), model_copy.named_parameters()):
        assert type(q) is nn.Parameter, name
        assert q is not p, name
        assert q.requires_grad
    for (name, b), (_, c) in zip(model.named_buffers(), model_copy.named_buffers()):
        assert c is not b, name
    state = model_copy.state_dict()
    assert list(state) == list(torch_copy.state_dict())
    for key, value in model.state_dict().items():
        assert state[key].dtype == value.dtype, key
        assert_close(state[key], value, rtol=0, atol=0)
