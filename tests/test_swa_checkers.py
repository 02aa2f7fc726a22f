"""edunn.testing.check_avg_fn and check_update_bn accept torch-equivalent code and reject the rest."""

from torch.optim import swa_utils as torch_swa

from edunn.optim import swa_utils
from edunn.testing import check_avg_fn, check_update_bn


def test_check_avg_fn_accepts_edunn_functions(capsys):
    assert check_avg_fn(swa_utils.get_swa_avg_fn(), torch_swa.get_swa_avg_fn(), updates=10)
    assert check_avg_fn(swa_utils.get_ema_multi_avg_fn(0.9), torch_swa.get_ema_multi_avg_fn(0.9), multi=True,
                        use_buffers=True, updates=10)
    assert capsys.readouterr().out.count("一致") == 2


def test_check_avg_fn_rejects_other_decay(capsys):
    assert not check_avg_fn(swa_utils.get_ema_avg_fn(0.8), torch_swa.get_ema_avg_fn(0.9), updates=5)
    assert "不一致：第 1 次更新后" in capsys.readouterr().out


def test_check_avg_fn_reports_unfinished_exercise(capsys):
    def unfinished(averaged, current, num_averaged):
        raise NotImplementedError("补全 avg_fn")

    assert not check_avg_fn(unfinished, torch_swa.get_swa_avg_fn(), updates=3)
    assert "还没有实现：补全 avg_fn" in capsys.readouterr().out


def test_check_update_bn_accepts_edunn_update_bn(capsys):
    assert check_update_bn(swa_utils.update_bn)
    assert "滑动统计量与 torch 相同：True" in capsys.readouterr().out


def test_check_update_bn_rejects_plain_forward_passes(capsys):
    def forward_only(loader, model):
        model.train()
        for inputs, _ in loader:
            model(inputs)

    assert not check_update_bn(forward_only)
    output = capsys.readouterr().out
    assert "滑动统计量与 torch 相同：False" in output
    assert "training 标志已恢复：False" in output


def test_check_update_bn_rejects_lost_momentum(capsys):
    def keeps_momentum_none(loader, model):
        for module in model.modules():
            if hasattr(module, "momentum"):
                module.momentum = None
        swa_utils.update_bn(loader, model)

    assert not check_update_bn(keeps_momentum_none)
    assert "momentum 已恢复：False" in capsys.readouterr().out
