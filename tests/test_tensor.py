"""张量本身的行为与 torch 对照：创建、dtype 推断与类型提升、repr、就地运算、梯度累加、钩子、梯度模式。"""

import numpy as np
import pytest
import torch

import edunn
from edunn.testing import assert_close, from_torch, to_torch

ALL_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]


def torch_dtype_name(t):
    return str(t.dtype).replace("torch.", "")


@pytest.fixture
def default_float64():
    """在测试期间把默认浮点类型换成 float64，结束后两个库都恢复为 float32。"""
    edunn.set_default_dtype(edunn.float64)
    torch.set_default_dtype(torch.float64)
    yield
    edunn.set_default_dtype(edunn.float32)
    torch.set_default_dtype(torch.float32)


# ---------------------------------------------------------------------------
# 创建与 dtype 推断
# ---------------------------------------------------------------------------

TENSOR_DATA = [
    [1, 2, 3],
    [1.0, 2, 3],
    [True, False],
    [True, 2],
    [[1.5, -2.0], [3.0, 4.25]],
    7,
    -2.5,
    False,
    [],
    np.array([1.5, 2.5]),
    np.array([1, 2], dtype=np.int32),
    np.array([1, 2], dtype=np.uint8),
    np.array([1.0, 2.0], dtype=np.float32),
    np.array([1.0, 2.0], dtype=np.float16),
    np.float64(1.25),
    np.int16(3),
    np.array(True),
]


@pytest.mark.parametrize("data", TENSOR_DATA, ids=repr)
def test_tensor_infers_dtype_like_torch(data):
    ours = edunn.tensor(data)
    theirs = torch.tensor(data)
    assert ours.dtype.name == torch_dtype_name(theirs)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("data", [[1.5, 2.0], 3.0, [1, 2.5]], ids=repr)
def test_tensor_uses_default_dtype_for_python_floats(data, default_float64):
    assert edunn.tensor(data).dtype is edunn.float64
    assert torch.tensor(data).dtype is torch.float64


def test_set_default_dtype_changes_creation_functions(default_float64):
    for name in ["zeros", "ones", "rand", "randn", "empty"]:
        assert getattr(edunn, name)(2).dtype is edunn.float64, name
    assert edunn.arange(0.0, 1.0, 0.5).dtype is edunn.float64
    assert edunn.linspace(0, 1, 3).dtype is edunn.float64
    assert edunn.full((2,), 1.5).dtype is edunn.float64
    assert edunn.get_default_dtype() is edunn.float64


def test_default_dtype_is_float32():
    assert edunn.get_default_dtype() is edunn.float32
    assert edunn.zeros(1).dtype is edunn.float32
    assert edunn.full((1,), 2).dtype is edunn.int64
    assert edunn.full((1,), True).dtype is edunn.bool
    assert edunn.arange(3).dtype is edunn.int64


def test_set_default_dtype_rejects_integer_types():
    with pytest.raises(TypeError, match="floating-point"):
        edunn.set_default_dtype(edunn.int64)
    assert edunn.get_default_dtype() is edunn.float32


def test_tensor_copies_its_input():
    source = np.array([1.0, 2.0])
    t = edunn.tensor(source)
    source[0] = 100.0
    assert t.tolist() == [1.0, 2.0]


def test_from_numpy_shares_memory():
    source = np.array([1.0, 2.0])
    t = edunn.from_numpy(source)
    source[0] = 100.0
    assert t.tolist() == [100.0, 2.0]
    assert t.dtype is edunn.float64


# ---------------------------------------------------------------------------
# 类型提升
# ---------------------------------------------------------------------------

def _pair(kind, dtype_name, library):
    """kind: "dim"（一维张量）或 "zero"（零维张量）。"""
    values = [1] if kind == "dim" else 1
    dtype = getattr(library, dtype_name)
    return library.tensor(values, dtype=dtype)


@pytest.mark.parametrize("kinds", [("dim", "dim"), ("dim", "zero"), ("zero", "dim"), ("zero", "zero")])
@pytest.mark.parametrize("left", ALL_DTYPES)
def test_result_type_matches_torch_for_all_tensor_pairs(left, kinds):
    for right in ALL_DTYPES:
        ours = edunn.result_type(_pair(kinds[0], left, edunn), _pair(kinds[1], right, edunn))
        theirs = torch.result_type(_pair(kinds[0], left, torch), _pair(kinds[1], right, torch))
        assert ours.name == str(theirs).replace("torch.", ""), (left, right)


