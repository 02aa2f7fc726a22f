"""第 6 章（钩子）练习的检查器：把你的钩子装到 edunn 与 torch 的同一个小网络上，比较结果。"""

import numpy as np

from ._bridge import _torch, from_torch
from ._records import compare_with_torch

_KINDS = ("forward_pre", "forward", "full_backward_pre", "full_backward")


def _reference_weights(torch):
    """一个 Linear(4, 8) - Tanh - Linear(8, 3) 网络的固定权重（float64，由 numpy 的种子决定）。"""
    shapes = {"0.weight": (8, 4), "0.bias": (8,), "2.weight": (3, 8), "2.bias": (3,)}
    return {name: torch.from_numpy(np.random.RandomState(i).standard_normal(shape) / 2)
            for i, (name, shape) in enumerate(shapes.items())}


def small_network(lib, weights=None):
    """用 lib（edunn 或 torch）搭出检查器用的网络 ``Sequential(Linear(4, 8), Tanh(), Linear(8, 3))``，float64。"""
    torch = _torch()
    weights = _reference_weights(torch) if weights is None else weights
    lnn = lib.nn
    model = lnn.Sequential(lnn.Linear(4, 8), lnn.Tanh(), lnn.Linear(8, 3)).double()
    model.load_state_dict(weights if lib is torch else from_torch(weights))
    return model


def check_hook(hook, kind="forward", *, with_kwargs=False):
    """把 hook 登记到检查网络的每一层上，在 edunn 与 torch 上各做一次前向与反向，比较结果。

    kind 是 ``"forward_pre"``、``"forward"``、``"full_backward_pre"`` 或 ``"full_backward"``，对应
    ``register_<kind>_hook``；``with_kwargs`` 只用于前两种。hook 只能用两个库共有的张量方法
    （``clamp``、``*``、``tanh``……），这样同一个函数能装在两边。比较的是网络输出、输入的梯度和每个
    参数的梯度（float64，rtol=1e-10）。全部一致时返回 True，否则抛出 AssertionError，信息指出哪一项不同。
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {', '.join(_KINDS)}, got {kind!r}")
    if with_kwargs and kind not in ("forward_pre", "forward"):
        raise ValueError("with_kwargs is only accepted by forward_pre and forward hooks")
    inputs = np.random.RandomState(100).standard_normal((5, 4))

    def scenario(lib):
        model = small_network(lib)
        for layer in model:
            if kind == "forward_pre":
                layer.register_forward_pre_hook(hook, with_kwargs=with_kwargs)
            elif kind == "forward":
                layer.register_forward_hook(hook, with_kwargs=with_kwargs)
            elif kind == "full_backward_pre":
                layer.register_full_backward_pre_hook(hook)
            else:
                layer.register_full_backward_hook(hook)
        x = lib.tensor(inputs, requires_grad=True)
        output = model(x)
        output.pow(2).sum().backward()
        return {"output": output, "input grad": x.grad,
                "parameter grads": {name: param.grad for name, param in model.named_parameters()}}

    return compare_with_torch(scenario)


__all__ = ["check_hook", "small_network"]
