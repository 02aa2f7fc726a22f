"""edunn.save / edunn.load：往返、格式、torch 互通、损坏文件、原子写入、不支持的对象。"""

import collections
import hashlib
import io
import json
import math
import os
import pickle
import random
import struct

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import edunn
from edunn import serialization
from edunn.serialization import CheckpointError
from edunn.testing import from_torch, to_torch

requires_cuda = pytest.mark.skipif(not edunn.cuda.is_available(), reason="needs a CUDA GPU and cupy")


# ---------------------------------------------------------------------------
# 辅助函数
# ---------------------------------------------------------------------------


def save_bytes(obj):
    buffer = io.BytesIO()
    edunn.save(obj, buffer)
    return buffer.getvalue()


def load_bytes(content, **kwargs):
    return edunn.load(io.BytesIO(content), **kwargs)


def bits(tensor):
    """张量的逐位内容：dtype、形状与原始字节。"""
    array = edunn._backend.to_numpy(tensor._array)
    return tensor.dtype, tuple(array.shape), np.ascontiguousarray(array).tobytes()


def assert_same_structure(actual, expected, path="obj"):
    """类型、键的类型与顺序、张量的位模式都相同。"""
    assert type(actual) is type(expected), f"{path}: {type(actual)} != {type(expected)}"
    if isinstance(expected, edunn.Tensor):
        assert bits(actual) == bits(expected), path
        assert actual.requires_grad == expected.requires_grad, path
        return
    if isinstance(expected, dict):
        assert [(type(k), k) for k in actual] == [(type(k), k) for k in expected], path
        for key in expected:
            assert_same_structure(actual[key], expected[key], f"{path}[{key!r}]")
        assert getattr(actual, "_metadata", None) == getattr(expected, "_metadata", None), path
        return
    if isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), path
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_same_structure(a, e, f"{path}[{i}]")
        return
    if isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(actual), path
        return
    assert actual == expected, path
    if isinstance(expected, float):
        assert math.copysign(1.0, actual) == math.copysign(1.0, expected), path


def split_file(content):
    """按模块文档描述的布局拆开文件：(版本, 头部 JSON, 数据区)。"""
    magic, version, header_size, data_size = struct.unpack_from("<8sIQQ", content)
    assert magic == b"EDUNNCKP"
    header = content[28:28 + header_size]
    data = content[28 + header_size:28 + header_size + data_size]
    return version, json.loads(header), data


def build_file(document, data, version=1):
    """按文档描述的布局重新拼出一个校验和正确的文件，用来构造内容有问题但未损坏的检查点。"""
    header = json.dumps(document).encode("utf-8")
    body = struct.pack("<8sIQQ", b"EDUNNCKP", version, len(header), len(data)) + header + data
    return body + hashlib.sha256(body).digest()


def sample_state():
    """一个像模块 + 优化器检查点的对象，覆盖所有支持的类型。"""
    edunn.manual_seed(0)
    model = collections.OrderedDict()
    model["fc.weight"] = edunn.randn(3, 4)
    model["fc.bias"] = edunn.randn(3)
    model["bn.num_batches_tracked"] = edunn.tensor(7)
    model._metadata = collections.OrderedDict([("", {"version": 1}), ("fc", {"version": 1})])
    optimizer = {
        "state": {0: {"step": edunn.tensor(3.0), "exp_avg": edunn.randn(3, 4)}, 1: {}},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False,
                          "maximize": False, "foreach": None, "params": [0, 1], "name": "默认"}],
    }
    return {"model": model, "optimizer": optimizer, "epoch": 5, "loss": float("inf")}


# ---------------------------------------------------------------------------
# 往返
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", edunn.all_dtypes, ids=lambda d: d.name)
@pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 3), (2, 0, 3), (2, 3, 4, 5)], ids=str)
def test_round_trip_is_bit_exact_for_all_dtypes(dtype, shape):
    rng = np.random.default_rng(sum(shape) + dtype.itemsize)
    raw = rng.integers(0, 256, size=int(np.prod(shape, dtype=np.int64)) * dtype.itemsize, dtype=np.uint8)
    if dtype is edunn.bool:
        raw = raw % 2
    array = raw.view(dtype.numpy).reshape(shape)
    tensor = edunn.from_numpy(array.copy())
    loaded = load_bytes(save_bytes(tensor))
    assert type(loaded) is edunn.Tensor
    assert bits(loaded) == bits(tensor)


