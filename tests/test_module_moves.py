"""类型转换、设备移动与内存格式：Module 与 Tensor 的结果（dtype、步长、对象身份）与 torch 相同。"""

import numpy as np
import pytest
import torch

import edunn
from edunn.testing import from_torch

LIBS = (edunn, torch)
requires_cuda = pytest.mark.skipif(not edunn.cuda.is_available(), reason="needs a CUDA GPU and cupy")


def values(shape, seed):
    return np.random.RandomState(seed).standard_normal(shape)


def name_of(dtype):
    return str(dtype).split(".")[-1]


def same_error(scenario):
    """scenario(lib) 在两个库上抛出同类型的异常，消息在把 torch 换成 edunn 之后相同。"""
    with pytest.raises(Exception) as expected:
        scenario(torch)
    with pytest.raises(type(expected.value)) as actual:
        scenario(edunn)
    assert str(actual.value) == str(expected.value).replace("torch", "edunn")
    return actual.value


_CLASSES = {}


def classes(lib):
    if lib in _CLASSES:
        return _CLASSES[lib]
    lnn = lib.nn

    class Mixed(lnn.Module):
        """2 维、4 维参数，浮点与整数缓冲区，一个值为 None 的缓冲区。"""

        def __init__(self):
            super().__init__()
            self.weight = lnn.Parameter(lib.tensor(values((3, 2), 0)))
            self.kernel = lnn.Parameter(lib.tensor(values((4, 3, 2, 2), 1)))
            self.register_buffer("running", lib.tensor(values((3,), 2)))
            self.register_buffer("steps", lib.tensor(7))
            self.register_buffer("none", None)
            self.child = lnn.Module()
            self.child.bias = lnn.Parameter(lib.tensor(values((3,), 3)))

    class Volume(lnn.Module):
        def __init__(self):
            super().__init__()
            self.kernel = lnn.Parameter(lib.tensor(values((2, 2, 2, 2, 2), 4)))

    _CLASSES[lib] = dict(Mixed=Mixed, Volume=Volume)
    return _CLASSES[lib]


def make(lib, name="Mixed", with_grads=True):
    module = classes(lib)[name]()
    if with_grads:
        for index, param in enumerate(module.parameters()):
            param.grad = lib.tensor(values(tuple(param.shape), 10 + index))
    return module


def describe(module):
    """每个参数、梯度与缓冲区的 (名字, dtype, 形状, 步长, requires_grad)。"""
    rows = []
    for name, param in module.named_parameters():
        rows.append((name, name_of(param.dtype), tuple(param.shape), tuple(param.stride()), param.requires_grad))
        if param.grad is not None:
            grad = param.grad
            rows.append((name + ".grad", name_of(grad.dtype), tuple(grad.shape), tuple(grad.stride())))
    for name, buffer in module.named_buffers():
        rows.append((name, name_of(buffer.dtype), tuple(buffer.shape), tuple(buffer.stride())))
    return rows


def numbers(module):
    out = {}
    for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
        as_double = tensor.detach().double()
        out[name] = as_double.numpy() if isinstance(tensor, torch.Tensor) else as_double.numpy(force=True)
    return out


def run_both(convert):
    """对两个库的同一个模型做 convert，比较转换后的 describe()、对象身份与数值。"""
    results = []
    for lib in LIBS:
        module = make(lib)
        params = {name: param for name, param in module.named_parameters()}
        grads = {name: param.grad for name, param in module.named_parameters()}
        returned = convert(module, lib)
        same_params = {name: module.get_parameter(name) is param for name, param in params.items()}
        same_grads = {name: module.get_parameter(name).grad is grad for name, grad in grads.items()}
        results.append((returned is module, describe(module), same_params, same_grads, numbers(module)))
    edunn_result, torch_result = results[1], results[0]
    assert edunn_result[:4] == torch_result[:4]
    for name, data in torch_result[4].items():
        np.testing.assert_array_equal(edunn_result[4][name], data, err_msg=name)
    return edunn_result


