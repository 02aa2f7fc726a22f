"""给第 13–16 章的特殊优化器用的检查器：稀疏梯度、只有矩阵参数、L-BFGS 的插值与 Newton–Schulz。

``check_sparse_optimizer`` 与 ``check_matrix_optimizer`` 让你的优化器和它的 torch 孪生在同一个
小问题上逐步比较；梯度由 numpy 按同一公式从各自当前的参数算出，所以差异只来自优化器本身。
``check_cubic_interpolate`` 与 ``check_newton_schulz`` 检查单个函数。
"""

import numpy as np

from .. import _backend
from .._coo import COOArray
from .._tensor import Tensor
from ._bridge import _torch, from_torch


class SpecialCheckResult:
    """检查结果：``bool(result)`` 表示是否一致，``summary()`` 是一句可读的说明。

    属性：``passed``、``name``（比较的对象）、``steps``（比较了几步或几个输入）、``max_diff``（见到的
    最大绝对误差）、``first_mismatch``（第一次不一致的说明，一致时为 None）。
    """

    def __init__(self, name, steps, max_diff, first_mismatch):
        self.name = name
        self.steps = steps
        self.max_diff = max_diff
        self.first_mismatch = first_mismatch

    @property
    def passed(self):
        return self.first_mismatch is None

    def __bool__(self):
        return self.passed

    def summary(self):
        if self.passed:
            return f"{self.name}: {self.steps} checks agree with torch (max difference {self.max_diff:.1e})"
        return f"{self.name}: differs from torch at {self.first_mismatch}"

    __str__ = summary

    def __repr__(self):
        return f"<SpecialCheckResult passed={self.passed} steps={self.steps}>"


def _host(value):
    """float64 的 numpy 数组；稀疏张量（例如 SGD 对稀疏梯度的动量）先变成稠密的。"""
    if isinstance(value, Tensor):
        array = value._array.to_dense() if value.is_sparse else value._array
        return _backend.to_numpy(array).astype(np.float64)
    value = value.detach().cpu()
    return (value.to_dense() if value.is_sparse else value).double().numpy()


def _difference(actual, expected, rtol, atol):
    """返回 (最大绝对误差, 不一致时的说明或 None)。"""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        return np.inf, f"shape {actual.shape} in yours, {expected.shape} in torch"
    if actual.size == 0:
        return 0.0, None
    diff = np.abs(actual - expected)
    close = (diff <= atol + rtol * np.abs(expected)) | (np.isnan(actual) & np.isnan(expected))
    max_diff = float(np.nanmax(diff)) if not np.isnan(diff).all() else 0.0
    if close.all():
        return max_diff, None
    return max_diff, (f"max abs diff {max_diff:.3e} with {int((~close).sum())} of {close.size} elements outside "
                      f"|yours - torch| <= {atol:g} + {rtol:g} * |torch|")


def _name(cls):
    return f"{cls.__module__}.{getattr(cls, '__qualname__', cls.__name__)}"


def _compare_run(name, edunn_params, torch_params, edunn_opt, torch_opt, step, rtol, atol, check_state):
    """比较一步之后的参数与状态，返回 (最大误差, 说明或 None)。"""
    worst = 0.0
    for index, (mine, theirs) in enumerate(zip(edunn_params, torch_params)):
        diff, problem = _difference(_host(mine), _host(theirs), rtol, atol)
        worst = max(worst, diff)
        if problem:
            return worst, f"step {step}, parameter {index}: {problem}"
        if not check_state:
            continue
        mine_state, their_state = edunn_opt.state.get(mine, {}), torch_opt.state.get(theirs, {})
        if sorted(mine_state) != sorted(their_state):
            return worst, f"step {step}, parameter {index}: state keys {sorted(mine_state)} vs {sorted(their_state)}"
        for key, expected in their_state.items():
            actual = mine_state[key]
            if hasattr(expected, "detach"):
                diff, problem = _difference(_host(actual), _host(expected), rtol, atol)
            else:
                diff, problem = 0.0, None if actual == expected else f"{actual!r} vs {expected!r}"
            if problem:
                return worst, f"step {step}, parameter {index}, state[{key!r}]: {problem}"
    return worst, None


