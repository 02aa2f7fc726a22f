"""参数与一维向量互转：二阶方法、进化算法等常把整组参数当成一个向量处理。"""

from ..._functions import cat
from ..._tensor import Tensor


def _type_name(value):
    module = type(value).__module__
    name = type(value).__qualname__
    return name if module == "builtins" else f"{module}.{name}"


def _check_same_device(param, previous_device):
    """所有参数必须在同一台设备上；返回第一个参数的设备，供后续比较。"""
    if previous_device is not None and param.device != previous_device:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return param.device


def parameters_to_vector(parameters):
    """把各参数展平后依次拼成一个一维张量（可求导：梯度会流回各参数）。"""
    device = None
    pieces = []
    for param in parameters:
        device = _check_same_device(param, device)
        pieces.append(param.view(-1))
    return cat(pieces)


def vector_to_parameters(vec, parameters):
    """把一维向量按顺序切片，替换各参数的 ``data``（参数与 vec 共享存储，与 torch 相同）。"""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected edunn.Tensor, but got: {_type_name(vec)}")
    device = None
    pointer = 0
    for param in parameters:
        device = _check_same_device(param, device)
        count = param.numel()
        param.data = vec[pointer:pointer + count].view_as(param).data
        pointer += count
