"""edunn.testing.check_scheduler and edunn.plotting_schedulers.plot_lr."""

import subprocess
import sys

import matplotlib
import pytest
from torch.optim import lr_scheduler as torch_sched

from edunn.optim import lr_scheduler as edunn_sched
from edunn.testing import check_scheduler
from edunn.testing._schedulers import first_difference

matplotlib.use("Agg")


def test_check_scheduler_reports_match(capsys):
    ok = check_scheduler(lambda o: edunn_sched.StepLR(o, 3, 0.5), lambda o: torch_sched.StepLR(o, 3, 0.5), 20)

    assert ok is True
    assert capsys.readouterr().out.startswith("一致：20 步")


def test_check_scheduler_reports_first_difference(capsys):
    ok = check_scheduler(lambda o: edunn_sched.StepLR(o, 3, 0.4), lambda o: torch_sched.StepLR(o, 3, 0.5), 20)

    assert ok is False
    assert capsys.readouterr().out.startswith("不一致：第 3 步、第 0 组的学习率")


def test_check_scheduler_compares_momentum(capsys):
    ok = check_scheduler(
        lambda o: edunn_sched.CyclicLR(o, 0.01, 0.1, step_size_up=4, max_momentum=0.95),
        lambda o: torch_sched.CyclicLR(o, 0.01, 0.1, step_size_up=4),
        10,
    )

    assert ok is False
    assert capsys.readouterr().out.startswith("不一致：第 0 步、第 0 组的动量")


def test_check_scheduler_reports_unfinished_exercise(capsys):
    class Unfinished:
        def __init__(self, optimizer):
            self.optimizer = optimizer

        def step(self):
            raise NotImplementedError("补全 step()")

    ok = check_scheduler(Unfinished, lambda o: torch_sched.StepLR(o, 3), 5)

    assert ok is False
    assert capsys.readouterr().out.strip() == "还没有实现：补全 step()"


def test_check_scheduler_passes_metrics():
    metrics = [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.95, 0.8]
    assert check_scheduler(
        lambda o: edunn_sched.ReduceLROnPlateau(o, patience=1),
        lambda o: torch_sched.ReduceLROnPlateau(o, patience=1),
        len(metrics),
        metrics=metrics,
    )


def test_first_difference_none_for_equal_rows():
    assert first_difference([[0.1, 0.2]], [[0.1, 0.2 + 1e-13]]) is None
    assert first_difference([[0.1, 0.2]], [[0.1, 0.3]]) == (0, 1, 0.2, 0.3)
    assert first_difference([[0.1]], [[0.1], [0.2]]) == (1, None, None, None)


def test_plot_lr_draws_both_libraries_and_momentum():
    from edunn.plotting_schedulers import plot_lr

    ax = plot_lr(
        lambda o: edunn_sched.OneCycleLR(o, 0.1, total_steps=30),
        lambda o: torch_sched.OneCycleLR(o, 0.1, total_steps=30),
        30,
    )
    labels = [line.get_label() for line in ax.get_lines()]

    assert labels == ["torch 第 0 组", "edunn 第 0 组", "torch 第 1 组", "edunn 第 1 组"]
    momentum_axes = [other for other in ax.figure.axes if other is not ax]
    assert len(momentum_axes) == 1
    assert len(momentum_axes[0].get_lines()) == 2
    assert list(ax.get_lines()[1].get_ydata()) == list(ax.get_lines()[0].get_ydata())


def test_plot_lr_skips_constant_momentum():
    from edunn.plotting_schedulers import plot_lr

    ax = plot_lr(lambda o: edunn_sched.StepLR(o, 5), lambda o: torch_sched.StepLR(o, 5), 12, legend=False)

    assert ax.figure.axes == [ax]
    assert ax.get_legend() is None


def test_plotting_module_does_not_import_torch():
    code = "import sys, edunn.plotting_schedulers; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "False"
