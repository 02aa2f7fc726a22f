"""``check_optimizer``：让一个 edunn 优化器（也可以是你自己写的）和它的 torch 孪生在同一个小模型上
逐步比较，报告第一次分叉的步数与参数。"""

import numpy as np

from .. import _backend
from .._tensor import Tensor
from ._bridge import _torch, from_torch

# 小 MLP：输入 4 维，隐层 8 个 tanh 单元，输出 3 维；参数名与 nn.Linear 的写法一致。
_LAYER_SHAPES = (("hidden.weight", (4, 8)), ("hidden.bias", (8,)), ("output.weight", (8, 3)), ("output.bias", (3,)))
_BATCH = 32


class Divergence:
    """第一处不一致：第几步（从 1 数起）、哪个参数或状态、差多少。"""

    def __init__(self, step, name, kind, detail, max_abs_diff=None):
        self.step = step
        self.name = name
        self.kind = kind  # "parameter" 或 "state"
        self.detail = detail
        self.max_abs_diff = max_abs_diff

    def __repr__(self):
        return f"Divergence(step={self.step}, name={self.name!r}, kind={self.kind!r})"

    def __str__(self):
        return f"step {self.step}, {self.kind} {self.name!r}: {self.detail}"


class OptimizerCheckResult:
    """``check_optimizer`` 的结果。``bool(result)`` 表示是否一致；``result.summary()`` 是可读的说明。

    属性：``passed``、``steps``（比较了几步）、``first_divergence``（``Divergence`` 或 None）、
    ``max_abs_diff``（各步各参数中最大的绝对误差）、``rtol``/``atol``、两个优化器的名字。
    """

    def __init__(self, edunn_name, torch_name, steps, rtol, atol, max_abs_diff, first_divergence):
        self.edunn_name = edunn_name
        self.torch_name = torch_name
        self.steps = steps
        self.rtol = rtol
        self.atol = atol
        self.max_abs_diff = max_abs_diff
        self.first_divergence = first_divergence

    @property
    def passed(self):
        return self.first_divergence is None

    def __bool__(self):
        return self.passed

    def summary(self):
        header = f"{self.edunn_name} vs {self.torch_name}"
        if self.passed:
            return (f"{header}: {self.steps} steps, parameters and state agree "
                    f"(max abs diff {self.max_abs_diff:.1e}; rtol={self.rtol:g}, atol={self.atol:g})")
        return f"{header}: diverged at {self.first_divergence}"

    __str__ = summary

    def __repr__(self):
        return f"<OptimizerCheckResult passed={self.passed} steps={self.steps}>"


def _qualified_name(cls):
    """``torch.optim.Adam``、``edunn.optim.Adam`` 这样的公开名字；读者自己的类给出模块加类名。"""
    module = cls.__module__
    name = getattr(cls, "__qualname__", cls.__name__)
    for library in ("torch", "edunn"):
        if module.startswith(f"{library}.optim"):
            return f"{library}.optim.{name}"
    return f"{module}.{name}"


def _host(value):
    if isinstance(value, Tensor):
        return _backend.to_numpy(value._array)
    return value.detach().cpu().numpy()


def _compare(actual, expected, rtol, atol):
    """返回 (是否一致, 最大绝对误差, 不一致时的说明)。NaN 只与 NaN 相等。"""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        return False, np.inf, f"shape {actual.shape} in edunn, {expected.shape} in torch"
    if actual.size == 0:
        return True, 0.0, ""
    diff = np.abs(actual - expected)
    close = (diff <= atol + rtol * np.abs(expected)) | (np.isnan(actual) & np.isnan(expected))
    max_diff = float(np.nanmax(diff)) if not np.isnan(diff).all() else 0.0
    if close.all():
        return True, max_diff, ""
    worst = np.unravel_index(np.argmax(np.where(close, -np.inf, np.nan_to_num(diff, nan=np.inf))), actual.shape)
    index = tuple(int(i) for i in worst)
    return False, max_diff, (
        f"max abs diff {max_diff:.3e} (at index {index}: edunn {float(actual[worst])!r}, "
        f"torch {float(expected[worst])!r}); allowed |edunn - torch| <= {atol:g} + {rtol:g} * |torch|, "
        f"{int((~close).sum())} of {close.size} elements off"
    )


