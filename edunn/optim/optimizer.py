"""``Optimizer``：所有优化器的基类，行为与 torch 2.13 的 ``torch.optim.Optimizer`` 一致。

一个优化器由两样东西决定：更新规则（子类的 ``step``）和状态。

- ``defaults``：超参数的默认值，例如 ``{"lr": 0.01, "momentum": 0.9}``；
- ``param_groups``：参数组的列表。每组是一个字典，``"params"`` 是参数列表，其余键是这一组的超参数
  （没写的从 ``defaults`` 补上）。学习率调度器改的就是 ``param_groups[i]["lr"]``；
- ``state``：以参数张量为键的字典，存放每个参数自己的状态（动量、一阶/二阶矩、步数……）。

``state_dict()`` 把参数换成它在所有组里的序号（0, 1, 2, ...），因此可以保存、可以装进另一个
按相同顺序构造的优化器；``load_state_dict()`` 是它的逆过程。
"""

import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from copy import deepcopy
from itertools import chain

from .. import _backend
from .._tensor import Tensor
from ..utils.hooks import RemovableHandle

__all__ = ["Optimizer", "register_optimizer_step_post_hook", "register_optimizer_step_pre_hook", "required"]


class _RequiredParameter:
    """``defaults`` 里的占位值：这个超参数没有默认值，每个参数组都必须给出。"""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

_global_optimizer_pre_hooks = OrderedDict()
_global_optimizer_post_hooks = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """注册一个对所有优化器生效的 step 前钩子 ``hook(optimizer, args, kwargs)``。

    钩子可以返回 ``(new_args, new_kwargs)`` 替换 ``step`` 的参数，或返回 None。返回可移除的句柄。
    """
    handle = RemovableHandle(_global_optimizer_pre_hooks)
    _global_optimizer_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook):
    """注册一个对所有优化器生效的 step 后钩子 ``hook(optimizer, args, kwargs)``。返回可移除的句柄。"""
    handle = RemovableHandle(_global_optimizer_post_hooks)
    _global_optimizer_post_hooks[handle.id] = hook
    return handle


def _get_scalar_dtype():
    """``step`` 等标量状态的 dtype：默认 dtype 是 float64 时用 float64，否则 float32（与 torch 相同）。"""
    return _backend.float64 if _backend.get_default_dtype() is _backend.float64 else _backend.float32


def _get_value(x):
    """一元素张量取出 Python 数值；Python 数值原样返回。"""
    return x.item() if isinstance(x, Tensor) else x


def _to_scalar(x):
    """把形如 ``tensor([0.1])`` 的一元素张量压成零维张量；其他值原样返回。"""
    if isinstance(x, Tensor) and x.dim() != 0:
        return x.squeeze()
    return x


def _typename(obj):
    """torch 报错信息里的类型名：张量给出 ``edunn.FloatTensor`` 这类名字，其他对象给出带模块的类名。"""
    if isinstance(obj, Tensor):
        return obj.type()
    cls = type(obj)
    module = cls.__module__
    return cls.__qualname__ if module in (None, "builtins") else f"{module}.{cls.__qualname__}"


# torch 为速度或为 CUDA 图 / 对 step 求导准备的执行路径。edunn 只有一条逐张量的实现，
# 下面这些取值会改变结果或需要 edunn 没有的能力，所以直接拒绝（foreach 不改变结果，任意取值都接受）。
_UNSUPPORTED_PATHS = {
    "fused": "edunn has no fused kernels; its step follows torch's default for-loop implementation. "
             "Use fused=None (the default) or fused=False",
    "capturable": "it prepares step() for CUDA graph capture, which edunn does not do. "
                  "Use capturable=False",
    "differentiable": "differentiating through step() needs create_graph, which edunn's autograd "
                      "does not have. Use differentiable=False",
}


def _check_supported_paths(group):
    """参数组要求 fused/capturable/differentiable 时抛 NotImplementedError。"""
    for option, reason in _UNSUPPORTED_PATHS.items():
        if group.get(option):
            raise NotImplementedError(f"{option}={group[option]!r} is not supported: {reason}.")