@pytest.mark.parametrize("scalar", [True, 2, 2.5], ids=["bool", "int", "float"])
@pytest.mark.parametrize("kind", ["dim", "zero"])
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_result_type_with_python_scalar(dtype, kind, scalar):
    ours = edunn.result_type(_pair(kind, dtype, edunn), scalar)
    theirs = torch.result_type(_pair(kind, dtype, torch), scalar)
    assert ours.name == str(theirs).replace("torch.", "")


@pytest.mark.parametrize("left", ALL_DTYPES)
def test_mul_result_dtype_and_value_follow_promotion(left):
    for right in ALL_DTYPES:
        ours = _pair("dim", left, edunn) * _pair("zero", right, edunn)
        theirs = _pair("dim", left, torch) * _pair("zero", right, torch)
        assert ours.dtype.name == torch_dtype_name(theirs), (left, right)
        assert ours.tolist() == theirs.tolist()


def test_promote_types_and_can_cast_match_torch():
    for a in ALL_DTYPES:
        for b in ALL_DTYPES:
            ours = edunn.promote_types(getattr(edunn, a), getattr(edunn, b))
            assert ours.name == str(torch.promote_types(getattr(torch, a), getattr(torch, b))).replace("torch.", "")
            assert edunn.can_cast(getattr(edunn, a), getattr(edunn, b)) == torch.can_cast(getattr(torch, a),
                                                                                          getattr(torch, b))


def test_integer_division_gives_default_float():
    assert (edunn.tensor([3]) / 2).dtype is edunn.float32
    assert (edunn.tensor([3]) / 2).tolist() == [1.5]
    assert (edunn.tensor([3]) / edunn.tensor([2])).dtype is edunn.float32


# ---------------------------------------------------------------------------
# arange / linspace / *_like / 随机数
# ---------------------------------------------------------------------------

ARANGE_ARGS = [(5,), (2, 9), (0, 1, 0.1), (1, 4, 0.5), (-1, 1, 0.3), (10, 0, -3), (0.5, 3), (0, 10, 3),
               (-2.5, 2.5, 0.25), (0, 1, 1 / 3), (0.5, 3.7), (-1.5, 2.2, 1), (0, 10, 2.9)]


@pytest.mark.parametrize("args", ARANGE_ARGS, ids=repr)
@pytest.mark.parametrize("dtype", [None, "float64", "float32", "int64"])
def test_arange_values_match_torch(args, dtype):
    kwargs = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    try:
        theirs = torch.arange(*args, **kwargs)
    except ValueError as error:  # 整数类型把 0.5 之类的步长截断成 0
        with pytest.raises(ValueError, match=str(error)):
            edunn.arange(*args, **({} if dtype is None else {"dtype": getattr(edunn, dtype)}))
        return
    ours = edunn.arange(*args, **({} if dtype is None else {"dtype": getattr(edunn, dtype)}))
    assert ours.dtype.name == torch_dtype_name(theirs)
    # NOTE: torch 2.13 的 float64 arange 在末位上与 start + i * step 可能相差 1 ulp（其 CPU 内核的
    # 舍入方式无法从 Python 复现），float64 因此留 1e-15 的相对误差；其余类型要求逐位相等。
    tolerance = 1e-15 if ours.dtype is edunn.float64 else 0.0
    assert_close(ours, theirs, rtol=tolerance, atol=tolerance)


LINSPACE_ARGS = [(0, 1, 5), (0, 1, 7), (-3.5, 2, 10), (2, -2, 9), (0, 1, 1), (0, 1, 0), (1e-3, 1e3, 11), (0, 10, 2)]


@pytest.mark.parametrize("args", LINSPACE_ARGS, ids=repr)
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_linspace_values_match_torch(args, dtype):
    theirs = torch.linspace(*args, dtype=getattr(torch, dtype))
    ours = edunn.linspace(*args, dtype=getattr(edunn, dtype))
    assert ours.dtype.name == dtype
    assert_close(ours, theirs, rtol=0, atol=0)


