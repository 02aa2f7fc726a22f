"""坏输入的报错与 torch 对照：异常类型相同，信息里点出相同的形状、dtype 或设备。

每个用例是一个 ``fn(L)``，L 是 ``torch`` 或 ``edunn``。比较方式：
- ``exact``：把 torch 信息里的 ``torch.`` 换成 ``edunn.`` 后逐字相同；
- ``prefix``：edunn 的信息是 torch 信息的开头（torch 在后面附加了 edunn 没有的提示，或反过来）；
- 片段列表：每个片段同时出现在两边的信息里。
"""

import numpy as np
import pytest
import torch

import edunn


def leaf(L, *shape, dtype=None):
    return L.ones(*shape, dtype=dtype or L.float32, requires_grad=True)


def raised(fn, library):
    with pytest.raises(Exception) as info:
        fn(library)
    return info.value


def backward_twice(L):
    y = leaf(L, 2).exp().sum()
    y.backward()
    y.backward()


def modify_saved_output(L):
    y = (leaf(L, 2) * 1).exp()
    z = y.sum()
    y.add_(1)  # exp 的反向要用 y 本身
    z.backward()


def modify_saved_input(L):
    x = leaf(L, 2) * 1
    y = (x * x).sum()
    x.mul_(2)
    y.backward()


