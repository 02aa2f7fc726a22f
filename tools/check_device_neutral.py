#!/usr/bin/env python3
"""Find stored chapter outputs that would change when the chapter runs with EDUNN_DEVICE=cuda.

A chapter's stored outputs must be the same on the cpu and on cuda, because nbval compares them on
both. This check reads the notebooks only (it runs nothing), so it works on machines without a GPU.
It reports, per cell:

errors (exit status 1)
  - an output names a device (``cuda``, ``cpu``, ``device(type=...)``, ``device='...'``): it reads
    differently on the other device;
  - an output contains a tensor repr (``tensor(...)``, ``Parameter containing``) in a cell that uses
    DEVICE and copies nothing to the host: on cuda the repr gains ``device='cuda:0'``.
warnings (exit status 1 only with --strict)
  - a tensor repr in a cell that does not mention DEVICE (its tensor may still come from one that does),
    or in one that also calls ``.cpu()``, ``.tolist()`` or ``.numpy()`` (the printed tensor may be a host copy);
  - a float printed with 9 or more decimals: GPU arithmetic may change the last digits;
  - code that prints ``.device`` or asks ``edunn.cuda`` for device facts;
  - a device written into the code (``device="cpu"``) instead of DEVICE;
  - a notebook that builds tensors but never reads EDUNN_DEVICE.
Skipped cells: those whose first line is ``# NBVAL_IGNORE_OUTPUT`` (nbval skips them too), those that
print source code with ``inspect.getsource`` (source text does not depend on the device), and those
with a ``# device-neutral: <reason>`` comment, for outputs that a reviewer found to be the same on both
devices (for example the device of an optimizer's ``step``, which torch keeps on the cpu).

Usage: tools/check_device_neutral.py [--strict] [NOTEBOOK ...]   (default: chapters/*.ipynb)
"""

import argparse
import json
import re
import sys
from pathlib import Path

DEVICE_NAME = re.compile(r"\bcuda(:\d+)?\b|device\(type=|device='|\bcpu\b")
TENSOR_REPR = re.compile(r"(?<![\w.])tensor\(|Parameter containing")  # not edunn.tensor( in printed code
LONG_FLOAT = re.compile(r"(?<![\w.])-?\d+\.\d{9,}")
PRINTS_DEVICE = re.compile(r"\.device\b(?!\s*=)|get_device_name|device_count|current_device")
# .cpu() and .to("cpu") are left out: copying to the host before printing is device-neutral.
HARD_CODED_DEVICE = re.compile(r"""device\s*=\s*["'](cpu|cuda[:\d]*)["']|\.cuda\(|\.to\(\s*["']cuda[:\d]*["']""")
MAKES_TENSORS = re.compile(r"\bedunn\.(tensor|zeros|ones|randn|rand|full|arange|empty)\(|\bnn\.\w+\(")


def _text(value):
    return "".join(value) if isinstance(value, list) else (value or "")


def output_texts(cell):
    """Yield the text parts of a code cell's outputs, which are the parts nbval compares."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            yield _text(output.get("text"))
        elif output.get("output_type") in ("execute_result", "display_data"):
            yield _text(output.get("data", {}).get("text/plain"))
        elif output.get("output_type") == "error":
            yield "\n".join(output.get("traceback", []))


def _excerpt(text, match):
    start = max(0, match.start() - 30)
    return text[start:match.end() + 30].replace("\n", " ").strip()


def check_notebook(path):
    """Return a list of (cell number, level, message) for one notebook."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    code_cells = [cell for cell in notebook.get("cells", []) if cell.get("cell_type") == "code"]
    all_source = "\n".join(_text(cell.get("source")) for cell in code_cells)
    findings = []
    if MAKES_TENSORS.search(all_source) and "EDUNN_DEVICE" not in all_source:
        findings.append((0, "warning", "builds tensors but never reads EDUNN_DEVICE, so it runs on the cpu "
                                       "even when EDUNN_DEVICE=cuda"))

    for number, cell in enumerate(code_cells, start=1):
        source = _text(cell.get("source"))
        if source.lstrip().startswith("# NBVAL_IGNORE_OUTPUT") or "getsource" in source or "# device-neutral:" in source:
            continue
        uses_device = "DEVICE" in source
        copies_to_host = any(call in source for call in (".cpu()", ".tolist()", ".numpy("))
        for text in output_texts(cell):
            match = DEVICE_NAME.search(text)
            if match:
                findings.append((number, "error", f"output names a device: ...{_excerpt(text, match)}..."))
            match = TENSOR_REPR.search(text)
            if match:
                level = "error" if uses_device and not copies_to_host else "warning"
                findings.append((number, level, "output contains a tensor repr, which gains device='cuda:0' on "
                                                f"cuda; print a verdict, .tolist() or .cpu(): ...{_excerpt(text, match)}..."))
            match = LONG_FLOAT.search(text)
            if match:
                findings.append((number, "warning", "output prints a float with 9+ decimals, whose last digits "
                                                    f"can differ on a GPU: ...{_excerpt(text, match)}..."))
        match = PRINTS_DEVICE.search(source)
        if match and cell.get("outputs"):
            findings.append((number, "warning", f"code reads device facts and the cell has output: "
                                                f"...{_excerpt(source, match)}..."))
        match = HARD_CODED_DEVICE.search(source)
        if match:
            findings.append((number, "warning", f"device written into the code instead of DEVICE: "
                                                f"...{_excerpt(source, match)}..."))
    return findings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks to check (default: chapters/*.ipynb)")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 on warnings too")
    args = parser.parse_args(argv)

    paths = args.notebooks or sorted(str(p) for p in Path("chapters").glob("*.ipynb"))
    if not paths:
        print("check_device_neutral: no notebooks found")
        return 0
    errors = warnings = 0
    for path in paths:
        for number, level, message in check_notebook(path):
            where = f"{path}: cell {number}" if number else path
            print(f"{where}: {level}: {message}")
            errors += level == "error"
            warnings += level == "warning"
    print(f"check_device_neutral: {len(paths)} notebooks, {errors} errors, {warnings} warnings")
    return 1 if errors or (args.strict and warnings) else 0


if __name__ == "__main__":
    sys.exit(main())
