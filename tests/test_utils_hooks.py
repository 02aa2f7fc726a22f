"""edunn.utils.hooks.RemovableHandle：注册、摘除、上下文管理器、附加字典。"""

import pickle
from collections import OrderedDict

import edunn
from edunn.utils.hooks import RemovableHandle


def test_handle_remove_deletes_hook_from_plain_dict():
    hooks = {}
    handle = RemovableHandle(hooks)
    hooks[handle.id] = print
    handle.remove()
    assert hooks == {}


def test_handle_ids_are_distinct():
    hooks = OrderedDict()
    first, second = RemovableHandle(hooks), RemovableHandle(hooks)
    assert first.id != second.id


def test_handle_remove_also_clears_extra_dicts():
    hooks, kwargs_flags, always_flags = OrderedDict(), OrderedDict(), OrderedDict()
    handle = RemovableHandle(hooks, extra_dict=[kwargs_flags, always_flags])
    hooks[handle.id] = print
    kwargs_flags[handle.id] = True
    always_flags[handle.id] = False
    handle.remove()
    assert not hooks
    assert not kwargs_flags
    assert not always_flags


def test_handle_as_context_manager_removes_on_exit():
    hooks = OrderedDict()
    with RemovableHandle(hooks) as handle:
        hooks[handle.id] = print
        assert handle.id in hooks
    assert handle.id not in hooks


def test_handle_remove_twice_is_harmless():
    hooks = OrderedDict()
    handle = RemovableHandle(hooks)
    hooks[handle.id] = print
    handle.remove()
    handle.remove()
    assert not hooks


def test_handle_survives_pickle_round_trip():
    hooks = OrderedDict()
    handle = RemovableHandle(hooks)
    restored = pickle.loads(pickle.dumps(handle))
    assert restored.id == handle.id
    assert RemovableHandle(OrderedDict()).id > handle.id
    restored.remove()


def test_tensor_register_hook_returns_working_handle():
    x = edunn.tensor([1.0, 2.0], requires_grad=True)
    handle = x.register_hook(lambda grad: grad * 2)
    (x * 3).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]

    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