def test_round_trip_keeps_float_special_values_bit_exact():
    payload_nan = np.array([0x7FC00001], dtype=np.uint32).view(np.float32)
    values = np.concatenate([payload_nan, np.array([np.inf, -np.inf, -0.0, 5e-45, 3.4e38], dtype=np.float32)])
    tensor = edunn.from_numpy(values)
    loaded = load_bytes(save_bytes(tensor))
    assert loaded.numpy().view(np.uint32).tolist() == values.view(np.uint32).tolist()


def test_round_trip_keeps_types_and_key_types():
    state = sample_state()
    state["keys"] = {None: 1, True: 2, 3: "three", 2.5: [], "": ()}
    state["scalars"] = [0, -1, 2**70, 1.0, -0.0, float("nan"), 1e-310, "", "中文键", None, True, False]
    state["nested"] = ([(), [[]], {}], collections.OrderedDict())
    loaded = load_bytes(save_bytes(state))
    assert_same_structure(loaded, state)


def test_round_trip_keeps_state_dict_metadata():
    state = sample_state()["model"]
    loaded = load_bytes(save_bytes(state))
    assert type(loaded) is collections.OrderedDict
    assert loaded._metadata == state._metadata
    assert type(loaded._metadata) is collections.OrderedDict


def test_ordered_dict_without_metadata_loads_without_attribute():
    loaded = load_bytes(save_bytes(collections.OrderedDict(a=1)))
    assert not hasattr(loaded, "_metadata")


def test_round_trip_restores_requires_grad_as_leaf():
    leaf = edunn.randn(3, requires_grad=True)
    computed = leaf * 2
    loaded_leaf, loaded_computed, plain = load_bytes(save_bytes([leaf, computed, edunn.ones(2)]))
    assert loaded_leaf.requires_grad and loaded_leaf.is_leaf
    assert loaded_computed.requires_grad and loaded_computed.is_leaf
    assert not plain.requires_grad


def test_requires_grad_after_load_matches_torch():
    leaf = torch.randn(3, requires_grad=True)
    buffer = io.BytesIO()
    torch.save([leaf, leaf * 2, torch.ones(2)], buffer)
    buffer.seek(0)
    expected = torch.load(buffer)
    edunn_leaf = from_torch(leaf)
    loaded = load_bytes(save_bytes([edunn_leaf, edunn_leaf * 2, edunn.ones(2)]))
    for t_value, e_value in zip(expected, loaded):
        assert e_value.requires_grad == t_value.requires_grad
        assert e_value.is_leaf == t_value.is_leaf


def test_same_tensor_object_loads_as_one_object():
    tensor = edunn.randn(4)
    loaded = load_bytes(save_bytes({"a": tensor, "b": [tensor]}))
    assert loaded["a"] is loaded["b"][0]


def test_shared_array_stored_once_and_shared():
    weight = edunn.randn(64, 64)
    tied = {"encoder.weight": weight.detach(), "decoder.weight": weight.detach()}
    content = save_bytes(tied)
    _, document, data = split_file(content)
    assert len(document["arrays"]) == 1
    assert len(data) == weight.nbytes

    loaded = load_bytes(content)
    assert loaded["encoder.weight"] is not loaded["decoder.weight"]
    loaded["encoder.weight"][0, 0] = 123.0
    assert loaded["decoder.weight"][0, 0].item() == 123.0


def test_views_are_saved_as_independent_copies():
    base = edunn.arange(12.0).reshape(3, 4)
    column = base[:, 1]
    loaded_base, loaded_column = load_bytes(save_bytes([base, column]))
    assert loaded_column.tolist() == column.tolist()
    loaded_base[0, 1] = -1.0
    assert loaded_column[0].item() == 1.0


