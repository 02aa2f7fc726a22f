r"""随机权重平均（Stochastic Weight Averaging，SWA）与指数滑动平均（EMA），语义与 torch 2.13 的
``torch.optim.swa_utils`` 一致。

- :class:`AveragedModel` 保存模型的一份深拷贝，每次 ``update_parameters(model)`` 把训练中模型的
  参数并入平均：第一次直接复制，以后按平均函数更新；
- ``get_swa_avg_fn`` / ``get_ema_avg_fn`` 逐个张量求平均，``get_swa_multi_avg_fn`` /
  ``get_ema_multi_avg_fn`` 一次处理一组同设备、同 dtype 的张量（就地修改）；
- :class:`SWALR` 在若干个 epoch 内把学习率从当前值退火到固定的 ``swa_lr``；
- :func:`update_bn` 用数据重新估计平均后模型里 BatchNorm 的滑动统计量。

设第 :math:`k` 次并入的模型参数为 :math:`w_k`（:math:`k = 0, 1, \dots`），两种平均分别是

.. math::
    \bar w_{k} = \bar w_{k-1} + \frac{w_k - \bar w_{k-1}}{k + 1}
    \quad\text{（SWA，等权平均）}, \qquad
    \bar w_{k} = d\,\bar w_{k-1} + (1 - d)\,w_k \quad\text{（EMA，衰减率 } d\text{）},

两者都从 :math:`\bar w_0 = w_0` 开始。
"""

import copy
import itertools
import math
from collections.abc import Mapping

from .. import _backend, _creation
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..nn.modules.batchnorm import _BatchNorm
from ..nn.modules.module import Module
from .lr_scheduler import LRScheduler, _check_optimizer, _per_group, _warn_get_lr_called_outside_step

__all__ = [
    "AveragedModel",
    "update_bn",
    "SWALR",
    "get_ema_multi_avg_fn",
    "get_swa_multi_avg_fn",
    "get_ema_avg_fn",
    "get_swa_avg_fn",
]


# ---------------------------------------------------------------------------
# 平均函数
# ---------------------------------------------------------------------------


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def _check_same_length(first, second):
    if len(first) != len(second):
        raise RuntimeError(f"Tensor lists must have the same number of tensors, got {len(first)} and {len(second)}")


def get_ema_multi_avg_fn(decay=0.999):
    r"""返回就地更新一组 EMA 参数的函数 ``ema_update(ema_param_list, current_param_list, num_averaged)``。

    .. math::
        W^{\mathrm{EMA}}_0 = W^{\mathrm{model}}_0, \qquad
        W^{\mathrm{EMA}}_{t+1} = d\,W^{\mathrm{EMA}}_t + (1 - d)\,W^{\mathrm{model}}_{t+1}

    浮点张量用 ``lerp_(current, 1 - decay)`` 计算（与上式相同，舍入按 lerp 的公式），整数张量
    （例如 ``num_batches_tracked``）按上式算出浮点结果后截断写回。``num_averaged`` 不参与计算。

    Args:
        decay: 衰减率 :math:`d`，须在 :math:`[0, 1]` 内（默认 0.999）。
    """
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param_list, current_param_list, _):
        if ema_param_list[0].is_floating_point():
            _check_same_length(ema_param_list, current_param_list)
            for p_ema, p_model in zip(ema_param_list, current_param_list):
                p_ema.lerp_(p_model, 1 - decay)
        else:
            for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    r"""返回就地更新一组 SWA 参数的函数 ``swa_update(averaged_param_list, current_param_list, num_averaged)``。

    浮点张量做 ``lerp_(current, 1 / (num_averaged + 1))``，即
    :math:`\bar w \leftarrow \bar w + \frac{1}{n+1}(w - \bar w)`。``num_averaged`` 是 int64 张量时，
    ``1 / (num_averaged + 1)`` 按 torch 的类型提升得到 float32 张量，所以权重带着 float32 的舍入，
    与 torch 相同。整数张量与 torch 一样会抛出 RuntimeError（整数不能做这种除法）。
    """

    @no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        if averaged_param_list[0].is_floating_point():
            _check_same_length(averaged_param_list, current_param_list)
            weight = 1 / (num_averaged + 1)
            if isinstance(weight, Tensor):
                weight = weight.item()
            for p_averaged, p_model in zip(averaged_param_list, current_param_list):
                p_averaged.lerp_(p_model, weight)
            return

        _check_same_length(averaged_param_list, current_param_list)
        diffs = [p_model - p_averaged for p_averaged, p_model in zip(averaged_param_list, current_param_list)]
        for p_averaged, diff in zip(averaged_param_list, diffs):
            if isinstance(num_averaged, Tensor):
                p_averaged.addcdiv_(diff, num_averaged + 1)
            else:
                p_averaged.add_(diff, alpha=1.0 / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay=0.999):
    r"""返回逐个张量计算 EMA 的函数 ``ema_update(ema_param, current_param, num_averaged)``。

    返回新张量 :math:`d\,W^{\mathrm{EMA}} + (1 - d)\,W^{\mathrm{model}}`，不修改输入。

    Args:
        decay: 衰减率 :math:`d`，须在 :math:`[0, 1]` 内（默认 0.999）。
    """
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    r"""返回逐个张量计算 SWA 的函数 ``swa_update(averaged_param, current_param, num_averaged)``。

    返回新张量 :math:`\bar w + \frac{w - \bar w}{n + 1}`，其中 :math:`n` 是已经并入的模型数。
    """

    @no_grad()
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