def test_linspace_matches_torch_on_random_ranges():
    rng = np.random.default_rng(0)
    for _ in range(300):
        start, end = (rng.standard_normal(2) * 10.0 ** rng.integers(-3, 4)).tolist()
        steps = int(rng.integers(2, 60))
        assert_close(edunn.linspace(start, end, steps), torch.linspace(start, end, steps), rtol=0, atol=0)


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"])
def test_like_functions_copy_shape_dtype_device(name):
    source = edunn.ones(2, 3, dtype=edunn.float64)
    out = getattr(edunn, name)(source)
    assert out.shape == (2, 3)
    assert out.dtype is edunn.float64
    assert out.device == source.device
    assert getattr(edunn, name)(source, dtype=edunn.float32).dtype is edunn.float32


def test_like_functions_values():
    source = edunn.ones(2, 3)
    assert edunn.zeros_like(source).tolist() == [[0.0] * 3] * 2
    assert edunn.ones_like(source).tolist() == [[1.0] * 3] * 2
    assert edunn.full_like(source, 7).tolist() == [[7.0] * 3] * 2
    assert edunn.full_like(source, 7).dtype is edunn.float32
    ints = edunn.randint_like(edunn.zeros(50, dtype=edunn.int64), 3, 6)
    assert ints.dtype is edunn.int64
    assert set(ints.tolist()) <= {3, 4, 5}


def test_manual_seed_makes_random_streams_reproducible():
    edunn.manual_seed(1234)
    first = [edunn.rand(3).tolist(), edunn.randn(2, 2).tolist(), edunn.randint(0, 10, (4,)).tolist(),
             edunn.randperm(5).tolist()]
    edunn.manual_seed(1234)
    second = [edunn.rand(3).tolist(), edunn.randn(2, 2).tolist(), edunn.randint(0, 10, (4,)).tolist(),
              edunn.randperm(5).tolist()]
    edunn.manual_seed(4321)
    other = edunn.rand(3).tolist()
    assert first == second
    assert other != first[0]


def test_random_values_lie_in_their_ranges():
    edunn.manual_seed(0)
    uniform = edunn.rand(1000)
    assert uniform.min().item() >= 0.0
    assert uniform.max().item() < 1.0
    ints = edunn.randint(-3, 3, (1000,))
    assert set(ints.tolist()) == {-3, -2, -1, 0, 1, 2}
    assert sorted(edunn.randperm(6).tolist()) == list(range(6))
    normal = edunn.randn(20000, dtype=edunn.float64)
    assert abs(normal.mean().item()) < 0.05
    assert abs(normal.std().item() - 1.0) < 0.05


# ---------------------------------------------------------------------------
# repr
# ---------------------------------------------------------------------------

REPR_CASES = [
    "L.tensor([1, 2, 3])", "L.tensor(5)", "L.tensor(True)", "L.tensor([True, False])", "L.tensor([-1, 200000])",
    "L.tensor([1.5, 2.25, -3.125])", "L.tensor([1., 2., 3.])", "L.tensor(2.)", "L.tensor(-0.5)",
    "L.tensor([1e-5, 1.0])", "L.tensor([1e9, 1.0])", "L.tensor([123456789.0, 1.5])", "L.tensor([0.0001, 0.5])",
    "L.tensor([1e10, 2e10])", "L.tensor([2e8, 3e8])", "L.tensor(1e-5)", "L.tensor(12345678.9)", "L.tensor([1e20])",
    "L.tensor([1e-3, 1e2])", "L.tensor([1e-3, 1e0])", "L.tensor([0.1, 0.25, 100.5])", "L.tensor([-0.0, 1.0])",
    "L.tensor([float('nan'), 1.0])", "L.tensor([float('inf'), -float('inf'), 1.])", "L.tensor([0., float('inf')])",
    "L.tensor([float('nan'), 1.5])", "L.tensor(float('inf'))", "L.tensor([[float('nan'), 2.5], [1e-7, 3.]])",
    "L.tensor([])", "L.zeros(0, 3)", "L.zeros(2, 0, 3)", "L.zeros(0, dtype=L.int64)", "L.zeros(0, dtype=L.bool)",
    "L.zeros(0, dtype=L.float64)",
    "L.arange(6.).reshape(2, 3)", "L.arange(24).reshape(2, 3, 4)", "L.arange(24.).reshape(2, 3, 4) / 7",
    "L.tensor([[1.5, -20.25], [3., 4.]])", "L.linspace(0, 1, 30)", "L.linspace(-100, 100, 40).reshape(4, 10)",
    "L.tensor([3.14159265, 2.718281828, 1.41421356])", "L.arange(17) / 10", "L.arange(30).reshape(3, 10) * 12345",
    "L.arange(2000.)", "L.arange(2000)", "L.arange(3000.).reshape(30, 100)", "L.arange(1200) > 600",
    "L.arange(2400.).reshape(2, 30, 40)",
    "L.tensor([1.5, 2.], dtype=L.float64)", "L.tensor([1.5, 2.], dtype=L.float16)",
    "L.tensor([1.5, 2.], dtype=L.bfloat16)", "L.tensor([65504., 1e-3], dtype=L.float16)",
    "L.tensor([1, 2], dtype=L.int32)", "L.tensor([1, 2], dtype=L.uint8)", "L.tensor([1, 2], dtype=L.int16)",
    "L.tensor([1, 2], dtype=L.int8)",
    "L.tensor([1.5, 2.], requires_grad=True)", "L.tensor([1.5, 2.], dtype=L.float64, requires_grad=True)",
    "L.tensor([1.5, 2.], requires_grad=True) * 2", "L.tensor([1.5, 2.], requires_grad=True).sum()",
    "L.tensor([1.5, 2.], requires_grad=True).exp()", "L.tensor([1.5, 2.], requires_grad=True)[0]",
    "L.tensor([[1.5, 2.]], requires_grad=True).t()", "L.tensor([1.5, 2.], requires_grad=True).mean()",
    "L.tensor([1.5, 2.], requires_grad=True).max()", "L.tensor([1.5, 2.], requires_grad=True).double()",
]