# ----------------------------------------------------------------------
# 浮点转换
# ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["float", "double", "half", "bfloat16"])
def test_float_casts_match_torch_and_leave_integer_buffers(method):
    result = run_both(lambda module, lib: getattr(module, method)())
    rows = {row[0]: row for row in result[1]}
    assert rows["steps"][1] == "int64"


@pytest.mark.parametrize("target", ["float32", "float16", "bfloat16"])
def test_to_dtype_matches_torch(target):
    run_both(lambda module, lib: module.to(getattr(lib, target)))
    run_both(lambda module, lib: module.to(dtype=getattr(lib, target)))
    run_both(lambda module, lib: module.to("cpu", getattr(lib, target)))


def test_to_tensor_takes_dtype_and_device():
    run_both(lambda module, lib: module.to(lib.zeros(1, dtype=lib.float16)))


def test_to_device_cpu_changes_nothing():
    run_both(lambda module, lib: module.to("cpu"))
    run_both(lambda module, lib: module.cpu())
    run_both(lambda module, lib: module.to(lib.device("cpu")))


@pytest.mark.parametrize("dst", ["dtype", "name"])
def test_type_casts_every_tensor_including_integer_buffers(dst):
    def convert(module, lib):
        if dst == "dtype":
            return module.type(lib.float32)
        return module.type(f"{lib.__name__}.FloatTensor")

    result = run_both(convert)
    assert {row[1] for row in result[1]} == {"float32"}


def test_to_integer_dtype_raises_like_torch():
    same_error(lambda lib: make(lib).to(lib.int64))


def test_to_unknown_keyword_raises_type_error():
    for lib in LIBS:
        with pytest.raises(TypeError):
            make(lib).to(colour="red")


def test_cast_keeps_optimizer_references_valid():
    module = make(edunn)
    optimizer_view = list(module.parameters())
    module.double().half()
    assert all(a is b for a, b in zip(optimizer_view, module.parameters()))
    assert all(p.dtype == edunn.float16 for p in optimizer_view)


# ----------------------------------------------------------------------
# 内存格式
# ----------------------------------------------------------------------


def test_module_to_channels_last_matches_torch_strides():
    result = run_both(lambda module, lib: module.to(memory_format=lib.channels_last))
    rows = {row[0]: row for row in result[1]}
    assert rows["kernel"][3] == (12, 1, 6, 3)
    assert rows["kernel.grad"][3] == (12, 1, 6, 3)
    assert rows["weight"][3] == (2, 1)


def test_module_to_channels_last_with_dtype_matches_torch():
    run_both(lambda module, lib: module.to(lib.float32, memory_format=lib.channels_last))


def test_module_channels_last_on_5d_parameter_raises_like_torch():
    same_error(lambda lib: make(lib, "Volume").to(memory_format=lib.channels_last))


def test_module_channels_last_3d_matches_torch():
    results = []
    for lib in LIBS:
        module = make(lib, "Volume").to(memory_format=lib.channels_last_3d)
        results.append((module.kernel.stride(), module.kernel.grad.stride()))
    assert results[0] == results[1]


TENSOR_SHAPES = [(2, 3, 4, 5), (1, 3, 4, 5), (2, 1, 4, 5), (2, 3, 1, 1), (2, 3, 4, 1), (1, 1, 1, 1), (2, 1, 1, 3),
                 (0, 3, 2, 2), (2, 0, 2, 2), (2, 3, 0, 2)]