# ---------------------------------------------------------------------------
# AveragedModel
# ---------------------------------------------------------------------------


def _strip_prefix(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


class AveragedModel(Module):
    r"""SWA 与 EMA 共用的“平均模型”：``model`` 的一份深拷贝（放在 ``device`` 上），外加计数器。

    每次 :meth:`update_parameters` 把训练中模型的参数并入平均。第一次调用（``n_averaged == 0``）
    直接复制；以后调用平均函数：

    - 都不给时是等权平均（SWA）：:math:`\bar w \leftarrow \bar w + \frac{w - \bar w}{n + 1}`；
    - ``avg_fn(averaged, current, n_averaged)`` 逐个张量返回新值；
    - ``multi_avg_fn(averaged_list, current_list, n_averaged)`` 对每组同设备、同 dtype 的张量就地更新。

    ``use_buffers=False`` 时缓冲区（如 BatchNorm 的 ``running_mean``）不求平均，每次直接从 ``model``
    复制过来；``use_buffers=True`` 时缓冲区与参数一起求平均。

    ``forward`` 把调用原样交给内部的拷贝 ``self.module``；计数器 ``n_averaged`` 是登记在本模块上的
    int64 缓冲区，会进入 ``state_dict``，``avg_fn``/``multi_avg_fn`` 不会。

    与 torch 不同：``update_parameters`` 先检查 ``model`` 与平均模型的结构（张量个数与形状）是否一致，
    不一致时抛出指明问题的错误；平均先在副本上算完再写回，所以失败的调用不改变平均模型。

    Args:
        model: 要平均的模型。
        device: 给出时，平均模型放在这个设备上。
        avg_fn: 逐张量的平均函数（见 :func:`get_ema_avg_fn`）。
        multi_avg_fn: 按组就地更新的平均函数（见 :func:`get_ema_multi_avg_fn`）；与 ``avg_fn`` 只能给一个。
        use_buffers: 是否连缓冲区一起求平均（默认 False）。
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", _creation.tensor(0, dtype=_backend.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    @no_grad()
    def update_parameters(self, model):
        """把 ``model`` 当前的参数（``use_buffers=True`` 时还有缓冲区）并入平均，``n_averaged`` 加一。"""
        averaged, current = self._paired_tensors(model)
        synced_buffers = [] if self.use_buffers else self._paired_buffers(model)

        if self.n_averaged.item() == 0:
            for p_averaged, p_model in zip(averaged, current):
                p_averaged.copy_(p_model)
        else:
            # 先在副本上算，全部成功后再写回：平均函数中途抛出异常时平均模型保持原样
            staged = [p_averaged.clone() for p_averaged in averaged]
            self._average(staged, current)
            for p_averaged, p_staged in zip(averaged, staged):
                p_averaged.copy_(p_staged)

        for b_averaged, b_model in synced_buffers:
            b_averaged.copy_(b_model)
        self.n_averaged.add_(1)

    def _average(self, averaged, current):
        if self.avg_fn is not None:
            for p_averaged, p_model in zip(averaged, current):
                n_averaged = self.n_averaged.to(p_averaged.device)
                p_averaged.copy_(self.avg_fn(p_averaged, p_model, n_averaged))
            return

        if self.multi_avg_fn is not None:
            for device, averaged_group, current_group in _group_by_device_and_dtype(averaged, current):
                self.multi_avg_fn(averaged_group, current_group, self.n_averaged.to(device))
            return

        # NOTE: torch 2.13 在 CUDA 上改用 get_swa_multi_avg_fn（lerp，权重有 float32 舍入），
        # 结果与这里的 CPU 公式在末位上可能不同；edunn 在所有设备上都用 CPU 的公式。
        swa_avg_fn = get_swa_avg_fn()
        for p_averaged, p_model in zip(averaged, current):
            n_averaged = self.n_averaged.to(p_averaged.device)
            p_averaged.copy_(swa_avg_fn(p_averaged, p_model, n_averaged))

    def _paired_tensors(self, model):
        """Return the detached tensors to average and ``model``'s matching tensors on the same devices.

        Raises ValueError when the counts differ and RuntimeError when a shape differs, before anything
        is modified.
        """
        if self.use_buffers:
            kind = "parameters and buffers"
            averaged = list(itertools.chain(self.module.named_parameters(), self.module.named_buffers()))
            source = list(itertools.chain(model.named_parameters(), model.named_buffers()))
        else:
            kind = "parameters"
            averaged = [(_strip_prefix(name, "module."), p) for name, p in self.named_parameters()]
            source = list(model.named_parameters())
        return _check_and_detach(kind, averaged, source)

    def _paired_buffers(self, model):
        averaged = list(self.module.named_buffers())
        source = list(model.named_buffers())
        return list(zip(*_check_and_detach("buffers", averaged, source)))


def _check_and_detach(kind, averaged, source):
    if len(averaged) != len(source):
        averaged_names = [name for name, _ in averaged]
        source_names = [name for name, _ in source]
        missing = [name for name in averaged_names if name not in source_names]
        extra = [name for name in source_names if name not in averaged_names]
        details = []
        if missing:
            details.append(f"missing from model: {missing}")
        if extra:
            details.append(f"not in the averaged model: {extra}")
        detail = f" ({'; '.join(details)})" if details else ""
        raise ValueError(
            f"AveragedModel.update_parameters: model has {len(source)} {kind} but the averaged model has "
            f"{len(averaged)}{detail}. Pass a model with the same structure as the one given to AveragedModel."
        )

    for (averaged_name, a), (source_name, s) in zip(averaged, source):
        if a.shape != s.shape:
            raise RuntimeError(
                f"AveragedModel.update_parameters: shape mismatch between the averaged model's '{averaged_name}' "
                f"{list(a.shape)} and model's '{source_name}' {list(s.shape)}. Pass a model with the same "
                "structure as the one given to AveragedModel."
            )

    averaged_tensors = [a.detach() for _, a in averaged]
    source_tensors = [s.detach().to(a.device) for a, (_, s) in zip(averaged_tensors, source)]
    return averaged_tensors, source_tensors


def _group_by_device_and_dtype(averaged, current):
    """Split the pairs into groups sharing the averaged tensor's (device, dtype), in order of first appearance."""
    groups = {}
    for p_averaged, p_model in zip(averaged, current):
        key = (p_averaged.device, p_averaged.dtype)
        averaged_group, current_group = groups.setdefault(key, ([], []))
        averaged_group.append(p_averaged)
        current_group.append(p_model)
    return [(device, a, c) for (device, _), (a, c) in groups.items()]


# ---------------------------------------------------------------------------
# update_bn
# ---------------------------------------------------------------------------


def _batch_input(batch, device):
    """Return what ``update_bn`` passes to the model for one batch from the loader."""
    if isinstance(batch, (list, tuple)):
        if len(batch) == 0:
            raise IndexError(f"update_bn got an empty {type(batch).__name__} batch; expected the input as its "
                             "first element")
        batch = batch[0]

    if isinstance(batch, Tensor):
        return batch if device is None else batch.to(device)
    if isinstance(batch, Mapping):
        if device is not None:
            # torch 2.13 在这里同样抛出 AttributeError（dict 没有 .to）
            raise AttributeError(
                f"update_bn cannot move a {type(batch).__name__} batch to device={device}: only tensor inputs "
                "are moved. Move the tensors in the batch yourself and call update_bn with device=None."
            )
        return batch
    raise TypeError(
        "update_bn expects each batch to be a Tensor, a dict passed to the model as is, or a list/tuple whose "
        f"first element is the input; got {type(batch).__name__}"
    )


def _snapshot_bn(bn_modules):
    return {module: [None if t is None else t.clone()
                     for t in (module.running_mean, module.running_var, module.num_batches_tracked)]
            for module in bn_modules}


def _restore_bn(snapshot):
    for module, saved in snapshot.items():
        for tensor, value in zip((module.running_mean, module.running_var, module.num_batches_tracked), saved):
            if tensor is not None:
                tensor.copy_(value)


@no_grad()
def update_bn(loader, model, device=None):
    r"""用 ``loader`` 的数据把 ``model`` 里每个 BatchNorm 的 ``running_mean``/``running_var`` 重新估计一遍。

    平均后的权重从没被用来做过前向，BatchNorm 缓冲区里的统计量属于别的权重，所以要重算：先
    ``reset_running_stats()``，再把 ``momentum`` 临时设为 None（滑动统计量变成各批次统计量的等权累计平均），
    在训练模式下对每个批次做一次前向。结束后恢复各层的 ``momentum`` 与
    ``model.train(was_training)``。

    每个批次可以是张量；列表或元组（取第 0 个元素作为输入，其余如标签被忽略）；或 dict（原样交给
    模型）。``device`` 给出时，输入张量先移到该设备。

    与 torch 不同：遍历中途抛出异常时，滑动统计量、``momentum`` 与各子模块的训练标志都恢复原样。
    """
    momenta = {module: module.momentum for module in model.modules() if isinstance(module, _BatchNorm)}
    if not momenta:
        return

    snapshot = _snapshot_bn(momenta)
    training_flags = {module: module.training for module in model.modules()}
    was_training = model.training
    succeeded = False
    try:
        for module in momenta:
            module.reset_running_stats()
        model.train()
        for module in momenta:
            module.momentum = None

        for batch in loader:
            model(_batch_input(batch, device))
        succeeded = True
    finally:
        for module, momentum in momenta.items():
            module.momentum = momentum
        if succeeded:
            model.train(was_training)
        else:
            _restore_bn(snapshot)
            for module, training in training_flags.items():
                module.training = training


# ---------------------------------------------------------------------------
# SWALR
# ---------------------------------------------------------------------------


class SWALR(LRScheduler):
    r"""在 ``anneal_epochs`` 步内把每组学习率从当前值退火到 ``swa_lr``，之后保持不变；供 SWA 阶段使用。

    设 :math:`s` 为构造后调用 ``step()`` 的次数，:math:`T` 为 ``anneal_epochs``，
    :math:`\alpha(t)` 为退火函数（``"cos"``：:math:`\frac{1 - \cos \pi t}{2}`，``"linear"``：:math:`t`），
    :math:`t_s = \mathrm{clip}(s / \max(1, T), 0, 1)`。第 :math:`s` 步的学习率是

    .. math::
        \eta_s = \alpha(t_s)\,\eta_{\mathrm{swa}} + \bigl(1 - \alpha(t_s)\bigr)\,\eta_{\mathrm{start}},
        \qquad
        \eta_{\mathrm{start}} = \frac{\eta_{s-1} - \alpha(t_{s-1})\,\eta_{\mathrm{swa}}}{1 - \alpha(t_{s-1})}

    其中 :math:`\eta_{s-1}` 是优化器里当前的 ``lr``；:math:`\eta_{\mathrm{start}}` 从它反推出退火的起点
    （:math:`\alpha(t_{s-1}) = 1` 时取 :math:`\eta_{\mathrm{swa}}`），所以在 SWALR 之前由别的调度器
    （如 ``CosineAnnealingLR``）改过的学习率会被当作起点接上。:math:`T = 0` 时按 :math:`s = 1` 计算，
    所以构造时学习率就已经是 ``swa_lr``。

    ``swa_lr`` 写进每组的 ``"swa_lr"``；构造失败时各组保持原样。

    Args:
        optimizer: 被调度的优化器。
        swa_lr: 所有组共用的目标学习率，或每组一个的列表。
        anneal_epochs: 退火步数，非负整数（默认 10）。
        anneal_strategy: ``"cos"``（默认）或 ``"linear"``。
        last_epoch: 上一次的步号，-1 表示从头开始。
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        _check_optimizer(optimizer)
        swa_lrs = _per_group("swa_lr", optimizer, swa_lr)
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")

        missing = object()
        previous = [group.get("swa_lr", missing) for group in optimizer.param_groups]
        for value, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = value
        self._set_anneal_func(anneal_strategy)
        self.anneal_epochs = anneal_epochs
        try:
            super().__init__(optimizer, last_epoch)
        except Exception:
            for value, group in zip(previous, optimizer.param_groups):
                if value is missing:
                    del group["swa_lr"]
                else:
                    group["swa_lr"] = value
            raise

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        _warn_get_lr_called_outside_step(self)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        groups = self.optimizer.param_groups

        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        start_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha) for group in groups]

        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [group["swa_lr"] * alpha + lr * (1 - alpha) for group, lr in zip(groups, start_lrs)]

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def state_dict(self):
        """返回 ``__dict__`` 中除 ``optimizer`` 与 ``anneal_func`` 以外的条目；函数由 ``_anneal_strategy`` 重建。"""
        return {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