@pytest.mark.parametrize("expression", REPR_CASES)
def test_repr_matches_torch(expression):
    theirs = repr(eval(expression, {"L": torch})).replace("torch.", "edunn.")
    ours = repr(eval(expression, {"L": edunn}))
    assert ours == theirs


def test_repr_under_float64_default_hides_float64(default_float64):
    for expression in ["L.tensor([1.5, 2.])", "L.tensor([1.5], dtype=L.float32)", "L.zeros(0)"]:
        theirs = repr(eval(expression, {"L": torch})).replace("torch.", "edunn.")
        assert repr(eval(expression, {"L": edunn})) == theirs


def test_size_repr_and_numel():
    assert repr(edunn.zeros(2, 3).shape) == "edunn.Size([2, 3])"
    assert edunn.zeros(2, 3).shape == (2, 3)
    assert edunn.zeros(2, 3).shape.numel() == 6


# ---------------------------------------------------------------------------
# 就地运算与版本计数
# ---------------------------------------------------------------------------

INPLACE = [
    ("add_", lambda L, t, o: t.add_(o, alpha=2)),
    ("sub_", lambda L, t, o: t.sub_(o)),
    ("mul_", lambda L, t, o: t.mul_(o)),
    ("div_", lambda L, t, o: t.div_(o)),
    ("addcmul_", lambda L, t, o: t.addcmul_(o, o, value=0.5)),
    ("addcdiv_", lambda L, t, o: t.addcdiv_(o, o + 3, value=-2)),
    ("lerp_", lambda L, t, o: t.lerp_(o, 0.3)),
    ("lerp_high_weight", lambda L, t, o: t.lerp_(o, 0.9)),
    ("copy_", lambda L, t, o: t.copy_(o)),
    ("zero_", lambda L, t, o: t.zero_()),
    ("fill_", lambda L, t, o: t.fill_(2.5)),
    ("clamp_", lambda L, t, o: t.clamp_(-0.5, 0.5)),
    ("sqrt_", lambda L, t, o: t.abs_().sqrt_()),
    ("iadd", lambda L, t, o: t.__iadd__(o)),
    ("imul_scalar", lambda L, t, o: t.__imul__(3)),
    ("broadcast_add_", lambda L, t, o: t.add_(o[0])),
]


@pytest.mark.parametrize("name", [name for name, _ in INPLACE])
def test_inplace_op_value_and_version_match_torch(name):
    op = dict(INPLACE)[name]
    rng = np.random.default_rng(0)
    base, other = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    ours, theirs = edunn.tensor(base), torch.tensor(base)
    result = op(edunn, ours, edunn.tensor(other))
    op(torch, theirs, torch.tensor(other))
    assert result is ours
    assert_close(ours, theirs, rtol=1e-15, atol=0)
    assert ours._version == theirs._version


