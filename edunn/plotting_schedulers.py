"""画学习率调度器的曲线：edunn 与 torch 叠在同一张图上。

torch 的曲线画成宽而浅的底色，edunn 的画成细线压在上面；两者一致时细线正好落在底色中央。
本模块不在导入时导入 torch：torch 的优化器在调用 :func:`plot_lr` 时才由 ``edunn.testing`` 构造。
"""

from .plotting import use_book_style
from .testing._schedulers import make_optimizer, record_schedule

GROUP_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red")
MOMENTUM_COLOR = "tab:purple"


def _varies(series):
    values = {value for row in series for value in row if value is not None}
    return len(values) > 1


def plot_lr(
    make_edunn_scheduler,
    make_torch_scheduler,
    steps,
    ax=None,
    *,
    metrics=None,
    optimizer="sgd",
    momentum=None,
    title=None,
    legend=True,
):
    """画出两边调度器在 ``steps`` 步内每组的学习率（可选动量），返回坐标轴。

    Args:
        make_edunn_scheduler: ``f(optimizer) -> scheduler``，收到一个两组的 edunn 优化器。
        make_torch_scheduler: 同上，收到 torch 优化器。
        steps: 步数。
        ax: 画在哪个坐标轴上；默认新建一张图。自己建图时先调用 ``use_book_style()``：
            坐标轴的文字在建图时就选定了字体，之后才换成中文字体会缺字形。
        metrics: 传给 ``scheduler.step(metric)`` 的指标序列（ReduceLROnPlateau 用）。
        optimizer: ``"sgd"`` 或 ``"adam"``。
        momentum: 是否在右侧纵轴画动量；默认只在动量随步数变化时画。
        title: 图标题。
        legend: 是否画图例，默认 True。
    """
    use_book_style()
    import matplotlib.pyplot as plt  # pyplot 在导入时选择后端，只在画图时导入

    ours = record_schedule(make_edunn_scheduler(make_optimizer("edunn", optimizer)), steps, metrics)
    reference = record_schedule(make_torch_scheduler(make_optimizer("torch", optimizer)), steps, metrics)

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.2), layout="constrained")
    x = range(steps)
    group_count = len(ours["lr"][0])
    for group in range(group_count):
        color = GROUP_COLORS[group % len(GROUP_COLORS)]
        ax.plot(x, [row[group] for row in reference["lr"]], color=color, linewidth=5, alpha=0.3,
                drawstyle="steps-post", label=f"torch 第 {group} 组")
        ax.plot(x, [row[group] for row in ours["lr"]], color=color, linewidth=1.2,
                drawstyle="steps-post", label=f"edunn 第 {group} 组")  # fmt: skip
    ax.set_xlabel("步数")
    ax.set_ylabel("学习率")
    if title is not None:
        ax.set_title(title)

    if momentum is None:
        momentum = _varies(ours["momentum"]) or _varies(reference["momentum"])
    handles, labels = ax.get_legend_handles_labels()
    if momentum:
        momentum_ax = ax.twinx()
        momentum_ax.plot(x, [row[0] for row in reference["momentum"]], color=MOMENTUM_COLOR,
                         linewidth=5, alpha=0.25, drawstyle="steps-post", label="torch 动量（第 0 组）")
        momentum_ax.plot(x, [row[0] for row in ours["momentum"]], color=MOMENTUM_COLOR,
                         linewidth=1.2, linestyle="--", drawstyle="steps-post",
                         label="edunn 动量（第 0 组）")  # fmt: skip
        momentum_ax.set_ylabel("动量")
        momentum_ax.spines["right"].set_visible(True)
        momentum_ax.grid(False)
        extra_handles, extra_labels = momentum_ax.get_legend_handles_labels()
        handles, labels = handles + extra_handles, labels + extra_labels
    if legend:
        # 图例放在坐标轴下方：曲线常常铺满整个绘图区，放在里面会挡住它们。
        ax.legend(handles, labels, fontsize="small", ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    return ax