def check_sparse_optimizer(edunn_cls, torch_cls, options=None, *, steps=30, num_embeddings=10, embedding_dim=3,
                           batch_size=6, rtol=1e-10, atol=1e-12, seed=0, check_state=True):
    """在一张嵌入表上用稀疏梯度比较 ``edunn_cls`` 与 ``torch_cls``（例如你的 SparseAdam 与 torch 的）。

    每一步随机取 ``batch_size`` 个下标（可能重复），损失是 ``sum((weight[i] - target)^2)``；梯度是
    未合并的稀疏 COO 张量（与 ``Embedding(sparse=True)`` 给出的一样），由 numpy 从各自的参数算出。
    返回 ``SpecialCheckResult``。
    """
    torch = _torch()
    generator = torch.Generator().manual_seed(seed)
    torch_weight = torch.randn(num_embeddings, embedding_dim, dtype=torch.float64, generator=generator)
    torch_weight.requires_grad_()
    edunn_weight = from_torch(torch_weight.detach()).requires_grad_()
    edunn_opt = edunn_cls([edunn_weight], **(options or {}))
    torch_opt = torch_cls([torch_weight], **(options or {}))
    rng = np.random.RandomState(seed)

    worst = 0.0
    for step in range(1, steps + 1):
        batch = rng.randint(0, num_embeddings, size=batch_size)
        targets = rng.standard_normal((batch_size, embedding_dim))
        for weight, make_grad, optimizer in ((torch_weight, _torch_sparse_grad, torch_opt),
                                             (edunn_weight, _edunn_sparse_grad, edunn_opt)):
            values = 2 * (_host(weight)[batch] - targets)
            weight.grad = make_grad(batch, values, weight.shape)
            optimizer.step()
        diff, problem = _compare_run(_name(edunn_cls), [edunn_weight], [torch_weight], edunn_opt, torch_opt, step,
                                     rtol, atol, check_state)
        worst = max(worst, diff)
        if problem:
            return SpecialCheckResult(_name(edunn_cls), step, worst, problem)
    return SpecialCheckResult(_name(edunn_cls), steps, worst, None)


def _torch_sparse_grad(batch, values, shape):
    torch = _torch()
    return torch.sparse_coo_tensor(torch.from_numpy(batch[None].astype(np.int64)), torch.from_numpy(values),
                                   tuple(shape), check_invariants=True)


def _edunn_sparse_grad(batch, values, shape):
    return Tensor._wrap(COOArray(batch[None].astype(np.int64), values.copy(), tuple(shape), batch.size <= 1))


def check_matrix_optimizer(edunn_cls, torch_cls, options=None, *, steps=30, shapes=((6, 4), (4, 3)), rtol=1e-10,
                           atol=1e-12, seed=0, check_state=True):
    """只用二维参数（没有偏置的两层网络）比较两个优化器，给 Muon 这类只接受矩阵的优化器用。

    网络是 ``tanh(x @ W1) @ W2``，损失是均方误差；梯度由 numpy 从各自的参数算出。
    返回 ``SpecialCheckResult``。
    """
    torch = _torch()
    generator = torch.Generator().manual_seed(seed)
    torch_params = [(torch.randn(shape, dtype=torch.float64, generator=generator) / np.sqrt(shape[0]))
                    .requires_grad_() for shape in shapes]
    inputs = torch.randn(16, shapes[0][0], dtype=torch.float64, generator=generator).numpy()
    targets = torch.randn(16, shapes[-1][1], dtype=torch.float64, generator=generator).numpy()
    edunn_params = [from_torch(p.detach()).requires_grad_() for p in torch_params]
    edunn_opt = edunn_cls(edunn_params, **(options or {}))
    torch_opt = torch_cls(torch_params, **(options or {}))

    worst = 0.0
    for step in range(1, steps + 1):
        for params, wrap, optimizer in ((torch_params, torch.from_numpy, torch_opt),
                                        (edunn_params, lambda a: Tensor._wrap(a), edunn_opt)):
            first, second = (_host(p) for p in params)
            hidden = np.tanh(inputs @ first)
            residual = hidden @ second - targets
            grad_output = 2 * residual / residual.size
            grad_hidden = (grad_output @ second.T) * (1 - hidden ** 2)
            params[0].grad = wrap(np.ascontiguousarray(inputs.T @ grad_hidden))
            params[1].grad = wrap(np.ascontiguousarray(hidden.T @ grad_output))
            optimizer.step()
        diff, problem = _compare_run(_name(edunn_cls), edunn_params, torch_params, edunn_opt, torch_opt, step,
                                     rtol, atol, check_state)
        worst = max(worst, diff)
        if problem:
            return SpecialCheckResult(_name(edunn_cls), step, worst, problem)
    return SpecialCheckResult(_name(edunn_cls), steps, worst, None)


