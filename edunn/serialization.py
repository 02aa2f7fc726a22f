"""``edunn.save`` / ``edunn.load``：不用 pickle 的检查点（checkpoint）格式。

为什么不用 pickle
-----------------
``torch.save`` 把对象交给 pickle；而 pickle 在加载时可以调用任意函数，一个恶意文件就能在
``load`` 里执行代码（torch 因此在 2.6 把 ``weights_only=True`` 设为默认）。edunn 干脆换一种
只能描述数据的格式：加载一个文件，最多得到张量、字典、列表这些值，绝不会执行文件里的任何东西。

能保存什么
----------
``Tensor``（以及 ``nn.Parameter``）、``dict``、``collections.OrderedDict``（连同模块
``state_dict`` 上的 ``_metadata`` 属性）、``list``、``tuple``、``int``、``float``、``bool``、
``str`` 和 ``None`` 任意嵌套——模块与优化器的 ``state_dict`` 正是由这些组成。字典的键可以是
``str``、``int``、``float``、``bool`` 或 ``None``（优化器的 ``state`` 以整数为键），键的类型原样保留；
``tuple`` 与 ``list`` 也区分保存。其余类型（包括 namedtuple、numpy 标量、其他 dict 子类）会在写入
任何字节之前被拒绝：``TypeError`` 说出类型和它在对象里的位置，例如 ``obj['state'][0]['step']``。

文件布局
--------
所有整数都是小端（little-endian）::

    偏移            长度   内容
    0               8     魔数 b"EDUNNCKP"
    8               4     格式版本，uint32，目前为 1
    12              8     头部长度 H，uint64
    20              8     数据区长度 D，uint64
    28              H     头部：UTF-8 编码的 JSON 文档
    28 + H          D     数据区：各数组的原始字节，首尾相接
    28 + H + D      32    前面全部字节的 SHA-256 校验和

头部 JSON 有三个字段：

- ``"arrays"``：每个数组一条记录 ``{"dtype", "shape", "dim_order", "device", "offset", "nbytes"}``。
  ``offset``/``nbytes`` 指向数据区中的一段字节；元素按小端存放（bfloat16 是 2 字节一组的位模式）。
  ``dim_order`` 是各维在内存中从外到内的顺序：行主序（C 顺序）为 ``[0, 1, 2, 3]``，
  channels_last 的 4 维张量为 ``[0, 2, 3, 1]``，加载后的步长（stride）与保存时相同。
  其他非连续的张量（切片、expand 的结果）先复制成连续的再保存。
- ``"tensors"``：每个张量对象一条记录 ``{"array", "requires_grad", "class"}``，``class`` 为
  ``"Tensor"`` 或 ``"Parameter"``。
- ``"root"``：被保存对象的结构。每个节点是带 ``"type"`` 的 JSON 对象::

      {"type": "none"}
      {"type": "bool",  "value": true}
      {"type": "int",   "value": 3}
      {"type": "float", "value": "0.1"}          # repr 字符串，精确往返，也能表示 inf/nan/-0.0
      {"type": "str",   "value": "weight"}
      {"type": "list",  "items": [节点, ...]}
      {"type": "tuple", "items": [节点, ...]}
      {"type": "dict",  "items": [[键节点, 值节点], ...]}
      {"type": "ordered_dict", "items": [...], "metadata": 节点或 null}
      {"type": "tensor", "index": 0}            # 指向 "tensors" 的第 0 条

共享与别名
----------
同一个张量对象出现多次时只存一次，加载后仍是同一个对象。不同的张量对象如果包着同一个数组
（例如共享权重的模块调用 ``state_dict()`` 后，两个键得到的两个 ``detach()`` 结果），数组只存一次，
加载后两个张量仍然共享内存。限制：只共享一部分内存的视图（切片、转置）各自保存成独立的副本，
加载后不再相互影响；同一个容器（list/dict）出现多次时也会被复制成独立的几份。

安全与完整性
------------
写入是原子的：先写同目录下的临时文件，``fsync`` 后用 ``os.replace`` 换到目标路径；任何一步出错，
临时文件都会被删除，原来的文件保持不变。读取时依次检查魔数、版本、长度与 SHA-256，再解析 JSON，
并逐项核对头部（dtype 名、形状与字节数是否吻合、偏移是否越界、引用是否存在），所以截断、
翻转的字节或别的格式的文件都会得到 ``CheckpointError``（``RuntimeError`` 的子类），而不是错误的数据。
torch 的 ``.pt`` 文件（zip 包或 pickle）会被认出来，并提示用 torch 加载后经 ``edunn.testing.from_torch``
转换。
"""

