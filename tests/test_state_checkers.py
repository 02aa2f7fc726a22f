"""第 6–8 章练习的检查器：正确的实现得到 True，常见的错误实现得到指出问题的 AssertionError。"""

import json
import struct

import pytest

import edunn
from edunn.testing import (check_channels_last_strides, check_checkpoint_reader, check_hook, check_load_report,
                           check_module_cast, check_state_dict_function, compare_with_torch)


# ----------------------------------------------------------------------
# compare_with_torch
# ----------------------------------------------------------------------


def test_compare_with_torch_accepts_identical_records():
    assert compare_with_torch(lambda lib: {"x": lib.arange(3.0) * 2, "n": 3, "dtype": lib.float16})


def test_compare_with_torch_reports_dtype_and_path():
    def scenario(lib):
        return [1, {"t": lib.zeros(2, dtype=lib.float32 if lib is edunn else lib.float64)}]

    with pytest.raises(AssertionError, match=r"record\[1\]\['t'\]: dtype float32 in edunn, float64 in torch"):
        compare_with_torch(scenario)


def test_compare_with_torch_reports_value_difference():
    with pytest.raises(AssertionError, match="values differ"):
        compare_with_torch(lambda lib: lib.ones(2) * (2 if lib is edunn else 3))


# ----------------------------------------------------------------------
# 钩子
# ----------------------------------------------------------------------


def clip_inputs(module, args):
    return (args[0].clamp(-0.5, 0.5),)


def halve_grad_input(module, grad_input, grad_output):
    return tuple(None if g is None else g * 0.5 for g in grad_input)


def test_check_hook_accepts_hooks_that_change_results():
    assert check_hook(clip_inputs, "forward_pre")
    assert check_hook(lambda m, args, out: out * 2, "forward")
    assert check_hook(lambda m, args, kwargs, out: out.tanh(), "forward", with_kwargs=True)
    assert check_hook(lambda m, go: (go[0] * 3,), "full_backward_pre")
    assert check_hook(halve_grad_input, "full_backward")


def test_check_hook_rejects_hook_that_depends_on_library():
    def differs(module, args, output):
        return output * (2 if isinstance(output, edunn.Tensor) else 3)

    with pytest.raises(AssertionError, match="output"):
        check_hook(differs, "forward")


def test_check_hook_rejects_unknown_kind():
    with pytest.raises(ValueError, match="kind must be one of"):
        check_hook(clip_inputs, "backward")


# ----------------------------------------------------------------------
# state_dict
# ----------------------------------------------------------------------


def my_state_dict(module, prefix=""):
    result = {}
    for name, param in module._parameters.items():
        if param is not None:
            result[prefix + name] = param.detach()
    for name, buffer in module._buffers.items():
        if buffer is not None and name not in module._non_persistent_buffers_set:
            result[prefix + name] = buffer.detach()
    for name, child in module._modules.items():
        if child is not None:
            result.update(my_state_dict(child, prefix + name + "."))
    return result


def test_check_state_dict_function_accepts_correct_recursion():
    assert check_state_dict_function(my_state_dict)


def test_check_state_dict_function_rejects_named_parameters_version():
    def deduplicated(module):
        return dict(module.named_parameters()) | dict(module.named_buffers())

    with pytest.raises(AssertionError, match="model 0"):
        check_state_dict_function(deduplicated)


def my_load_report(module, state_dict):
    expected = module.state_dict()
    missing = [key for key in expected if key not in state_dict]
    unexpected = [key for key in state_dict if key not in expected]
    mismatched = [key for key in expected if key in state_dict and tuple(state_dict[key].shape) != tuple(
        expected[key].shape)]
    return missing, unexpected, mismatched


def test_check_load_report_accepts_correct_report():
    assert check_load_report(my_load_report)


def test_check_load_report_rejects_report_that_loads():
    def loads(module, state_dict):
        report = my_load_report(module, state_dict)
        module.load_state_dict(state_dict, strict=False) if not report[2] else None
        with edunn.no_grad():
            module[0].weight.add_(1)
        return report

    with pytest.raises(AssertionError, match="changed 0.weight"):
        check_load_report(loads)


def test_check_load_report_rejects_mismatch_counted_as_missing():
    def mismatch_as_missing(module, state_dict):
        missing, unexpected, mismatched = my_load_report(module, state_dict)
        return missing + mismatched, unexpected, []

    with pytest.raises(AssertionError, match="state_dict 3"):
        check_load_report(mismatch_as_missing)


def my_reader(path):
    with open(path, "rb") as handle:
        content = handle.read()
    magic, version, header_size, data_size = struct.unpack("<8sIQQ", content[:28])
    return json.loads(content[28:28 + header_size].decode("utf-8"))


def test_check_checkpoint_reader_accepts_correct_reader():
    assert check_checkpoint_reader(my_reader)


def test_check_checkpoint_reader_rejects_wrong_offset():
    def off_by_eight(path):
        with open(path, "rb") as handle:
            content = handle.read()
        header_size = struct.unpack("<Q", content[12:20])[0]
        return json.loads(content[20:20 + header_size])

    with pytest.raises(Exception):
        check_checkpoint_reader(off_by_eight)


# ----------------------------------------------------------------------
# 类型转换与内存格式
# ----------------------------------------------------------------------


def my_channels_last_strides(shape):
    n, c, h, w = shape
    return (h * w * c, 1, w * c, c)


def test_check_channels_last_strides_accepts_formula():
    assert check_channels_last_strides(my_channels_last_strides)


def test_check_channels_last_strides_rejects_row_major():
    def row_major(shape):
        n, c, h, w = shape
        return (c * h * w, h * w, w, 1)

    with pytest.raises(AssertionError, match="shape"):
        check_channels_last_strides(row_major)


def my_cast(module, dtype):
    def convert(tensor):
        return tensor.to(dtype) if tensor.is_floating_point() else tensor

    return module._apply(convert)


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16", "float32"])
def test_check_module_cast_accepts_floating_only_cast(dtype_name):
    assert check_module_cast(my_cast, dtype_name)


def test_check_module_cast_rejects_casting_integer_buffers():
    def cast_everything(module, dtype):
        return module._apply(lambda tensor: tensor.to(dtype))

    with pytest.raises(AssertionError, match="num_batches_tracked"):
        check_module_cast(cast_everything)


def test_check_module_cast_rejects_new_parameter_objects():
    def rebuild(module, dtype):
        for layer in module.modules():
            for name, param in list(layer._parameters.items()):
                if param is not None:
                    fresh = edunn.nn.Parameter(param.detach().to(dtype))
                    fresh.grad = param.grad.to(dtype)
                    layer._parameters[name] = fresh
        for layer in module.modules():
            for name, buffer in list(layer._buffers.items()):
                if buffer is not None and buffer.is_floating_point():
                    layer._buffers[name] = buffer.to(dtype)
        return module

    with pytest.raises(AssertionError, match="weight"):
        check_module_cast(rebuild)
