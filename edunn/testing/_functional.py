"""对照 torch 检查一个函数：同样的输入，比较输出与对每个输入的梯度。"""

import numpy as np

from .._tensor import Tensor
from ..autograd import grad as edunn_grad
from ._bridge import _torch, from_torch, to_torch
from ._compare import assert_close


class FunctionCheck:
    """``check_function`` 的结果。真值为“全部一致”；``mismatches`` 列出每一处不一致，
    ``torch_args`` / ``torch_kwargs`` 是交给 torch 的那份输入（函数会就地修改的输入可以在这里查看）。
    """

    def __init__(self, mismatches, compared, torch_args, torch_kwargs):
        self.mismatches = mismatches
        self.compared = compared
        self.torch_args = torch_args
        self.torch_kwargs = torch_kwargs

    @property
    def passed(self):
        return not self.mismatches

    def __bool__(self):
        return self.passed

    def __repr__(self):
        if self.passed:
            return f"通过：{'、'.join(self.compared)} 都与 torch 一致"
        return "不一致：\n" + "\n".join(f"- {m}" for m in self.mismatches)


def _is_edunn_float(value):
    return isinstance(value, Tensor) and value.dtype.is_floating_point


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


def check_function(function, reference, *args, rtol=None, atol=None, seed=0, **kwargs):
    """运行 ``function(*args, **kwargs)``（edunn 或你自己的实现）与 ``reference``（torch 的函数），比较两者。

    - args / kwargs 里的 edunn 张量用 ``to_torch`` 逐位复制到 cpu 上交给 reference，``requires_grad``
      一并带上；其他值原样传给两边。
    - 输出可以是张量或张量元组，逐个比较形状、dtype 与数值（容差默认同 ``assert_close``）。
    - 对需要梯度的浮点输出，用同一个随机的上游梯度（由 ``seed`` 决定）各自反向传播，
      比较每个 ``requires_grad=True`` 的输入得到的梯度。用的是 ``autograd.grad``，不改动输入的 ``.grad``。

    返回 ``FunctionCheck``：可以直接 ``assert``，也可以 ``print`` 出一句结论。
    """
    torch = _torch()
    # torch 一侧总在 cpu 上算：edunn 在 cuda 上时，参照值仍来自 torch 的 cpu 实现。
    torch_args = [to_torch(a, device="cpu") for a in args]
    torch_kwargs = {k: to_torch(v, device="cpu") for k, v in kwargs.items()}
    outputs = _as_tuple(function(*args, **kwargs))
    expected = _as_tuple(reference(*torch_args, **torch_kwargs))
    mismatches, compared = [], []

    if len(outputs) != len(expected):
        mismatches.append(f"输出个数不同：{len(outputs)} != {len(expected)}")
        return FunctionCheck(mismatches, compared, torch_args, torch_kwargs)
    for number, (out, exp) in enumerate(zip(outputs, expected)):
        label = "输出" if len(outputs) == 1 else f"输出 {number}"
        _compare(out, exp, label, rtol, atol, mismatches, compared)

    differentiable = [(out, exp) for out, exp in zip(outputs, expected)
                      if _is_edunn_float(out) and out.requires_grad and exp.requires_grad]
    inputs = [(position, a, t) for position, (a, t) in enumerate(zip(args, torch_args))
              if _is_edunn_float(a) and a.requires_grad]
    inputs += [(name, kwargs[name], torch_kwargs[name]) for name in kwargs
               if _is_edunn_float(kwargs[name]) and kwargs[name].requires_grad]
    if not differentiable or not inputs:
        return FunctionCheck(mismatches, compared, torch_args, torch_kwargs)

    rng = np.random.default_rng(seed)
    upstream = [rng.standard_normal(tuple(out.shape)).astype(out.dtype.numpy) for out, _ in differentiable]
    grads = edunn_grad(
        [out for out, _ in differentiable],
        [a for _, a, _ in inputs],
        [from_torch(torch.from_numpy(g), device=out.device) for g, (out, _) in zip(upstream, differentiable)],
        allow_unused=True,
    )
    torch_grads = torch.autograd.grad(
        [exp for _, exp in differentiable],
        [t for _, _, t in inputs],
        [torch.from_numpy(g) for g in upstream],
        allow_unused=True,
    )
    for (name, _, _), got, want in zip(inputs, grads, torch_grads):
        label = f"对参数 {name} 的梯度" if isinstance(name, str) else f"对第 {name + 1} 个参数的梯度"
        _compare(got, want, label, rtol, atol, mismatches, compared)
    return FunctionCheck(mismatches, compared, torch_args, torch_kwargs)


def _compare(actual, expected, label, rtol, atol, mismatches, compared):
    compared.append(label)
    if actual is None or expected is None:
        if not (actual is None and expected is None):
            mismatches.append(f"{label}：一边是 None，另一边是 {type(actual if expected is None else expected).__name__}")
        return
    if not isinstance(actual, Tensor):
        if actual != expected:
            mismatches.append(f"{label}：{actual!r} != {expected!r}")
        return
    try:
        assert_close(actual, expected, rtol=rtol, atol=atol)
    except AssertionError as error:
        mismatches.append(f"{label}：{error}")
