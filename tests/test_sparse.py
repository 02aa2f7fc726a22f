"""稀疏 COO 张量：构造、合并、与稠密张量的加法、桥接与比较，每项都与 torch 对照。"""

import warnings

import numpy as np
import pytest
import torch

import edunn
from edunn.testing import assert_close, from_torch, to_torch


def make_pair(indices, values, size, **kwargs):
    """同样的坐标与值，分别构造 edunn 与 torch 的稀疏张量。"""
    ours = edunn.sparse_coo_tensor(indices, values, size, dtype=edunn.float64, **kwargs)
    theirs = torch.sparse_coo_tensor(torch.tensor(np.asarray(indices)), torch.tensor(np.asarray(values)), size,
                                     check_invariants=True, **kwargs)
    return ours, theirs


def random_pair(seed, rows=7, nnz=12, dense=(3,), sparse_dims=1):
    rng = np.random.RandomState(seed)
    shape = (rows,) * sparse_dims + dense
    indices = rng.randint(0, rows, size=(sparse_dims, nnz)).tolist()
    values = rng.standard_normal((nnz,) + dense).tolist()
    return make_pair(indices, values, shape)


def same_error(edunn_call, torch_call):
    with pytest.raises(Exception) as expected:
        torch_call()
    with pytest.raises(type(expected.value)) as actual:
        edunn_call()
    assert str(actual.value) == str(expected.value).split("\n")[0].replace("torch", "edunn")


# ----------------------------------------------------------------------
# 构造与元数据
# ----------------------------------------------------------------------

def test_sparse_tensor_metadata_matches_torch():
    ours, theirs = random_pair(0)
    assert isinstance(ours, edunn.Tensor)
    assert ours.is_sparse and theirs.is_sparse
    assert ours.layout is edunn.sparse_coo
    assert repr(ours.layout) == repr(theirs.layout).replace("torch", "edunn")
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.sparse_dim() == theirs.sparse_dim()
    assert ours.dense_dim() == theirs.dense_dim()
    assert ours._nnz() == theirs._nnz()
    assert ours.is_coalesced() == theirs.is_coalesced()
    assert ours._indices().dtype is edunn.int64


def test_dense_tensor_is_not_sparse():
    dense = edunn.zeros(2, 3)
    assert dense.is_sparse is False
    assert dense.layout is edunn.strided


