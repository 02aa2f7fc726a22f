"""张量的字符串表示，排版规则仿照 torch：

- 浮点数默认保留 4 位小数；所有有限值都是整数时写成 ``1.`` 的形式；
- 数值跨度超过 1000 倍、最大值超过 1e8 或最小非零值小于 1e-4 时改用科学计数法；
- 同一个张量里每个元素按最宽者右对齐；元素超过 1000 个时只显示每维首尾各 3 个。
"""

import math

import numpy as np

from . import _backend

LINE_WIDTH = 80
THRESHOLD = 1000
EDGE_ITEMS = 3
PRECISION = 4


class _Formatter:
    def __init__(self, values, dtype):
        self.floating = dtype.is_floating_point
        self.boolean = dtype is _backend.bool_
        self.sci_mode = False
        self.int_mode = True
        flat = values.reshape(-1)
        if self.boolean:
            self.width = max((len(str(bool(v))) for v in flat), default=1)
            return
        if not self.floating:
            self.width = max((len(str(int(v))) for v in flat), default=1)
            return

        finite = flat[np.isfinite(flat)]
        nonzero = finite[finite != 0]
        self.int_mode = bool(np.all(np.ceil(finite) == finite))
        if nonzero.size:
            high, low = np.abs(nonzero).max(), np.abs(nonzero).min()
            if self.int_mode:
                self.sci_mode = high / low > 1000.0 or high > 1.0e8
            else:
                self.sci_mode = high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4
        # 与 torch 相同，列宽只按非零的有限值计算：0、nan、inf 不会把别的元素撑宽
        self.width = max((len(self._plain(v)) for v in nonzero.tolist()), default=1)

    def _plain(self, value):
        if self.boolean:
            return str(bool(value))
        if not self.floating:
            return str(int(value))
        if not math.isfinite(value):
            return str(float(value))
        if self.sci_mode:
            return f"{value:.{PRECISION}e}"
        if self.int_mode:
            return f"{value:.0f}."
        return f"{value:.{PRECISION}f}"

    def format(self, value):
        return self._plain(value).rjust(self.width)


def _format_array(values, formatter, indent, summarize):
    if values.ndim == 0:
        return formatter.format(values.item())
    if values.ndim == 1:
        items = [formatter.format(v) for v in values.tolist()] if not summarize or values.shape[0] <= 2 * EDGE_ITEMS \
            else [formatter.format(v) for v in values[:EDGE_ITEMS].tolist()] + [" ..."] + \
                 [formatter.format(v) for v in values[-EDGE_ITEMS:].tolist()]
        per_line = max(1, (LINE_WIDTH - indent) // (formatter.width + 2))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"

    rows = range(values.shape[0])
    if summarize and values.shape[0] > 2 * EDGE_ITEMS:
        rows = list(range(EDGE_ITEMS)) + [None] + list(range(values.shape[0] - EDGE_ITEMS, values.shape[0]))
    parts = ["..." if r is None else _format_array(values[r], formatter, indent + 1, summarize) for r in rows]
    separator = "," + "\n" * (values.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(parts) + "]"


def _summary_values(values):
    """只拿出会被显示的元素，决定格式时不让被省略的元素参与。"""
    if values.ndim == 0:
        return values.reshape(1)
    if values.shape[0] > 2 * EDGE_ITEMS:
        values = np.concatenate([values[:EDGE_ITEMS], values[-EDGE_ITEMS:]])
    return np.stack([_summary_values(v) for v in values]).reshape(-1) if values.ndim > 1 else values


def tensor_repr(tensor, prefix="tensor("):
    values = _backend.to_numpy(tensor._array)
    if tensor.dtype in (_backend.float16, _backend.bfloat16):
        values = values.astype(np.float32)
    summarize = values.size > THRESHOLD
    suffixes = []

    empty = values.size == 0
    if empty:
        body = "[]"
        if values.ndim > 1:
            suffixes.append(f"size={tuple(values.shape)}")
    else:
        shown = _summary_values(values) if summarize else values
        formatter = _Formatter(shown, tensor.dtype)
        body = _format_array(values, formatter, len(prefix), summarize)

    if tensor.device.type != "cpu":
        suffixes.append(f"device='{tensor.device}'")
    # 空张量没有元素可以看出是整数还是布尔，所以只有默认浮点类型可以省略 dtype
    default_dtypes = (_backend.get_default_dtype(),) if empty else (
        _backend.get_default_dtype(), _backend.int64, _backend.bool_)
    if tensor.dtype not in default_dtypes:
        suffixes.append(f"dtype={tensor.dtype!r}")
    if tensor.grad_fn is not None:
        suffixes.append(f"grad_fn=<{tensor.grad_fn.name()}>")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")

    text = prefix + body
    for suffix in suffixes:
        text += ", " + suffix
    return text + ")"
