"""Execute the notebooks in place and store them with their outputs.

Usage (from the repository root or anywhere)::

    python notebooks/execute.py                      # every notebook
    python notebooks/execute.py quickstart           # one notebook (name or path)
    python notebooks/execute.py paper_reproduction -p 'MODE="default"' --timeout 7200

Each notebook runs in a fresh kernel with ``notebooks/`` as working directory (its output
folders, e.g. ``notebooks/quickstart_output/``, are ignored by git). ``-p NAME=VALUE``
replaces the assignment of ``NAME`` in the cell tagged ``parameters`` (VALUE is Python
source), so the stored notebook shows the values its outputs were made with. A notebook
that fails is not written; the error is printed and the exit status is 1.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def set_parameters(nb, assignments: list[str]) -> None:
    """Replace ``NAME = ...`` lines of the ``parameters`` cell with ``NAME = VALUE``."""
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if assignments and len(cells) != 1:
        raise SystemExit("the notebook needs exactly one cell tagged 'parameters'")
    for item in assignments:
        name, _, value = item.partition("=")
        name = name.strip()
        if not name.isidentifier() or not value.strip():
            raise SystemExit(f"-p {item!r}: expected NAME=VALUE")
        pattern = re.compile(rf"^{name}\s*=.*?(?=\s*#|$)", re.MULTILINE)
        source, n = pattern.subn(f"{name} = {value.strip()}", cells[0].source)
        if n != 1:
            raise SystemExit(f"-p {name}: no single assignment of {name} in the parameters cell")
        cells[0].source = source


def execute(path: Path, assignments: list[str], timeout: int) -> float:
    """Run one notebook in a fresh kernel and write it back with its outputs."""
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    set_parameters(nb, assignments)
    start = time.perf_counter()
    client = nbclient.NotebookClient(
        nb, timeout=timeout, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="names or paths (default: all)")
    parser.add_argument("-p", "--parameter", action="append", default=[],
                        help="NAME=VALUE for the parameters cell (repeatable)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args(argv)
    paths = [
        Path(n) if n.endswith(".ipynb") else HERE / f"{n}.ipynb" for n in args.notebooks
    ] or sorted(HERE.glob("*.ipynb"))
    status = 0
    for path in paths:
        try:
            seconds = execute(path, args.parameter, args.timeout)
        except Exception as err:  # report and go on with the next notebook
            print(f"{path.name}: FAILED, not written\n{err}", file=sys.stderr)
            status = 1
        else:
            print(f"{path.name}: executed and stored with its outputs in {seconds:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
