r"""学习率调度器（learning-rate scheduler），语义与 torch 2.13 的 ``torch.optim.lr_scheduler`` 一致。

调度器不碰参数，只改写优化器 ``param_groups`` 里每组的 ``"lr"``（周期型调度器还会改
``"momentum"`` 或 ``"betas"[0]``）。约定的调用顺序是每个训练步先 ``optimizer.step()``、再
``scheduler.step()``：构造调度器时已经替第 0 步设好了学习率，第一次 ``scheduler.step()``
算的是第 1 步的值。

大多数调度器有两种写法：

- 链式形式（chainable form，``get_lr``）：由优化器里当前的 ``lr`` 乘一个因子得到下一个值，
  因此几个调度器可以叠加在同一个优化器上；
- 闭式形式（closed form，``_get_closed_form_lr``）：由 ``base_lrs`` 和 ``last_epoch`` 直接算出。
  只有向已弃用的 ``step(epoch)`` 传入 ``epoch`` 时才会用到。

torch 2.13 已经删除了 ``verbose`` 参数和 ``print_lr()``，这里同样没有它们。
"""

import math
import types
import warnings
import weakref
from bisect import bisect_right
from collections import Counter
from contextlib import contextmanager
from functools import partial, wraps

from .._tensor import Tensor
from .optimizer import Optimizer

__all__ = [
    "LambdaLR",
    "MultiplicativeLR",
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "SequentialLR",
    "CosineAnnealingLR",
    "ChainedScheduler",
    "ReduceLROnPlateau",
    "CyclicLR",
    "CosineAnnealingWarmRestarts",
    "OneCycleLR",
    "PolynomialLR",
    "LRScheduler",
]

# 以下警告文本与 torch 2.13 逐字相同，这样为 torch 写的 warnings.filterwarnings(message=...) 也能过滤 edunn。
EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being "
    "deprecated where possible. Please use `scheduler.step()` to step the "
    "scheduler. During the deprecation, if epoch is different from None, the "
    "closed form is used instead of the new chainable form, where available. "
    "Please open an issue if you are unable to replicate your use case: "
    "https://github.com/pytorch/pytorch/issues/new/choose."
)

STEP_OVERRIDDEN_WARNING = (
    "Seems like `optimizer.step()` has been overridden after learning rate scheduler "
    "initialization. Please, make sure to call `optimizer.step()` before "
    "`lr_scheduler.step()`. See more details at "
    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate"
)

STEP_ORDER_WARNING = (
    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
    "In PyTorch 1.1.0 and later, you should call them in the opposite order: "
    "`optimizer.step()` before `lr_scheduler.step()`.  Failure to do this "
    "will result in PyTorch skipping the first value of the learning rate schedule. "
    "See more details at "
    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate"
)

GET_LR_OUTSIDE_STEP_WARNING = (
    "To get the last learning rate computed by the scheduler, please use `get_last_lr()`."
)


# ---------------------------------------------------------------------------
# param_groups 的读写。lr 可以是 Python 数，也可以是 0 维 Tensor；Tensor 要复制，
# 写回时原地 fill_，这样优化器手里的那个 Tensor 对象始终不变。
# ---------------------------------------------------------------------------


_MISSING = object()


def _copy_value(value):
    return value.clone() if isinstance(value, Tensor) else value


def _group_values(optimizer, key):
    """Return a copy of ``group[key]`` for every param group (KeyError if a group lacks it)."""
    return [_copy_value(group[key]) for group in optimizer.param_groups]


def _set_group_value(group, key, value):
    if isinstance(group[key], Tensor):
        if isinstance(value, Tensor) and value.dim() != 0:
            value = value.squeeze()
        group[key].fill_(value)
    else:
        group[key] = value


def _per_group(name, optimizer, value):
    """Expand a scalar to one value per param group, or check a list's length."""
    group_count = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != group_count:
            raise ValueError(
                f"{name} must have the same length as optimizer.param_groups. "
                f"{name} has {len(value)} values, param_groups has {group_count}."
            )
    else:
        value = [value] * group_count
    return [_copy_value(item) for item in value]


