"""设备规则与 cuda 的报错，在没有 GPU 的机器上检查。

有两种模拟：
- ``no_cupy``：让 ``import cupy`` 失败，检查报错说出缺的是 CuPy；
- ``stand_in_cuda``：把 ``tools/fake_cupy`` 里用 numpy 冒充的 CuPy 装进来。它守住 CuPy 的规矩
  （不能隐式转成 numpy 数组、运算里不能混入 numpy 数组），所以 numpy 专用的代码路径在这里
  就会失败。它不是 GPU：这里只检查设备规则与数值，不检查 GPU 上的数值误差和速度。

torch 的报错信息来自 torch 2.13 在 CUDA 上的行为；这台机器上的 torch 没有 CUDA，所以值的对照
在 torch 的 cpu 上做。
"""

import importlib
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

import edunn
from edunn import _backend
from edunn.testing import assert_close, from_torch, to_torch

STAND_IN = Path(__file__).resolve().parents[1] / "tools" / "fake_cupy"
MIXED = "Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!"


def _fresh_cuda_state(monkeypatch):
    monkeypatch.setattr(_backend, "_cupy", None)
    monkeypatch.setattr(_backend, "_cuda_failure", None)
    monkeypatch.setattr(_backend, "_cuda_count", 0)
    monkeypatch.setattr(_backend, "_cuda_seed", None)
    monkeypatch.setattr(_backend, "_generators", {})


def _cupy_module_names():
    return [name for name in sys.modules if name.split(".")[0] in ("cupy", "cupyx")]


@pytest.fixture(scope="module")
def stand_in_modules():
    """Import the stand-in once, without leaving it (or hiding a real CuPy) in sys.modules."""
    saved = {name: sys.modules.pop(name) for name in _cupy_module_names()}
    sys.path.insert(0, str(STAND_IN))
    try:
        for name in ("cupy", "cupyx", "cupyx.scipy", "cupyx.scipy.special"):
            importlib.import_module(name)
        return {name: sys.modules[name] for name in _cupy_module_names()}
    finally:
        sys.path.remove(str(STAND_IN))
        for name in _cupy_module_names():
            del sys.modules[name]
        sys.modules.update(saved)


@pytest.fixture
def stand_in_cuda(monkeypatch, stand_in_modules):
    for name, module in stand_in_modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    _fresh_cuda_state(monkeypatch)
    assert edunn.cuda.is_available()
    return edunn.device("cuda:0")


@pytest.fixture
def no_cupy(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # None in sys.modules makes the import fail
    _fresh_cuda_state(monkeypatch)


def _cupy_without_gpu(count_error=None, count=0):
    def get_device_count():
        if count_error is not None:
            raise count_error
        return count

    return types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=types.SimpleNamespace(
        getDeviceCount=get_device_count)))


# ---------------------------------------------------------------------------
# 没有 CuPy 或没有 GPU
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda: edunn.zeros(2, device="cuda"),
    lambda: edunn.tensor([1.0], device="cuda:0"),
    lambda: edunn.randn(2, device="cuda"),
    lambda: edunn.zeros(2).cuda(),
    lambda: edunn.zeros(2).to("cuda:0"),
    lambda: edunn.zeros(2).to(edunn.device("cuda", 0)),
], ids=["zeros", "tensor", "randn", "Tensor.cuda", "to-string", "to-device"])
def test_cuda_without_cupy_names_cupy(no_cupy, make):
    # torch 没有 CUDA 支持时抛 AssertionError("Torch not compiled with CUDA enabled")，没有驱动时抛
    # RuntimeError；edunn 的异常两者都是
    with pytest.raises(edunn.cuda.CUDAUnavailableError, match=r"needs CuPy.*pip install 'edunn\[cuda\]'") as error:
        make()
    assert isinstance(error.value, AssertionError)
    assert isinstance(error.value, RuntimeError)


def test_cuda_queries_without_cupy(no_cupy):
    assert edunn.cuda.is_available() is False
    assert edunn.cuda.device_count() == 0
    edunn.cuda.manual_seed(0)  # torch 在没有 GPU 时也接受种子
    edunn.cuda.manual_seed_all(0)
    for query in (edunn.cuda.current_device, edunn.cuda.get_device_name, edunn.cuda.synchronize):
        with pytest.raises(AssertionError, match="needs CuPy"):
            query()
        with pytest.raises(RuntimeError, match="needs CuPy"):
            query()