def test_lerp_uses_torch_formula_for_large_weight():
    # torch 在 weight >= 0.5 时算 end - (end - start) * (1 - weight)，末位与 start + weight * (end - start) 不同
    rng = np.random.default_rng(1)
    start, end = rng.standard_normal(1000).astype(np.float32), rng.standard_normal(1000).astype(np.float32)
    for weight in [0.1, 0.5, 0.9, 0.999]:
        ours = edunn.tensor(start).lerp(edunn.tensor(end), weight)
        theirs = torch.tensor(start).lerp(torch.tensor(end), weight)
        assert_close(ours, theirs, rtol=0, atol=0)


@pytest.mark.parametrize("expression", [
    "a.add(b, alpha=0.001)", "a.add(b, alpha=-0.3)", "a.sub(b, alpha=0.7)", "a.addcmul(b, c, value=-0.3)",
    "a.addcmul(b, c)", "a.addcdiv(b, c, value=0.001)", "a.lerp(b, 0.3)", "a.lerp(b, 0.9)",
    "a.mul(0.9).add(b, alpha=0.1)", "a.mul(0.999).addcmul(b, b, value=0.001)",
])
def test_float32_fused_ops_match_torch_bit_for_bit(expression):
    # torch 的 CPU 内核在 add(alpha)、sub(alpha)、addcmul、lerp 里用乘加指令（只舍入一次），
    # 优化器的更新式正是这些运算，逐位一致才能让多步训练的结果与 torch 完全相同
    rng = np.random.default_rng(5)
    arrays = {name: rng.standard_normal(20000).astype(np.float32) for name in "abc"}
    ours = eval(expression, {name: edunn.tensor(v) for name, v in arrays.items()})
    theirs = eval(expression, {name: torch.tensor(v) for name, v in arrays.items()})
    assert_close(ours, theirs, rtol=0, atol=0)


def test_views_share_version_counter():
    base = edunn.zeros(2, 3)
    view = base[0]
    reshaped = base.view(6)
    base.add_(1)
    assert view._version == base._version == reshaped._version == 1
    view.mul_(2)
    assert base._version == 2
    assert base.tolist() == [[2.0, 2.0, 2.0], [1.0, 1.0, 1.0]]


def test_inplace_on_non_leaf_records_gradient_like_torch():
    def run(L):
        x = L.tensor([1.0, -2.0, 3.0], dtype=L.float64, requires_grad=True)
        y = x * 2
        y.mul_(x)
        y.add_(x, alpha=3)
        y.clamp_(-5, 20)
        y.sum().backward()
        return y, x.grad

    (y_ours, g_ours), (y_theirs, g_theirs) = run(edunn), run(torch)
    assert_close(y_ours, y_theirs, rtol=1e-15, atol=0)
    assert_close(g_ours, g_theirs, rtol=1e-15, atol=0)
    assert y_ours.grad_fn.name() == y_theirs.grad_fn.name()


@pytest.mark.parametrize("method", ["zero_", "fill_"])
def test_zero_and_fill_on_non_leaf_stop_gradient(method):
    def run(L):
        x = L.tensor([1.0, -2.0], dtype=L.float64, requires_grad=True)
        y = x * 3
        getattr(y, method)(*([] if method == "zero_" else [4.0]))
        (y * x).sum().backward()
        return y, x.grad

    (y_ours, g_ours), (y_theirs, g_theirs) = run(edunn), run(torch)
    assert_close(y_ours, y_theirs)
    assert_close(g_ours, g_theirs)
    assert y_ours.grad_fn.name() == y_theirs.grad_fn.name()


def test_no_grad_inplace_keeps_leaf():
    w = edunn.ones(3, requires_grad=True)
    with edunn.no_grad():
        w.sub_(0.5 * edunn.ones(3))
        w.mul_(2)
    assert w.is_leaf
    assert w.requires_grad
    assert w.grad_fn is None
    assert w.tolist() == [1.0, 1.0, 1.0]
    assert w._version == 2


# ---------------------------------------------------------------------------
# 反向传播：.grad 累加、retain_graph、backward 的参数
# ---------------------------------------------------------------------------

def test_grad_accumulates_across_backward_calls():
    def run(L):
        x = L.tensor([1.0, 2.0], dtype=L.float64, requires_grad=True)
        (x * x).sum().backward()
        first = x.grad.clone()
        (x * 3).sum().backward()
        return first, x.grad

    (first_ours, total_ours), (first_theirs, total_theirs) = run(edunn), run(torch)
    assert_close(first_ours, first_theirs)
    assert_close(total_ours, total_theirs)


