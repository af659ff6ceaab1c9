"""Run the teaching notebooks top to bottom: ``python notebooks/run.py [NAMES...] [--out DIR]``.

Each notebook is a jupytext percent-format ``.py`` file in this folder. It is converted in memory
(``jupytext.read``), executed by :class:`nbclient.NotebookClient` in a fresh kernel of the Python
running this script, with the repository root as the working directory, and written as
``DIR/NAME.ipynb`` (temporary file, then rename). A notebook that fails writes nothing: the
script prints which notebook and cell failed, with the error, and exits 1.

Reduced settings reach the notebooks through the environment, which the kernel inherits: for
example ``DNAMODEL_DRAWS=300 DNAMODEL_TUNE=300 DNAMODEL_CHAINS=2 DNAMODEL_MC_DRAWS=100000``. Each
notebook reads them in its first cell, tagged ``parameters`` (papermill can override that cell
instead). See ``notebooks/README.md``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NOTEBOOKS = Path(__file__).resolve().parent
ROOT = NOTEBOOKS.parent
DEFAULT_OUT = Path("results/notebooks")
CELL_TIMEOUT = 3600
"""Seconds one cell may take: the full-settings sweeps of notebook 04 run in one cell."""


def available() -> list[str]:
    """The notebooks in this folder, by name (``01_replicate_report``, …), in order."""
    return sorted(path.stem for path in NOTEBOOKS.glob("[0-9][0-9]_*.py"))


def this_python(sockets: Path) -> Any:
    """A kernel manager for an ipykernel of the interpreter running this script.

    Whatever ``python3`` kernelspec a machine has installed (another environment's, say), the
    notebooks run with this interpreter, and so with the dnamodel installed beside it. On POSIX the
    kernel talks over IPC sockets in the folder ``sockets`` (no TCP port to find, and none open).
    """
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import KernelManager

    class ThisPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            return KernelSpec(resource_dir=RESOURCES, **get_kernel_dict())

    manager = KernelManager(kernel_name="python3", kernel_spec_manager=ThisPython())
    if os.name == "posix":
        manager.transport, manager.ip = "ipc", str(sockets / "kernel")
    return manager


class NotebookFailed(Exception):
    """A cell raised: which notebook, which cell, and the error."""


def execute(name: str) -> Any:
    """Execute one notebook and return it with its outputs."""
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = jupytext.read(NOTEBOOKS / f"{name}.py")
    # ipykernel shows figures inline only when MPLBACKEND does not name another backend (a CI
    # machine may set Agg for the test suite); everything else passes through as it is.
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    try:
        with tempfile.TemporaryDirectory(prefix="dnamodel-kernel-") as sockets:
            client = NotebookClient(
                notebook,
                km=this_python(Path(sockets)),
                timeout=CELL_TIMEOUT,
                resources={"metadata": {"path": str(ROOT)}},
            )
            client.execute(env=env)
    except CellExecutionError as error:
        index, cell = next(
            (
                (i, c)
                for i, c in enumerate(notebook.cells)
                if any(o.get("output_type") == "error" for o in c.get("outputs", ()))
            ),
            (None, None),
        )
        where = (
            "a cell" if cell is None else f"cell {index + 1} of {len(notebook.cells)}, starting {_first_line(cell)!r}"
        )
        raise NotebookFailed(f"{name}: {where} failed\n{error}") from None
    return notebook


def _first_line(cell: Any) -> str:
    lines = [line for line in cell.source.splitlines() if line.strip()]
    return lines[0] if lines else ""


def write(notebook: Any, path: Path) -> None:
    """Write ``notebook`` to ``path`` atomically: a reader sees the old file or the new one."""
    import nbformat

    text = nbformat.writes(notebook)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    """Run the named notebooks (all of them by default); return the exit code."""
    names = available()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"notebooks to run (default: all): {', '.join(names)}")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"where to write NAME.ipynb (default {DEFAULT_OUT})"
    )
    args = parser.parse_args(argv)
    chosen = []
    for given in args.names:
        # a name, or a prefix of exactly one name: `run.py 03` runs 03_dated_fit
        matches = [name for name in names if name == given.removesuffix(".py") or name.startswith(given)]
        if len(matches) != 1:
            parser.error(f"{given!r} names {len(matches) or 'no'} notebooks; there are {', '.join(names)}")
        chosen.append(matches[0])
    chosen = chosen or names
    out = args.out if args.out.is_absolute() else Path.cwd() / args.out
    out.mkdir(parents=True, exist_ok=True)
    settings = {key: value for key, value in sorted(os.environ.items()) if key.startswith("DNAMODEL_")}
    print(f"python {sys.executable}; settings {settings or 'the specs’ own (no DNAMODEL_* set)'}", flush=True)
    times = {}
    for name in chosen:
        start = time.perf_counter()
        try:
            notebook = execute(name)
        except NotebookFailed as failure:
            message = str(failure) if sys.stderr.isatty() else re.sub(r"\x1b\[[0-9;]*m", "", str(failure))
            print(f"FAILED {message}", file=sys.stderr, flush=True)
            return 1
        write(notebook, out / f"{name}.ipynb")
        times[name] = time.perf_counter() - start
        print(f"{name}: {times[name]:.0f} s, wrote {out / f'{name}.ipynb'}", flush=True)
    if len(times) > 1:
        print(f"all {len(times)} notebooks: {sum(times.values()):.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
