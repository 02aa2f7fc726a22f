"""梯度模式：决定运算是否记录计算图。"""

import functools

_enabled = True


def is_grad_enabled():
    return _enabled


def _set_enabled(mode):
    global _enabled
    _enabled = bool(mode)


class _GradModeContext:
    """既能当上下文管理器，也能当装饰器用的梯度模式开关。"""

    _mode = None

    def __enter__(self):
        self._previous = is_grad_enabled()
        _set_enabled(self._mode)
        return self

    def __exit__(self, *exc_info):
        _set_enabled(self._previous)
        return False

    def __call__(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return function(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """关闭梯度记录：其中的运算不建计算图。优化器的 ``step`` 就在它里面更新参数。"""

    _mode = False


class enable_grad(_GradModeContext):
    """在 ``no_grad`` 内部重新打开梯度记录。"""

    _mode = True


class inference_mode(no_grad):
    """edunn 中等同于 ``no_grad``（torch 的推理模式还会省去版本计数，这里不区分）。"""

    def __init__(self, mode=True):
        self._mode = not mode

    def __call__(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with inference_mode(not self._mode):
                return function(*args, **kwargs)

        return wrapper


class set_grad_enabled:
    """``set_grad_enabled(False)`` 立即生效；用作上下文管理器时，退出后恢复原来的模式。"""

    def __init__(self, mode):
        self._previous = is_grad_enabled()
        _set_enabled(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        _set_enabled(self._previous)
        return False