def test_retain_graph_allows_second_backward():
    def run(L):
        x = L.tensor([1.0, 2.0], dtype=L.float64, requires_grad=True)
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad

    assert_close(run(edunn), run(torch), rtol=1e-15, atol=0)


def test_backward_with_explicit_gradient():
    def run(L):
        x = L.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=L.float64, requires_grad=True)
        y = x.sin() * 2
        y.backward(L.tensor([[1.0, -1.0], [0.5, 2.0]], dtype=L.float64))
        return x.grad

    assert_close(run(edunn), run(torch), rtol=1e-15, atol=0)


def test_backward_inputs_limits_accumulation():
    def run(L):
        a = L.tensor([1.0, 2.0], requires_grad=True)
        b = L.tensor([3.0, 4.0], requires_grad=True)
        (a * b).sum().backward(inputs=[a])
        return a.grad, b.grad

    (a_ours, b_ours), (a_theirs, b_theirs) = run(edunn), run(torch)
    assert_close(a_ours, a_theirs)
    assert b_ours is None
    assert b_theirs is None


def test_grad_dtype_follows_leaf_through_casts():
    def run(L):
        x = L.tensor([1.0, 2.0], dtype=L.float32, requires_grad=True)
        y = x.double() * L.tensor([0.1, 0.2], dtype=L.float64)
        y.sum().backward()
        return y, x.grad

    (y_ours, g_ours), (y_theirs, g_theirs) = run(edunn), run(torch)
    assert y_ours.dtype is edunn.float64
    assert g_ours.dtype is edunn.float32
    assert_close(g_ours, g_theirs)
    assert y_ours.grad_fn.name() == y_theirs.grad_fn.name()


def test_is_leaf_and_requires_grad_propagation():
    x = edunn.ones(2, requires_grad=True)
    c = edunn.ones(2)
    y = x * c
    z = c * 2
    assert x.is_leaf
    assert c.is_leaf
    assert not y.is_leaf
    assert z.is_leaf
    assert y.requires_grad
    assert not z.requires_grad
    assert c.requires_grad_() is c
    assert c.requires_grad


def test_shared_subexpression_gradient_adds_paths():
    def run(L):
        x = L.tensor([0.5, -1.5, 2.0], dtype=L.float64, requires_grad=True)
        s = x.sigmoid()
        y = (s * s + s.exp() * x).sum()
        y.backward()
        return x.grad

    assert_close(run(edunn), run(torch), rtol=1e-14, atol=0)


# ---------------------------------------------------------------------------
# 钩子
# ---------------------------------------------------------------------------

def test_leaf_hook_sees_and_replaces_grad():
    def run(L):
        seen = []
        x = L.tensor([1.0, 2.0], requires_grad=True)
        handle = x.register_hook(lambda g: (seen.append(g.clone()), g * 10)[1])
        (x * x).sum().backward()
        handle.remove()
        (x * x).sum().backward()
        return seen, x.grad

    (seen_ours, grad_ours), (seen_theirs, grad_theirs) = run(edunn), run(torch)
    assert len(seen_ours) == len(seen_theirs) == 1
    assert_close(seen_ours[0], seen_theirs[0])
    assert_close(grad_ours, grad_theirs)


def test_non_leaf_hook_changes_upstream_gradient():
    def run(L):
        seen = []
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3

        def hook(g):
            seen.append(g.clone())
            return g + 1

        y.register_hook(hook)
        (y * y).sum().backward()
        with pytest.warns(UserWarning, match="not a leaf Tensor"):
            non_leaf_grad = y.grad
        return seen[0], x.grad, non_leaf_grad

    seen_ours, x_ours, y_ours = run(edunn)
    seen_theirs, x_theirs, y_theirs = run(torch)
    assert_close(seen_ours, seen_theirs)
    assert_close(x_ours, x_theirs)
    assert y_ours is None
    assert y_theirs is None


def test_retain_grad_keeps_non_leaf_grad():
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        y.retain_grad()
        (y * 2).sum().backward(retain_graph=True)
        (y * 3).sum().backward()
        return y.grad, y.retains_grad

    (grad_ours, flag_ours), (grad_theirs, flag_theirs) = run(edunn), run(torch)
    assert_close(grad_ours, grad_theirs)
    assert flag_ours is flag_theirs is True


def test_retain_grad_sees_grad_after_hooks_registered_before():
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        y.register_hook(lambda g: g * 2)
        y.retain_grad()
        y.sum().backward()
        return y.grad, x.grad

    (y_ours, x_ours), (y_theirs, x_theirs) = run(edunn), run(torch)
    assert_close(y_ours, y_theirs)
    assert_close(x_ours, x_theirs)


