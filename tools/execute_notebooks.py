"""Re-execute chapter notebooks in place, so that their stored outputs are current.

Each notebook runs in its own folder with the ``python3`` kernel, as the book build
and nbval run it. Metadata is left clean (kernelspec ``python3``, no execution
timestamps), and a notebook is written only after all of its cells succeeded, through
a temporary file and a rename, so an interrupted run never leaves half a notebook.

Usage: python tools/execute_notebooks.py [--timeout SECONDS] [NOTEBOOK ...]
With no NOTEBOOK, every ``chapters/*.ipynb`` is executed.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

REPO_ROOT = Path(__file__).resolve().parent.parent
KERNELSPEC = {
    "name": "python3",
    "display_name": "Python 3 (ipykernel)",
    "language": "python",
}


def display_path(path: Path) -> Path:
    """Return PATH relative to the repository root when it lies inside it."""
    if path.is_relative_to(REPO_ROOT):
        return path.relative_to(REPO_ROOT)
    return path


def clean_metadata(notebook: nbformat.NotebookNode) -> None:
    """Set the python3 kernelspec and drop per-run metadata that would make noisy diffs."""
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("ExecuteTime", None)


def write_atomically(notebook: nbformat.NotebookNode, path: Path) -> None:
    """Write the notebook to a temporary file beside PATH, then rename it over PATH."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            nbformat.write(notebook, stream)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def execute_notebook(path: Path, timeout: int) -> None:
    """Execute one notebook with its folder as working directory and store the outputs."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    clean_metadata(notebook)
    nbformat.validate(notebook)
    write_atomically(notebook, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to execute (default: chapters/*.ipynb)")
    parser.add_argument("--timeout", type=int, default=600, help="time limit for one cell, in seconds (default 600)")
    args = parser.parse_args()

    notebooks = args.notebooks or sorted((REPO_ROOT / "chapters").glob("*.ipynb"))
    if not notebooks:
        print("error: no notebooks given and none found in chapters/", file=sys.stderr)
        return 1

    failed = []
    for path in notebooks:
        path = path.resolve()
        if not path.is_file():
            print(f"error: notebook not found: {path}", file=sys.stderr)
            failed.append(path)
            continue
        started = time.perf_counter()
        print(f"executing {display_path(path)} ...", flush=True)
        try:
            execute_notebook(path, args.timeout)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
            # The stored notebook stays as it was; the error names the failing cell.
            print(f"error: {path.name} failed and was not rewritten:\n{error}", file=sys.stderr)
            failed.append(path)
            continue
        print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)

    if failed:
        print(f"{len(failed)} of {len(notebooks)} notebooks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