def _hook_step(step):
    """包装子类的 ``step``：先调全局与本实例的 step 前钩子，再调 step，最后调 step 后钩子。"""

    @functools.wraps(step)
    def step_with_hooks(self, *args, **kwargs):
        # 子类的 step 里调用 super().step() 时，钩子只在最外层调用一次。
        if self.__dict__.get("_running_step_hooks", False):
            return step(self, *args, **kwargs)

        self._running_step_hooks = True
        try:
            for pre_hook in chain(_global_optimizer_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
                result = pre_hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            f"{step} must return None or a tuple of (new_args, new_kwargs), but got {result}."
                        )
                    args, kwargs = result

            out = step(self, *args, **kwargs)

            for post_hook in chain(self._optimizer_step_post_hooks.values(), _global_optimizer_post_hooks.values()):
                post_hook(self, args, kwargs)
            return out
        finally:
            self._running_step_hooks = False

    step_with_hooks.hooked = True
    return step_with_hooks


class Optimizer:
    r"""所有优化器的基类。

    Args:
        params: 要优化的张量的可迭代对象；或 ``(名字, 张量)`` 对（例如 ``model.named_parameters()``），
            名字会存进参数组的 ``"param_names"``；或参数组字典的可迭代对象。
            必须是顺序确定的容器（list、tuple、生成器），不能是 set。
        defaults (dict): 超参数的默认值，参数组没写的超参数从这里补上。

    子类只需实现 ``step``。定义子类时 ``step`` 会被自动包上 step 前/后钩子（``__init_subclass__``），
    torch 则是在第一次构造实例时替换类上的 ``step``，效果相同。
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            cls.step = _hook_step(step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()

        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got {_typename(params)}"
            )

        self.state = defaultdict(dict)
        self.param_groups = []

        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]

        for param_group in param_groups:
            self.add_param_group(param_group)

    # ------------------------------------------------------------------
    # 序列化与打印
    # ------------------------------------------------------------------

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks", "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self.defaults.setdefault("differentiable", False)

    def __repr__(self):
        text = f"{type(self).__name__} ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # ------------------------------------------------------------------
    # 参数组
    # ------------------------------------------------------------------

    def add_param_group(self, param_group):
        """加入一个参数组（例如微调时解冻的层）。先检查，全部通过后才修改优化器。

        ``param_group`` 字典本身会被补全（``params`` 变成列表、补上默认超参数）并放进
        ``param_groups``，与 torch 相同；检查失败时它和优化器都保持原样。
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")

        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of "
                "tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)

        tensors, names = [], []
        for param in params:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        if names and len(names) != len(tensors):
            raise ValueError("all optimizer params should be with/without names. Some param names are missing")

        for param in tensors:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {_typename(param)}")
            if not self.defaults.get("differentiable", None) and not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}"
                )

        has_names = bool(names)
        for group in self.param_groups:
            if has_names != ("param_names" in group):
                which = "with names" if has_names else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {which} to the optimizer"
                )

        existing = set()
        for group in self.param_groups:
            existing.update(group["params"])
        if not existing.isdisjoint(tensors):
            raise ValueError("some parameters appear in more than one parameter group")

        merged = {**self.defaults, **param_group}
        _check_supported_paths(merged)

        if len(tensors) != len(set(tensors)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; "
                "torch says this will become an error in a future release",
                UserWarning,
                stacklevel=3,
            )

        # 检查全部通过，现在才修改：键的顺序与 torch 相同（原有键在前，param_names，再是补上的默认值）。
        param_group["params"] = tensors
        if has_names:
            param_group["param_names"] = names
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------
    # 梯度与更新
    # ------------------------------------------------------------------

    def zero_grad(self, set_to_none=True):
        """清掉所有参数的梯度：默认设成 None（更省内存）；``set_to_none=False`` 时原地置零。

        两者对优化器并不等价：梯度为 None 的参数在 ``step`` 中被跳过，梯度为 0 的参数照常更新
        （带动量或权重衰减时参数仍会变化）。
        """
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if set_to_none:
                    param.grad = None
                    continue
                if param.grad.grad_fn is not None:
                    param.grad.detach_()
                else:
                    param.grad.requires_grad_(False)
                param.grad.zero_()

    def step(self, closure=None):
        """做一步更新。``closure`` 重新计算并返回损失，大多数优化器可以不传；有 closure 时返回它的结果。"""
        raise NotImplementedError

    # ------------------------------------------------------------------
    # state_dict
    # ------------------------------------------------------------------

    def state_dict(self):
        """返回 ``{"state": ..., "param_groups": ...}``，参数用它在所有组中的序号代替。

        ``state`` 以序号为键，值就是优化器内部的状态张量（不复制）；``param_groups`` 中每组的
        ``"params"`` 是序号列表，构造时给了名字的还有 ``"param_names"``。
        """
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)

        index_of = {}
        next_index = 0
        packed_groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            # 同一组里重复出现的参数取最后一次的序号，之前的组已编号的不变，与 torch 相同。
            new_indices = {}
            for index, param in enumerate(group["params"], next_index):
                if id(param) not in index_of:
                    new_indices[id(param)] = index
            index_of.update(new_indices)
            next_index += len(group["params"])
            packed["params"] = [index_of[id(param)] for param in group["params"]]
            packed_groups.append(packed)

        # 不属于任何参数的状态（键不是张量）原样保留。
        packed_state = {
            (index_of[id(key)] if isinstance(key, Tensor) else key): value for key, value in self.state.items()
        }
        state_dict = {"state": packed_state, "param_groups": packed_groups}

        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    @staticmethod
    def _process_value_according_to_param_policy(param, value, param_id, param_groups, key=None):
        """把一个载入的状态张量放到参数的设备上；浮点参数的状态还转成参数的 dtype。

        ``step`` 例外，保持原来的 dtype 与设备：torch 把它放在 CPU 上，按 float32（或 float64）
        计算偏差修正，转成参数的 dtype 会改变结果。
        """
        if key == "step":
            return value
        if param.is_floating_point():
            return value.to(dtype=param.dtype, device=param.device)
        return value.to(device=param.device)

    def load_state_dict(self, state_dict):
        """载入 ``state_dict()`` 的结果。各组超参数换成保存时的值，状态按参数顺序对上。

        参数组个数或组内参数个数不一致时抛 ValueError，优化器保持原样。与 torch 相同，dtype 与
        设备已经相符的状态张量不复制，优化器之后会原地修改传入字典里的这些张量。
        """
        state_dict = state_dict.copy()
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result

        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for group, saved in zip(groups, saved_groups):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"
                )
        for saved in saved_groups:
            _check_supported_paths(saved)

        param_of_id = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                               chain.from_iterable(g["params"] for g in groups)))

        def cast(param, value, param_id, key=None):
            if isinstance(value, Tensor):
                return Optimizer._process_value_according_to_param_policy(
                    param, value, param_id, state_dict["param_groups"], key)
            if isinstance(value, dict):
                return {k: cast(param, v, param_id, key=k) for k, v in value.items()}
            if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
                return type(value)(cast(param, v, param_id) for v in value)
            return value

        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in param_of_id:
                param = param_of_id[key]
                state[param] = cast(param, value, key)
            else:
                state[key] = value

        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)

        self.__setstate__({"state": state, "param_groups": new_groups})

        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    # ------------------------------------------------------------------
    # 钩子
    # ------------------------------------------------------------------

    @staticmethod
    def _register(hooks, hook, prepend=False):
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` 在本优化器的 step 之前调用，可返回 ``(new_args, new_kwargs)``。"""
        return self._register(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` 在本优化器的 step 之后调用。"""
        return self._register(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer)`` 在 ``state_dict()`` 打包之前调用；``prepend=True`` 时排在已有钩子之前。"""
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` 在打包之后调用，可原地修改或返回新的 state_dict。"""
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` 在载入之前调用（拿到的是浅拷贝），可返回替换用的 state_dict。"""
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer)`` 在载入完成之后调用。"""
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)


def _ensure_tensor_step(optimizer, keys=("step",)):
    """旧版 torch 把 ``step`` 存成 Python 数值；载入这样的状态时把它变回 CPU 上的标量张量。"""
    from .._creation import tensor

    for group in optimizer.param_groups:
        for param in group["params"]:
            param_state = optimizer.state.get(param)
            if not param_state:
                continue
            for key in keys:
                if key in param_state and not isinstance(param_state[key], Tensor):
                    param_state[key] = tensor(float(param_state[key]), dtype=_get_scalar_dtype())


def _reject_sparse_grads(optimizer, message):
    """任何参数的梯度是稀疏张量时抛 RuntimeError(message)。

    在更新任何参数、创建任何状态之前检查所有参数组，所以报错时优化器保持原样
    （torch 逐组检查，前面的组可能已经更新过）。
    """
    for group in optimizer.param_groups:
        for param in group["params"]:
            if param.grad is not None and param.grad.is_sparse:
                raise RuntimeError(message)
