"""``edunn.cuda``：查询 CUDA 设备。edunn 通过 cupy 使用 GPU；没有 cupy 或 GPU 时这些函数照常返回。"""

from . import _backend


def is_available():
    """有 cupy 且至少有一块可用的 GPU 时返回 True。"""
    return _backend.cuda_is_available()


def device_count():
    return _backend.cuda_device_count()


def synchronize(device=None):
    """等待 GPU 上已提交的工作完成；计时前必须调用，否则量到的只是提交时间。"""
    if is_available():
        _backend.get_array_module(_backend.device("cuda", 0 if device is None else device)).cuda.Device().synchronize()


def manual_seed(seed):
    _backend.manual_seed(seed)


manual_seed_all = manual_seed