def test_channels_last_strides_survive_round_trip():
    values = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 4, 5, 3)
    channels_last = edunn.from_numpy(values).permute(0, 3, 1, 2)
    content = save_bytes(channels_last)
    _, document, _ = split_file(content)
    assert document["arrays"][0]["dim_order"] == [0, 2, 3, 1]
    loaded = load_bytes(content)
    assert loaded.stride() == channels_last.stride()
    assert loaded.tolist() == channels_last.tolist()


def test_non_dense_tensor_saved_contiguous():
    expanded = edunn.arange(3.0).reshape(3, 1).expand(3, 4)
    flipped = edunn.from_numpy(np.arange(6.0)[::-2].copy())[::1]
    loaded_expanded, loaded_flipped = load_bytes(save_bytes([expanded, flipped]))
    assert loaded_expanded.tolist() == expanded.tolist()
    assert loaded_expanded.is_contiguous()
    assert loaded_flipped.tolist() == flipped.tolist()


def test_loaded_arrays_are_writable_and_independent():
    loaded = load_bytes(save_bytes([edunn.zeros(3), edunn.zeros(3)]))
    loaded[0].add_(1.0)
    assert loaded[1].tolist() == [0.0, 0.0, 0.0]


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2**80, max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
)
keys = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False), st.text(max_size=4))
tensors = st.builds(
    lambda values, dtype: edunn.tensor(values, dtype=dtype),
    st.lists(st.floats(-1e3, 1e3, width=32), max_size=6),
    st.sampled_from([edunn.float32, edunn.float64, edunn.float16, edunn.bfloat16, edunn.int64]),
)
structures = st.recursive(
    scalars | tensors,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(keys, children, max_size=4),
        st.dictionaries(keys, children, max_size=4).map(collections.OrderedDict),
    ),
    max_leaves=20,
)


@settings(derandomize=True, max_examples=150, deadline=None, database=None)
@given(structures)
def test_random_structures_round_trip_exactly(obj):
    assert_same_structure(load_bytes(save_bytes(obj)), obj)


# ---------------------------------------------------------------------------
# 文件格式与接口
# ---------------------------------------------------------------------------


def test_file_layout_matches_documented_format():
    content = save_bytes({"w": edunn.tensor([1.0, 2.0]), "n": 3})
    version, document, data = split_file(content)
    assert version == serialization.FORMAT_VERSION == 1
    assert content[-32:] == hashlib.sha256(content[:-32]).digest()
    assert set(document) == {"arrays", "tensors", "root"}
    assert document["arrays"] == [{"dtype": "float32", "shape": [2], "dim_order": [0], "device": "cpu",
                                   "offset": 0, "nbytes": 8}]
    assert document["tensors"] == [{"array": 0, "requires_grad": False, "class": "Tensor"}]
    assert document["root"] == {"type": "dict", "items": [
        [{"type": "str", "value": "w"}, {"type": "tensor", "index": 0}],
        [{"type": "str", "value": "n"}, {"type": "int", "value": 3}],
    ]}
    assert data == struct.pack("<2f", 1.0, 2.0)


def test_bfloat16_is_stored_as_little_endian_bit_patterns():
    tensor = edunn.tensor([1.0, -2.0], dtype=edunn.bfloat16)
    _, _, data = split_file(save_bytes(tensor))
    assert data == struct.pack("<2H", 0x3F80, 0xC000)


def test_paths_and_file_objects_accepted(tmp_path):
    state = sample_state()
    edunn.save(state, str(tmp_path / "a.ckpt"))
    edunn.save(state, tmp_path / "b.ckpt")
    with open(tmp_path / "c.ckpt", "wb") as handle:
        edunn.save(state, handle)
    for name in ("a.ckpt", "b.ckpt", "c.ckpt"):
        assert_same_structure(edunn.load(tmp_path / name), state)
        assert_same_structure(edunn.load(str(tmp_path / name)), state)
        with open(tmp_path / name, "rb") as handle:
            assert_same_structure(edunn.load(handle), state)


