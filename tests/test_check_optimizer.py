"""edunn.testing.check_optimizer：能认出正确的实现，也能指出错误实现第一次分叉的步数、参数与原因。"""

import pytest
import torch

import edunn
from edunn.testing import OptimizerCheckResult, check_optimizer


class PlainSGD(edunn.optim.Optimizer):
    """读者会写的最小 SGD：没有动量。"""

    def __init__(self, params, lr=1e-3):
        super().__init__(params, {"lr": lr})

    @edunn.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with edunn.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is not None:
                    param.add_(param.grad, alpha=-group["lr"])
        return loss


class SlightlyWrongSGD(PlainSGD):
    @edunn.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for param in group["params"]:
                param.add_(param.grad, alpha=-group["lr"] * 1.001)


class MomentumWithOwnStateName(edunn.optim.Optimizer):
    """数值与 torch 的动量 SGD 相同，但状态名不是 ``momentum_buffer``。"""

    def __init__(self, params, lr=1e-3, momentum=0.0):
        super().__init__(params, {"lr": lr, "momentum": momentum})

    @edunn.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for param in group["params"]:
                state = self.state[param]
                if "velocity" not in state:
                    state["velocity"] = param.grad.clone()
                else:
                    state["velocity"].mul_(group["momentum"]).add_(param.grad)
                param.add_(state["velocity"], alpha=-group["lr"])


def test_reader_sgd_passes():
    result = check_optimizer(PlainSGD, torch.optim.SGD, {"lr": 0.1}, steps=30)
    assert isinstance(result, OptimizerCheckResult)
    assert result.passed
    assert bool(result)
    assert result.first_divergence is None
    assert result.steps == 30
    assert "30 steps" in result.summary()


def test_wrong_update_reports_first_step_and_parameter():
    result = check_optimizer(SlightlyWrongSGD, torch.optim.SGD, {"lr": 0.1}, steps=30)
    assert not result
    assert result.first_divergence.step == 1
    assert result.first_divergence.name == "hidden.weight"
    assert result.first_divergence.kind == "parameter"
    assert "diverged at step 1" in result.summary()
    assert "max abs diff" in result.summary()


def test_state_name_mismatch_is_reported():
    result = check_optimizer(MomentumWithOwnStateName, torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}, steps=5)
    assert not result
    assert result.first_divergence.kind == "state"
    assert "velocity" in result.summary()
    assert "momentum_buffer" in result.summary()


def test_state_check_can_be_turned_off():
    result = check_optimizer(MomentumWithOwnStateName, torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}, steps=20,
                             check_state=False)
    assert result.passed, result.summary()


def test_raise_on_mismatch_raises_assertion_error():
    with pytest.raises(AssertionError, match="diverged at step 1"):
        check_optimizer(SlightlyWrongSGD, torch.optim.SGD, {"lr": 0.1}, steps=3, raise_on_mismatch=True)


def test_group_options_split_hidden_and_output_layers():
    class IgnoresGroupLr(PlainSGD):
        @edunn.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for param in group["params"]:
                    param.add_(param.grad, alpha=-self.defaults["lr"])

    result = check_optimizer(edunn.optim.SGD, torch.optim.SGD, {"lr": 0.1}, group_options=[{}, {"lr": 0.01}], steps=10)
    assert result.passed, result.summary()
    wrong = check_optimizer(IgnoresGroupLr, torch.optim.SGD, {"lr": 0.1}, group_options=[{}, {"lr": 0.01}], steps=10)
    assert wrong.first_divergence.name == "output.weight"


def test_group_options_must_have_two_entries():
    with pytest.raises(ValueError, match="must list 2 dicts"):
        check_optimizer(edunn.optim.SGD, torch.optim.SGD, {"lr": 0.1}, group_options=[{}])


def test_closure_mode_passes_loss_through():
    result = check_optimizer(PlainSGD, torch.optim.SGD, {"lr": 0.1}, steps=5, closure=True)
    assert result.passed, result.summary()


def test_float32_mode_uses_float32_params():
    result = check_optimizer(edunn.optim.Adam, torch.optim.Adam, {"lr": 1e-2}, steps=10, dtype="float32",
                             rtol=1e-5, atol=1e-6)
    assert result.passed, result.summary()


def test_unstable_run_is_flagged_as_rounding_sensitive():
    # rho=0.95、eps=1e-4 时这个小网络上的 Adadelta 训练不稳定，最后一位的舍入差别按指数增长。
    result = check_optimizer(edunn.optim.Adadelta, torch.optim.Adadelta, {"rho": 0.95, "eps": 1e-4}, steps=100)
    assert not result.passed
    assert result.sensitive_from_step is not None
    assert result.sensitive_from_step <= result.first_divergence.step + 5
    assert "may not be a bug" in result.summary()


def test_genuine_bug_is_not_flagged_as_rounding_sensitive():
    result = check_optimizer(SlightlyWrongSGD, torch.optim.SGD, {"lr": 0.1}, steps=30)
    assert result.sensitive_from_step is None
    assert "may not be a bug" not in result.summary()