def check_cubic_interpolate(function, *, trials=200, rtol=1e-12, atol=1e-12, seed=0):
    """用随机的两点（函数值与导数）比较你的 ``function(x1, f1, g1, x2, f2, g2, bounds=None)``
    与 torch 的 L-BFGS 所用的三次插值；一半的输入带 ``bounds``。输入都是 Python 浮点数。"""
    from torch.optim.lbfgs import _cubic_interpolate

    torch = _torch()
    rng = np.random.RandomState(seed)
    worst = 0.0
    for trial in range(1, trials + 1):
        x1, x2 = rng.uniform(-2, 2, size=2)
        f1, f2, g1, g2 = rng.standard_normal(4)
        bounds = None
        if trial % 2 == 0:
            low = min(x1, x2) - rng.uniform(0, 1)
            bounds = (float(low), float(low + rng.uniform(0.5, 4)))
        arguments = [float(v) for v in (x1, f1, g1, x2, f2, g2)]
        # torch 的实现要求导数是张量（它对判别式调用 .sqrt()）
        tensor_arguments = [torch.tensor(v, dtype=torch.float64) if i in (2, 5) else v
                            for i, v in enumerate(arguments)]
        expected = float(_cubic_interpolate(*tensor_arguments, bounds=bounds))
        actual = float(function(*arguments, bounds=bounds))
        diff, problem = _difference(actual, expected, rtol, atol)
        worst = max(worst, diff)
        if problem:
            inputs = dict(zip(("x1", "f1", "g1", "x2", "f2", "g2"), arguments), bounds=bounds)
            return SpecialCheckResult(getattr(function, "__name__", "function"), trial, worst,
                                      f"input {inputs}: yours {actual!r}, torch {expected!r}")
    return SpecialCheckResult(getattr(function, "__name__", "function"), trials, worst, None)


def _newton_schulz_float64(torch, matrix, coefficients, steps, eps):
    """torch 的 Muon 所用的 Newton–Schulz 迭代，一步不差，只是全程用 float64 而不是 bfloat16。"""
    a, b, c = coefficients
    ortho = matrix.clone()
    transposed = matrix.size(0) > matrix.size(1)
    if transposed:
        ortho = ortho.T
    ortho = ortho / ortho.norm().clamp(min=eps)
    for _ in range(steps):
        gram = ortho @ ortho.T
        update = torch.addmm(gram, gram, gram, beta=b, alpha=c)
        ortho = torch.addmm(ortho, update, ortho, beta=a)
    return ortho.T if transposed else ortho


