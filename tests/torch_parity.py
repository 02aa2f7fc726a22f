"""测试用的对照工具：同一个函数分别作用在 edunn 与 torch 的张量上，比较输出值与梯度。"""

import numpy as np
import torch

import edunn
from edunn.testing import assert_close

RTOL = 1e-10
ATOL = 1e-12


def make_inputs(library, arrays, device):
    """numpy 数组变成张量（浮点数组 requires_grad=True）；其它值原样传入。"""
    out = []
    for a in arrays:
        if isinstance(a, (np.ndarray, np.generic)):
            a = np.asarray(a)
            needs_grad = a.dtype.kind == "f"
            if library is torch:
                out.append(torch.tensor(a, requires_grad=needs_grad))
            else:
                out.append(edunn.tensor(a, device=device, requires_grad=needs_grad))
        else:
            out.append(a)
    return out


def _as_tuple(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def grad_fn_name(tensor):
    return None if tensor.grad_fn is None else tensor.grad_fn.name()


def check_op(fn, *arrays, device, rtol=RTOL, atol=ATOL, check_name=True, seed=0):
    """比较 ``fn(edunn, *inputs)`` 与 ``fn(torch, *inputs)`` 的值、dtype、grad_fn 名字和梯度。

    反向时对每个可求导输出送入同一个随机的上游梯度，用 ``autograd.grad`` 取各输入的梯度。
    """
    edunn_inputs = make_inputs(edunn, arrays, device)
    torch_inputs = make_inputs(torch, arrays, device)
    edunn_out = _as_tuple(fn(edunn, *edunn_inputs))
    torch_out = _as_tuple(fn(torch, *torch_inputs))
    assert len(edunn_out) == len(torch_out)

    for i, (e, t) in enumerate(zip(edunn_out, torch_out)):
        assert tuple(e.shape) == tuple(t.shape), f"output {i} shape: {tuple(e.shape)} != {tuple(t.shape)}"
        assert e.dtype.name == str(t.dtype).replace("torch.", ""), f"output {i} dtype: {e.dtype} != {t.dtype}"
        assert_close(e, t, rtol=rtol, atol=atol, equal_nan=True, msg=f"value of output {i}")
        assert e.requires_grad == t.requires_grad, f"output {i} requires_grad: {e.requires_grad}"
        if check_name:
            assert grad_fn_name(e) == grad_fn_name(t), f"output {i} grad_fn: {grad_fn_name(e)} != {grad_fn_name(t)}"

    pairs = [(e, t) for e, t in zip(edunn_out, torch_out) if t.requires_grad]
    edunn_leaves = [x for x in edunn_inputs if isinstance(x, edunn.Tensor) and x.requires_grad]
    torch_leaves = [x for x in torch_inputs if isinstance(x, torch.Tensor) and x.requires_grad]
    if not pairs or not torch_leaves:
        return edunn_out, torch_out

    rng = np.random.default_rng(seed)
    upstream = [rng.standard_normal(tuple(t.shape)).astype(str(t.dtype).replace("torch.", "")) for _, t in pairs]
    torch_grads = torch.autograd.grad([t for _, t in pairs], torch_leaves, [torch.tensor(u) for u in upstream],
                                   allow_unused=True)
    edunn_grads = edunn.autograd.grad([e for e, _ in pairs], edunn_leaves,
                                   [edunn.tensor(u, device=device) for u in upstream], allow_unused=True)
    for i, (ge, gt) in enumerate(zip(edunn_grads, torch_grads)):
        if gt is None:
            assert ge is None or not ge.detach().abs().sum().item(), f"input {i}: torch has no gradient"
            continue
        assert ge is not None, f"input {i}: edunn has no gradient"
        assert_close(ge, gt, rtol=rtol, atol=atol, equal_nan=True, msg=f"gradient of input {i}")
    return edunn_out, torch_out