def _mlp_loss_and_grads(params, inputs, targets):
    """两层感知机 ``tanh(x @ W1 + b1) @ W2 + b2`` 的均方误差及其对四个参数的梯度（numpy 手算）。"""
    weight1, bias1, weight2, bias2 = params
    hidden = np.tanh(inputs @ weight1 + bias1)  # (batch, 8)
    residual = hidden @ weight2 + bias2 - targets  # (batch, 3)
    loss = (residual ** 2).mean()

    grad_output = 2 * residual / residual.size
    grad_hidden = (grad_output @ weight2.T) * (1 - hidden ** 2)
    grads = (inputs.T @ grad_hidden, grad_hidden.sum(axis=0), hidden.T @ grad_output, grad_output.sum(axis=0))
    return loss, grads


def check_optimizer(edunn_cls, torch_cls, options=None, *, group_options=None, steps=20, rtol=1e-10, atol=1e-12,
                    seed=0, dtype="float64", device="cpu", check_state=True, closure=False, raise_on_mismatch=False):
    """在同一个小 MLP、同样的数据与超参数上运行 ``edunn_cls`` 与 ``torch_cls``，逐步比较。

    模型是两层感知机 ``tanh(x @ W1 + b1) @ W2 + b2``（4 -> 8 -> 3），损失是 32 个样本上的均方误差。
    初值与数据由 torch 按 ``seed`` 生成、按位复制给 edunn。每一步的梯度由 numpy 按同一公式从
    各自当前的参数算出，再赋给 ``param.grad``：两边参数相同则梯度逐位相同，所以比较出的差异只
    来自优化器本身，不混入两个库自动求导的舍入差别。

    参数组设置了 ``maximize=True`` 时，这一组的梯度取反后再交给优化器：优化器把它再取反，
    实际仍在下降损失。对损失做梯度上升会让参数发散，舍入误差随之放大，比较就失去意义。

    Args:
        edunn_cls: edunn 的优化器类，或你自己写的、构造方式与 torch 相同的类。
        torch_cls: torch 的对应类，例如 ``torch.optim.Adam``。
        options (dict): 两边都传给构造函数的关键字参数，例如 ``{"lr": 0.01, "amsgrad": True}``。
        group_options (list[dict] 或 None): 给出时参数分成两组（隐层一组、输出层一组），每组再加上
            这里的选项，例如 ``[{}, {"lr": 0.1}]``；None 时只有一组。
        steps (int): 比较多少步。
        rtol, atol (float): 每步、每个参数逐元素要求 ``|edunn - torch| <= atol + rtol * |torch|``。
        seed (int): 生成初值与数据的种子。
        dtype (str): ``"float64"``（默认，差异只来自舍入）或 ``"float32"``。
        device (str): edunn 一侧的设备；torch 一侧总在 CPU 上。
        check_state (bool): 同时比较每个参数的优化器状态（键相同，张量值接近）。
        closure (bool): 以 ``step(closure)`` 的方式调用（L-BFGS 这类需要重新求值的优化器要用）。
        raise_on_mismatch (bool): 不一致时抛 AssertionError（消息即 ``summary()``），而不是返回结果。

    Returns:
        OptimizerCheckResult: ``bool(result)`` 为是否一致；``result.first_divergence`` 指出第一次分叉。
    """
    torch = _torch()
    options = dict(options or {})
    if group_options is not None and len(group_options) != 2:
        raise ValueError(f"group_options must list 2 dicts (hidden layer, output layer), got {len(group_options)}")
    torch_dtype = getattr(torch, dtype)
    generator = torch.Generator().manual_seed(seed)

    torch_params = []
    for _, shape in _LAYER_SHAPES:
        scale = 1.0 / np.sqrt(shape[0]) if len(shape) == 2 else 0.1
        torch_params.append((torch.randn(shape, dtype=torch_dtype, generator=generator) * scale).requires_grad_())
    inputs = torch.randn(_BATCH, _LAYER_SHAPES[0][1][0], dtype=torch_dtype, generator=generator).numpy()
    targets = torch.randn(_BATCH, _LAYER_SHAPES[-1][1][0], dtype=torch_dtype, generator=generator).numpy()
    edunn_params = [from_torch(p.detach(), device).requires_grad_() for p in torch_params]
    names = [name for name, _ in _LAYER_SHAPES]

    def grouped(params):
        if group_options is None:
            return params
        return [{"params": params[:2], **group_options[0]}, {"params": params[2:], **group_options[1]}]

    edunn_optimizer = edunn_cls(grouped(edunn_params), **options)
    torch_optimizer = torch_cls(grouped(torch_params), **options)

    def maximize_signs(optimizer):
        return [-1.0 if group.get("maximize", False) else 1.0
                for group in optimizer.param_groups for _ in group["params"]]

    def one_step(optimizer, params, wrap):
        signs = maximize_signs(optimizer)

        def evaluate():
            loss, grads = _mlp_loss_and_grads([_host(p) for p in params], inputs, targets)
            for param, grad, sign in zip(params, grads, signs):
                param.grad = wrap(np.ascontiguousarray(grad * sign if sign < 0 else grad))
            return wrap(np.asarray(loss))

        if closure:
            optimizer.step(evaluate)
        else:
            evaluate()
            optimizer.step()

    def wrap_edunn(array):
        return Tensor._wrap(_backend.move_array(array, _backend.as_device(device)))

    edunn_name, torch_name = _qualified_name(edunn_cls), _qualified_name(torch_cls)
    max_abs_diff = 0.0
    for step in range(1, steps + 1):
        one_step(torch_optimizer, torch_params, torch.from_numpy)
        one_step(edunn_optimizer, edunn_params, wrap_edunn)

        divergence = None
        for name, mine, theirs in zip(names, edunn_params, torch_params):
            ok, diff, detail = _compare(_host(mine), _host(theirs), rtol, atol)
            max_abs_diff = max(max_abs_diff, diff)
            if not ok:
                divergence = Divergence(step, name, "parameter", detail, diff)
                break
        if divergence is None and check_state:
            divergence = _compare_state(edunn_optimizer, torch_optimizer, edunn_params, torch_params, names,
                                        step, rtol, atol)
        if divergence is not None:
            result = OptimizerCheckResult(edunn_name, torch_name, step, rtol, atol, max_abs_diff, divergence)
            if raise_on_mismatch:
                raise AssertionError(result.summary())
            return result

    return OptimizerCheckResult(edunn_name, torch_name, steps, rtol, atol, max_abs_diff, None)