def test_post_accumulate_hook_sees_stored_grad():
    def run(L):
        calls = []
        w = L.tensor([1.0, -1.0], requires_grad=True)
        w.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.clone()))
        (w * 2).sum().backward()
        (w * 3).sum().backward()
        return calls

    ours, theirs = run(edunn), run(torch)
    assert len(ours) == len(theirs) == 2
    for a, b in zip(ours, theirs):
        assert_close(a, b)


# ---------------------------------------------------------------------------
# detach 与梯度模式
# ---------------------------------------------------------------------------

def test_detach_shares_storage_and_version():
    x = edunn.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad
    assert d.is_leaf
    assert d.grad_fn is None
    d.add_(1)
    assert x.tolist() == [2.0, 3.0]
    assert x._version == d._version == 1


def test_detach_cuts_gradient():
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = x * x.detach()
        y.sum().backward()
        return x.grad

    assert_close(run(edunn), run(torch))


@pytest.mark.parametrize("form", ["no_grad", "set_grad_enabled_false", "inference_mode"])
def test_grad_mode_context_managers_stop_recording(form):
    x = edunn.ones(2, requires_grad=True)
    manager = {"no_grad": edunn.no_grad, "set_grad_enabled_false": lambda: edunn.set_grad_enabled(False),
               "inference_mode": edunn.inference_mode}[form]()
    with manager:
        y = x * 2
        assert not edunn.is_grad_enabled()
        with edunn.enable_grad():
            z = x * 2
            assert edunn.is_grad_enabled()
    assert edunn.is_grad_enabled()
    assert not y.requires_grad
    assert y.grad_fn is None
    assert z.requires_grad
    assert z.grad_fn is not None


def test_grad_mode_decorators():
    @edunn.no_grad()
    def frozen(x):
        return x * 2

    @edunn.enable_grad()
    def recorded(x):
        return x * 2

    x = edunn.ones(2, requires_grad=True)
    assert not frozen(x).requires_grad
    with edunn.no_grad():
        assert recorded(x).requires_grad
    assert edunn.is_grad_enabled()


def test_set_grad_enabled_as_function_call():
    try:
        edunn.set_grad_enabled(False)
        assert not edunn.is_grad_enabled()
        assert not (edunn.ones(1, requires_grad=True) * 2).requires_grad
    finally:
        edunn.set_grad_enabled(True)
    assert edunn.is_grad_enabled()


def test_grad_mode_restored_after_exception():
    with pytest.raises(ValueError):
        with edunn.no_grad():
            raise ValueError("boom")
    assert edunn.is_grad_enabled()


# ---------------------------------------------------------------------------
# autograd.grad 与自定义 Function
# ---------------------------------------------------------------------------

def test_autograd_grad_returns_gradients_without_touching_grad():
    def run(L):
        a = L.tensor([1.0, 2.0], dtype=L.float64, requires_grad=True)
        b = L.tensor([0.5, -1.0], dtype=L.float64, requires_grad=True)
        out = (a * b).exp() + a
        grads = L.autograd.grad([out], [a, b], [L.tensor([1.0, 2.0], dtype=L.float64)])
        return grads, a.grad, b.grad

    (g_ours, a_ours, b_ours), (g_theirs, _, _) = run(edunn), run(torch)
    assert a_ours is None
    assert b_ours is None
    assert_close(list(g_ours), list(g_theirs), rtol=1e-15, atol=0)


def test_autograd_grad_allow_unused_and_materialize():
    a = edunn.ones(2, requires_grad=True)
    unused = edunn.ones(3, requires_grad=True)
    out = (a * 2).sum()
    ga, gu = edunn.autograd.grad(out, [a, unused], retain_graph=True, allow_unused=True)
    assert gu is None
    assert ga.tolist() == [2.0, 2.0]
    _, zeros = edunn.autograd.grad(out, [a, unused], materialize_grads=True)
    assert zeros.tolist() == [0.0, 0.0, 0.0]


def test_autograd_grad_result_is_writable():
    a = edunn.ones(2, 3, requires_grad=True)
    (g,) = edunn.autograd.grad(a.sum(), [a])
    g.add_(1)
    assert g.tolist() == [[2.0] * 3] * 2


