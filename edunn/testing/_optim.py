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
    ``max_abs_diff``（各步各参数中最大的绝对误差）、``rtol``/``atol``、两个优化器的名字，以及
    ``sensitive_from_step``：不一致时，torch 自己与"每步之后参数被推开一个舍入单位"的 torch 在第几步
    超出容差（None 表示在同样的步数内没有超出）。它不是 None 时，这次训练会放大舍入误差，分叉未必是实现的错。
    """

    def __init__(self, edunn_name, torch_name, steps, rtol, atol, max_abs_diff, first_divergence,
                 sensitive_from_step=None):
        self.edunn_name = edunn_name
        self.torch_name = torch_name
        self.steps = steps
        self.rtol = rtol
        self.atol = atol
        self.max_abs_diff = max_abs_diff
        self.first_divergence = first_divergence
        self.sensitive_from_step = sensitive_from_step

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
        text = f"{header}: diverged at {self.first_divergence}"
        if self.sensitive_from_step is not None:
            text += (f". Note: torch itself drifts past this tolerance by step {self.sensitive_from_step} when its "
                     "parameters are nudged by one rounding unit after every step, so this run amplifies rounding "
                     "differences and the divergence may not be a bug; try fewer steps or a smaller lr")
        return text

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

    即使两边的公式相同，运算顺序或融合乘加（FMA）也会带来最后一位的舍入差别。训练平稳时这些
    差别保持在 1e-15 左右；训练本身不稳定（学习率过大、损失来回震荡）时它们按指数增长。
    因此出现分叉时，本函数再让 torch 与"每步之后参数被推开一个舍入单位"的 torch 跑同样多的步数，
    把结果记在 ``sensitive_from_step`` 并写进说明。

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
    if group_options is not None and len(group_options) != 2:
        raise ValueError(f"group_options must list 2 dicts (hidden layer, output layer), got {len(group_options)}")
    problem = _Problem(torch, seed, getattr(torch, dtype))
    names = [name for name, _ in _LAYER_SHAPES]

    edunn_params = [from_torch(p, device).requires_grad_() for p in problem.initial_params]
    torch_params = [p.clone().requires_grad_() for p in problem.initial_params]
    edunn_optimizer = edunn_cls(_grouped(edunn_params, group_options), **(options or {}))
    torch_optimizer = torch_cls(_grouped(torch_params, group_options), **(options or {}))
    device = _backend.as_device(device)

    def wrap_edunn(array):
        return Tensor._wrap(_backend.move_array(array, device))

    edunn_name, torch_name = _qualified_name(edunn_cls), _qualified_name(torch_cls)
    max_abs_diff = 0.0
    for step in range(1, steps + 1):
        problem.step(torch_optimizer, torch_params, torch.from_numpy, closure)
        problem.step(edunn_optimizer, edunn_params, wrap_edunn, closure)

        divergence, diff = _compare_params(edunn_params, torch_params, names, step, rtol, atol)
        max_abs_diff = max(max_abs_diff, diff)
        if divergence is None and check_state:
            divergence = _compare_state(edunn_optimizer, torch_optimizer, edunn_params, torch_params, names,
                                        step, rtol, atol)
        if divergence is not None:
            sensitive_from = _torch_sensitivity(torch, problem, torch_cls, options, group_options, step, rtol, atol,
                                                closure)
            result = OptimizerCheckResult(edunn_name, torch_name, step, rtol, atol, max_abs_diff, divergence,
                                          sensitive_from)
            if raise_on_mismatch:
                raise AssertionError(result.summary())
            return result

    return OptimizerCheckResult(edunn_name, torch_name, steps, rtol, atol, max_abs_diff, None)


class _Problem:
    """check_optimizer 的固定问题：初值、数据，以及"算梯度并走一步"。"""

    def __init__(self, torch, seed, torch_dtype):
        generator = torch.Generator().manual_seed(seed)
        self.initial_params = []
        for _, shape in _LAYER_SHAPES:
            scale = 1.0 / np.sqrt(shape[0]) if len(shape) == 2 else 0.1
            self.initial_params.append(torch.randn(shape, dtype=torch_dtype, generator=generator) * scale)
        self.inputs = torch.randn(_BATCH, _LAYER_SHAPES[0][1][0], dtype=torch_dtype, generator=generator).numpy()
        self.targets = torch.randn(_BATCH, _LAYER_SHAPES[-1][1][0], dtype=torch_dtype, generator=generator).numpy()

    def step(self, optimizer, params, wrap, closure):
        signs = [-1.0 if group.get("maximize", False) else 1.0
                 for group in optimizer.param_groups for _ in group["params"]]

        def evaluate():
            loss, grads = _mlp_loss_and_grads([_host(p) for p in params], self.inputs, self.targets)
            for param, grad, sign in zip(params, grads, signs):
                param.grad = wrap(np.ascontiguousarray(grad * sign if sign < 0 else grad))
            return wrap(np.asarray(loss))

        if closure:
            optimizer.step(evaluate)
        else:
            evaluate()
            optimizer.step()


def _grouped(params, group_options):
    if group_options is None:
        return params
    return [{"params": params[:2], **group_options[0]}, {"params": params[2:], **group_options[1]}]


def _compare_params(edunn_params, torch_params, names, step, rtol, atol):
    """返回 (第一处不一致或 None, 这一步的最大绝对误差)。"""
    max_abs_diff = 0.0
    for name, mine, theirs in zip(names, edunn_params, torch_params):
        ok, diff, detail = _compare(_host(mine), _host(theirs), rtol, atol)
        max_abs_diff = max(max_abs_diff, diff)
        if not ok:
            return Divergence(step, name, "parameter", detail, diff), max_abs_diff
    return None, max_abs_diff


def _torch_sensitivity(torch, problem, torch_cls, options, group_options, steps, rtol, atol, closure):
    """torch 与"每步之后参数被推开一个舍入单位"的 torch 并排跑 ``steps`` 步，返回第一次超出容差的步数或 None。

    推开的方向对每个元素随机取正负（固定种子），模拟两种实现每一步都可能差在最后一位。
    """
    reference = [p.clone().requires_grad_() for p in problem.initial_params]
    nudged = [p.clone().requires_grad_() for p in problem.initial_params]
    reference_optimizer = torch_cls(_grouped(reference, group_options), **(options or {}))
    nudged_optimizer = torch_cls(_grouped(nudged, group_options), **(options or {}))
    generator = torch.Generator().manual_seed(0)
    names = [name for name, _ in _LAYER_SHAPES]
    for step in range(1, steps + 1):
        problem.step(reference_optimizer, reference, torch.from_numpy, closure)
        problem.step(nudged_optimizer, nudged, torch.from_numpy, closure)
        with torch.no_grad():
            for param in nudged:
                direction = torch.where(torch.rand(param.shape, generator=generator) < 0.5, -np.inf, np.inf)
                param.copy_(torch.nextafter(param, direction.to(param.dtype)))
        divergence, _ = _compare_params(nudged, reference, names, step, rtol, atol)
        if divergence is not None:
            return step
    return None


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