CASES = {
    # 形状
    "add_shape_mismatch": (lambda L: L.ones(2, 3) + L.ones(4), "exact"),
    "mul_shape_mismatch": (lambda L: L.ones(2, 3) * L.ones(3, 2), "exact"),
    "where_shape_mismatch": (lambda L: L.where(L.ones(2, dtype=L.bool), L.ones(3), L.ones(2)), "exact"),
    "matmul_matrices": (lambda L: L.ones(2, 3) @ L.ones(4, 5), "exact"),
    "matmul_vectors": (lambda L: L.ones(3) @ L.ones(4), "exact"),
    "matmul_matrix_vector": (lambda L: L.ones(2, 3) @ L.ones(4), "exact"),
    "matmul_vector_matrix": (lambda L: L.ones(3) @ L.ones(4, 2), "exact"),
    "matmul_batched": (lambda L: L.ones(2, 2, 3) @ L.ones(2, 4, 5), "exact"),
    "matmul_batched_broadcast": (lambda L: L.ones(5, 2, 2, 3) @ L.ones(2, 4, 5), "exact"),
    "matmul_batch_matrix": (lambda L: L.ones(3, 2, 3) @ L.ones(4, 5), "exact"),
    "matmul_batch_vector": (lambda L: L.ones(3, 2, 3) @ L.ones(4), "exact"),
    "matmul_matrix_batch": (lambda L: L.ones(2, 3) @ L.ones(3, 4, 5), "exact"),
    "matmul_batch_sizes": (lambda L: L.ones(2, 2, 3) @ L.ones(3, 3, 5), "exact"),
    "matmul_zero_dim": (lambda L: L.ones(()) @ L.ones(3), "exact"),
    "mm_needs_matrix": (lambda L: L.ones(2, 2, 3).mm(L.ones(3, 2)), "prefix"),
    "bmm_needs_3d": (lambda L: L.ones(2, 3).bmm(L.ones(3, 2)), "prefix"),
    "dot_sizes": (lambda L: L.ones(3).dot(L.ones(4)), "exact"),
    "dot_ranks": (lambda L: L.ones(2, 3).dot(L.ones(3)), "exact"),
    "cat_ranks": (lambda L: L.cat([L.ones(2, 3), L.ones(2)]), "exact"),
    "cat_sizes": (lambda L: L.cat([L.ones(2, 3), L.ones(2, 4)]), "exact"),
    "cat_empty_list": (lambda L: L.cat([]), "exact"),
    "stack_sizes": (lambda L: L.stack([L.ones(2, 3), L.ones(3, 2)]), "exact"),
    "reshape_size": (lambda L: L.ones(2, 3).reshape(4, 2), "exact"),
    "view_size": (lambda L: L.ones(2, 3).view(-1, 4), "exact"),
    "view_two_inferred": (lambda L: L.ones(2, 3).view(-1, -1), "exact"),
    "view_non_contiguous": (lambda L: L.ones(2, 3).t().view(6), "exact"),
    "expand_size": (lambda L: L.ones(2, 3).expand(4, 3), "exact"),
    "split_sizes_sum": (lambda L: L.ones(5).split([2, 2]), "exact"),
    "chunk_zero": (lambda L: L.ones(3).chunk(0), "exact"),
    "permute_length": (lambda L: L.ones(2, 3).permute(0), "exact"),
    "permute_duplicate": (lambda L: L.ones(2, 3).permute(0, 0), "exact"),
    "flatten_order": (lambda L: L.ones(2, 3, 4).flatten(2, 1), "exact"),
    "sum_dim_range": (lambda L: L.ones(2, 3).sum(2), "exact"),
    "transpose_dim_range": (lambda L: L.ones(2, 3).transpose(0, -3), "exact"),
    "squeeze_dim_range": (lambda L: L.ones(2, 3).squeeze(3), "exact"),
    "unsqueeze_dim_range": (lambda L: L.ones(2, 3).unsqueeze(4), "exact"),
    "norm_fro_over_three_dims": (lambda L: L.ones(2, 2, 2).norm("fro", dim=(0, 1, 2)), "exact"),
    "max_of_empty": (lambda L: L.ones(0).max(), "exact"),
    "item_of_many": (lambda L: L.ones(2).item(), "exact"),
    "item_of_empty": (lambda L: L.ones(0).item(), "exact"),
    "bool_of_many": (lambda L: bool(L.ones(2)), "prefix"),
    "len_of_zero_dim": (lambda L: len(L.tensor(1.0)), "exact"),
    "negative_size": (lambda L: L.zeros(-1), ["negative"]),
    # 索引
    "index_out_of_range": (lambda L: L.ones(2, 3)[5], "exact"),
    "index_out_of_range_second_dim": (lambda L: L.ones(2, 3)[0, 7], "exact"),
    "index_after_ellipsis": (lambda L: L.ones(2, 3)[..., 7], "exact"),
    "index_tensor_out_of_range": (lambda L: L.ones(2, 3)[L.tensor([5])], "exact"),
    # torch 在这里报的维度序号是 0（它在高级索引的子空间里数维度），edunn 报张量自己的第 1 维
    "index_tensor_negative_out_of_range": (lambda L: L.ones(2, 3)[:, L.tensor([-4])],
                                           ["index -4 is out of bounds for dimension", "with size 3"]),
    "index_float_tensor": (lambda L: L.ones(2, 3)[L.tensor([0.5])], "exact"),
    "index_too_many": (lambda L: L.ones(2)[0, 0], "exact"),
    "index_too_many_with_none": (lambda L: L.ones(2, 3)[None, 0, 0, 0], "exact"),
    "mask_shape": (lambda L: L.ones(2, 3)[L.tensor([True, False, True])], "exact"),
    "mask_shape_inner": (lambda L: L.ones(2, 3, 4)[L.ones(2, 4, dtype=L.bool)], "exact"),
    "setitem_value_shape": (lambda L: L.ones(2, 3).__setitem__(0, L.ones(4)), "exact"),
    # dtype
    "matmul_dtypes": (lambda L: L.ones(2, 3) @ L.ones(3, 2, dtype=L.float64), ["expected m1 and m2 to have the same dtype"]),
    "matmul_int_float": (lambda L: L.ones(2, 3, dtype=L.int64) @ L.ones(3, 2),
                         ["expected m1 and m2 to have the same dtype"]),
    "inplace_float_into_long": (lambda L: L.ones(3, dtype=L.int64).add_(L.ones(3)), "exact"),
    "inplace_scalar_into_long": (lambda L: L.ones(3, dtype=L.int64).mul_(1.5), "exact"),
    "sub_bools": (lambda L: L.ones(2, dtype=L.bool) - L.ones(2, dtype=L.bool), "exact"),
    "neg_bool": (lambda L: -L.ones(2, dtype=L.bool), "exact"),
    "mean_of_long": (lambda L: L.ones(2, dtype=L.int64).mean(), "exact"),
    "where_float_condition": (lambda L: L.where(L.ones(2), L.ones(2), L.ones(2)),
                              ["where expected condition to be a boolean tensor"]),
    "lerp_end_dtype": (lambda L: L.ones(2).lerp(L.ones(2, dtype=L.float64), 0.5), ["for `end` but got dtype"]),
    "requires_grad_on_long": (lambda L: L.ones(2, dtype=L.int64).requires_grad_(), "prefix"),
    "tensor_requires_grad_on_long": (lambda L: L.tensor([1, 2], requires_grad=True), "prefix"),
    "str_array": (lambda L: L.tensor(np.array(["a"])), []),
    "var_unbiased_and_correction": (lambda L: L.ones(3).var(unbiased=True, correction=1), ["var()"]),
    "add_str": (lambda L: L.ones(2) + "a", "exact"),
    # 自动求导
    "backward_non_scalar": (lambda L: (leaf(L, 2) * 2).backward(), "exact"),
    "backward_without_grad_fn": (lambda L: L.ones(2).sum().backward(), "exact"),
    "backward_gradient_shape": (lambda L: (leaf(L, 2) * 2).backward(L.ones(3)), "exact"),
    "backward_twice": (backward_twice, "exact"),
    "saved_output_modified": (modify_saved_output, "prefix"),
    "saved_input_modified": (modify_saved_input, "prefix"),
    "leaf_add_": (lambda L: leaf(L, 2).add_(1), "exact"),
    "leaf_mul_": (lambda L: leaf(L, 2).mul_(2), "exact"),
    "leaf_zero_": (lambda L: leaf(L, 2).zero_(), "exact"),
    "leaf_fill_": (lambda L: leaf(L, 2).fill_(1.0), "exact"),
    "leaf_clamp_": (lambda L: leaf(L, 2).clamp_(0, 1), "exact"),
    "leaf_copy_": (lambda L: leaf(L, 2).copy_(L.zeros(2)), "exact"),
    "leaf_setitem": (lambda L: leaf(L, 2).__setitem__(0, 1.0), "exact"),
    "inplace_broadcast_grows": (lambda L: L.ones(3).add_(L.ones(2, 3)), "exact"),
    "copy_shape": (lambda L: L.ones(2, 3).copy_(L.ones(4)), "exact"),
    "requires_grad_on_non_leaf": (lambda L: (leaf(L, 2) * 2).requires_grad_(False), "exact"),
    "numpy_of_requires_grad": (lambda L: leaf(L, 2).numpy(), "exact"),
    "hook_without_grad": (lambda L: L.ones(2).register_hook(lambda g: g), "exact"),
    "retain_grad_without_grad": (lambda L: L.ones(2).retain_grad(), "exact"),
    "grad_of_unused_input": (lambda L: L.autograd.grad((leaf(L, 2) * 2).sum(), [leaf(L, 2)]), "exact"),
    "grad_of_input_without_grad": (lambda L: L.autograd.grad((leaf(L, 2) * 2).sum(), [L.ones(2)]), "prefix"),
    "assign_grad_shape": (lambda L: setattr(leaf(L, 2), "grad", L.ones(3)), "exact"),
    "assign_grad_dtype": (lambda L: setattr(leaf(L, 2), "grad", L.ones(2, dtype=L.float64)),
                          ["attempting to assign a gradient with dtype"]),
    # 参数
    "clamp_without_bounds": (lambda L: L.ones(2).clamp(), "exact"),
    "randint_empty_range": (lambda L: L.randint(5, 2, (3,)), "exact"),
    "linspace_negative_steps": (lambda L: L.linspace(0, 1, -1), "prefix"),
    "arange_zero_step": (lambda L: L.arange(0, 1, 0), "exact"),
    "arange_step_sign": (lambda L: L.arange(0, 1, -1), "prefix"),
    "arange_long_step_truncates_to_zero": (lambda L: L.arange(0, 1, 0.5, dtype=L.int64), "exact"),
    "device_type": (lambda L: L.device("tpu"), ["device type at start of device string: tpu"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_error_matches_torch(name):
    fn, expectation = CASES[name]
    theirs = raised(fn, torch)
    ours = raised(fn, edunn)
    assert type(ours) is type(theirs), f"edunn raised {type(ours).__name__}: {ours}"
    ours_text, theirs_text = str(ours), str(theirs).replace("torch.", "edunn.")
    if expectation == "exact":
        assert ours_text == theirs_text
    elif expectation == "prefix":
        shorter, longer = sorted([ours_text, theirs_text], key=len)
        assert longer.startswith(shorter.rstrip(".")), f"{ours_text!r} vs {theirs_text!r}"
    else:
        for fragment in expectation:
            assert fragment in ours_text, ours_text
            assert fragment in theirs_text, theirs_text


def test_complex_input_names_the_unsupported_dtype():
    # torch 支持复数；edunn 不支持，报 TypeError 并列出它支持的类型
    with pytest.raises(TypeError, match=r"complex128.*edunn supports: bool"):
        edunn.tensor(np.array([1 + 2j]))
    with pytest.raises(TypeError, match="unsupported dtype 'complex64'"):
        edunn.zeros(2, dtype="complex64")


def test_str_array_error_names_its_dtype():
    with pytest.raises(TypeError, match="<U1"):
        edunn.tensor(np.array(["a"]))


@pytest.mark.skipif(edunn.cuda.is_available(), reason="a usable GPU makes these calls succeed")
@pytest.mark.parametrize("make", [lambda L: L.ones(2).cuda(), lambda L: L.ones(2, device="cuda"),
                                  lambda L: L.ones(2).to("cuda"), lambda L: L.zeros(2).to(L.device("cuda", 0))],
                         ids=["cuda_method", "device_argument", "to_string", "to_device"])
def test_cuda_without_gpu_names_cupy_or_gpu(make):
    # torch 的 CPU 版本在这里抛 AssertionError（"Torch not compiled with CUDA enabled"）；
    # edunn 通过 cupy 使用 GPU，缺 cupy 或 GPU 是运行环境的问题，所以抛 RuntimeError 并说明缺什么。
    if not torch.cuda.is_available():
        with pytest.raises(AssertionError, match="not compiled with CUDA"):
            make(torch)
    with pytest.raises(RuntimeError, match="cupy|GPU"):
        make(edunn)


@pytest.mark.cuda
def test_cross_device_ops_name_both_devices():
    cpu, gpu = edunn.ones(2), edunn.ones(2, device="cuda")
    for fn in [lambda: cpu + gpu, lambda: cpu @ gpu, lambda: gpu.mul_(cpu), lambda: edunn.cat([cpu, gpu]),
               lambda: cpu.maximum(gpu), lambda: edunn.where(cpu > 0, cpu, gpu)]:
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device") as info:
            fn()
        assert "cpu" in str(info.value)
        assert "cuda:0" in str(info.value)


@pytest.mark.parametrize("name", ["inplace_float_into_long", "inplace_broadcast_grows", "leaf_add_",
                                  "setitem_value_shape"])
def test_failed_inplace_changes_nothing(name):
    targets = {
        "inplace_float_into_long": lambda: (edunn.ones(3, dtype=edunn.int64), lambda t: t.add_(edunn.ones(3))),
        "inplace_broadcast_grows": lambda: (edunn.ones(3), lambda t: t.add_(edunn.ones(2, 3))),
        "leaf_add_": lambda: (edunn.ones(2, requires_grad=True), lambda t: t.add_(1)),
        "setitem_value_shape": lambda: (edunn.ones(2, 3), lambda t: t.__setitem__(0, edunn.zeros(4))),
    }
    tensor, op = targets[name]()
    before, version = tensor.tolist(), tensor._version
    with pytest.raises(RuntimeError):
        op(tensor)
    assert tensor.tolist() == before
    assert tensor._version == version
    assert tensor.grad_fn is None


def test_no_error_leaks_numpy_exception_types():
    # 上面每个用例里 edunn 抛出的异常都来自 Python 内置类型，而不是 numpy 的 AxisError 之类
    for name, (fn, _) in CASES.items():
        error = raised(fn, edunn)
        assert type(error).__module__ == "builtins", f"{name}: {type(error)!r}"