def check_newton_schulz(function, *, shapes=((4, 4), (6, 3), (3, 8), (10, 10)), ns_steps=(0, 1, 3, 5), seed=0,
                        rtol=1e-9, atol=1e-12):
    """比较你的 ``function(G, ns_steps)`` 与 torch 的 Muon 所用的 Newton–Schulz 迭代。

    ``G`` 是 float64 的 edunn 张量，你的函数返回同形状的张量，系数用 Muon 的默认值
    ``(3.4445, -4.7750, 2.0315)``，归一化的 eps 是 1e-7。torch 在 bfloat16 里迭代，末位舍入会淹没
    实现上的小错误，所以参照结果是把 torch 的同一算法（同样的归一化、转置与 ``addmm``）放在 float64
    里运行得到的；请在 float64 里实现。返回 ``SpecialCheckResult``。
    """
    from torch.optim._muon import DEFAULT_A, DEFAULT_B, DEFAULT_C, EPS

    torch = _torch()
    generator = torch.Generator().manual_seed(seed)
    name = getattr(function, "__name__", "function")
    worst, checks = 0.0, 0
    for shape in shapes:
        matrix = torch.randn(shape, dtype=torch.float64, generator=generator)
        for steps in ns_steps:
            checks += 1
            expected = _newton_schulz_float64(torch, matrix, (DEFAULT_A, DEFAULT_B, DEFAULT_C), steps, EPS).numpy()
            actual = _host(function(from_torch(matrix), steps))
            diff, problem = _difference(actual, expected, rtol, atol)
            worst = max(worst, diff)
            if problem:
                return SpecialCheckResult(name, checks, worst, f"shape {shape}, ns_steps={steps}: {problem}")
    return SpecialCheckResult(name, checks, worst, None)


def check_lbfgs_direction(function, *, dims=(2, 6), iterations=(2, 5, 12), history_size=4, seed=0, rtol=1e-10,
                          atol=1e-12):
    """比较你的 ``function(grad, old_dirs, old_stps, ro, H_diag)``（L-BFGS 的两轮循环，返回搜索方向
    :math:`d = -H g`）与 torch 的 L-BFGS 实际算出的方向。

    让 torch 的 ``LBFGS``（``history_size`` 对历史、强 Wolfe 线搜索）在 ``dims`` 维的 Rosenbrock 函数上
    迭代若干轮，取它状态里的历史 ``old_dirs``（:math:`y`）、``old_stps``（:math:`s`）、``ro``
    （:math:`1/y^\\top s`）、``H_diag`` 和算出方向时用的梯度 ``prev_flat_grad``，转成 edunn 张量交给你的
    函数，再与 torch 存下的方向 ``d`` 比较。``ro`` 与 ``H_diag`` 是零维张量（``H_diag`` 在第一轮可能是 1）。
    """
    torch = _torch()
    name = getattr(function, "__name__", "function")
    worst, checks = 0.0, 0
    generator = torch.Generator().manual_seed(seed)
    for dim in dims:
        start = torch.rand(dim, dtype=torch.float64, generator=generator) * 2 - 1.5
        for count in iterations:
            checks += 1
            x = start.clone().requires_grad_()
            optimizer = torch.optim.LBFGS([x], max_iter=count, history_size=history_size,
                                          line_search_fn="strong_wolfe", tolerance_grad=0, tolerance_change=0)

            def closure():
                optimizer.zero_grad()
                loss = (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
                loss.backward()
                return loss

            optimizer.step(closure)
            state = optimizer.state[x]
            arguments = [from_torch(state["prev_flat_grad"]), [from_torch(y) for y in state["old_dirs"]],
                         [from_torch(s) for s in state["old_stps"]], [from_torch(r) for r in state["ro"]],
                         from_torch(state["H_diag"]) if hasattr(state["H_diag"], "detach") else state["H_diag"]]
            actual = _host(function(*arguments))
            diff, problem = _difference(actual, state["d"].numpy(), rtol, atol)
            worst = max(worst, diff)
            if problem:
                return SpecialCheckResult(name, checks, worst, f"{dim}-d Rosenbrock after {count} iterations "
                                                               f"({len(state['old_dirs'])} pairs): {problem}")
    return SpecialCheckResult(name, checks, worst, None)