def test_sparse_coo_tensor_infers_size_like_torch():
    ours = edunn.sparse_coo_tensor([[1, 0, 4]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    theirs = torch.sparse_coo_tensor([[1, 0, 4]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], check_invariants=True)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype is edunn.float32


@pytest.mark.parametrize("nnz", [0, 1])
def test_sparse_coo_tensor_with_at_most_one_entry_is_coalesced(nnz):
    ours, theirs = make_pair(np.zeros((1, nnz), dtype=np.int64), np.ones((nnz, 2)), (3, 2))
    assert ours.is_coalesced() == theirs.is_coalesced() is True


@pytest.mark.parametrize("indices, values, size", [
    ([1, 0, 1], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], (3, 2)),
    ([[1, 0]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], (3, 2)),
    ([[1, 0, 1]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], (3, 2, 1)),
    ([[1, 0, -1]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], (3, 2)),
    ([[1, 0, 3]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], (3, 2)),
    ([[1, 0, 1]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], (3, 3)),
])
def test_sparse_coo_tensor_rejects_bad_input_like_torch(indices, values, size):
    same_error(lambda: edunn.sparse_coo_tensor(indices, values, size),
               lambda: torch.sparse_coo_tensor(torch.tensor(indices), torch.tensor(values), size,
                                               check_invariants=True))


def test_sparse_tensor_rejects_requires_grad():
    with pytest.raises(NotImplementedError, match="autograd"):
        edunn.sparse_coo_tensor([[0]], [1.0], (2,), requires_grad=True)
    ours, _ = random_pair(1)
    with pytest.raises(NotImplementedError, match="autograd"):
        ours.requires_grad_()


# ----------------------------------------------------------------------
# 合并（coalesce）
# ----------------------------------------------------------------------

@pytest.mark.parametrize("sparse_dims, dense", [(1, (3,)), (1, ()), (2, (2,)), (2, ())])
def test_coalesce_sums_duplicates_and_sorts_like_torch(sparse_dims, dense):
    ours, theirs = random_pair(2, rows=4, nnz=15, dense=dense, sparse_dims=sparse_dims)
    assert not ours.is_coalesced()
    merged, expected = ours.coalesce(), theirs.coalesce()
    assert merged.is_coalesced()
    assert merged._indices().tolist() == expected._indices().tolist()
    assert_close(merged._values(), expected._values(), rtol=1e-15, atol=0)


def test_coalesce_returns_self_when_already_coalesced():
    ours, _ = random_pair(3)
    merged = ours.coalesce()
    assert merged.coalesce() is merged
    assert ours.coalesce() is not ours


def test_indices_and_values_require_coalesced_tensor():
    ours, theirs = random_pair(4)
    same_error(ours.indices, theirs.indices)
    same_error(ours.values, theirs.values)
    assert ours.coalesce().values().tolist() == theirs.coalesce().values().tolist()


def test_to_dense_adds_duplicate_entries():
    ours, theirs = random_pair(5)
    assert_close(ours.to_dense(), theirs.to_dense(), rtol=1e-15, atol=0)


# ----------------------------------------------------------------------
# 运算
# ----------------------------------------------------------------------

@pytest.mark.parametrize("coalesce_a, coalesce_b", [(False, False), (True, False), (True, True)])
def test_sparse_plus_sparse_merges_entries_like_torch(coalesce_a, coalesce_b):
    a, ta = random_pair(6)
    b, tb = random_pair(7)
    if coalesce_a:
        a, ta = a.coalesce(), ta.coalesce()
    if coalesce_b:
        b, tb = b.coalesce(), tb.coalesce()
    for alpha in (1, -2.5):
        total, expected = a.add(b, alpha=alpha), ta.add(tb, alpha=alpha)
        assert total.is_coalesced() == expected.is_coalesced()
        assert total._indices().tolist() == expected._indices().tolist()
        # torch 的 axpy 用融合乘加（一次舍入），alpha != 1 时末位可能差 1
        assert_close(total._values(), expected._values(), rtol=1e-14, atol=0)


def test_sparse_plus_empty_sparse_keeps_the_other_operand():
    a, ta = random_pair(27)
    empty, empty_torch = make_pair(np.zeros((1, 0), dtype=np.int64), np.zeros((0, 3)), (7, 3))
    for total, expected in [(a + empty, ta + empty_torch), (empty + a, empty_torch + ta)]:
        assert total.is_coalesced() == expected.is_coalesced()
        assert total._indices().tolist() == expected._indices().tolist()


def test_sparse_add_in_place_keeps_object_and_aliases():
    a, ta = random_pair(8)
    b, tb = random_pair(9)
    alias = a.detach()
    result = a.add_(b)
    ta.add_(tb)
    assert result is a
    assert alias._nnz() == a._nnz()
    assert_close(a, ta, rtol=1e-15, atol=0)


@pytest.mark.parametrize("operation", [
    lambda g: g * 2.5, lambda g: 3 * g, lambda g: g / 4, lambda g: -g, lambda g: g.mul(-0.5),
    lambda g: g.clone().mul_(2), lambda g: g.clone().div_(3),
])
def test_scalar_operations_keep_indices_and_coalesced_flag(operation):
    ours, theirs = random_pair(10)
    result, expected = operation(ours), operation(theirs)
    assert result.is_sparse
    assert result.is_coalesced() == expected.is_coalesced()
    assert result._indices().tolist() == expected._indices().tolist()
    assert_close(result._values(), expected._values(), rtol=1e-15, atol=0)


def test_dense_add_in_place_touches_only_indexed_rows():
    ours, theirs = random_pair(11, rows=9, nnz=4)
    base = np.random.RandomState(12).standard_normal((9, 3))
    dense, dense_torch = edunn.tensor(base), torch.tensor(base)
    dense.add_(ours, alpha=-0.3)
    dense_torch.add_(theirs, alpha=-0.3)
    assert_close(dense, dense_torch, rtol=1e-15, atol=0)
    untouched = sorted(set(range(9)) - set(ours._indices().tolist()[0]))
    assert np.array_equal(dense.numpy()[untouched], base[untouched])


def test_dense_plus_and_minus_sparse_give_dense_like_torch():
    ours, theirs = random_pair(13)
    base = np.random.RandomState(14).standard_normal((7, 3))
    dense, dense_torch = edunn.tensor(base), torch.tensor(base)
    for result, expected in [(dense + ours, dense_torch + theirs), (dense - ours, dense_torch - theirs),
                             (dense.add(ours, alpha=2), dense_torch.add(theirs, alpha=2))]:
        assert not result.is_sparse
        assert_close(result, expected, rtol=1e-15, atol=0)


def test_sparse_plus_dense_is_rejected_like_torch():
    ours, theirs = random_pair(15)
    same_error(lambda: ours + edunn.ones(7, 3, dtype=edunn.float64),
               lambda: theirs + torch.ones(7, 3, dtype=torch.float64))
    same_error(lambda: ours.add_(edunn.ones(7, 3, dtype=edunn.float64)),
               lambda: theirs.add_(torch.ones(7, 3, dtype=torch.float64)))


def test_dense_add_sparse_rejects_wrong_size_like_torch():
    ours, theirs = random_pair(16)
    same_error(lambda: edunn.ones(7, 4, dtype=edunn.float64).add_(ours),
               lambda: torch.ones(7, 4, dtype=torch.float64).add_(theirs))


def test_dense_add_sparse_rejects_leaf_requiring_grad():
    ours, theirs = random_pair(17)
    same_error(lambda: edunn.ones(7, 3, dtype=edunn.float64, requires_grad=True).add_(ours),
               lambda: torch.ones(7, 3, dtype=torch.float64, requires_grad=True).add_(theirs))


def test_zero_clears_entries_and_marks_coalesced():
    ours, theirs = random_pair(18)
    ours.zero_()
    theirs.zero_()
    assert ours._nnz() == theirs._nnz() == 0
    assert ours.is_coalesced() == theirs.is_coalesced()
    assert tuple(ours._values().shape) == tuple(theirs._values().shape)


def test_sum_and_norm_match_torch():
    ours, theirs = random_pair(19)
    assert_close(ours.sum(), theirs.sum(), rtol=1e-14, atol=0)
    assert_close(ours.norm(), theirs.norm(), rtol=1e-14, atol=0)


@pytest.mark.parametrize("sparse_dim", [None, 1, 2])
def test_to_sparse_matches_torch(sparse_dim):
    base = np.array([[0.0, 1.5, 0.0], [0.0, 0.0, 0.0], [2.0, 0.0, -1.0]])
    ours = edunn.tensor(base).to_sparse(sparse_dim) if sparse_dim else edunn.tensor(base).to_sparse()
    theirs = torch.tensor(base).to_sparse(sparse_dim) if sparse_dim else torch.tensor(base).to_sparse()
    assert ours.is_coalesced() == theirs.is_coalesced()
    assert ours._indices().tolist() == theirs._indices().tolist()
    assert ours._values().tolist() == theirs._values().tolist()


def test_sparse_mask_reads_dense_values_at_mask_indices():
    ours, theirs = random_pair(20)
    base = np.random.RandomState(21).standard_normal((7, 3))
    for mask, mask_torch in [(ours, theirs), (ours.coalesce(), theirs.coalesce())]:
        result, expected = edunn.tensor(base).sparse_mask(mask), torch.tensor(base).sparse_mask(mask_torch)
        assert result.is_coalesced() == expected.is_coalesced()
        assert result._indices().tolist() == expected._indices().tolist()
        assert_close(result._values(), expected._values(), rtol=0, atol=0)


@pytest.mark.parametrize("operation", [
    lambda g: g.view(-1), lambda g: g[0], lambda g: g.exp(), lambda g: abs(g), lambda g: g.clamp_(-1, 1),
    lambda g: g @ g, lambda g: g * g,
])
def test_unsupported_operations_raise_not_implemented(operation):
    ours, _ = random_pair(22)
    with pytest.raises(NotImplementedError):
        operation(ours)


def test_dense_times_sparse_raises_not_implemented():
    ours, _ = random_pair(23)
    with pytest.raises(NotImplementedError, match="to_dense"):
        edunn.ones(7, 3, dtype=edunn.float64) * ours


def test_to_changes_dtype_and_keeps_flag():
    ours, theirs = random_pair(24)
    converted, expected = ours.to(edunn.float32), theirs.to(torch.float32)
    assert converted.dtype is edunn.float32
    assert converted.is_coalesced() == expected.is_coalesced()
    assert_close(converted, expected)
    assert ours.to(edunn.float64) is ours


def test_repr_matches_torch_layout():
    ours, theirs = make_pair([[1, 0, 1]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], (3, 2))
    assert repr(ours) == repr(theirs).replace("torch", "edunn")


# ----------------------------------------------------------------------
# 与 torch 互相复制、比较
# ----------------------------------------------------------------------

@pytest.mark.parametrize("coalesce", [False, True])
def test_bridge_round_trip_keeps_indices_values_and_flag(coalesce):
    ours, theirs = random_pair(25)
    if coalesce:
        ours, theirs = ours.coalesce(), theirs.coalesce()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        copied = to_torch(ours)
    assert copied.is_coalesced() == theirs.is_coalesced()
    assert torch.equal(copied._indices(), theirs._indices())
    assert torch.equal(copied._values(), theirs._values())
    back = from_torch(copied)
    assert back.is_sparse and back.is_coalesced() == ours.is_coalesced()
    assert back._indices().tolist() == ours._indices().tolist()


def test_assert_close_compares_sparse_after_coalescing():
    ours, theirs = random_pair(26)
    assert_close(ours, theirs.coalesce(), rtol=1e-15, atol=0)
    with pytest.raises(AssertionError):
        assert_close(ours * 1.001, theirs)
    with pytest.raises(AssertionError, match="layout"):
        assert_close(ours, theirs.to_dense())


# ----------------------------------------------------------------------
# Embedding(sparse=True) 的梯度与 AccumulateGrad
# ----------------------------------------------------------------------

def embedding_twins(rows=6, dim=3, seed=30):
    base = np.random.RandomState(seed).standard_normal((rows, dim))
    return edunn.tensor(base, requires_grad=True), torch.tensor(base, requires_grad=True)


def test_embedding_sparse_grad_matches_torch_entry_for_entry():
    weight, weight_torch = embedding_twins()
    index = [[1, 2, 1], [4, 1, 0]]
    scale = np.arange(6.0).reshape(2, 3, 1)
    (edunn.nn.functional.embedding(edunn.tensor(index), weight, sparse=True) * edunn.tensor(scale)).sum().backward()
    (torch.nn.functional.embedding(torch.tensor(index), weight_torch, sparse=True) * torch.tensor(scale)).sum().backward()
    grad, expected = weight.grad, weight_torch.grad
    assert grad.is_sparse
    assert grad.is_coalesced() == expected.is_coalesced()
    assert grad._indices().tolist() == expected._indices().tolist()
    assert_close(grad._values(), expected._values(), rtol=0, atol=0)


@pytest.mark.parametrize("index, padding_idx", [([0, 2, 0], 0), ([1, 1], 1), ([3], None), ([], None)])
def test_embedding_sparse_grad_drops_padding_rows_like_torch(index, padding_idx):
    weight, weight_torch = embedding_twins()
    edunn.nn.functional.embedding(edunn.tensor(index, dtype=edunn.int64), weight, padding_idx=padding_idx,
                                  sparse=True).sum().backward()
    torch.nn.functional.embedding(torch.tensor(index, dtype=torch.int64), weight_torch, padding_idx=padding_idx,
                                  sparse=True).sum().backward()
    assert weight.grad._indices().tolist() == weight_torch.grad._indices().tolist()
    assert tuple(weight.grad._values().shape) == tuple(weight_torch.grad._values().shape)
    assert weight.grad.is_coalesced() == weight_torch.grad.is_coalesced()


def test_embedding_module_with_sparse_true_gives_sparse_grad():
    layer = edunn.nn.Embedding(5, 2, sparse=True)
    layer(edunn.tensor([[0, 3], [3, 4]])).sum().backward()
    assert layer.weight.grad.is_sparse
    assert sorted(layer.weight.grad._indices().tolist()[0]) == [0, 3, 3, 4]


def test_embedding_sparse_rejects_scale_grad_by_freq_at_backward():
    weight, weight_torch = embedding_twins()
    out = edunn.nn.functional.embedding(edunn.tensor([1, 1]), weight, sparse=True, scale_grad_by_freq=True)
    out_torch = torch.nn.functional.embedding(torch.tensor([1, 1]), weight_torch, sparse=True, scale_grad_by_freq=True)
    same_error(lambda: out.sum().backward(), lambda: out_torch.sum().backward())
    assert weight.grad is None


def test_second_backward_adds_sparse_grads_into_same_object():
    weight, weight_torch = embedding_twins()
    for lib, w in ((edunn, weight), (torch, weight_torch)):
        lib.nn.functional.embedding(lib.tensor([1, 2, 1]), w, sparse=True).sum().backward()
    first = weight.grad
    for lib, w in ((edunn, weight), (torch, weight_torch)):
        (lib.nn.functional.embedding(lib.tensor([5, 1]), w, sparse=True) ** 2).sum().backward()
    assert weight.grad is first
    assert weight.grad._nnz() == weight_torch.grad._nnz()
    assert_close(weight.grad, weight_torch.grad, rtol=1e-15, atol=0)


def test_weight_used_twice_in_one_graph_gets_sum_of_sparse_grads():
    weight, weight_torch = embedding_twins()
    for lib, w in ((edunn, weight), (torch, weight_torch)):
        embed = lib.nn.functional.embedding
        (embed(lib.tensor([1]), w, sparse=True).sum() + (embed(lib.tensor([1, 3]), w, sparse=True) * 3).sum()
         ).backward()
    assert weight.grad.is_sparse
    assert_close(weight.grad, weight_torch.grad, rtol=1e-15, atol=0)


def test_dense_and_sparse_grads_in_one_graph_give_dense_grad():
    weight, weight_torch = embedding_twins()
    for lib, w in ((edunn, weight), (torch, weight_torch)):
        (lib.nn.functional.embedding(lib.tensor([2]), w, sparse=True).sum() + (w * w).sum()).backward()
    assert not weight.grad.is_sparse
    assert_close(weight.grad, weight_torch.grad, rtol=1e-15, atol=0)


def test_sparse_grad_after_dense_grad_accumulates_in_place():
    weight, weight_torch = embedding_twins()
    for lib, w in ((edunn, weight), (torch, weight_torch)):
        (w * w).sum().backward()
    dense = weight.grad
    for lib, w in ((edunn, weight), (torch, weight_torch)):
        lib.nn.functional.embedding(lib.tensor([2, 2]), w, sparse=True).sum().backward()
    assert weight.grad is dense
    assert_close(weight.grad, weight_torch.grad, rtol=1e-15, atol=0)


def test_dense_grad_after_sparse_grad_replaces_it_with_dense():
    weight, weight_torch = embedding_twins()
    for lib, w in ((edunn, weight), (torch, weight_torch)):
        lib.nn.functional.embedding(lib.tensor([2, 4]), w, sparse=True).sum().backward()
    sparse = weight.grad
    for lib, w in ((edunn, weight), (torch, weight_torch)):
        (w * w).sum().backward()
    assert weight.grad is not sparse
    assert not weight.grad.is_sparse
    assert_close(weight.grad, weight_torch.grad, rtol=1e-15, atol=0)


def test_hook_on_weight_receives_sparse_grad():
    weight, _ = embedding_twins()
    seen = []
    weight.register_hook(lambda grad: seen.append((grad.is_sparse, grad._nnz())))
    edunn.nn.functional.embedding(edunn.tensor([0, 5]), weight, sparse=True).sum().backward()
    assert seen == [(True, 2)]


def test_autograd_grad_returns_sparse_grad():
    weight, weight_torch = embedding_twins()
    (grad,) = edunn.autograd.grad(edunn.nn.functional.embedding(edunn.tensor([3, 3]), weight, sparse=True).sum(),
                                  weight)
    (expected,) = torch.autograd.grad(
        torch.nn.functional.embedding(torch.tensor([3, 3]), weight_torch, sparse=True).sum(), weight_torch)
    assert grad.is_sparse
    assert weight.grad is None
    assert_close(grad, expected, rtol=0, atol=0)


def test_zero_grad_without_set_to_none_empties_sparse_grad():
    weight, weight_torch = embedding_twins()
    optimizer = edunn.optim.SGD([weight], lr=0.1)
    torch_optimizer = torch.optim.SGD([weight_torch], lr=0.1)
    for lib, w in ((edunn, weight), (torch, weight_torch)):
        lib.nn.functional.embedding(lib.tensor([1, 2]), w, sparse=True).sum().backward()
    optimizer.zero_grad(set_to_none=False)
    torch_optimizer.zero_grad(set_to_none=False)
    assert weight.grad.is_sparse
    assert weight.grad._nnz() == weight_torch.grad._nnz() == 0


# ----------------------------------------------------------------------
# 其余部分：支持稀疏梯度的地方与 torch 结果相同，不支持的地方与 torch 一样报错
# ----------------------------------------------------------------------

@pytest.mark.parametrize("options", [{"lr": 0.1}, {"lr": 0.1, "momentum": 0.9}, {"lr": 0.05, "momentum": 0.5,
                                                                                 "nesterov": True}])
def test_sgd_with_sparse_grads_matches_torch(options):
    weight, weight_torch = embedding_twins()
    optimizer, torch_optimizer = edunn.optim.SGD([weight], **options), torch.optim.SGD([weight_torch], **options)
    rng = np.random.RandomState(31)
    for _ in range(20):
        batch = rng.randint(0, 6, size=3).tolist()
        for lib, w, opt in ((edunn, weight, optimizer), (torch, weight_torch, torch_optimizer)):
            opt.zero_grad()
            (lib.nn.functional.embedding(lib.tensor(batch), w, sparse=True) ** 2).sum().backward()
            opt.step()
    assert_close(weight, weight_torch, rtol=1e-12, atol=0)


def test_sgd_weight_decay_with_sparse_grad_fails_like_torch():
    weight, weight_torch = embedding_twins()
    for lib, w in ((edunn, weight), (torch, weight_torch)):
        lib.nn.functional.embedding(lib.tensor([1]), w, sparse=True).sum().backward()
    same_error(edunn.optim.SGD([weight], lr=0.1, weight_decay=0.01).step,
               torch.optim.SGD([weight_torch], lr=0.1, weight_decay=0.01).step)


def test_lbfgs_reads_sparse_grads_as_dense():
    weight, weight_torch = embedding_twins()
    results = []
    for lib, w in ((edunn, weight), (torch, weight_torch)):
        optimizer = lib.optim.LBFGS([w], max_iter=3)

        def closure():
            optimizer.zero_grad()
            loss = (lib.nn.functional.embedding(lib.tensor([0, 4]), w, sparse=True) ** 2).sum()
            loss.backward()
            return loss

        results.append(optimizer.step(closure).item())
    assert results[0] == pytest.approx(results[1], rel=1e-12)
    assert_close(weight, weight_torch, rtol=1e-10, atol=1e-12)  # 用到的两行收敛到 0


@pytest.mark.parametrize("clip", ["clip_grad_norm_", "clip_grad_value_"])
def test_grad_clipping_rejects_sparse_grads_with_not_implemented(clip):
    weight, weight_torch = embedding_twins()
    for lib, w in ((edunn, weight), (torch, weight_torch)):
        lib.nn.functional.embedding(lib.tensor([1]), w, sparse=True).sum().backward()
    with pytest.raises(NotImplementedError):
        getattr(torch.nn.utils, clip)([weight_torch], 0.1)
    with pytest.raises(NotImplementedError):
        getattr(edunn.nn.utils, clip)([weight], 0.1)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adadelta"])
def test_dense_optimizers_reject_sparse_grads_like_torch(name):
    weight, weight_torch = embedding_twins()
    for lib, w in ((edunn, weight), (torch, weight_torch)):
        lib.nn.functional.embedding(lib.tensor([1, 4]), w, sparse=True).sum().backward()
    before = weight.tolist()
    optimizer = getattr(edunn.optim, name)([weight])
    same_error(optimizer.step, getattr(torch.optim, name)([weight_torch]).step)
    assert weight.tolist() == before
    assert len(optimizer.state) == 0


# torch 的 Adagrad 在内部构造稀疏张量时发出这条警告，与 edunn 无关
@pytest.mark.filterwarnings("ignore:Sparse invariant checks are implicitly disabled")
@pytest.mark.parametrize("options", [{}, {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.5},
                                     {"lr": 0.05, "maximize": True, "eps": 1e-6}])
def test_adagrad_with_sparse_grads_matches_torch(options):
    from edunn.testing import check_sparse_optimizer

    assert check_sparse_optimizer(edunn.optim.Adagrad, torch.optim.Adagrad, options)


def test_adagrad_rejects_weight_decay_with_sparse_grads_and_changes_nothing():
    weight, weight_torch = embedding_twins()
    for lib, w in ((edunn, weight), (torch, weight_torch)):
        lib.nn.functional.embedding(lib.tensor([1]), w, sparse=True).sum().backward()
    optimizer = edunn.optim.Adagrad([weight], weight_decay=0.1)
    step_before = optimizer.state[weight]["step"].item()
    same_error(optimizer.step, torch.optim.Adagrad([weight_torch], weight_decay=0.1).step)
    assert optimizer.state[weight]["step"].item() == step_before