def _make_custom_function(library):
    class ScaledExp(library.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            y = x.exp() * scale
            ctx.save_for_backward(y)
            ctx.scale = scale
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y, None

    return ScaledExp


def test_custom_function_matches_torch():
    def run(L):
        fn = _make_custom_function(L)
        x = L.tensor([0.5, -1.0, 2.0], dtype=L.float64, requires_grad=True)
        y = fn.apply(x, 3.0)
        (y * y).sum().backward()
        return y, x.grad

    (y_ours, g_ours), (y_theirs, g_theirs) = run(edunn), run(torch)
    assert_close(y_ours, y_theirs, rtol=1e-15, atol=0)
    assert_close(g_ours, g_theirs, rtol=1e-15, atol=0)
    assert y_ours.grad_fn.name() == y_theirs.grad_fn.name() == "ScaledExpBackward"
    assert y_ours.requires_grad
    assert not y_ours.is_leaf


def test_custom_function_forward_runs_without_recording():
    class Probe(edunn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.recorded = edunn.is_grad_enabled()
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = edunn.ones(2, requires_grad=True)
    y = Probe.apply(x)
    assert y.grad_fn.recorded is False
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


# ---------------------------------------------------------------------------
# 取值与转换
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("expression", ["L.tensor(2.5)", "L.tensor([7])", "L.tensor(True)",
                                        "L.tensor(1.5, dtype=L.float16)", "L.tensor(3, dtype=L.int8)",
                                        "L.tensor([[0.25]], dtype=L.float64)"])
def test_item_returns_python_number(expression):
    ours, theirs = eval(expression, {"L": edunn}).item(), eval(expression, {"L": torch}).item()
    assert type(ours) is type(theirs)
    assert ours == theirs


def test_tolist_matches_torch():
    for expression in ["L.arange(6).reshape(2, 3)", "L.tensor([[1.5, 2.0]])", "L.tensor(4.0)",
                       "L.tensor([True, False])", "L.tensor([0.1], dtype=L.float16)"]:
        assert eval(expression, {"L": edunn}).tolist() == eval(expression, {"L": torch}).tolist()


def test_numpy_shares_memory():
    t = edunn.zeros(3)
    array = t.numpy()
    array[0] = 5.0
    assert t.tolist() == [5.0, 0.0, 0.0]
    assert t.detach().numpy().dtype == np.float32


def test_to_dtype_device_and_copy():
    t = edunn.tensor([1.5, 2.5])
    assert t.to(edunn.float32) is t
    assert t.to("cpu") is t
    assert t.cpu() is t
    assert t.to(edunn.float64).dtype is edunn.float64
    assert t.to("cpu", edunn.int64).tolist() == [1, 2]
    assert t.to(edunn.zeros(1, dtype=edunn.float16)).dtype is edunn.float16
    copied = t.to(edunn.float32, copy=True)
    assert copied is not t
    copied.add_(1)
    assert t.tolist() == [1.5, 2.5]
    assert t.to(dtype=edunn.float64, device="cpu").dtype is edunn.float64
    assert t.double().dtype is edunn.float64
    assert t.half().dtype is edunn.float16
    assert t.long().dtype is edunn.int64
    assert t.int().dtype is edunn.int32
    assert t.bool().dtype is edunn.bool


def test_type_string_names_legacy_type():
    assert edunn.zeros(1).type() == "edunn.FloatTensor"
    assert torch.zeros(1).type() == "torch.FloatTensor"
    assert edunn.zeros(1, dtype=edunn.int64).type() == "edunn.LongTensor"


def test_bridge_round_trip_is_bit_exact():
    rng = np.random.default_rng(3)
    for dtype in ["float16", "bfloat16", "float32", "float64", "int32", "int64", "bool", "uint8"]:
        source = torch.tensor(rng.standard_normal(5) * 10).to(getattr(torch, dtype))
        ours = from_torch(source)
        assert ours.dtype.name == dtype
        back = to_torch(ours)
        assert back.dtype == source.dtype
        assert torch.equal(back, source)


@pytest.mark.cuda
def test_cuda_tensor_round_trip():
    t = edunn.tensor([1.0, 2.0], device="cuda")
    assert t.device == edunn.device("cuda", 0)
    assert t.is_cuda
    assert repr(t) == "tensor([1., 2.], device='cuda:0')"
    assert t.cpu().tolist() == [1.0, 2.0]
    x = edunn.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.device == x.device
    assert x.grad.cpu().tolist() == [2.0, 4.0]