import collections
import hashlib
import json
import os
import secrets
import struct

import numpy as np

from . import _backend
from ._ops.memory_format import dense_dim_order
from ._tensor import Tensor

MAGIC = b"EDUNNCKP"
FORMAT_VERSION = 1
_PREAMBLE = struct.Struct("<8sIQQ")  # 魔数、版本、头部长度、数据区长度
_DIGEST_SIZE = hashlib.sha256().digest_size

_SUPPORTED = "Tensor, Parameter, dict, OrderedDict, list, tuple, int, float, bool, str and None"
_KEY_TYPES = (str, int, float, bool, type(None))


class CheckpointError(RuntimeError):
    """文件不是 edunn 检查点，或者已经截断、损坏。"""


# ---------------------------------------------------------------------------
# 保存
# ---------------------------------------------------------------------------


def _parameter_class():
    """``edunn.nn.Parameter``；nn 包不存在时返回 None（序列化不依赖 nn）。"""
    try:
        from .nn.parameter import Parameter
    except ImportError:
        return None
    return Parameter


def _dim_order(array):
    """返回 (各维在内存中由外到内的顺序, 按该顺序排成 C 连续的数组)；不稠密的数组先复制成行主序。"""
    order = dense_dim_order(array)
    if order is None:
        return list(range(array.ndim)), np.ascontiguousarray(array)
    return order, array.transpose(order)