def _check_optimizer(optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def _check_momentum_support(optimizer):
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(
            "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"
        )


def _set_momentum(group, momentum, use_beta1):
    """Write the cycled momentum: Adam-like optimizers keep it as ``betas[0]``."""
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def _track_optimizer_step(optimizer):
    """Wrap ``optimizer.step`` so that a call sets ``optimizer._opt_called = True``.

    The flag lets ``LRScheduler.step`` notice a scheduler stepped before its optimizer. The
    wrapper is an instance attribute carrying ``_wrapped_by_lr_sched``, so a second scheduler on
    the same optimizer reuses it, and replacing ``optimizer.step`` later is detectable.
    """
    if hasattr(optimizer.step, "_wrapped_by_lr_sched"):
        return

    # 弱引用：包装函数存在优化器自己身上，强引用会形成环。
    optimizer_ref = weakref.ref(optimizer)
    step_function = optimizer.step.__func__

    @wraps(step_function)
    def step_and_mark(*args, **kwargs):
        owner = optimizer_ref()
        owner._opt_called = True
        return step_function(owner, *args, **kwargs)

    step_and_mark._wrapped_by_lr_sched = True
    optimizer.step = step_and_mark


def _warn_get_lr_called_outside_step(scheduler):
    if not scheduler._get_lr_called_within_step:
        warnings.warn(GET_LR_OUTSIDE_STEP_WARNING, UserWarning, stacklevel=3)


@contextmanager
def _flag(scheduler, name):
    """Set the boolean attribute ``name`` on the instance for the duration of the block.

    The attribute stays in ``__dict__`` afterwards (as ``False``), so ``state_dict()`` lists it just
    as torch's does.
    """
    setattr(scheduler, name, True)
    try:
        yield
    finally:
        setattr(scheduler, name, False)


# ---------------------------------------------------------------------------
# 基类
# ---------------------------------------------------------------------------


class LRScheduler:
    r"""所有学习率调度器的基类。

    子类实现 :meth:`get_lr`（链式形式），可选实现 ``_get_closed_form_lr``（闭式形式）。
    设 :math:`t` 为 ``last_epoch``，:math:`\eta^{(g)}_t` 为第 :math:`g` 组在第 :math:`t`
    步的学习率，:math:`\eta^{(g)}_0` 为该组的 ``initial_lr``（即 ``base_lrs[g]``）：

    .. math::
        \eta^{(g)}_t = \mathrm{get\_lr}\big(t, \eta^{(g)}_{t-1}\big)
        \quad\text{（链式）}, \qquad
        \eta^{(g)}_t = f\big(t, \eta^{(g)}_0\big) \quad\text{（闭式）}

    构造时：``last_epoch == -1`` 把每组当前的 ``lr`` 记为 ``initial_lr``（已有则保留），
    否则（从检查点恢复）要求每组已有 ``initial_lr``；然后包装 ``optimizer.step``，
    并立即执行一次 ``step()``，使 ``last_epoch`` 变为 0。

    Args:
        optimizer: 被调度的 :class:`edunn.optim.Optimizer`。
        last_epoch: 上一次的步号；-1 表示从头开始，非 -1 只用于从检查点恢复。
    """

    _get_lr_called_within_step = False
    _is_initial = False

    def __init__(self, optimizer, last_epoch=-1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer

        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", _copy_value(group["lr"]))
        else:
            for index, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{index}] "
                        "when resuming scheduler with last_epoch >= 0.\n"
                        "This typically happens when:\n"
                        "1. You're trying to resume training from a checkpoint but haven't "
                        "properly loaded the optimizer state\n"
                        "2. You're using last_epoch >= 0 for a fresh training run (not recommended)"
                    )
        self.base_lrs = _group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch

        _track_optimizer_step(optimizer)
        self._initial_step()

    def _initial_step(self):
        """Reset the step count and take the constructor's step (``last_epoch`` -1 -> 0)."""
        self._step_count = 0
        with _flag(self, "_is_initial"):
            self.step()

    def state_dict(self):
        """返回调度器状态：``__dict__`` 中除 ``optimizer`` 以外的全部条目（不复制）。"""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        """用 :meth:`state_dict` 的结果覆盖调度器的属性。

        它不改优化器：恢复检查点时先构造调度器，再调用 ``optimizer.load_state_dict``，
        否则构造调度器会改掉刚载入的学习率。
        """
        self.__dict__.update(state_dict)

    def get_last_lr(self):
        """返回最近一次 :meth:`step` 算出的各组学习率（Tensor 学习率返回的是副本）。"""
        return self._last_lr

    def get_lr(self):
        """按链式形式计算下一步各组的学习率；只应在 :meth:`step` 内部调用。"""
        raise NotImplementedError

    def step(self, epoch=None):
        """前进一步，并把新学习率写入 ``optimizer.param_groups``。

        应在 ``optimizer.step()`` 之后调用。传入 ``epoch`` 已弃用（会发出 UserWarning）：
        它把 ``last_epoch`` 设为 ``epoch``，并在有闭式形式时改用闭式形式。

        与 torch 不同：若计算新学习率时抛出异常（例如 OneCycleLR 超过 ``total_steps``），
        ``last_epoch`` 与 ``_step_count`` 恢复原值，失败的调用不改变调度器和优化器。
        """
        if self._step_count == 1:
            self._warn_if_optimizer_not_stepped()

        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        try:
            self._update_lr(epoch)
        except Exception:
            self._step_count -= 1
            raise

    def _warn_if_optimizer_not_stepped(self):
        # 只在构造之后的第一次 step() 检查：这时优化器理应已经走过一步。
        if not hasattr(self.optimizer.step, "_wrapped_by_lr_sched"):
            warnings.warn(STEP_OVERRIDDEN_WARNING, UserWarning, stacklevel=3)
        elif not getattr(self.optimizer, "_opt_called", False):
            warnings.warn(STEP_ORDER_WARNING, UserWarning, stacklevel=3)

    def _update_lr(self, epoch=None):
        # ChainedScheduler 没有 last_epoch，所以用 __dict__ 判断它原来是否存在。
        previous_epoch = self.__dict__.get("last_epoch", _MISSING)
        try:
            with _flag(self, "_get_lr_called_within_step"):
                if epoch is None:
                    self.last_epoch += 1
                    values = self.get_lr()
                else:
                    self.last_epoch = epoch
                    closed_form = getattr(self, "_get_closed_form_lr", None)
                    values = closed_form() if closed_form is not None else self.get_lr()
        except Exception:
            # get_lr 读的是新的 last_epoch，失败时改回去，失败的调用不留下痕迹。
            if previous_epoch is _MISSING:
                del self.last_epoch
            else:
                self.last_epoch = previous_epoch
            raise

        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            _set_group_value(group, "lr", lr)
        self._last_lr = _group_values(self.optimizer, "lr")


class _LRScheduler(LRScheduler):
    """旧名字，只为兼容保留；新代码请继承 :class:`LRScheduler`。"""


# ---------------------------------------------------------------------------
# 保存调度函数：普通函数（含 lambda）无法可靠序列化，只保存可调用对象的 __dict__。
# ---------------------------------------------------------------------------


def _callable_state(fn):
    if fn is None or isinstance(fn, types.FunctionType):
        return None
    return fn.__dict__.copy()


def _restore_callable_state(fn, saved):
    if saved is not None:
        fn.__dict__.update(saved)


def _lr_lambdas_for(optimizer, lr_lambda):
    group_count = len(optimizer.param_groups)
    if not isinstance(lr_lambda, (list, tuple)):
        return [lr_lambda] * group_count
    if len(lr_lambda) != group_count:
        raise ValueError(f"Expected {group_count} lr_lambdas, but got {len(lr_lambda)}")
    return list(lr_lambda)