@pytest.mark.parametrize("shape", TENSOR_SHAPES, ids=str)
def test_tensor_memory_format_strides_and_flags_match_torch(shape):
    t_source = torch.arange(int(np.prod(shape)), dtype=torch.float64).reshape(shape)
    e_source = from_torch(t_source)
    cases = [
        lambda x, lib: x.to(memory_format=lib.channels_last),
        lambda x, lib: x.contiguous(memory_format=lib.channels_last),
        lambda x, lib: x.to(memory_format=lib.channels_last).contiguous(),
        lambda x, lib: x.to(memory_format=lib.channels_last).clone(),
        lambda x, lib: x.to(memory_format=lib.channels_last).double(),
        lambda x, lib: x.to(memory_format=lib.channels_last).float(),
        lambda x, lib: x.clone(memory_format=lib.channels_last),
        lambda x, lib: x.to(memory_format=lib.channels_last).to(memory_format=lib.contiguous_format),
        lambda x, lib: x.permute(0, 2, 3, 1),
    ]
    for index, case in enumerate(cases):
        t_out, e_out = case(t_source, torch), case(e_source, edunn)
        # 限制：edunn 从 numpy 得到的空张量步长全为 0（torch 给出按形状算的步长），permute 只是照搬它们
        if not (index == len(cases) - 1 and 0 in shape):
            assert e_out.stride() == t_out.stride(), index
        assert e_out.tolist() == t_out.tolist(), index
        for fmt in ("contiguous_format", "channels_last", "preserve_format"):
            assert (e_out.is_contiguous(memory_format=getattr(edunn, fmt))
                    == t_out.is_contiguous(memory_format=getattr(torch, fmt))), (index, fmt)


def test_tensor_to_channels_last_returns_self_when_already_in_format():
    for lib in LIBS:
        x = lib.zeros(2, 3, 4, 5).to(memory_format=lib.channels_last)
        assert x.to(memory_format=lib.channels_last) is x
        assert x.contiguous(memory_format=lib.channels_last) is x
        assert x.to(memory_format=lib.channels_last, copy=True) is not x


def test_tensor_clone_preserves_dense_layout_like_torch():
    for shape, make_view in [((3, 4), lambda x: x.t()), ((3, 4), lambda x: x[:, ::2]),
                             ((2, 3, 4), lambda x: x.permute(2, 0, 1))]:
        t_source = torch.zeros(shape)
        e_source = from_torch(t_source)
        assert make_view(e_source).clone().stride() == make_view(t_source).clone().stride()


@pytest.mark.parametrize("call", [
    lambda x, lib: x.contiguous(memory_format=lib.channels_last),
    lambda x, lib: x.to(memory_format=lib.channels_last),
    lambda x, lib: x.clone(memory_format=lib.channels_last_3d),
    lambda x, lib: x.transpose(0, 1).contiguous(memory_format=lib.preserve_format),
])
def test_tensor_memory_format_errors_match_torch(call):
    same_error(lambda lib: call(lib.zeros(2, 3, 4), lib))


def test_memory_format_copy_keeps_gradients_and_node_names():
    names = []
    for lib in LIBS:
        x = lib.tensor(values((2, 3, 2, 2), 5), requires_grad=True)
        y = x.to(memory_format=lib.channels_last)
        z = x.contiguous(memory_format=lib.channels_last)
        (y * z).sum().backward()
        names.append((y.grad_fn.name(), z.grad_fn.name(), np.array(x.grad.tolist())))
    assert names[0][:2] == names[1][:2]
    np.testing.assert_array_equal(names[0][2], names[1][2])


def reference_conv2d(x, weight):
    """不补零、步长 1 的二维卷积，只用切片、乘法与求和写成，对任何步长布局都适用。"""
    out_channels, in_channels, kernel_h, kernel_w = weight.shape
    height, width = x.shape[2] - kernel_h + 1, x.shape[3] - kernel_w + 1
    total = None
    for i in range(kernel_h):
        for j in range(kernel_w):
            window = x[:, :, i:i + height, j:j + width].unsqueeze(1)  # (N, 1, C, H', W')
            tap = weight[:, :, i, j].reshape(1, out_channels, in_channels, 1, 1)
            term = (window * tap).sum(2)
            total = term if total is None else total + term
    return total


def test_channels_last_convolution_gives_identical_results():
    x = edunn.tensor(values((2, 3, 6, 5), 20))
    module = make(edunn, with_grads=False)
    expected = reference_conv2d(x, module.kernel)
    module.to(memory_format=edunn.channels_last)
    assert module.kernel.stride() == (12, 1, 6, 3)
    actual = reference_conv2d(x.to(memory_format=edunn.channels_last), module.kernel)
    assert actual.tolist() == expected.tolist()
    t_out = torch.nn.functional.conv2d(torch.tensor(values((2, 3, 6, 5), 20)), torch.tensor(values((4, 3, 2, 2), 1)))
    np.testing.assert_allclose(np.array(actual.tolist()), t_out.numpy(), rtol=1e-12, atol=1e-12)