class _Encoder:
    """把对象翻译成头部 JSON 的节点，同时收集要写入数据区的数组。"""

    def __init__(self):
        self.arrays = []  # 头部 "arrays" 的记录
        self.array_payloads = []  # 与 arrays 一一对应：按 dim_order 排好的 C 连续 numpy 数组
        self.tensors = []
        self._array_index = {}  # id(原数组) -> arrays 中的序号
        self._tensor_index = {}  # id(张量) -> tensors 中的序号
        self._keep_alive = []  # 防止 id() 在编码期间被新对象复用
        self._open_containers = set()
        self._data_size = 0
        self._parameter = _parameter_class()

    def encode(self, obj, path):
        kind = type(obj)
        if obj is None:
            return {"type": "none"}
        if kind is bool:
            return {"type": "bool", "value": obj}
        if kind is int:
            return {"type": "int", "value": obj}
        if kind is float:
            return {"type": "float", "value": repr(obj)}
        if kind is str:
            return {"type": "str", "value": obj}
        if isinstance(obj, Tensor):
            return {"type": "tensor", "index": self._encode_tensor(obj, path)}
        if kind in (list, tuple, dict, collections.OrderedDict):
            return self._encode_container(obj, path)
        raise TypeError(_unsupported_message(obj, path))

    def _encode_container(self, obj, path):
        if id(obj) in self._open_containers:
            raise ValueError(f"edunn.save cannot store a container that contains itself (at {path})")
        self._open_containers.add(id(obj))
        try:
            if isinstance(obj, (list, tuple)):
                items = [self.encode(item, f"{path}[{i}]") for i, item in enumerate(obj)]
                return {"type": type(obj).__name__, "items": items}
            items = []
            for key, value in obj.items():
                if type(key) not in _KEY_TYPES:
                    raise TypeError(
                        f"edunn.save cannot store a dict key of type {_type_name(key)} (key {key!r} in {path}); "
                        "supported key types: str, int, float, bool and None"
                    )
                items.append([self.encode(key, path), self.encode(value, f"{path}[{key!r}]")])
            if type(obj) is dict:
                return {"type": "dict", "items": items}
            return {"type": "ordered_dict", "items": items, "metadata": self._encode_metadata(obj, path)}
        finally:
            self._open_containers.discard(id(obj))

    def _encode_metadata(self, obj, path):
        attributes = dict(vars(obj))
        metadata = attributes.pop("_metadata", None)
        if attributes:
            name = next(iter(attributes))
            raise TypeError(
                f"edunn.save cannot store the attribute {name!r} of the OrderedDict at {path}; "
                "only the _metadata attribute of a state_dict is stored"
            )
        if metadata is None:
            return None
        return self.encode(metadata, f"{path}._metadata")

    def _encode_tensor(self, tensor, path):
        if id(tensor) in self._tensor_index:
            return self._tensor_index[id(tensor)]
        if type(tensor) is Tensor:
            class_name = "Tensor"
        elif self._parameter is not None and type(tensor) is self._parameter:
            class_name = "Parameter"
        else:
            raise TypeError(_unsupported_message(tensor, path))
        record = {
            "array": self._encode_array(tensor),
            "requires_grad": bool(tensor.requires_grad),
            "class": class_name,
        }
        self._keep_alive.append(tensor)
        self._tensor_index[id(tensor)] = len(self.tensors)
        self.tensors.append(record)
        return self._tensor_index[id(tensor)]

    def _encode_array(self, tensor):
        array = tensor._array
        if id(array) in self._array_index:
            return self._array_index[id(array)]
        order, physical = _dim_order(_backend.to_numpy(array))
        nbytes = int(physical.nbytes)
        self.arrays.append({
            "dtype": tensor.dtype.name,
            "shape": [int(n) for n in array.shape],
            "dim_order": order,
            "device": str(tensor.device),
            "offset": self._data_size,
            "nbytes": nbytes,
        })
        self.array_payloads.append(physical)
        self._keep_alive.append(array)
        self._data_size += nbytes
        self._array_index[id(array)] = len(self.arrays) - 1
        return self._array_index[id(array)]

    def header_bytes(self, root):
        header = {"arrays": self.arrays, "tensors": self.tensors, "root": root}
        return json.dumps(header, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")

    def data_chunks(self):
        for physical in self.array_payloads:
            itemsize = physical.dtype.itemsize
            # 按无符号整数的位模式写成小端，bfloat16、NaN 的载荷都逐位保留
            little = physical.view(f"u{itemsize}").astype(f"<u{itemsize}", copy=False)
            yield little.tobytes()


def _type_name(obj):
    kind = type(obj)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _unsupported_message(obj, path):
    return f"edunn.save cannot store an object of type {_type_name(obj)} (at {path}); supported types: {_SUPPORTED}"


def _write_checkpoint(handle, encoder, header):
    digest = hashlib.sha256()

    def write(chunk):
        digest.update(chunk)
        handle.write(chunk)

    write(_PREAMBLE.pack(MAGIC, FORMAT_VERSION, len(header), encoder._data_size))
    write(header)
    for chunk in encoder.data_chunks():
        write(chunk)
    handle.write(digest.digest())


def save(obj, f):
    """把 obj 写成 edunn 检查点；f 是路径（str 或 os.PathLike）或以二进制方式打开的可写文件对象。

    先完整检查 obj，遇到不支持的类型就抛 ``TypeError``，此时什么也没有写。写路径时是原子的：
    要么目标文件换成完整的新内容，要么保持原样。格式见本模块的说明。
    """
    encoder = _Encoder()
    root = encoder.encode(obj, "obj")
    header = encoder.header_bytes(root)

    if hasattr(f, "write"):
        _write_checkpoint(f, encoder, header)
        return
    _atomic_write(os.fspath(f), lambda handle: _write_checkpoint(handle, encoder, header))


def _atomic_write(path, write):
    """在 path 所在目录写临时文件，fsync 后 ``os.replace`` 到 path；出错时删除临时文件。"""
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(8)}.tmp")
    # O_EXCL 保证不会覆盖别人的文件；权限 0o666 再经 umask，与普通 open(path, "wb") 创建的文件相同
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    """让重命名本身也落盘；不支持打开目录的系统（Windows）上跳过。"""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# ---------------------------------------------------------------------------
# 加载
# ---------------------------------------------------------------------------

_TORCH_HINT = (
    "edunn never unpickles files, because unpickling can run arbitrary code. Load the file with "
    "torch.load(path, weights_only=True) and convert the result with edunn.testing.from_torch."
)