def test_unavailable_reason_is_kept_for_later_calls(no_cupy):
    reason = _backend.cuda_unavailable_reason()
    assert "needs CuPy" in reason
    with pytest.raises(AssertionError) as first:
        edunn.zeros(1, device="cuda")
    with pytest.raises(AssertionError) as second:
        edunn.zeros(1, device="cuda")
    assert str(first.value) == str(second.value) == reason


def test_cupy_without_driver_names_the_driver(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", _cupy_without_gpu(count_error=OSError("no CUDA driver")))
    _fresh_cuda_state(monkeypatch)
    assert edunn.cuda.is_available() is False
    with pytest.raises(RuntimeError, match="CuPy is installed but CUDA cannot be used: no CUDA driver.*nvidia-smi"):
        edunn.zeros(2, device="cuda")


def test_cupy_without_gpu_says_none_is_visible(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", _cupy_without_gpu(count=0))
    _fresh_cuda_state(monkeypatch)
    assert edunn.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="no CUDA GPU is visible"):
        edunn.ones(1).cuda()


def test_cpu_suite_never_loads_cupy():
    # cpu 张量的运算不应该去导入 cupy：没有 cupy 的机器上，它们不能因此变慢或失败
    x = edunn.randn(3, 4, requires_grad=True)
    (x.relu() @ edunn.ones(4, 2)).sum().backward()
    assert x.grad.device == edunn.device("cpu")
    assert x._xp is np


# ---------------------------------------------------------------------------
# 设备序号与 edunn.cuda
# ---------------------------------------------------------------------------


def test_cuda_index_beyond_visible_gpus_is_rejected(stand_in_cuda):
    for make in (lambda: edunn.zeros(2, device="cuda:1"), lambda: edunn.zeros(2).cuda(1),
                 lambda: edunn.zeros(2).to("cuda:3")):
        with pytest.raises(RuntimeError, match=r"CUDA error: invalid device ordinal: cuda:\d was requested, "
                                               r"but only 1 CUDA device\(s\) are visible"):
            make()


def test_cuda_queries_with_a_gpu(stand_in_cuda):
    assert edunn.cuda.device_count() == 1
    assert edunn.cuda.current_device() == 0
    assert edunn.cuda.get_device_name() == edunn.cuda.get_device_name("cuda:0") == edunn.cuda.get_device_name(0)
    assert isinstance(edunn.cuda.get_device_name(), str)
    edunn.cuda.synchronize()
    edunn.cuda.synchronize("cuda:0")
    with pytest.raises(AssertionError, match="Invalid device id"):
        edunn.cuda.get_device_name(1)
    with pytest.raises(RuntimeError, match="Invalid device, must be cuda device"):
        edunn.zeros(1).cuda("cpu")


def test_moves_between_devices_keep_values_and_gradients(stand_in_cuda):
    host = torch.randn(3, 4, dtype=torch.float64)
    x = from_torch(host).requires_grad_()
    on_gpu = x.cuda()
    assert on_gpu.device == edunn.device("cuda:0")
    assert on_gpu.is_cuda
    assert on_gpu.grad_fn.name() == "ToCopyBackward0"
    assert on_gpu.to("cuda:0") is on_gpu
    assert on_gpu.cuda() is on_gpu
    back = (on_gpu * 2).cpu()
    assert back.device == edunn.device("cpu")
    back.sum().backward()
    assert x.grad.device == edunn.device("cpu")
    assert_close(x.grad, torch.full((3, 4), 2.0, dtype=torch.float64), rtol=0, atol=0)
    assert_close(on_gpu.detach().cpu(), host, rtol=0, atol=0)


def test_cuda_tensor_refuses_implicit_numpy(stand_in_cuda):
    t = edunn.ones(2, device="cuda")
    for convert in (np.asarray, lambda v: v.numpy()):
        with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu()"):
            convert(t)
    assert t.cpu().numpy().tolist() == [1.0, 1.0]
    assert t.tolist() == [1.0, 1.0]
    assert t.sum().item() == 2.0


def test_bfloat16_on_cuda_is_rejected(stand_in_cuda):
    for make in (lambda: edunn.zeros(2, dtype=edunn.bfloat16, device="cuda"),
                 lambda: edunn.zeros(2, dtype=edunn.bfloat16).cuda(),
                 lambda: edunn.zeros(2, device="cuda").to(edunn.bfloat16),
                 lambda: edunn.randn(2, dtype=edunn.bfloat16, device="cuda")):
        with pytest.raises(TypeError, match="does not support bfloat16"):
            make()
    # bfloat16 数据换成 float32 后可以上 GPU
    converted = edunn.tensor(edunn.ones(2, dtype=edunn.bfloat16), dtype=edunn.float32, device="cuda")
    assert converted.dtype is edunn.float32
    assert converted.is_cuda


# ---------------------------------------------------------------------------
# 混用设备：torch 的规则
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("op", [
    lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b, lambda a, b: a / b,
    lambda a, b: a.maximum(b), lambda a, b: a == b, lambda a, b: a < b, lambda a, b: a.matmul(b),
    lambda a, b: edunn.cat([a, b]), lambda a, b: edunn.stack([a, b]),
    lambda a, b: edunn.where(a > 0, a, b), lambda a, b: a.clone().add_(b),
], ids=["add", "mul", "sub", "div", "maximum", "eq", "lt", "matmul", "cat", "stack", "where", "add_"])
def test_mixed_devices_raise_torch_message(stand_in_cuda, op):
    gpu = edunn.ones(2, 2, device="cuda")
    cpu = edunn.ones(2, 2)
    for a, b in ((gpu, cpu), (cpu, gpu)):
        with pytest.raises(RuntimeError) as error:
            op(a, b)
        assert str(error.value) == MIXED


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "maximum", "minimum", "pow"])
def test_cpu_scalar_tensor_joins_cuda_op(stand_in_cuda, name):
    base = torch.rand(3, 2, dtype=torch.float64) + 0.5
    scalar = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    expected = getattr(base, name)(scalar)
    expected.sum().backward()

    x = from_torch(base, device="cuda")
    s = from_torch(scalar.detach()).requires_grad_()
    out = getattr(x, name)(s)
    assert out.device == edunn.device("cuda:0")
    out.sum().backward()
    assert s.grad.device == edunn.device("cpu")
    assert_close(out.cpu(), expected, rtol=1e-12, atol=0)
    assert_close(s.grad, scalar.grad, rtol=1e-12, atol=0)


