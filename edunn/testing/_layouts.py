"""第 8 章（类型转换、设备与内存格式）练习的检查器。"""

from ._bridge import _torch
from ._records import compare_with_torch

# 包含长度为 0 与 1 的维度：torch 的步长公式在这些情形下也有确定的结果
_SHAPES = [(2, 3, 4, 5), (1, 3, 4, 5), (2, 1, 4, 5), (2, 3, 1, 1), (8, 16, 7, 7), (2, 3, 4, 1), (2, 0, 2, 2)]


def check_channels_last_strides(fn):
    """比较你的 ``fn(shape) -> strides`` 与 torch 的 channels_last 步长（以元素计），形状都是 4 维。

    全部一致时返回 True，否则抛出 AssertionError，信息给出第一个不一致的形状。
    """
    torch = _torch()
    for shape in _SHAPES:
        expected = torch.empty(shape).to(memory_format=torch.channels_last).stride()
        actual = tuple(fn(shape))
        if actual != tuple(expected):
            raise AssertionError(f"shape {shape}: your strides are {actual}, torch gives {tuple(expected)}")
    return True


def _model(lib):
    lnn = lib.nn
    model = lnn.Sequential(lnn.Conv2d(2, 3, 3), lnn.BatchNorm2d(3), lnn.Flatten(), lnn.Linear(3 * 2 * 2, 2))
    model.double()
    for param in model.parameters():
        param.grad = lib.ones_like(param)
    return model


def check_module_cast(fn, dtype_name="float16"):
    """比较你的 ``fn(module, dtype)`` 与 torch 的 ``module.to(dtype)``。

    比较每个参数、梯度与缓冲区转换后的 dtype，参数与梯度是否仍是原来的对象，以及 fn 的返回值是否是
    模块本身。dtype_name 是 ``"float16"``、``"bfloat16"``、``"float32"`` 或 ``"float64"``。
    全部一致时返回 True，否则抛出 AssertionError。
    """
    torch = _torch()

    def scenario(lib):
        model = _model(lib)
        params = dict(model.named_parameters())
        grads = {name: param.grad for name, param in params.items()}
        dtype = getattr(lib, dtype_name)
        returned = fn(model, dtype) if lib is not torch else model.to(dtype)
        record = {"returns module": returned is model}
        for name, param in model.named_parameters():
            record[name] = (param.dtype, param is params[name], param.grad.dtype, param.grad is grads[name])
        for name, buffer in model.named_buffers():
            record[name] = buffer.dtype
        return record

    return compare_with_torch(scenario)


__all__ = ["check_channels_last_strides", "check_module_cast"]