def _describe_foreign(content):
    """认出常见的其他格式，给出下一步怎么做。"""
    if content.startswith(b"PK\x03\x04"):
        return f"this looks like a torch.save checkpoint (a zip archive of pickled objects). {_TORCH_HINT}"
    if content[:1] == b"\x80" and content[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return f"this looks like a pickle file (for example a legacy torch.save checkpoint). {_TORCH_HINT}"
    if content.startswith(b"\x93NUMPY"):
        return "this looks like a numpy .npy file; load it with numpy.load and wrap it with edunn.from_numpy."
    if len(content) >= 9 and content[8:9] == b"{":
        return "this looks like a safetensors file; load it with the safetensors package and convert the tensors."
    return "it does not start with the edunn checkpoint magic bytes b'EDUNNCKP'."


def _split_checkpoint(content, name):
    """检查魔数、版本、长度与校验和，返回 (头部字节, 数据区 memoryview)。"""
    if len(content) < len(MAGIC) or not content.startswith(MAGIC):
        if not content:
            raise CheckpointError(f"{name} is empty, so it is not an edunn checkpoint")
        raise CheckpointError(f"{name} is not an edunn checkpoint: {_describe_foreign(content)}")
    if len(content) < _PREAMBLE.size:
        raise CheckpointError(
            f"{name} is truncated: it has {len(content)} bytes, fewer than the {_PREAMBLE.size}-byte preamble"
        )
    _, version, header_size, data_size = _PREAMBLE.unpack_from(content)
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{name} uses edunn checkpoint format version {version}, but this edunn reads only version "
            f"{FORMAT_VERSION}; the file is corrupted or was written by a newer edunn"
        )
    expected = _PREAMBLE.size + header_size + data_size + _DIGEST_SIZE
    if len(content) != expected:
        problem = "truncated" if len(content) < expected else "corrupted (it has extra bytes)"
        raise CheckpointError(
            f"{name} is {problem}: its preamble announces {expected} bytes, but the file has {len(content)}"
        )
    body = memoryview(content)[:-_DIGEST_SIZE]
    if hashlib.sha256(body).digest() != content[-_DIGEST_SIZE:]:
        raise CheckpointError(f"{name} is corrupted: its SHA-256 checksum does not match its contents")
    header_end = _PREAMBLE.size + header_size
    return bytes(body[_PREAMBLE.size:header_end]), body[header_end:]


def _reject_constant(name):
    raise ValueError(f"invalid JSON constant {name}")


