"""Follow a field through ``seainpaint.train(obs)`` and ``seainpaint.fill(obs, model)``.

``python scripts/trace_journeys.py [--steps N] [--sequence]`` records, with
:func:`sys.setprofile`, every call that enters a file of the package from another file
(or from outside it), and prints for each journey:

- the files in the order they are first entered, how many times each is entered, and from
  how many distinct functions of other files (the places that call into it);
- every edge ``caller file -> callee file`` with its count;
- the *climbs*: calls from a file into one that imports it (directly or through others),
  i.e. a path that goes from a low module back up to a high one. The import graph is read
  from the sources (module-level and function-level imports, but not imports of the
  package root, the public facade); ``cycle`` marks edges between files that import each
  other.

The field is a small synthetic SST with its own clouds (no recorded process, like real
data); training is tiny (``--steps`` optimiser steps), so the counts show the journey's
shape, not a real run's volume. Every module is imported before tracing, so a lazy import
shows as nothing, and dask runs synchronously, so every call has its caller. A development
tool, not a test: it prints tables and asserts nothing.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "seainpaint"
sys.path.insert(0, str(ROOT))

import dask  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import seainpaint  # noqa: E402
from seainpaint import synthetic  # noqa: E402

Edge = tuple[str, str]


def _rel(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _module_file(module: str) -> str | None:
    """The package file (relative) of a dotted module name under ``seainpaint``."""
    base = PACKAGE.joinpath(*module.split(".")[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return _rel(candidate)
    return None


def import_graph() -> dict[str, set[str]]:
    """File -> the package files it imports (relative imports; the root facade excluded)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = _rel(path)
        package = ["seainpaint", *path.parent.relative_to(PACKAGE).parts]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not node.level:
                continue
            base = package[: len(package) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
            names = [module] if node.module else [f"{module}.{a.name}" for a in node.names]
            for name in names:
                if name == "seainpaint":
                    continue  # the public facade imports everything lazily
                found = _module_file(name)
                if found is None and node.module:  # `from .pkg import module`
                    found = _module_file(module)
                if found and found != rel and found != "__init__.py":
                    targets.add(found)
        graph[rel] = targets
    return graph


def reachable(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """File -> every package file it depends on, directly or through others."""
    out: dict[str, set[str]] = {}
    for start in graph:
        seen: set[str] = set()
        todo = list(graph[start])
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(graph.get(node, ()))
        out[start] = seen
    return out


class Tracer:
    """Records calls that enter a package file from another file (or from outside)."""

    def __init__(self) -> None:
        self.entries: list[Edge] = []
        self.callers: dict[str, set[str]] = defaultdict(set)
        self._prefix = str(PACKAGE) + "/"
        self._script = str(Path(__file__).resolve())

    def _file(self, frame: FrameType) -> str | None:
        name = frame.f_code.co_filename
        return name[len(self._prefix):] if name.startswith(self._prefix) else None

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call" or frame.f_code.co_name == "<module>":
            return
        callee = self._file(frame)
        if callee is None:
            return
        back = frame.f_back
        while back is not None and self._file(back) is None:
            if back.f_code.co_filename == self._script:
                break
            back = back.f_back
        caller = self._file(back) if back is not None else None
        if caller == callee:
            return
        self.entries.append((caller or "(journey)", callee))
        if back is not None and caller is not None:
            self.callers[callee].add(f"{caller}:{back.f_code.co_name}")

    def run(self, journey: Callable[[], Any]) -> Any:
        sys.setprofile(self)
        try:
            with dask.config.set(scheduler="synchronous"):
                return journey()
        finally:
            sys.setprofile(None)


def _compress(entries: list[Edge]) -> list[str]:
    """``a -> b`` edges in order, repeated runs folded as ``x n``."""
    out: list[str] = []
    last, count = None, 0
    for edge in entries:
        if edge == last:
            count += 1
            continue
        if last is not None:
            out.append(f"{last[0]} -> {last[1]}" + (f" x{count}" if count > 1 else ""))
        last, count = edge, 1
    if last is not None:
        out.append(f"{last[0]} -> {last[1]}" + (f" x{count}" if count > 1 else ""))
    return out


def report(name: str, tracer: Tracer, deps: dict[str, set[str]], sequence: bool) -> None:
    """Print one journey's tables."""
    entered = Counter(callee for _, callee in tracer.entries)
    order = list(dict.fromkeys(callee for _, callee in tracer.entries))
    print(f"\n## {name}: {len(order)} files, {len(tracer.entries)} entries\n")
    print(f"{'file':28s} {'entries':>8s} {'from places':>12s}")
    for file in order:
        print(f"{file:28s} {entered[file]:8d} {len(tracer.callers[file]):12d}")
    edges = Counter(tracer.entries)
    print(f"\n{'caller -> callee':56s} {'calls':>6s}  climb")
    climbs = 0
    for (caller, callee), count in sorted(edges.items()):
        up = callee in deps and caller in deps.get(callee, set())
        kind = ""
        if up:
            kind = "cycle" if callee in deps.get(caller, set()) else "CLIMB"
            climbs += 1
        print(f"{caller + ' -> ' + callee:56s} {count:6d}  {kind}")
    print(f"\nclimbs: {climbs}")
    if sequence:
        print("\nsequence:")
        for line in _compress(tracer.entries):
            print("  " + line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2, help="training steps")
    parser.add_argument("--sequence", action="store_true", help="print every entry in order")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for module in ("seainpaint.training", "seainpaint.filling", "seainpaint.model",
                   "seainpaint.inference", "seainpaint.baselines", "seainpaint.io.stores",
                   "seainpaint.io.atomic"):
        importlib.import_module(module)
    deps = reachable(import_graph())

    truth = synthetic.sst(48, 16, seed=4)
    cloud = np.random.default_rng(0).random(truth.shape) < 0.3
    obs = truth.where(~cloud)
    obs.attrs, obs.name = dict(truth.attrs), truth.name

    def train() -> Any:
        return seainpaint.train(obs, steps=args.steps, window=4, patch=16, batch_size=2,
                                base=4, n_val=2, eval_every=args.steps, progress=False)

    tracer = Tracer()
    model = tracer.run(train)
    report(f"seainpaint.train(obs) ({args.steps} steps)", tracer, deps, args.sequence)
    tracer = Tracer()
    tracer.run(lambda: seainpaint.fill(obs, model, progress=False))
    report("seainpaint.fill(obs, model)", tracer, deps, args.sequence)


if __name__ == "__main__":
    main()
