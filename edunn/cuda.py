"""``edunn.cuda``：查询与控制 CUDA 设备，函数名和行为与 ``torch.cuda`` 相同。

edunn 通过 CuPy 使用 GPU。没有 CuPy 或 GPU 时，``is_available()`` 返回 False、``device_count()``
返回 0、``manual_seed`` 照常接受种子；其余函数抛出说明缺了什么的 ``CUDAUnavailableError``。它既是
RuntimeError 也是 AssertionError，所以按 torch 的习惯写的 except（两种都有人写）都能接住它。
"""

from . import _backend
from ._backend import CUDAUnavailableError  # noqa: F401  与 torch 的写法一样用 except 接住


def is_available():
    """有 CuPy、至少一块 GPU，并且能在 GPU 上运行核函数时返回 True。"""
    return _backend.cuda_is_available()


def device_count():
    """可见的 GPU 个数；CUDA 不可用时为 0。"""
    return _backend.cuda_device_count()


def current_device():
    """当前 GPU 的序号（CuPy 的当前设备，默认 0）。"""
    return _backend.cuda_current_device()


def get_device_name(device=None):
    """GPU 的名字，例如 ``'NVIDIA H200'``；device 可以是序号、``"cuda:0"`` 或 ``edunn.device``。"""
    return _backend.cuda_device_name(_backend.cuda_device(device))


def synchronize(device=None):
    """等待 GPU 上已提交的所有核函数执行完。

    GPU 上的运算是异步的：Python 提交核函数后立刻返回。计时前后都要调用它，
    否则量到的只是提交的时间，而不是计算的时间。
    """
    _backend.cuda_synchronize(_backend.cuda_device(device))


def manual_seed(seed):
    """只为 cuda 设备设定随机种子，不影响 cpu；没有 GPU 时也可以调用。

    edunn 在 cuda 上用与 cpu 相同的 PCG64 随机流，所以在 cpu 与 cuda 上设定同一个种子，
    得到的随机数也相同。
    """
    _backend.manual_seed_cuda(seed)


manual_seed_all = manual_seed
