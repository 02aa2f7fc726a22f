"""对照 torch 检查 SWA/EMA 的平均函数与 ``update_bn``：同样的权重序列、同样的批次，比较结果。

两边用同一个带 BatchNorm 的小 MLP（float64），权重与数据都由 numpy 生成后复制到两边。
torch 只在函数内部导入。
"""

import numpy as np

from .._creation import tensor as edunn_tensor
from ..autograd.grad_mode import no_grad
from ._bridge import _torch, from_torch
from ._modules import copy_weights


def _report(text):
    # 一次写出全部文字：Jupyter 内核会把分两次写出的文字和换行存成两段输出。
    print(text + "\n", end="")


def _mlp_pair(device):
    torch = _torch()
    from .. import nn

    torch_model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.ReLU(),
                                      torch.nn.Linear(6, 3), torch.nn.BatchNorm1d(3, momentum=0.3)).double()
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3),
                          nn.BatchNorm1d(3, momentum=0.3)).double().to(device)
    copy_weights(torch_model, model)
    return torch_model, model


def _write_same_state(torch_model, model, rng, counter):
    """Write the same random parameters and buffers into both models; integer buffers get ``counter``."""
    torch = _torch()
    with torch.no_grad(), no_grad():
        for (name, t), e in zip(torch_model.state_dict().items(), model.state_dict().values()):
            if t.is_floating_point():
                values = rng.standard_normal(tuple(t.shape))
                if name.endswith("running_var"):
                    values = np.abs(values) + 0.1
            else:
                values = np.full(tuple(t.shape), counter)
            t.copy_(torch.tensor(values, dtype=t.dtype))
            e.copy_(edunn_tensor(values, dtype=e.dtype, device=e.device))


def _first_mismatch(module, torch_module, rtol, atol):
    """Return ``(name, max abs difference)`` for the first state entry outside the tolerance, else None.

    When the state_dict keys differ, return ``(description, None)``.
    """
    state, torch_state = module.state_dict(), torch_module.state_dict()
    if list(state) != list(torch_state):
        return f"state_dict 的键 {list(state)} 与 torch 的 {list(torch_state)}", None
    for name, value in state.items():
        actual = value.detach().cpu().numpy().astype(np.float64)
        expected = from_torch(torch_state[name]).numpy().astype(np.float64)
        if not np.allclose(actual, expected, rtol=rtol, atol=atol):
            return name, float(np.max(np.abs(actual - expected)))
    return None


def check_avg_fn(avg_fn, torch_avg_fn, *, multi=False, use_buffers=False, updates=30, rtol=1e-10, atol=1e-12,
                 seed=0, device="cpu"):
    """用你的平均函数驱动 edunn 的 ``AveragedModel``，与 torch 的 ``AveragedModel`` 逐次比较，打印结论并返回 True/False。

    两边的模型每次更新前都被写入同样的随机参数（整数缓冲区写入更新序号），然后各自调用
    ``update_parameters``。被检查的代码抛出 NotImplementedError 时（练习还没写完）打印提示并返回 False。

    Args:
        avg_fn: 你的平均函数。``multi=False`` 时签名为 ``avg_fn(averaged, current, num_averaged) -> Tensor``，
            ``multi=True`` 时为 ``avg_fn(averaged_list, current_list, num_averaged)``，就地修改第一个列表。
        torch_avg_fn: torch 的参照函数，例如 ``torch.optim.swa_utils.get_ema_avg_fn(0.9)``。
        multi: 两个函数是否是 ``multi_avg_fn`` 形式。
        use_buffers: 是否连缓冲区一起求平均。
        updates: 更新次数。
        rtol, atol: 允许的相对、绝对误差。
        seed: numpy 随机种子。
        device: edunn 一侧的设备。
    """
    torch = _torch()
    from ..optim.swa_utils import AveragedModel

    keyword = "multi_avg_fn" if multi else "avg_fn"
    torch_model, model = _mlp_pair(device)
    torch_averaged = torch.optim.swa_utils.AveragedModel(torch_model, use_buffers=use_buffers,
                                                         **{keyword: torch_avg_fn})
    averaged = AveragedModel(model, use_buffers=use_buffers, **{keyword: avg_fn})
    rng = np.random.default_rng(seed)
    for update in range(updates):
        _write_same_state(torch_model, model, rng, update)
        torch_averaged.update_parameters(torch_model)
        try:
            averaged.update_parameters(model)
        except NotImplementedError as error:
            _report(f"还没有实现：{error}" if str(error) else "还没有实现。")
            return False
        mismatch = _first_mismatch(averaged, torch_averaged, rtol, atol)
        if mismatch is not None:
            name, difference = mismatch
            detail = "" if difference is None else f"，最大绝对误差 {difference:.3g}"
            _report(f"不一致：第 {update} 次更新后 {name} 与 torch 不同{detail}")
            return False
    compared = "参数与缓冲区" if use_buffers else "参数"
    _report(f"一致：{updates} 次更新后，平均模型的{compared}都与 torch 相同（rtol={rtol:g}）")
    return True


def check_update_bn(update_bn, *, batches=6, rtol=1e-10, atol=1e-12, seed=0, device="cpu"):
    """把你的 ``update_bn(loader, model)`` 与 ``torch.optim.swa_utils.update_bn`` 放在同一个模型、同样的批次上比较。

    模型含两个 BatchNorm1d（``momentum`` 分别是 0.1 与 0.3），开始时处于评估模式，缓冲区里是随机的旧统计量。
    每个批次是 ``[inputs, targets]`` 列表。检查三件事：滑动统计量与 ``num_batches_tracked`` 与 torch 相同、
    各层 ``momentum`` 恢复原值、``model.training`` 恢复原值。打印结论并返回 True/False。

    Args:
        update_bn: 你的实现，签名为 ``update_bn(loader, model)``。
        batches: 批次数。
        rtol, atol: 允许的相对、绝对误差。
        seed: numpy 随机种子。
        device: edunn 一侧的设备。
    """
    torch = _torch()
    from ..nn.modules.batchnorm import _BatchNorm

    torch_model, model = _mlp_pair(device)
    rng = np.random.default_rng(seed)
    _write_same_state(torch_model, model, rng, 5)
    torch_model.eval()
    model.eval()
    torch_loader, loader = [], []
    for index in range(batches):
        x = rng.standard_normal((8 + index, 4)) * 3 + 1
        y = rng.integers(0, 3, size=8 + index)
        torch_loader.append([torch.tensor(x), torch.tensor(y)])
        loader.append([edunn_tensor(x, device=device), edunn_tensor(y, device=device)])
    momenta = [m.momentum for m in model.modules() if isinstance(m, _BatchNorm)]

    torch.optim.swa_utils.update_bn(torch_loader, torch_model)
    try:
        update_bn(loader, model)
    except NotImplementedError as error:
        _report(f"还没有实现：{error}" if str(error) else "还没有实现。")
        return False

    verdicts = {
        "滑动统计量与 torch 相同": _first_mismatch(model, torch_model, rtol, atol) is None,
        "momentum 已恢复": [m.momentum for m in model.modules() if isinstance(m, _BatchNorm)] == momenta,
        "training 标志已恢复": model.training == torch_model.training,
    }
    _report("\n".join(f"{label}：{passed}" for label, passed in verdicts.items()))
    return all(verdicts.values())