def test_cpu_scalar_tensor_in_place_and_where(stand_in_cuda):
    x = edunn.ones(3, device="cuda")
    x.mul_(edunn.tensor(4.0))
    x.sub_(edunn.tensor(1.0), alpha=2)
    assert x.device == edunn.device("cuda:0")
    assert x.tolist() == [2.0, 2.0, 2.0]
    chosen = edunn.where(x > 1, edunn.tensor(7.0), x)
    assert chosen.is_cuda
    assert chosen.tolist() == [7.0, 7.0, 7.0]
    assert x.masked_fill(x > 1, edunn.tensor(0.5)).tolist() == [0.5, 0.5, 0.5]
    # 就地运算的输出是 cpu 零维张量本身：它不能变成 cuda 张量
    with pytest.raises(RuntimeError) as error:
        edunn.tensor(1.0).add_(x)
    assert str(error.value) == MIXED


def test_indexing_across_devices(stand_in_cuda):
    values = torch.arange(12.0, dtype=torch.float64).reshape(4, 3)
    x = from_torch(values, device="cuda")
    rows = edunn.tensor([3, 0, 3])
    assert_close(x[rows].cpu(), values[torch.tensor([3, 0, 3])], rtol=0, atol=0)
    assert_close(x[np.array([1, 2])].cpu(), values[[1, 2]], rtol=0, atol=0)
    assert_close(x[x > 5].cpu(), values[values > 5], rtol=0, atol=0)
    with pytest.raises(RuntimeError, match=r"indices should be either on cpu or on the same device as the "
                                           r"indexed tensor \(cpu\)"):
        from_torch(values)[rows.cuda()]


def test_assignment_across_devices(stand_in_cuda):
    x = edunn.zeros(2, 3, device="cuda")
    x[0] = edunn.ones(3)  # 基本索引的赋值就是 copy_，可以跨设备
    x[1, 1] = edunn.tensor(5.0)
    assert x.tolist() == [[1.0, 1.0, 1.0], [0.0, 5.0, 0.0]]
    host = edunn.zeros(3)
    host[:] = x[0]
    assert host.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(RuntimeError) as error:
        x[edunn.tensor([0, 1])] = edunn.ones(2, 3)
    assert str(error.value) == MIXED
    x.copy_(edunn.full((2, 3), 3.0))
    assert x.is_cuda
    assert x.sum().item() == 18.0