def test_load_reads_file_object_from_current_position():
    buffer = io.BytesIO()
    buffer.write(b"prefix")
    edunn.save([1, 2], buffer)
    buffer.seek(len(b"prefix"))
    assert edunn.load(buffer) == [1, 2]


def test_saved_file_gets_default_permissions(tmp_path):
    edunn.save(1, tmp_path / "x.ckpt")
    with open(tmp_path / "plain", "wb"):
        pass
    assert os.stat(tmp_path / "x.ckpt").st_mode == os.stat(tmp_path / "plain").st_mode


def test_load_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        edunn.load(tmp_path / "missing.ckpt")


def test_load_text_mode_file_raises_type_error(tmp_path):
    edunn.save(1, tmp_path / "x.ckpt")
    with open(tmp_path / "x.ckpt", encoding="latin-1") as handle:
        with pytest.raises(TypeError, match="binary mode"):
            edunn.load(handle)


@pytest.mark.parametrize("weights_only", [True, False, None])
def test_weights_only_values_give_same_result(weights_only):
    state = sample_state()
    assert_same_structure(load_bytes(save_bytes(state), weights_only=weights_only), state)


def test_weights_only_rejects_non_bool():
    with pytest.raises(TypeError, match="weights_only"):
        load_bytes(save_bytes(1), weights_only="yes")


# ---------------------------------------------------------------------------
# map_location
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("map_location", ["cpu", edunn.device("cpu"), {"cpu": "cpu"}, {}])
def test_map_location_to_cpu_forms(map_location):
    loaded = load_bytes(save_bytes([edunn.ones(2)]), map_location=map_location)
    assert loaded[0].device == edunn.device("cpu")
    assert loaded[0].tolist() == [1.0, 1.0]


def test_map_location_callable_receives_cpu_tensor_and_location():
    seen = []

    def record(tensor, location):
        seen.append((tensor.tolist(), str(tensor.device), location))
        return None

    loaded = load_bytes(save_bytes(edunn.tensor([1.0, 2.0])), map_location=record)
    assert seen == [([1.0, 2.0], "cpu", "cpu")]
    assert loaded.tolist() == [1.0, 2.0]


def test_map_location_callable_result_replaces_tensor():
    loaded = load_bytes(save_bytes(edunn.tensor([1.0, 2.0])), map_location=lambda tensor, location: tensor * 10)
    assert loaded.tolist() == [10.0, 20.0]


def test_map_location_callable_with_wrong_return_type_raises():
    with pytest.raises(TypeError, match="must return an edunn Tensor or None, got int"):
        load_bytes(save_bytes(edunn.ones(1)), map_location=lambda tensor, location: 3)


def test_map_location_of_unsupported_type_raises():
    with pytest.raises(TypeError, match="map_location must be"):
        load_bytes(save_bytes(edunn.ones(1)), map_location=3.5)


def cuda_checkpoint():
    _, document, data = split_file(save_bytes([edunn.tensor([1.0, 2.0])]))
    document["arrays"][0]["device"] = "cuda:0"
    return build_file(document, data)


def test_cuda_checkpoint_maps_to_cpu():
    for map_location in ("cpu", {"cuda:0": "cpu"}, edunn.device("cpu")):
        loaded = load_bytes(cuda_checkpoint(), map_location=map_location)
        assert loaded[0].device == edunn.device("cpu")
        assert loaded[0].tolist() == [1.0, 2.0]


@pytest.mark.skipif(edunn.cuda.is_available(), reason="checks the message shown without a GPU")
def test_cuda_checkpoint_without_gpu_asks_for_map_location():
    with pytest.raises(RuntimeError, match="map_location='cpu'") as info:
        load_bytes(cuda_checkpoint())
    assert "CUDA device but edunn.cuda.is_available() is False" in str(info.value)