def _compare_state(edunn_optimizer, torch_optimizer, edunn_params, torch_params, names, step, rtol, atol):
    for name, mine, theirs in zip(names, edunn_params, torch_params):
        edunn_state = edunn_optimizer.state.get(mine, {})
        torch_state = torch_optimizer.state.get(theirs, {})
        if sorted(edunn_state) != sorted(torch_state):
            detail = f"state keys {sorted(edunn_state)} in edunn, {sorted(torch_state)} in torch"
            return Divergence(step, name, "state", detail)
        for key, expected in torch_state.items():
            divergence = _compare_state_value(edunn_state[key], expected, f"state[{key!r}]", name, step, rtol, atol)
            if divergence is not None:
                return divergence
    return None


def _compare_state_value(actual, expected, label, name, step, rtol, atol):
    """比较一个状态值；L-BFGS 的状态里有张量列表（``old_dirs``、``al`` 等），逐项比较。"""
    if isinstance(expected, (list, tuple)):
        if not isinstance(actual, (list, tuple)) or len(actual) != len(expected):
            return Divergence(step, name, "state", f"{label} is {actual!r} in edunn, a {len(expected)}-item "
                                                   f"{type(expected).__name__} in torch")
        for index, (mine, theirs) in enumerate(zip(actual, expected)):
            divergence = _compare_state_value(mine, theirs, f"{label}[{index}]", name, step, rtol, atol)
            if divergence is not None:
                return divergence
        return None
    if not hasattr(expected, "detach"):
        if isinstance(expected, float) and isinstance(actual, float):
            ok, diff, detail = _compare(actual, expected, rtol, atol)
            return None if ok else Divergence(step, name, "state", f"{label}: {detail}", diff)
        if actual != expected:
            return Divergence(step, name, "state", f"{label} is {actual!r} in edunn, {expected!r} in torch")
        return None
    if not isinstance(actual, Tensor):
        return Divergence(step, name, "state", f"{label} is {type(actual).__name__} in edunn, a tensor in torch")
    ok, diff, detail = _compare(_host(actual), _host(expected), rtol, atol)
    if not ok:
        return Divergence(step, name, "state", f"{label}: {detail}", diff)
    return None