def test_max_with_dim_gradient_on_cuda(stand_in_cuda):
    # max(dim) 的反向用掩码而不是 put_along_axis（cupy 14 之前没有它）
    values = torch.tensor([[1.0, 3.0, 3.0], [2.0, -1.0, 0.5]], dtype=torch.float64, requires_grad=True)
    values.max(dim=1).values.sum().backward()
    x = from_torch(values.detach(), device="cuda").requires_grad_()
    x.max(dim=1).values.sum().backward()
    assert_close(x.grad.cpu(), values.grad, rtol=0, atol=0)


def test_split_and_cat_backward_on_cuda(stand_in_cuda):
    values = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(5, 4, dtype=torch.float64)
    a, b = values.split([2, 3])
    (torch.cat([b, a]) * weights).sum().backward()

    x = from_torch(values.detach(), device="cuda").requires_grad_()
    xa, xb = x.split([2, 3])
    (edunn.cat([xb, xa]) * from_torch(weights, device="cuda")).sum().backward()
    assert_close(x.grad.cpu(), values.grad, rtol=0, atol=0)


# ---------------------------------------------------------------------------
# 随机数：cpu 与 cuda 用同一个随机流
# ---------------------------------------------------------------------------


def test_same_seed_gives_same_numbers_on_cpu_and_cuda(stand_in_cuda):
    draws = {}
    for device in ("cpu", "cuda"):
        edunn.manual_seed(7)
        draws[device] = [edunn.randn(4, device=device).tolist(), edunn.rand(3, device=device).tolist(),
                         edunn.randint(0, 10, (5,), device=device).tolist(), edunn.randperm(6, device=device).tolist()]
    assert draws["cpu"] == draws["cuda"]
    assert edunn.randn(2, device="cuda").is_cuda


def test_cuda_manual_seed_leaves_cpu_stream_alone(stand_in_cuda):
    edunn.manual_seed(1)
    cpu_first = edunn.randn(3).tolist()
    edunn.manual_seed(1)
    edunn.cuda.manual_seed(99)
    assert edunn.randn(3).tolist() == cpu_first
    cuda_draw = edunn.randn(3, device="cuda").tolist()
    edunn.manual_seed(99)
    assert edunn.randn(3).tolist() == cuda_draw


def test_to_torch_and_back_keep_the_device(stand_in_cuda):
    x = edunn.randn(2, 2, device="cuda", dtype=edunn.float64)
    copied = to_torch(x, device="cpu")
    assert_close(copied, x.cpu(), rtol=0, atol=0)
    back = from_torch(copied, device="cuda")
    assert back.is_cuda
    assert_close(back.cpu(), x.cpu(), rtol=0, atol=0)


# ---------------------------------------------------------------------------
# 越界下标：cupy 会按取模悄悄取值，edunn 先检查，报 torch 的错误
# ---------------------------------------------------------------------------

OUT_OF_BOUNDS = [
    lambda L, d: L.zeros(3, device=d)[L.tensor([5], device=d)],
    lambda L, d: L.zeros(3, 4, device=d)[:, L.tensor([-5], device=d)],
    lambda L, d: L.zeros(3, device=d)[5],
    lambda L, d: L.zeros(3, 4, device=d)[1, -5],
    lambda L, d: L.zeros(2, 3, 4, device=d)[..., [0, 4]],
    lambda L, d: L.zeros(3, 4, device=d)[L.tensor([True, False, True], device=d), [9]],
    lambda L, d: L.zeros(2, 3, device=d)[None, 1, [3]],
    lambda L, d: L.zeros(3, 4, device=d)[[0, 1], [1, 4]],
]


def _index_error(make, library, device):
    with pytest.raises(IndexError) as error:
        make(library, device)
    return str(error.value)


@pytest.mark.parametrize("case", range(len(OUT_OF_BOUNDS)))
def test_out_of_bounds_index_raises_torch_message(case):
    expected = _index_error(OUT_OF_BOUNDS[case], torch, "cpu")
    assert _index_error(OUT_OF_BOUNDS[case], edunn, "cpu") == expected


@pytest.mark.parametrize("case", range(len(OUT_OF_BOUNDS)))
def test_out_of_bounds_index_on_cuda_raises(stand_in_cuda, case):
    expected = _index_error(OUT_OF_BOUNDS[case], torch, "cpu")
    assert _index_error(OUT_OF_BOUNDS[case], edunn, "cuda") == expected


def test_out_of_bounds_assignment_raises(stand_in_cuda):
    x = edunn.zeros(3, device="cuda")
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        x[edunn.tensor([0, 3])] = 1.0
    assert x.tolist() == [0.0, 0.0, 0.0]
