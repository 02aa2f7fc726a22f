"""对照 torch 检查学习率调度器：同一套步进方式驱动两边，逐步逐组比较学习率与动量。

两边的优化器都有两个参数组，学习率分别是 0.1 和 0.05，这样“每组各算各的”的错误也能被发现。
torch 只在函数内部导入。
"""

import math

GROUP_LRS = (0.1, 0.05)


def make_optimizer(library, kind="sgd", lrs=GROUP_LRS):
    """Build a two-group optimizer in ``library`` (``"edunn"`` or ``"torch"``).

    ``kind`` is ``"sgd"`` (SGD with momentum 0.9, so momentum can be cycled) or ``"adam"``
    (betas (0.9, 0.999), so ``betas[0]`` can be cycled). The parameters have no gradient, so
    ``optimizer.step()`` changes no parameter and only marks the step.
    """
    if library == "edunn":
        import edunn as lib
        import edunn.optim as optim
    elif library == "torch":
        import torch as lib
        import torch.optim as optim
    else:
        raise ValueError(f"library must be 'edunn' or 'torch', but got {library!r}")

    groups = [{"params": [lib.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    if kind == "sgd":
        return optim.SGD(groups, lr=lrs[0], momentum=0.9)
    if kind == "adam":
        return optim.Adam(groups, lr=lrs[0], betas=(0.9, 0.999))
    raise ValueError(f"kind must be 'sgd' or 'adam', but got {kind!r}")


def group_momentum(group):
    """Return the momentum a scheduler cycles: ``betas[0]`` for Adam-like groups, else ``momentum``."""
    if "betas" in group:
        return group["betas"][0]
    return group.get("momentum")


def _as_float(value):
    return None if value is None else float(value)


def record_schedule(scheduler, steps, metrics=None):
    """Run ``steps`` training steps and return the lr and momentum of every group at each step.

    Each step reads the values the optimizer would use, then calls ``optimizer.step()`` and
    ``scheduler.step()`` in that order (``scheduler.step(metrics[t])`` when ``metrics`` is given, as
    ReduceLROnPlateau needs). Returns ``{"lr": [[...] per group] per step, "momentum": same}``.
    """
    optimizer = scheduler.optimizer
    lrs, momentums = [], []
    for t in range(steps):
        lrs.append([float(group["lr"]) for group in optimizer.param_groups])
        momentums.append([_as_float(group_momentum(group)) for group in optimizer.param_groups])
        optimizer.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[t])
    return {"lr": lrs, "momentum": momentums}


def first_difference(actual, expected, atol=1e-12):
    """Return ``(step, group, actual, expected)`` for the first entry differing by more than ``atol``."""
    for step, (row, expected_row) in enumerate(zip(actual, expected)):
        if len(row) != len(expected_row):
            return step, None, row, expected_row
        for group, (value, expected_value) in enumerate(zip(row, expected_row)):
            if value is None or expected_value is None:
                if value is not expected_value:
                    return step, group, value, expected_value
            elif not math.isclose(value, expected_value, rel_tol=0.0, abs_tol=atol):
                return step, group, value, expected_value
    if len(actual) != len(expected):
        return min(len(actual), len(expected)), None, None, None
    return None


def _report(line):
    # 一次写出整行：Jupyter 内核会把分两次写出的文字和换行存成两段输出。
    print(line + "\n", end="")


def check_scheduler(edunn_factory, torch_factory, steps, metrics=None, optimizer="sgd", atol=1e-12):
    """对照 torch 检查一个调度器，打印结论并返回 True/False。

    ``edunn_factory(optimizer)`` 和 ``torch_factory(optimizer)`` 各自接收一个两组的优化器
    （edunn 的与 torch 的，见 :func:`make_optimizer`），返回调度器；你自己写的调度器只要有
    ``.optimizer`` 和 ``.step()`` 就能检查。两边各走 ``steps`` 步，逐步逐组比较学习率与动量，
    报告第一处差异。被检查的代码抛出 NotImplementedError 时（练习还没写完）打印提示并返回 False。

    Args:
        edunn_factory: 用 edunn 优化器构造被检查的调度器。
        torch_factory: 用 torch 优化器构造参照调度器。
        steps: 步数。
        metrics: 给 ReduceLROnPlateau 这类调度器的指标序列（每步一个数），默认不传。
        optimizer: ``"sgd"`` 或 ``"adam"``（检查 ``betas[0]`` 的循环时用）。
        atol: 允许的绝对误差，默认 1e-12。
    """
    try:
        ours = record_schedule(edunn_factory(make_optimizer("edunn", optimizer)), steps, metrics)
    except NotImplementedError as error:
        _report(f"还没有实现：{error}" if str(error) else "还没有实现。")
        return False
    reference = record_schedule(torch_factory(make_optimizer("torch", optimizer)), steps, metrics)

    for quantity, label in (("lr", "学习率"), ("momentum", "动量")):
        difference = first_difference(ours[quantity], reference[quantity], atol)
        if difference is not None:
            step, group, value, expected = difference
            _report(f"不一致：第 {step} 步、第 {group} 组的{label}是 {value!r}，torch 是 {expected!r}")
            return False
    _report(f"一致：{steps} 步 × {len(GROUP_LRS)} 组的学习率与动量都与 torch 相同（容差 {atol:g}）")
    return True