@pytest.mark.cuda
@requires_cuda
def test_cuda_round_trip_keeps_device_and_maps_back():
    tensor = edunn.tensor([1.0, 2.0], device="cuda")
    content = save_bytes({"w": tensor})
    assert load_bytes(content)["w"].device == edunn.device("cuda:0")
    on_cpu = load_bytes(content, map_location="cpu")["w"]
    assert on_cpu.device == edunn.device("cpu")
    assert on_cpu.tolist() == [1.0, 2.0]
    on_gpu = load_bytes(save_bytes({"w": edunn.ones(2)}), map_location="cuda:0")["w"]
    assert on_gpu.device == edunn.device("cuda:0")


# ---------------------------------------------------------------------------
# 与 torch 互通
# ---------------------------------------------------------------------------


def test_torch_state_dict_round_trip_bit_exact(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 6 * 6, 2))
    model(torch.randn(2, 3, 8, 8))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.randn(2, 3, 8, 8)).sum().backward()
    optimizer.step()
    expected = {"model": model.state_dict(), "optimizer": optimizer.state_dict()}

    edunn.save(from_torch(expected), tmp_path / "converted.ckpt")
    back = to_torch(edunn.load(tmp_path / "converted.ckpt"))

    assert list(back["model"]) == list(expected["model"])
    for key, value in expected["model"].items():
        assert back["model"][key].dtype == value.dtype
        assert torch.equal(back["model"][key], value), key
    assert back["optimizer"]["param_groups"] == expected["optimizer"]["param_groups"]
    assert list(back["optimizer"]["state"]) == list(expected["optimizer"]["state"])
    for index, state in expected["optimizer"]["state"].items():
        for name, value in state.items():
            assert torch.equal(back["optimizer"]["state"][index][name], value), (index, name)
    model.load_state_dict(back["model"])
    optimizer.load_state_dict(back["optimizer"])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64,
                                   torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool])
def test_torch_tensor_of_each_dtype_survives_edunn_checkpoint(dtype):
    torch.manual_seed(1)
    source = (torch.randn(3, 5) * 50).to(dtype)
    back = to_torch(load_bytes(save_bytes(from_torch(source))))
    assert back.dtype == dtype
    assert torch.equal(back, source)


# ---------------------------------------------------------------------------
# 损坏、截断与别的格式
# ---------------------------------------------------------------------------


def test_truncation_at_every_length_raises_checkpoint_error():
    content = save_bytes(sample_state())
    for length in range(len(content)):
        with pytest.raises(CheckpointError):
            load_bytes(content[:length])


def test_truncated_file_message_says_truncated():
    content = save_bytes([edunn.ones(3)])
    with pytest.raises(CheckpointError, match="is truncated"):
        load_bytes(content[:-1])


def test_byte_flips_are_detected_at_every_position():
    content = save_bytes(sample_state())
    rng = random.Random(0)
    for position in range(len(content)):
        damaged = bytearray(content)
        damaged[position] ^= rng.randrange(1, 256)
        with pytest.raises(CheckpointError):
            load_bytes(bytes(damaged))