def test_functional_conv2d_unchanged_by_channels_last():
    conv2d = getattr(getattr(edunn.nn, "functional", None), "conv2d", None)
    if conv2d is None:
        pytest.skip("edunn.nn.functional.conv2d is not available on this branch")
    x = edunn.tensor(values((2, 3, 6, 5), 21))
    module = make(edunn, with_grads=False)
    expected = conv2d(x, module.kernel)
    module.to(memory_format=edunn.channels_last)
    actual = conv2d(x.to(memory_format=edunn.channels_last), module.kernel)
    np.testing.assert_array_equal(np.array(actual.tolist()), np.array(expected.tolist()))


# ----------------------------------------------------------------------
# to_empty、share_memory、cuda
# ----------------------------------------------------------------------


def test_to_empty_keeps_shapes_dtypes_strides_and_objects():
    results = []
    for lib in LIBS:
        module = make(lib).to(memory_format=lib.channels_last).half()
        params = list(module.parameters())
        returned = module.to_empty(device="cpu")
        results.append((returned is module, describe(module), [a is b for a, b in zip(params, module.parameters())]))
    assert results[0] == results[1]


def test_to_empty_values_are_zero_in_edunn():
    module = make(edunn).to_empty(device="cpu")
    for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
        assert not tensor.detach().numpy().any(), name


def test_to_empty_without_recurse_leaves_children():
    results = []
    for lib in LIBS:
        module = make(lib)
        child_bias = module.child.bias
        module.to_empty(device="cpu", recurse=False)
        results.append(module.child.bias is child_bias)
    assert results == [True, True]


def test_share_memory_returns_module_and_keeps_values():
    module = make(edunn)
    before = numbers(module)
    assert module.share_memory() is module
    after = numbers(module)
    for name, data in before.items():
        np.testing.assert_array_equal(after[name], data, err_msg=name)
    assert not module.weight.is_shared()


@pytest.mark.skipif(edunn.cuda.is_available(), reason="checks the error raised without a GPU")
@pytest.mark.parametrize("move", [
    lambda module: module.cuda(),
    lambda module: module.cuda(0),
    lambda module: module.to("cuda"),
    lambda module: module.to("cuda:0", edunn.float32),
    lambda module: module.to_empty(device="cuda"),
])
def test_cuda_without_gpu_raises_and_changes_nothing(move):
    module = make(edunn)
    before = describe(module)
    values_before = numbers(module)
    with pytest.raises(RuntimeError, match="cupy|CUDA"):
        move(module)
    assert describe(module) == before
    for name, data in values_before.items():
        np.testing.assert_array_equal(numbers(module)[name], data)


@pytest.mark.cuda
@requires_cuda
def test_cuda_round_trip_moves_params_grads_and_buffers():
    module = make(edunn)
    values_before = numbers(module)
    params = list(module.parameters())
    module.cuda()
    for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
        assert tensor.device == edunn.device("cuda:0"), name
    for param in module.parameters():
        assert param.grad.device == edunn.device("cuda:0")
    assert all(a is b for a, b in zip(params, module.parameters()))
    module.to(memory_format=edunn.channels_last)
    assert module.kernel.stride() == (12, 1, 6, 3)
    module.cpu()
    for name, data in values_before.items():
        np.testing.assert_array_equal(numbers(module)[name], data, err_msg=name)


def test_cast_overflow_and_nan_give_torch_values_without_warnings():
    import warnings

    source = np.array([1e-8, 1e5, -1e5, np.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        half = edunn.tensor(source).half()
        expected = torch.tensor(source).half()
    assert half.tolist()[:3] == expected.tolist()[:3]
    assert np.isnan(half.tolist()[3])