def _parse_header(header, name):
    try:
        document = json.loads(header.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise CheckpointError(f"{name} is corrupted: its header is not valid JSON ({error})") from None
    if type(document) is not dict or set(document) != {"arrays", "tensors", "root"}:
        raise CheckpointError(f"{name} is corrupted: its header must have exactly the fields arrays, tensors, root")
    return document


def _require(condition, name, problem):
    if not condition:
        raise CheckpointError(f"{name} is corrupted: {problem}")


def _is_int(value):
    return type(value) is int


class _Decoder:
    """核对头部并重建对象。所有检查失败都抛 CheckpointError。"""

    def __init__(self, document, data, name, map_location):
        self.document = document
        self.data = data
        self.name = name
        self.restore = _restore_location(map_location)
        self._arrays = {}
        self._tensors = {}

    def array(self, index):
        arrays = self.document["arrays"]
        _require(type(arrays) is list and _is_int(index) and 0 <= index < len(arrays), self.name,
                 f"array reference {index!r} is out of range")
        if index in self._arrays:
            return self._arrays[index]
        record = arrays[index]
        expected = {"dtype", "shape", "dim_order", "device", "offset", "nbytes"}
        _require(type(record) is dict and set(record) == expected, self.name, f"array record {index} is malformed")
        dtype = _backend._by_name.get(record["dtype"]) if type(record["dtype"]) is str else None
        _require(dtype is not None and dtype.name == record["dtype"], self.name,
                 f"array {index} has unknown dtype {record['dtype']!r}")
        shape, order = record["shape"], record["dim_order"]
        _require(type(shape) is list and all(_is_int(n) and n >= 0 for n in shape), self.name,
                 f"array {index} has invalid shape {shape!r}")
        _require(type(order) is list and all(_is_int(d) for d in order)
                 and sorted(order) == list(range(len(shape))), self.name,
                 f"array {index} has invalid dim_order {order!r} for shape {shape!r}")
        numel = 1
        for n in shape:
            numel *= n
        offset, nbytes = record["offset"], record["nbytes"]
        _require(_is_int(nbytes) and nbytes == numel * dtype.itemsize, self.name,
                 f"array {index} declares {nbytes!r} bytes, but shape {shape} of {dtype.name} needs "
                 f"{numel * dtype.itemsize}")
        _require(_is_int(offset) and 0 <= offset and offset + nbytes <= len(self.data), self.name,
                 f"array {index} points outside the data section (offset {offset!r}, {nbytes} bytes)")
        _require(type(record["device"]) is str, self.name, f"array {index} has invalid device {record['device']!r}")

        itemsize = dtype.itemsize
        bits = np.frombuffer(self.data, dtype=f"<u{itemsize}", count=numel, offset=offset)
        bits = bits.astype(f"=u{itemsize}")  # 复制：得到可写、与文件缓冲区无关的数组
        if dtype is _backend.bool_:
            _require(bool((bits <= 1).all()), self.name, f"bool array {index} contains bytes other than 0 and 1")
        physical = bits.view(dtype.numpy).reshape([shape[d] for d in order])
        array = physical.transpose(np.argsort(order)) if order else physical
        self._arrays[index] = self.restore(array, record["device"])
        return self._arrays[index]

    def tensor(self, index):
        tensors = self.document["tensors"]
        _require(type(tensors) is list and _is_int(index) and 0 <= index < len(tensors), self.name,
                 f"tensor reference {index!r} is out of range")
        if index in self._tensors:
            return self._tensors[index]
        record = tensors[index]
        _require(type(record) is dict and set(record) == {"array", "requires_grad", "class"}, self.name,
                 f"tensor record {index} is malformed")
        _require(type(record["requires_grad"]) is bool, self.name,
                 f"tensor {index} has invalid requires_grad {record['requires_grad']!r}")
        _require(record["class"] in ("Tensor", "Parameter"), self.name,
                 f"tensor {index} has unknown class {record['class']!r}")
        array, device = self.array(record["array"])
        out = Tensor._wrap(array, device)
        _require(out.dtype.is_floating_point or not record["requires_grad"], self.name,
                 f"tensor {index} requires grad but has non-floating dtype {out.dtype.name}")
        if record["class"] == "Parameter":
            parameter = _parameter_class()
            if parameter is None:
                raise CheckpointError(f"{self.name} contains an nn.Parameter, but edunn.nn is not available")
            out = parameter(out, requires_grad=record["requires_grad"])
        elif record["requires_grad"]:
            out.requires_grad_(True)
        self._tensors[index] = out
        return out

    def node(self, node):
        _require(type(node) is dict and type(node.get("type")) is str, self.name, f"malformed node {_short(node)}")
        kind = node["type"]
        fields = set(node)
        if kind == "none":
            _require(fields == {"type"}, self.name, f"malformed node {_short(node)}")
            return None
        if kind in ("bool", "int", "float", "str"):
            _require(fields == {"type", "value"}, self.name, f"malformed node {_short(node)}")
            return self._scalar(kind, node["value"])
        if kind in ("list", "tuple"):
            _require(fields == {"type", "items"} and type(node["items"]) is list, self.name,
                     f"malformed node {_short(node)}")
            items = [self.node(item) for item in node["items"]]
            return items if kind == "list" else tuple(items)
        if kind in ("dict", "ordered_dict"):
            return self._mapping(node, kind)
        if kind == "tensor":
            _require(fields == {"type", "index"}, self.name, f"malformed node {_short(node)}")
            return self.tensor(node["index"])
        raise CheckpointError(f"{self.name} is corrupted: unknown node type {kind!r}")

    def _scalar(self, kind, value):
        if kind == "bool":
            _require(type(value) is bool, self.name, f"bool node contains {value!r}")
            return value
        if kind == "int":
            _require(_is_int(value), self.name, f"int node contains {value!r}")
            return value
        if kind == "float":
            _require(type(value) is str, self.name, f"float node contains {value!r}")
            try:
                return float(value)
            except ValueError:
                raise CheckpointError(f"{self.name} is corrupted: float node contains {value!r}") from None
        _require(type(value) is str, self.name, f"str node contains {value!r}")
        return value

    def _mapping(self, node, kind):
        expected = {"type", "items"} if kind == "dict" else {"type", "items", "metadata"}
        _require(set(node) == expected and type(node["items"]) is list, self.name, f"malformed node {_short(node)}")
        out = {} if kind == "dict" else collections.OrderedDict()
        for pair in node["items"]:
            _require(type(pair) is list and len(pair) == 2, self.name, f"malformed dict item {_short(pair)}")
            key_node = pair[0]
            _require(type(key_node) is dict and key_node.get("type") in ("none", "bool", "int", "float", "str"),
                     self.name, f"dict key node {_short(key_node)} is not a scalar")
            key = self.node(key_node)
            _require(key not in out, self.name, f"dict key {key!r} appears twice")
            out[key] = self.node(pair[1])
        if kind == "ordered_dict" and node["metadata"] is not None:
            out._metadata = self.node(node["metadata"])
        return out


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _restore_location(map_location):
    """把 map_location 变成 ``restore(数组, 保存时的设备字符串) -> (数组, device)``，形式与 torch.load 相同。"""
    if map_location is None:
        choose = lambda array, location: location  # noqa: E731
    elif isinstance(map_location, dict):
        choose = lambda array, location: map_location.get(location, location)  # noqa: E731
    elif isinstance(map_location, (str, _backend.device)):
        target = str(_backend.as_device(map_location))
        choose = lambda array, location: target  # noqa: E731
    elif callable(map_location):
        def choose(array, location):
            result = map_location(Tensor._wrap(array, _backend.device("cpu")), location)
            if result is None:
                return location
            if not isinstance(result, Tensor):
                raise TypeError(
                    f"map_location callable must return an edunn Tensor or None, got {_type_name(result)}"
                )
            return result
    else:
        raise TypeError(
            f"map_location must be None, a str, an edunn.device, a dict or a callable, got {_type_name(map_location)}"
        )

    def restore(array, location):
        chosen = choose(array, location)
        if isinstance(chosen, Tensor):
            return chosen._array, chosen.device
        target = _parse_location(chosen)
        _check_device_usable(target)
        return _backend.move_array(array, target), target

    return restore


def _parse_location(location):
    try:
        return _backend.as_device(location)
    except (RuntimeError, TypeError) as error:
        raise CheckpointError(f"cannot restore a tensor to device {location!r}: {error}") from None


def _check_device_usable(target):
    if target.type != "cuda":
        return
    if not _backend.cuda_is_available():
        raise RuntimeError(
            "Attempting to deserialize object on a CUDA device but edunn.cuda.is_available() is False. "
            "If you are running on a CPU-only machine, please use edunn.load with map_location='cpu' "
            "to map your tensors to the CPU."
        )
    count = _backend.cuda_device_count()
    if target.index >= count:
        raise RuntimeError(
            f"Attempting to deserialize object on CUDA device {target.index} but edunn.cuda.device_count() "
            f"is {count}. Please use edunn.load with map_location to map your tensors to an existing device."
        )


def load(f, map_location=None, *, weights_only=True):
    """读回 ``edunn.save`` 写的对象；f 是路径或以二进制方式打开的可读文件对象（从当前位置读到末尾）。

    ``map_location`` 的形式与 ``torch.load`` 相同：``None``（回到保存时的设备）、设备字符串或
    ``edunn.device``（全部搬到那里）、字典（``{"cuda:0": "cpu"}``，按保存时的设备改写）、
    可调用对象 ``fn(tensor, location)``——tensor 是 CPU 上的张量，返回一个张量决定结果，
    返回 None 则按 location 恢复。

    ``weights_only`` 只为与 torch 的写法兼容：edunn 的格式里只有数据，两种取值的结果相同。
    文件不是 edunn 检查点、被截断或损坏时抛 ``CheckpointError``。
    """
    if weights_only not in (True, False, None):
        raise TypeError(f"weights_only must be a bool, got {_type_name(weights_only)}")
    if hasattr(f, "read"):
        content = f.read()
        name = f"checkpoint {getattr(f, 'name', type(f).__name__)!r}"
    else:
        path = os.fspath(f)
        with open(path, "rb") as handle:
            content = handle.read()
        name = f"checkpoint {path!r}"
    if not isinstance(content, (bytes, bytearray)):
        raise TypeError(f"edunn.load expects a file opened in binary mode, but read() returned {_type_name(content)}")
    content = bytes(content)

    header, data = _split_checkpoint(content, name)
    document = _parse_header(header, name)
    decoder = _Decoder(document, data, name, map_location)
    try:
        return decoder.node(document["root"])
    except RecursionError:
        raise CheckpointError(f"{name} is corrupted: its structure is nested too deeply") from None


__all__ = ["CheckpointError", "FORMAT_VERSION", "MAGIC", "load", "save"]