def test_random_multi_byte_damage_never_loads_silently():
    content = save_bytes(sample_state())
    rng = random.Random(1)
    for _ in range(500):
        damaged = bytearray(content)
        for _ in range(rng.randrange(1, 5)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        if rng.random() < 0.3:
            damaged = damaged[:rng.randrange(len(damaged) + 1)]
        damaged = bytes(damaged)
        if damaged == content:
            assert_same_structure(load_bytes(damaged), sample_state())
            continue
        with pytest.raises(CheckpointError):
            load_bytes(damaged)


def test_checksum_mismatch_message_names_checksum():
    content = bytearray(save_bytes([edunn.ones(3)]))
    content[-40] ^= 0xFF
    with pytest.raises(CheckpointError, match="SHA-256 checksum does not match"):
        load_bytes(bytes(content))


def test_extra_trailing_bytes_are_rejected():
    with pytest.raises(CheckpointError, match="extra bytes"):
        load_bytes(save_bytes(1) + b"\x00")


def test_newer_format_version_rejected():
    _, document, data = split_file(save_bytes(1))
    with pytest.raises(CheckpointError, match="format version 2"):
        load_bytes(build_file(document, data, version=2))


def test_empty_file_is_rejected():
    with pytest.raises(CheckpointError, match="is empty"):
        load_bytes(b"")


def test_torch_zip_checkpoint_is_rejected_with_conversion_hint(tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "model.pt")
    with pytest.raises(CheckpointError) as info:
        edunn.load(tmp_path / "model.pt")
    message = str(info.value)
    assert "not an edunn checkpoint" in message
    assert "torch.save checkpoint" in message
    assert "never unpickles" in message
    assert "edunn.testing.from_torch" in message


def test_legacy_torch_and_plain_pickle_files_are_rejected(tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(CheckpointError, match="pickle file"):
        edunn.load(tmp_path / "legacy.pt")
    with pytest.raises(CheckpointError, match="never unpickles"):
        load_bytes(pickle.dumps({"a": 1}))


def test_pickle_payload_is_never_executed(tmp_path):
    marker = tmp_path / "executed"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    with pytest.raises(CheckpointError):
        load_bytes(pickle.dumps(Exploit()))
    assert not marker.exists()


def test_numpy_and_safetensors_like_files_are_named():
    buffer = io.BytesIO()
    np.save(buffer, np.ones(3))
    with pytest.raises(CheckpointError, match="numpy .npy"):
        load_bytes(buffer.getvalue())
    header = b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    with pytest.raises(CheckpointError, match="safetensors"):
        load_bytes(struct.pack("<Q", len(header)) + header + b"\x00" * 4)


def test_text_file_is_rejected_as_foreign():
    with pytest.raises(CheckpointError, match="magic bytes"):
        load_bytes(b"hello, world\n")


# 校验和正确、但头部内容不合法的文件：只能来自有意构造或有缺陷的写入程序，加载仍须给出清楚的错误。


def valid_parts():
    return split_file(save_bytes({"w": edunn.tensor([1.0, 2.0]), "m": edunn.tensor([True, False])}))


def mutate(change):
    _, document, data = valid_parts()
    result = change(document, data)
    if isinstance(result, tuple):
        document, data = result
    return build_file(document, data)


@pytest.mark.parametrize("change, message", [
    (lambda d, b: d["arrays"][0].update(dtype="complex64"), "unknown dtype"),
    (lambda d, b: d["arrays"][0].update(dtype="Float"), "unknown dtype"),
    (lambda d, b: d["arrays"][0].update(shape=[3]), "declares 8 bytes"),
    (lambda d, b: d["arrays"][0].update(shape=[-2]), "invalid shape"),
    (lambda d, b: d["arrays"][0].update(shape=[2.0]), "invalid shape"),
    (lambda d, b: d["arrays"][0].update(dim_order=[1]), "invalid dim_order"),
    (lambda d, b: d["arrays"][0].update(offset=100), "outside the data section"),
    (lambda d, b: d["arrays"][0].update(offset=-1), "outside the data section"),
    (lambda d, b: d["arrays"][0].update(nbytes=2**70, shape=[2**68]), "outside the data section"),
    (lambda d, b: d["arrays"][0].update(device=5), "invalid device"),
    (lambda d, b: d["arrays"][0].update(device="tpu"), "cannot restore a tensor to device 'tpu'"),
    (lambda d, b: d["arrays"][0].pop("nbytes"), "array record 0 is malformed"),
    (lambda d, b: d["tensors"][0].update(array=9), "array reference 9 is out of range"),
    (lambda d, b: d["tensors"][0].update(array="0"), "array reference '0' is out of range"),
    (lambda d, b: d["tensors"][0].update(requires_grad=1), "invalid requires_grad"),
    (lambda d, b: d["tensors"][1].update(requires_grad=True), "non-floating dtype bool"),
    (lambda d, b: d["tensors"][0].update(**{"class": "Module"}), "unknown class"),
    (lambda d, b: d["root"]["items"][0].__setitem__(1, {"type": "tensor", "index": 5}), "tensor reference 5"),
    (lambda d, b: d["root"].update(type="set"), "unknown node type 'set'"),
    (lambda d, b: d["root"].update(extra=1), "malformed node"),
    (lambda d, b: d["root"]["items"].append([{"type": "str", "value": "w"}, {"type": "none"}]), "appears twice"),
    (lambda d, b: d["root"]["items"].append([{"type": "list", "items": []}, {"type": "none"}]), "not a scalar"),
    (lambda d, b: d["root"]["items"].append([{"type": "str", "value": "x"}]), "malformed dict item"),
    (lambda d, b: d.update(root={"type": "int", "value": 1.5}), "int node contains 1.5"),
    (lambda d, b: d.update(root={"type": "int", "value": True}), "int node contains True"),
    (lambda d, b: d.update(root={"type": "float", "value": 1.5}), "float node contains 1.5"),
    (lambda d, b: d.update(root={"type": "float", "value": "one"}), "float node contains 'one'"),
    (lambda d, b: d.update(root={"type": "bool", "value": 0}), "bool node contains 0"),
    (lambda d, b: d.update(root={"type": "str", "value": None}), "str node contains None"),
    (lambda d, b: d.update(root=[]), "malformed node"),
    (lambda d, b: d.pop("tensors"), "exactly the fields"),
    (lambda d, b: (d, b[:8] + b"\x02" + b[9:]), "bytes other than 0 and 1"),
])
def test_inconsistent_header_raises_checkpoint_error(change, message):
    with pytest.raises(CheckpointError, match=message):
        load_bytes(mutate(change))


def raw_header_file(header):
    body = struct.pack("<8sIQQ", b"EDUNNCKP", 1, len(header), 0) + header
    return body + hashlib.sha256(body).digest()


@pytest.mark.parametrize("header", [
    b"\xff\xfe",
    b"{not json",
    b'{"arrays": [], "tensors": [], "root": {"type": "float", "value": NaN}}',
    b"[" * 100000 + b"]" * 100000,
])
def test_unparsable_header_raises_checkpoint_error(header):
    with pytest.raises(CheckpointError, match="header"):
        load_bytes(raw_header_file(header))


def test_deeply_nested_structure_raises_checkpoint_error():
    node = {"type": "none"}
    text = json.dumps(node)
    for _ in range(5000):
        text = '{"type":"list","items":[' + text + "]}"
    header = ('{"arrays":[],"tensors":[],"root":' + text + "}").encode()
    with pytest.raises(CheckpointError, match="nested too deeply|not valid JSON"):
        load_bytes(raw_header_file(header))


def json_values():
    return st.recursive(
        st.none() | st.booleans() | st.integers(-3, 10) | st.floats(allow_nan=False) | st.text(max_size=6),
        lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
        max_leaves=6,
    )


@settings(derandomize=True, max_examples=300, deadline=None, database=None)
@given(st.data())
def test_random_header_edits_never_crash(data):
    _, document, payload = split_file(save_bytes(sample_state()))

    def containers(value):
        if isinstance(value, dict):
            yield value
            for child in value.values():
                yield from containers(child)
        elif isinstance(value, list):
            yield value
            for child in value:
                yield from containers(child)

    candidates = [c for c in containers(document) if c]
    target = data.draw(st.sampled_from(candidates))
    key = data.draw(st.sampled_from(list(target) if isinstance(target, dict) else list(range(len(target)))))
    target[key] = data.draw(json_values())
    try:
        load_bytes(build_file(document, payload))
    except CheckpointError:
        pass


# ---------------------------------------------------------------------------
# 原子写入
# ---------------------------------------------------------------------------


def leftover_files(directory):
    return sorted(name for name in os.listdir(directory) if name != "model.ckpt")


@pytest.mark.parametrize("where", ["data", "fsync", "replace"])
def test_failed_write_keeps_original_file(tmp_path, monkeypatch, where):
    target = tmp_path / "model.ckpt"
    edunn.save({"version": "old"}, target)
    original = target.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("simulated disk failure")

    if where == "data":
        def failing_chunks(self):
            yield b"partial"
            fail()
        monkeypatch.setattr(serialization._Encoder, "data_chunks", failing_chunks)
    elif where == "fsync":
        monkeypatch.setattr(serialization.os, "fsync", fail)
    else:
        monkeypatch.setattr(serialization.os, "replace", fail)

    with pytest.raises(OSError, match="simulated disk failure"):
        edunn.save({"version": "new", "w": edunn.ones(1000)}, target)
    assert target.read_bytes() == original
    assert leftover_files(tmp_path) == []


def test_interrupted_write_cleans_up_temporary(tmp_path, monkeypatch):
    def interrupted_chunks(self):
        raise KeyboardInterrupt
        yield  # pragma: no cover

    monkeypatch.setattr(serialization._Encoder, "data_chunks", interrupted_chunks)
    with pytest.raises(KeyboardInterrupt):
        edunn.save({"w": edunn.ones(3)}, tmp_path / "model.ckpt")
    assert os.listdir(tmp_path) == []


def test_successful_write_leaves_no_temporary(tmp_path):
    target = tmp_path / "model.ckpt"
    edunn.save(1, target)
    edunn.save(2, target)
    assert edunn.load(target) == 2
    assert leftover_files(tmp_path) == []


# ---------------------------------------------------------------------------
# 不支持的对象
# ---------------------------------------------------------------------------

Point = collections.namedtuple("Point", "x y")


@pytest.mark.parametrize("obj, type_name, path", [
    ({1, 2}, "set", "obj"),
    ({"state": {0: {"step": np.float64(1.0)}}}, "numpy.float64", "obj['state'][0]['step']"),
    ([edunn.ones(1), np.ones(2)], "numpy.ndarray", "obj[1]"),
    ({"p": Point(1, 2)}, "Point", "obj['p']"),
    ({"d": collections.defaultdict(list)}, "collections.defaultdict", "obj['d']"),
    ([object()], "object", "obj[0]"),
    ({"f": len}, "builtin_function_or_method", "obj['f']"),
    ({"t": torch.ones(1)}, "torch.Tensor", "obj['t']"),
])
def test_unsupported_object_names_type_and_path(tmp_path, obj, type_name, path):
    target = tmp_path / "model.ckpt"
    with pytest.raises(TypeError) as info:
        edunn.save(obj, target)
    message = str(info.value)
    assert type_name in message
    assert f"(at {path})" in message
    assert os.listdir(tmp_path) == []


def test_unsupported_dict_key_names_key_and_container(tmp_path):
    with pytest.raises(TypeError, match=r"dict key of type tuple \(key \(1, 2\) in obj\['groups'\]\)"):
        edunn.save({"groups": {(1, 2): 3}}, tmp_path / "model.ckpt")
    assert os.listdir(tmp_path) == []


def test_unsupported_object_leaves_existing_file_and_buffer_untouched(tmp_path):
    target = tmp_path / "model.ckpt"
    edunn.save(1, target)
    original = target.read_bytes()
    with pytest.raises(TypeError):
        edunn.save({"ok": edunn.ones(2), "bad": {1, 2}}, target)
    assert target.read_bytes() == original
    buffer = io.BytesIO()
    with pytest.raises(TypeError):
        edunn.save([edunn.ones(2), {1}], buffer)
    assert buffer.getvalue() == b""


def test_ordered_dict_with_unknown_attribute_is_rejected():
    state = collections.OrderedDict(a=1)
    state.note = "not stored"
    with pytest.raises(TypeError, match="attribute 'note'"):
        save_bytes(state)


def test_self_referencing_container_is_rejected():
    loop = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match=r"contains itself \(at obj\[1\]\)"):
        save_bytes(loop)


def test_repeated_container_is_saved_as_copies():
    shared = [1, 2]
    first, second = load_bytes(save_bytes([shared, shared]))
    assert first == second == [1, 2]
    assert first is not second
