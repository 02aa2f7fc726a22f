"""叶子张量的 ``.grad`` 与参数的内存布局相同，与 torch 的约定一致。"""

import numpy as np
import torch

import edunn
from edunn.testing import assert_close, from_torch


def test_transposed_use_gives_contiguous_grad():
    weight = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    x = torch.randn(8, 5, dtype=torch.float64)
    (x @ weight.T).sum().backward()

    mine = from_torch(weight.detach()).requires_grad_()
    (from_torch(x) @ mine.T).sum().backward()
    assert mine.grad.is_contiguous() == weight.grad.is_contiguous() == True  # noqa: E712
    assert mine.grad.stride() == weight.grad.stride()
    assert mine.grad.view(-1).shape == (15,)
    assert_close(mine.grad, weight.grad, rtol=1e-12, atol=0)


def test_accumulated_grad_keeps_its_layout():
    mine = edunn.randn(4, 2, dtype=edunn.float64, requires_grad=True)
    (mine.T * 2).sum().backward()
    (mine.T @ edunn.ones(4, 3, dtype=edunn.float64)).sum().backward()
    assert mine.grad.is_contiguous()
    np.testing.assert_array_equal(mine.grad.numpy(), np.full((4, 2), 5.0))