class _LambdaStateMixin:
    """state_dict for schedulers holding ``lr_lambdas``: plain functions are saved as ``None``."""

    def state_dict(self):
        state = {
            key: value
            for key, value in self.__dict__.items()
            if key not in ("optimizer", "lr_lambdas")
        }
        state["lr_lambdas"] = [_callable_state(fn) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        saved_lambdas = state.pop("lr_lambdas")
        self.__dict__.update(state)
        for fn, saved in zip(self.lr_lambdas, saved_lambdas):
            _restore_callable_state(fn, saved)


# ---------------------------------------------------------------------------
# 衰减型调度器
# ---------------------------------------------------------------------------


class LambdaLR(_LambdaStateMixin, LRScheduler):
    r"""学习率等于初始学习率乘以用户函数的值。

    .. math::
        \eta_t = \eta_0 \cdot \lambda(t)

    Args:
        optimizer: 被调度的优化器。
        lr_lambda: 函数 :math:`\lambda(t)`，或每组一个函数的列表。
        last_epoch: 上一次的步号，默认 -1。

    ``state_dict()`` 只保存可调用对象（非普通函数）的 ``__dict__``；普通函数与 lambda 存为 ``None``，
    载入时沿用新调度器自己的函数。

    它的 ``get_lr`` 从 ``base_lrs`` 出发而不读当前学习率，所以与别的调度器叠加时会覆盖它们的因子。
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.optimizer = optimizer
        self.lr_lambdas = _lr_lambdas_for(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_outside_step(self)
        return [
            base_lr * lr_lambda(self.last_epoch)
            for lr_lambda, base_lr in zip(self.lr_lambdas, self.base_lrs, strict=True)
        ]


class MultiplicativeLR(_LambdaStateMixin, LRScheduler):
    r"""每一步把当前学习率乘以用户函数的值。

    .. math::
        \eta_t = \eta_{t-1} \cdot \lambda(t) \quad (t \ge 1)

    Args:
        optimizer: 被调度的优化器。
        lr_lambda: 函数 :math:`\lambda(t)`，或每组一个函数的列表；必须可调用。
        last_epoch: 上一次的步号，默认 -1。
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.optimizer = optimizer
        lr_lambdas = _lr_lambdas_for(optimizer, lr_lambda)
        for fn in lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        self.lr_lambdas = lr_lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_outside_step(self)
        if self._is_initial:
            return _group_values(self.optimizer, "lr")
        return [
            group["lr"] * lr_lambda(self.last_epoch)
            for lr_lambda, group in zip(self.lr_lambdas, self.optimizer.param_groups, strict=True)
        ]


class StepLR(LRScheduler):
    r"""每隔 ``step_size`` 步把学习率乘以 ``gamma``。

    .. math::
        \eta_t = \eta_0 \cdot \gamma^{\lfloor t / s \rfloor}

    其中 :math:`s` 为 ``step_size``。链式形式只在 :math:`t` 是 :math:`s` 的非零倍数时乘一次
    :math:`\gamma`，因此它能与别处对学习率的修改叠加。

    Args:
        optimizer: 被调度的优化器。
        step_size: 衰减周期 :math:`s`。
        gamma: 衰减因子，默认 0.1。
        last_epoch: 上一次的步号，默认 -1。
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_outside_step(self)
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return _group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [
            base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs
        ]


class MultiStepLR(LRScheduler):
    r"""步号到达 ``milestones`` 中的某个值时，把学习率乘以 ``gamma``。

    .. math::
        \eta_t = \eta_0 \cdot \gamma^{\#\{m \in M \,:\, m \le t\}}

    里程碑存成 ``collections.Counter``：顺序不要求递增（与 torch 2.13 一样不检查），
    重复出现 :math:`k` 次的里程碑一次乘 :math:`\gamma^k`。

    Args:
        optimizer: 被调度的优化器。
        milestones: 步号的可迭代对象 :math:`M`。
        gamma: 衰减因子，默认 0.1。
        last_epoch: 上一次的步号，默认 -1。
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_outside_step(self)
        if self.last_epoch not in self.milestones:
            return _group_values(self.optimizer, "lr")
        decay = self.gamma ** self.milestones[self.last_epoch]
        return [group["lr"] * decay for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        passed = bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base_lr * self.gamma**passed for base_lr in self.base_lrs]


class ConstantLR(LRScheduler):
    r"""前 ``total_iters`` 步把学习率乘以常数 ``factor``，之后恢复。

    .. math::
        \eta_t = \eta_0 \cdot
        \begin{cases} f, & t < T \\ 1, & t \ge T \end{cases}

    其中 :math:`f` 为 ``factor``，:math:`T` 为 ``total_iters``。链式形式在 :math:`t = 0` 乘
    :math:`f`、在 :math:`t = T` 乘 :math:`1/f`，所以 ``factor=0`` 会在 :math:`t = T` 抛出
    ZeroDivisionError（torch 同样如此）。

    Args:
        optimizer: 被调度的优化器。
        factor: 乘数 :math:`f \in [0, 1]`，默认 1/3。
        total_iters: 保持乘数的步数 :math:`T`，默认 5。
        last_epoch: 上一次的步号，默认 -1。
    """

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_outside_step(self)
        if self.last_epoch == 0:
            return [group["lr"] * self.factor for group in self.optimizer.param_groups]
        if self.last_epoch != self.total_iters:
            return _group_values(self.optimizer, "lr")
        return [group["lr"] * (1.0 / self.factor) for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        reached = self.last_epoch >= self.total_iters
        return [
            base_lr * (self.factor + reached * (1 - self.factor)) for base_lr in self.base_lrs
        ]


class LinearLR(LRScheduler):
    r"""在 ``total_iters`` 步内把乘数从 ``start_factor`` 线性变到 ``end_factor``。

    .. math::
        \eta_t = \eta_0 \left( f_s + (f_e - f_s)\,\frac{\min(t, T)}{T} \right)

    链式形式每步乘以相邻两步乘数之比：

    .. math::
        \eta_t = \eta_{t-1} \left( 1 + \frac{f_e - f_s}{T f_s + (t - 1)(f_e - f_s)} \right),
        \quad 1 \le t \le T

    Args:
        optimizer: 被调度的优化器。
        start_factor: 第 0 步的乘数 :math:`f_s \in (0, 1]`，默认 1/3。
        end_factor: 第 :math:`T` 步起的乘数 :math:`f_e \in [0, 1]`，默认 1。
        total_iters: 线性变化的步数 :math:`T`，默认 5。
        last_epoch: 上一次的步号，默认 -1。
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError(
                "Starting multiplicative factor expected to be greater than 0 and less or equal to 1."
            )
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_outside_step(self)
        if self.last_epoch == 0:
            return [group["lr"] * self.start_factor for group in self.optimizer.param_groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return _group_values(self.optimizer, "lr")

        span = self.end_factor - self.start_factor
        previous_factor_times_total = self.total_iters * self.start_factor + (self.last_epoch - 1) * span
        ratio = 1.0 + span / previous_factor_times_total
        return [group["lr"] * ratio for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        span = self.end_factor - self.start_factor
        progress = min(self.total_iters, self.last_epoch)
        return [
            base_lr * (self.start_factor + span * progress / self.total_iters)
            for base_lr in self.base_lrs
        ]


class ExponentialLR(LRScheduler):
    r"""每一步把学习率乘以 ``gamma``。

    .. math::
        \eta_t = \eta_0 \cdot \gamma^{t}

    Args:
        optimizer: 被调度的优化器。
        gamma: 每步的衰减因子。
        last_epoch: 上一次的步号，默认 -1。
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_outside_step(self)
        # 构造时的那一步不能乘 gamma：从检查点恢复时它会让学习率多衰减一次。
        if self._is_initial:
            return _group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    r"""在 ``total_iters`` 步内按多项式把学习率衰减到 0，之后保持不变。

    .. math::
        \eta_t = \eta_0 \left( 1 - \frac{\min(t, T)}{T} \right)^{p}

    链式形式每步乘以

    .. math::
        \left( \frac{1 - t/T}{1 - (t-1)/T} \right)^{p}, \quad 1 \le t \le T

    Args:
        optimizer: 被调度的优化器。
        total_iters: 衰减的步数 :math:`T`，默认 5。
        power: 多项式的次数 :math:`p`，默认 1.0。
        last_epoch: 上一次的步号，默认 -1。
    """

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_outside_step(self)
        if self._is_initial or self.last_epoch > self.total_iters:
            return _group_values(self.optimizer, "lr")

        remaining_now = 1.0 - self.last_epoch / self.total_iters
        remaining_before = 1.0 - (self.last_epoch - 1) / self.total_iters
        decay = (remaining_now / remaining_before) ** self.power
        return [group["lr"] * decay for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        progress = min(self.total_iters, self.last_epoch)
        return [
            base_lr * (1.0 - progress / self.total_iters) ** self.power for base_lr in self.base_lrs
        ]


# ---------------------------------------------------------------------------
# 余弦与周期型调度器
# ---------------------------------------------------------------------------


class CosineAnnealingLR(LRScheduler):
    r"""余弦退火（cosine annealing），不重启。

    目标曲线（闭式形式）是

    .. math::
        \eta_t = \eta_{\min} + \frac{1}{2}(\eta_0 - \eta_{\min})
        \left(1 + \cos\frac{\pi t}{T_{\max}}\right)

    链式形式按相邻两步的比值递推：

    .. math::
        \eta_t = \eta_{\min} + (\eta_{t-1} - \eta_{\min})
        \frac{1 + \cos(\pi t / T_{\max})}{1 + \cos(\pi (t-1) / T_{\max})}

    分母在 :math:`t - 1 \equiv T_{\max} \pmod{2T_{\max}}`（余弦谷底）时为 0，这一步改用加法：

    .. math::
        \eta_t = \eta_{t-1} + \frac{1}{2}(\eta_0 - \eta_{\min})\left(1 - \cos\frac{\pi}{T_{\max}}\right)

    :math:`t > T_{\max}` 后曲线沿余弦继续回升，周期为 :math:`2T_{\max}`。递推的舍入误差会逐步积累，
    所以长序列与闭式形式并不逐位相同；这里每一步的运算顺序与 torch 2.13 相同，序列与 torch 逐位一致。
    从检查点恢复（``last_epoch > 0``）后的第一步用闭式形式，以免在旧的 ``lr`` 上再递推。

    Args:
        optimizer: 被调度的优化器。
        T_max: 半个周期的步数 :math:`T_{\max}`。
        eta_min: 最小学习率 :math:`\eta_{\min}`，默认 0。
        last_epoch: 上一次的步号，默认 -1。
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_outside_step(self)
        if self._is_initial:
            return _group_values(self.optimizer, "lr")

        t = self.last_epoch
        if self._step_count == 1 and t > 0:
            return [
                self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(t * math.pi / self.T_max)) / 2
                for base_lr in self.base_lrs
            ]

        if (t - 1 - self.T_max) % (2 * self.T_max) == 0:
            # 先乘后除，与 torch 的舍入顺序一致。
            bottom_gap = 1 - math.cos(math.pi / self.T_max)
            return [
                group["lr"] + (base_lr - self.eta_min) * bottom_gap / 2
                for base_lr, group in zip(self.base_lrs, self.optimizer.param_groups, strict=True)
            ]

        ratio = (1 + math.cos(math.pi * t / self.T_max)) / (1 + math.cos(math.pi * (t - 1) / self.T_max))
        return [ratio * (group["lr"] - self.eta_min) + self.eta_min for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        cosine = 1 + math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base_lr - self.eta_min) * cosine / 2 for base_lr in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""带热重启的余弦退火（SGDR）。

    .. math::
        \eta_t = \eta_{\min} + \frac{1}{2}(\eta_0 - \eta_{\min})
        \left(1 + \cos\frac{\pi T_{cur}}{T_i}\right)

    :math:`T_{cur}` 是距上次重启的步数，:math:`T_i` 是当前周期的长度：从 :math:`T_0` 开始，
    每次重启乘以 :math:`T_{mult}`。``step(epoch)`` 可以传入小数 epoch（例如每个 batch 传
    ``epoch + i / iters``）；这时由 epoch 直接算出所在周期 :math:`n` 与 :math:`T_{cur}`：

    .. math::
        n = \left\lfloor \log_{T_{mult}}\!\Big(\frac{\mathrm{epoch}}{T_0}(T_{mult} - 1) + 1\Big) \right\rfloor,
        \quad T_{cur} = \mathrm{epoch} - T_0 \frac{T_{mult}^{\,n} - 1}{T_{mult} - 1},
        \quad T_i = T_0 T_{mult}^{\,n}

    这个调度器自己实现 :meth:`step`：它不检查调用顺序，传入 ``epoch`` 也不发弃用警告
    （与 torch 2.13 相同）。

    Args:
        optimizer: 被调度的优化器。
        T_0: 第一个周期的步数，正整数。
        T_mult: 每次重启后周期长度的倍数，不小于 1 的整数，默认 1。
        eta_min: 最小学习率，默认 0。
        last_epoch: 上一次的步号，默认 -1。
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(
                f"Expected float or int eta_min, but got {eta_min} of type {type(eta_min)}"
            )
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_outside_step(self)
        cosine = 1 + math.cos(math.pi * self.T_cur / self.T_i)
        return [self.eta_min + (base_lr - self.eta_min) * cosine / 2 for base_lr in self.base_lrs]

    def step(self, epoch=None):
        """前进一步；``epoch`` 可为小数，用来在一个 epoch 内按 batch 推进。"""
        if epoch is None and self.last_epoch < 0:
            epoch = 0

        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        elif epoch < 0:
            raise ValueError(f"Expected non-negative epoch, but got {epoch}")
        elif epoch < self.T_0:
            self.T_i = self.T_0
            self.T_cur = epoch
        elif self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        else:
            n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
            self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
            self.T_i = self.T_0 * self.T_mult**n
        self.last_epoch = math.floor(epoch)

        with _flag(self, "_get_lr_called_within_step"):
            values = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            _set_group_value(group, "lr", lr)
        self._last_lr = _group_values(self.optimizer, "lr")


class CyclicLR(LRScheduler):
    r"""循环学习率（cyclical learning rate, CLR）：在 ``base_lr`` 与 ``max_lr`` 之间往返。

    一个周期长 :math:`S = S_{up} + S_{down}` 步，上升段占比 :math:`r = S_{up}/S`。记 :math:`t` 为
    ``last_epoch``（已完成的 batch 数）：

    .. math::
        c = \left\lfloor 1 + \frac{t}{S} \right\rfloor, \quad
        x = 1 + \frac{t}{S} - c, \quad
        h = \begin{cases} x / r, & x \le r \\ (x - 1)/(r - 1), & x > r \end{cases}

    .. math::
        \eta_t = \eta_{base} + (\eta_{max} - \eta_{base})\, h\, s(\cdot), \qquad
        m_t = m_{max} - (m_{max} - m_{base})\, h\, s(\cdot)

    缩放函数 :math:`s` 按 ``mode`` 选取：``"triangular"`` 恒为 1；``"triangular2"`` 为
    :math:`1/2^{c-1}`（每个周期振幅减半）；``"exp_range"`` 为 :math:`\gamma^{t}`。前两者以周期号
    :math:`c` 为自变量（``scale_mode="cycle"``），``exp_range`` 以步号 :math:`t` 为自变量
    （``"iterations"``）。给了 ``scale_fn`` 时忽略 ``mode``，自变量由 ``scale_mode`` 决定。

    ``cycle_momentum=True`` 时动量与学习率反向变化：SGD 类优化器改 ``group["momentum"]``，
    Adam 类（``defaults`` 含 ``"betas"``）改 ``group["betas"][0]``。

    Args:
        optimizer: 被调度的优化器。
        base_lr: 每组的下界（数或每组一个数的列表）。
        max_lr: 每组的上界（数或列表）。
        step_size_up: 上升段步数，默认 2000。
        step_size_down: 下降段步数，默认等于 ``step_size_up``。
        mode: ``"triangular"``、``"triangular2"`` 或 ``"exp_range"``。
        gamma: ``exp_range`` 的底数，默认 1.0。
        scale_fn: 自定义缩放函数 :math:`s`，取值应在 [0, 1]。
        scale_mode: ``"cycle"`` 或 ``"iterations"``，只对 ``scale_fn`` 生效。
        cycle_momentum: 是否反向循环动量，默认 True。
        base_momentum: 动量下界（数或列表），默认 0.8。
        max_momentum: 动量上界（数或列表），默认 0.9。
        last_epoch: 上一次的 batch 序号，默认 -1。
    """

    def __init__(
        self,
        optimizer,
        base_lr,
        max_lr,
        step_size_up=2000,
        step_size_down=None,
        mode="triangular",
        gamma=1.0,
        scale_fn=None,
        scale_mode="cycle",
        cycle_momentum=True,
        base_momentum=0.8,
        max_momentum=0.9,
        last_epoch=-1,
    ):
        # 先检查完全部参数，再改 param_groups：构造失败时优化器保持原样。
        _check_optimizer(optimizer)
        base_lrs = _per_group("base_lr", optimizer, base_lr)
        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if mode not in ["triangular", "triangular2", "exp_range"] and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        if cycle_momentum:
            _check_momentum_support(optimizer)
            base_momentums = _per_group("base_momentum", optimizer, base_momentum)
            max_momentums = _per_group("max_momentum", optimizer, max_momentum)

        self.optimizer = optimizer
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups, strict=True):
                _set_group_value(group, "lr", lr)
        self.max_lrs = max_lrs

        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size

        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()

        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = "betas" in optimizer.defaults
            self.base_momentums = base_momentums
            self.max_momentums = max_momentums
            if last_epoch == -1:
                for max_m, base_m, group in zip(
                    max_momentums, base_momentums, optimizer.param_groups, strict=True
                ):
                    _set_momentum(group, max_m, self.use_beta1)
                    group["max_momentum"] = max_m
                    group["base_momentum"] = base_m

        # 构造时的那一步用的是 param_groups 里的 initial_lr（可能是更早的调度器写下的），
        # 之后才换成 base_lr，与 torch 的顺序相同。
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self):
        if self._scale_fn_custom is not None:
            return
        if self.mode == "triangular":
            self._scale_fn_ref = self._triangular_scale_fn
            self.scale_mode = "cycle"
        elif self.mode == "triangular2":
            self._scale_fn_ref = self._triangular2_scale_fn
            self.scale_mode = "cycle"
        elif self.mode == "exp_range":
            self._scale_fn_ref = partial(self._exp_range_scale_fn, self.gamma)
            self.scale_mode = "iterations"

    def scale_fn(self, x):
        """缩放函数 :math:`s(x)`：自定义的 ``scale_fn``，否则由 ``mode`` 决定。"""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        return self._scale_fn_ref(x)

    @staticmethod
    def _triangular_scale_fn(x):
        return 1.0

    @staticmethod
    def _triangular2_scale_fn(x):
        return 1 / (2.0 ** (x - 1))

    @staticmethod
    def _exp_range_scale_fn(gamma, x):
        return gamma**x

    def get_lr(self):
        """计算下一步的学习率；``cycle_momentum=True`` 时顺带把动量写进 param_groups。"""
        _warn_get_lr_called_outside_step(self)
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            height = x / self.step_ratio
        else:
            height = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)

        lrs = [
            base_lr + (max_lr - base_lr) * height * scale
            for base_lr, max_lr in zip(self.base_lrs, self.max_lrs, strict=True)
        ]
        if self.cycle_momentum:
            momentums = [
                max_m - (max_m - base_m) * height * scale
                for base_m, max_m in zip(self.base_momentums, self.max_momentums, strict=True)
            ]
            for group, momentum in zip(self.optimizer.param_groups, momentums, strict=True):
                _set_momentum(group, momentum, self.use_beta1)
        return lrs

    def state_dict(self):
        """返回调度器状态；自定义 ``scale_fn`` 只保存可调用对象的 ``__dict__``，普通函数存为 ``None``。"""
        state = super().state_dict()
        # _scale_fn_ref 由 mode 决定，载入时重建，不必保存。
        state.pop("_scale_fn_ref", None)
        state["_scale_fn_custom"] = _callable_state(self._scale_fn_custom)
        return state

    def load_state_dict(self, state_dict):
        """载入 :meth:`state_dict` 的结果（不修改传入的字典）。"""
        state = dict(state_dict)
        saved_scale_fn = state.pop("_scale_fn_custom")
        super().load_state_dict(state)
        if self._scale_fn_custom is not None:
            _restore_callable_state(self._scale_fn_custom, saved_scale_fn)
        self._init_scale_fn()


class OneCycleLR(LRScheduler):
    r"""1cycle 策略：学习率先从 ``max_lr / div_factor`` 升到 ``max_lr``，再降到远低于起点的值。

    记 :math:`\eta_{max}` 为 ``max_lr``，:math:`\eta_{init} = \eta_{max}/d`，
    :math:`\eta_{min} = \eta_{init}/d_f`，:math:`N` 为 ``total_steps``，:math:`p` 为 ``pct_start``。
    两段式（默认）：

    - 第 1 段 :math:`t \in [0,\, pN - 1]`：:math:`\eta_{init} \to \eta_{max}`，动量 :math:`m_{max} \to m_{base}`；
    - 第 2 段到 :math:`t = N - 1`：:math:`\eta_{max} \to \eta_{min}`，动量 :math:`m_{base} \to m_{max}`。

    ``three_phase=True`` 时前两段关于 :math:`pN` 对称（:math:`\eta_{init} \to \eta_{max} \to \eta_{init}`，
    第 2 段终点 :math:`2pN - 2`），第 3 段 :math:`\eta_{init} \to \eta_{min}`，动量保持 :math:`m_{max}`。
    段内以比例 :math:`\rho = (t - t_{start})/(t_{end} - t_{start})` 插值：

    .. math::
        \mathrm{cos}:\ a_{end} + \frac{a_{start} - a_{end}}{2}\,(1 + \cos \pi\rho), \qquad
        \mathrm{linear}:\ (a_{end} - a_{start})\,\rho + a_{start}

    它不能与其他调度器链式叠加：每一步都从 param_groups 里的 ``initial_lr``、``max_lr``、``min_lr``
    直接算出学习率。第 :math:`N` 次 ``step()`` 之后再调用会抛出 ValueError。

    Args:
        optimizer: 被调度的优化器。
        max_lr: 每组的峰值学习率（数或列表）。
        total_steps: 总步数 :math:`N`；不给时取 ``epochs * steps_per_epoch``。
        epochs: 训练的 epoch 数。
        steps_per_epoch: 每个 epoch 的步数。
        pct_start: 上升段占总步数的比例 :math:`p`（float，0 到 1），默认 0.3。
        anneal_strategy: ``"cos"`` 或 ``"linear"``，默认 ``"cos"``。
        cycle_momentum: 是否反向循环动量，默认 True。
        base_momentum: 动量下界（数或列表），默认 0.85。
        max_momentum: 动量上界（数或列表），默认 0.95。
        div_factor: :math:`d`，默认 25。
        final_div_factor: :math:`d_f`，默认 1e4。
        three_phase: 是否用三段式，默认 False。
        last_epoch: 上一次的 batch 序号，默认 -1。
    """

    def __init__(
        self,
        optimizer,
        max_lr,
        total_steps=None,
        epochs=None,
        steps_per_epoch=None,
        pct_start=0.3,
        anneal_strategy="cos",
        cycle_momentum=True,
        base_momentum=0.85,
        max_momentum=0.95,
        div_factor=25.0,
        final_div_factor=1e4,
        three_phase=False,
        last_epoch=-1,
    ):
        # 检查顺序与 torch 相同，但全部检查都在修改 param_groups 之前。
        _check_optimizer(optimizer)
        if total_steps is not None:
            if total_steps <= 0 or not isinstance(total_steps, int):
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(
                    f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}"
                )
            total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        if pct_start < 0 or pct_start > 1 or not isinstance(pct_start, float):
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if cycle_momentum:
            _check_momentum_support(optimizer)
            max_momentums = _per_group("max_momentum", optimizer, max_momentum)
            base_momentums = _per_group("base_momentum", optimizer, base_momentum)

        self.optimizer = optimizer
        self.total_steps = total_steps
        self._schedule_phases = self._build_phases(pct_start, total_steps, three_phase)
        self._anneal_func_type = anneal_strategy

        if last_epoch == -1:
            for group, group_max_lr in zip(optimizer.param_groups, max_lrs, strict=True):
                group["initial_lr"] = group_max_lr / div_factor
                group["max_lr"] = group_max_lr
                group["min_lr"] = group["initial_lr"] / final_div_factor

        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = "betas" in optimizer.defaults
            if last_epoch == -1:
                for max_m, base_m, group in zip(
                    max_momentums, base_momentums, optimizer.param_groups, strict=True
                ):
                    _set_momentum(group, max_m, self.use_beta1)
                    group["max_momentum"] = max_m
                    group["base_momentum"] = base_m

        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _build_phases(pct_start, total_steps, three_phase):
        """Return the phases: each names the group keys it interpolates between, up to ``end_step``."""
        warmup_end = float(pct_start * total_steps) - 1
        if three_phase:
            return [
                {"end_step": warmup_end, "start_lr": "initial_lr", "end_lr": "max_lr",
                 "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": float(2 * pct_start * total_steps) - 2, "start_lr": "max_lr",
                 "end_lr": "initial_lr", "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
                {"end_step": total_steps - 1, "start_lr": "initial_lr", "end_lr": "min_lr",
                 "start_momentum": "max_momentum", "end_momentum": "max_momentum"},
            ]  # fmt: skip
        return [
            {"end_step": warmup_end, "start_lr": "initial_lr", "end_lr": "max_lr",
             "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
            {"end_step": total_steps - 1, "start_lr": "max_lr", "end_lr": "min_lr",
             "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
        ]  # fmt: skip

    def _anneal_func(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return self._annealing_cos(start, end, pct)
        return self._annealing_linear(start, end, pct)

    @staticmethod
    def _annealing_cos(start, end, pct):
        cosine = math.cos(math.pi * pct) + 1
        return end + (start - end) / 2.0 * cosine

    @staticmethod
    def _annealing_linear(start, end, pct):
        return (end - start) * pct + start

    def get_lr(self):
        """计算下一步的学习率；``cycle_momentum=True`` 时顺带把动量写进 param_groups。"""
        _warn_get_lr_called_outside_step(self)
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(
                f"Tried to step {step_num} times. The specified number of total steps is {self.total_steps}"
            )

        lrs = []
        last_phase = len(self._schedule_phases) - 1
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for index, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step_num <= end_step or index == last_phase:
                    pct = (step_num - start_step) / (end_step - start_step)
                    lrs.append(self._anneal_func(group[phase["start_lr"]], group[phase["end_lr"]], pct))
                    if self.cycle_momentum:
                        momentum = self._anneal_func(
                            group[phase["start_momentum"]], group[phase["end_momentum"]], pct
                        )
                        _set_momentum(group, momentum, self.use_beta1)
                    break
                start_step = phase["end_step"]
        return lrs


# ---------------------------------------------------------------------------
# 按指标调度与组合调度
# ---------------------------------------------------------------------------


class ReduceLROnPlateau(LRScheduler):
    r"""指标停止改善时降低学习率。

    每次 ``step(metrics)`` 判断指标是否比历史最优 ``best`` 显著更好（``mode="min"`` 时）：

    .. math::
        \text{rel: } a < \mathrm{best}\,(1 - \theta), \qquad \text{abs: } a < \mathrm{best} - \theta

    （``mode="max"`` 时方向相反：:math:`a > \mathrm{best}(1 + \theta)` 或 :math:`a > \mathrm{best} + \theta`。）
    不够好就把 ``num_bad_epochs`` 加 1；超过 ``patience`` 时每组

    .. math::
        \eta \leftarrow \max(\eta \cdot \mathrm{factor},\ \eta^{(g)}_{\min}),
        \quad \text{仅当 } \eta_{old} - \eta_{new} > \varepsilon

    并进入 ``cooldown`` 步冷却期，冷却期内不累计 ``num_bad_epochs``。

    它不调用 :class:`LRScheduler` 的构造函数：不写 ``initial_lr``，不包装 ``optimizer.step``，
    也没有 ``get_lr``；``last_epoch`` 从 0 开始。

    Args:
        optimizer: 被调度的优化器。
        mode: ``"min"`` 或 ``"max"``。
        factor: 衰减因子，必须小于 1，默认 0.1。
        patience: 允许连续多少步没有改善，默认 10。
        threshold: 判定“显著改善”的阈值 :math:`\theta`，默认 1e-4。
        threshold_mode: ``"rel"`` 或 ``"abs"``。
        cooldown: 降低学习率后的冷却步数，默认 0。
        min_lr: 学习率下界，数或每组一个数的列表，默认 0。
        eps: 学习率变化小于它时不更新，默认 1e-8。
    """

    def __init__(
        self,
        optimizer,
        mode="min",
        factor=0.1,
        patience=10,
        threshold=1e-4,
        threshold_mode="rel",
        cooldown=0,
        min_lr=0,
        eps=1e-8,
    ):
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        _check_optimizer(optimizer)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"expected {len(optimizer.param_groups)} min_lrs, got {len(min_lr)}")
        self._check_modes(mode, threshold_mode)

        self.factor = factor
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = _group_values(optimizer, "lr")
        self._init_is_better(mode=mode, threshold=threshold, threshold_mode=threshold_mode)
        self._reset()

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics, epoch=None):
        """用本步的指标 ``metrics``（数或 0 维 Tensor）更新状态，必要时降低学习率。"""
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)

        # _reduce_lr 可能因参数组个数变化而失败；失败时恢复计数器，失败的调用不留下痕迹。
        saved = (self.last_epoch, self.best, self.num_bad_epochs, self.cooldown_counter)
        try:
            self._update_counters_and_lr(current, epoch)
        except Exception:
            self.last_epoch, self.best, self.num_bad_epochs, self.cooldown_counter = saved
            raise
        self._last_lr = _group_values(self.optimizer, "lr")

    def _update_counters_and_lr(self, current, epoch):
        self.last_epoch = epoch

        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1

        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0

        if self.num_bad_epochs > self.patience:
            self._reduce_lr(epoch)
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0

    def _reduce_lr(self, epoch):
        group_count = len(self.optimizer.param_groups)
        if group_count != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    "The number of param groups in the `optimizer` "
                    f"({group_count}) differs "
                    "from when `ReduceLROnPlateau` was initialized "
                    f"({len(self.min_lrs)}), usually due to a new "
                    "param group being added to the optimizer. Please "
                    "modify the `min_lrs` field to match the length "
                    "of the `optimizer` param groups."
                )
            self.min_lrs = [self.default_min_lr] * group_count

        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                _set_group_value(group, "lr", new_lr)

    @property
    def in_cooldown(self):
        """是否处在降低学习率后的冷却期。"""
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min" and self.threshold_mode == "abs":
            return a < best - self.threshold
        if self.mode == "max" and self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    @staticmethod
    def _check_modes(mode, threshold_mode):
        if mode not in {"min", "max"}:
            raise ValueError("mode " + mode + " is unknown!")
        if threshold_mode not in {"rel", "abs"}:
            raise ValueError("threshold mode " + threshold_mode + " is unknown!")

    def _init_is_better(self, mode, threshold, threshold_mode):
        self._check_modes(mode, threshold_mode)
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def load_state_dict(self, state_dict):
        """载入 :meth:`state_dict` 的结果，并按载入的 ``mode`` 重新设置比较方式。"""
        self.__dict__.update(state_dict)
        self._init_is_better(mode=self.mode, threshold=self.threshold, threshold_mode=self.threshold_mode)


def _check_composable(owner_name, optimizer, schedulers):
    for index, scheduler in enumerate(schedulers):
        if not hasattr(scheduler, "optimizer"):
            raise TypeError(f"{owner_name} at index {index} should have `optimizer` as its attribute.")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(
                f"{owner_name} does not support `ReduceLROnPlateau` scheduler as it "
                "requires additional kwargs to be specified when calling `step`, "
                f"but got one at index {index} in the given schedulers sequence."
            )
        if optimizer != scheduler.optimizer:
            raise ValueError(
                f"{owner_name} expects all schedulers to belong to the same optimizer, but "
                f"got scheduler {scheduler.__class__.__name__} at index {index} has {scheduler.optimizer}, "
                f"which is different from {optimizer.__class__.__name__}."
            )


class _NestedStateMixin:
    """state_dict for composite schedulers: each child's own ``state_dict()`` under ``_schedulers``."""

    def state_dict(self):
        state = {
            key: value
            for key, value in self.__dict__.items()
            if key not in ("optimizer", "_schedulers")
        }
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        child_states = state.pop("_schedulers")
        self.__dict__.update(state)
        for scheduler, child_state in zip(self._schedulers, child_states):
            scheduler.load_state_dict(child_state)


class ChainedScheduler(_NestedStateMixin, LRScheduler):
    r"""把几个链式调度器串起来：一次 ``step()`` 依次调用每个子调度器的 ``step()``。

    因为每个子调度器都在当前 ``lr`` 上乘自己的因子，结果是各因子的乘积，例如
    ``ConstantLR`` 与 ``ExponentialLR`` 叠加得到

    .. math::
        \eta_t = \eta_0 \cdot \underbrace{c(t)}_{\text{ConstantLR}} \cdot \underbrace{\gamma^{t}}_{\text{ExponentialLR}}

    子调度器在构造时已经各自走过第 0 步，所以 ChainedScheduler 自己的构造不再改学习率。

    Args:
        schedulers: 子调度器序列，不能为空，也不能含 ReduceLROnPlateau。
        optimizer: 它们共同的优化器；默认取 ``schedulers[0].optimizer``。
    """

    def __init__(self, schedulers, optimizer=None):
        if len(schedulers) < 1:
            raise ValueError(
                f"{self.__class__.__name__} expects at least one scheduler to be chained, but got no scheduler."
            )
        optimizer = optimizer or schedulers[0].optimizer
        _check_composable(self.__class__.__name__, optimizer, schedulers)
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = _group_values(schedulers[-1].optimizer, "lr")

    def step(self):
        """依次让每个子调度器前进一步。"""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = _group_values(self._schedulers[-1].optimizer, "lr")


class SequentialLR(_NestedStateMixin, LRScheduler):
    r"""按里程碑依次切换调度器：第 :math:`t` 步交给 ``schedulers[bisect_right(milestones, t)]``。

    .. math::
        \eta_t = \begin{cases}
        \mathrm{S}_0(t), & t < m_1 \\
        \mathrm{S}_k(t - m_k), & m_k \le t < m_{k+1}
        \end{cases}

    到达里程碑 :math:`m_k` 的那一步，调度器 :math:`\mathrm{S}_k` 以 ``epoch=0`` 重新起步：有闭式形式就用闭式
    （例如从 ``base_lrs`` 重新开始），之后正常链式前进。

    构造时的行为与 torch 2.13 相同：把各组 ``lr`` 重置为 ``initial_lr``，把每个子调度器（递归地，
    包括嵌套的 SequentialLR/ChainedScheduler）的 ``last_epoch`` 减 1 以撤销它们构造时走的那一步，
    再只让第 0 步所属的调度器重走构造步。于是 ``SequentialLR.last_epoch`` 记为 ``last_epoch + 1``，
    传入默认的 -1 时为 0。里程碑不检查是否递增（torch 也不检查）；非递增的里程碑会让
    ``bisect_right`` 的结果难以预料。

    Args:
        optimizer: 共同的优化器。
        schedulers: 调度器列表，不能为空，也不能含 ReduceLROnPlateau。
        milestones: 切换点，个数必须比调度器少 1。
        last_epoch: 上一次的步号，默认 -1。
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        if len(schedulers) < 1:
            raise ValueError(
                f"{self.__class__.__name__} expects at least one scheduler, but got no scheduler."
            )
        _check_composable(self.__class__.__name__, optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                "Sequential Schedulers expects number of schedulers provided to be one more "
                f"than the number of milestone points, but got number of schedulers {len(schedulers)} and the "
                f"number of milestones to be equal to {len(milestones)}"
            )
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer

        for group in optimizer.param_groups:
            _set_group_value(group, "lr", group["initial_lr"])
        self.recursive_undo()

        first = bisect_right(self._milestones, 0)
        self._schedulers[first]._initial_step()
        self._last_lr = schedulers[first].get_last_lr()

    def recursive_undo(self, sched=None):
        """把 ``sched``（默认为自己）下每个叶子调度器的 ``last_epoch`` 减 1。"""
        scheduler = self if sched is None else sched
        if hasattr(scheduler, "_schedulers"):
            for child in scheduler._schedulers:
                self.recursive_undo(child)
        elif hasattr(scheduler, "last_epoch"):
            scheduler.last_epoch -= 1

    def step(self):
        """前进一步；刚到里程碑时让新的调度器从 ``epoch=0`` 起步。"""
        epoch = self.last_epoch + 1
        index = bisect_right(self._milestones, epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self.last_epoch = epoch
        self._last_lr = scheduler.get_last_lr()
