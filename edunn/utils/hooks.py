"""钩子句柄：注册钩子的函数都返回 ``RemovableHandle``，调用 ``remove()`` 就把钩子摘掉。

用法与 ``torch.utils.hooks.RemovableHandle`` 相同：钩子存在一个以 ``handle.id`` 为键的字典里。
字典能被弱引用时（``OrderedDict`` 可以），句柄只弱引用它，句柄活得比钩子的主人久也不妨碍回收；
普通 ``dict`` 不能被弱引用，句柄就直接持有它。
"""

import weakref


def _reference(hooks_dict):
    """返回一个无参函数，调用它得到 hooks_dict（已被回收时得到 None）。"""
    try:
        return weakref.ref(hooks_dict)
    except TypeError:
        return lambda: hooks_dict


class RemovableHandle:
    """一个已注册钩子的句柄：``remove()`` 之后钩子不再被调用；也可以用作上下文管理器。

    ``extra_dict`` 是同一个钩子还登记了的其他字典（一个或多个，键同样是 ``id``），
    ``remove()`` 时一并删除，例如 Module 的钩子另记的"是否带 kwargs"表。
    """

    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = _reference(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1

        if extra_dict is None:
            extra_dicts = ()
        elif isinstance(extra_dict, dict):
            extra_dicts = (extra_dict,)
        else:
            extra_dicts = tuple(extra_dict)
        self.extra_dict_ref = tuple(_reference(d) for d in extra_dicts)

    def remove(self):
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            hooks = ref()
            if hooks is not None:
                hooks.pop(self.id, None)

    def __getstate__(self):
        extras = tuple(ref() for ref in self.extra_dict_ref)
        return (self.hooks_dict_ref(), self.id, extras)

    def __setstate__(self, state):
        hooks_dict, self.id, extras = state
        self.hooks_dict_ref = _reference(hooks_dict) if hooks_dict is not None else (lambda: None)
        self.extra_dict_ref = tuple(_reference(d) for d in extras if d is not None)
        # 反序列化出的 id 不能与以后新注册的钩子撞号。
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()
