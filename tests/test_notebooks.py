"""The notebooks run and show their figures: quickstart end to end, paper_reproduction on
one quick table.

Each notebook is executed with nbclient in a fresh kernel, in a temporary folder, after its
``parameters`` cell is replaced with tiny sizes; executed notebooks must hold image
outputs. The committed notebooks are stored with their outputs (``notebooks/execute.py``),
so a reader sees the figures without running them.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@contextlib.contextmanager
def _one_core():
    """Run the kernel on one core: torch then uses one thread (much faster on a busy box)."""
    if not hasattr(os, "sched_getaffinity"):
        yield
        return
    old = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(old)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, old)


def _kernel_name() -> str:
    from jupyter_client.kernelspec import NATIVE_KERNEL_NAME, find_kernel_specs

    # ipykernel being importable makes its native "python3" kernel available even when no
    # kernelspec is installed on disk
    if "python3" not in find_kernel_specs():
        pytest.importorskip("ipykernel.kernelspec")
    return NATIVE_KERNEL_NAME


LEAD_CHANGE = (
    "the quickstart trains with seainpaint.train(obs) and its defaults, which needs the "
    "learned-fill change (issue 8): train(obs) without an occlusion process"
)


def _train_needs_a_process() -> bool:
    """Whether train(obs) still refuses a field whose cloud process it cannot rebuild."""
    import seainpaint
    from seainpaint import synthetic
    from seainpaint.training import TrainingError, resolve_process

    obs = synthetic.sst(4, 8, seed=0).inpaint.occlude(
        seainpaint.Cloud(synthetic.lwp(4, 16, seed=1), threshold=70), seed=0
    )
    try:
        resolve_process(None, obs)
    except TrainingError as err:
        return "occlusion process" in str(err)
    return False


def _images(nb) -> int:
    return sum(
        1
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type in ("display_data", "execute_result") and "image/png" in o.get("data", {})
    )


def _run(name: str, tmp_path: Path, parameters: str):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{name} needs exactly one cell tagged 'parameters'"
    cells[0].source = parameters
    client = nbclient.NotebookClient(
        nb,
        timeout=240,
        kernel_name=_kernel_name(),
        resources={"metadata": {"path": str(tmp_path)}},
    )
    with _one_core():
        try:
            client.execute()
        except nbclient.exceptions.CellExecutionError as err:
            if "occlusion process" in str(err) and _train_needs_a_process():
                pytest.skip(LEAD_CHANGE)
            raise
    return nb


@pytest.mark.parametrize("name", ["quickstart.ipynb", "paper_reproduction.ipynb"])
def test_committed_notebooks_are_stored_with_their_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    if name == "quickstart.ipynb" and not any(c.outputs for c in code):
        if _train_needs_a_process():
            pytest.skip(f"{LEAD_CHANGE}; then run: python notebooks/execute.py quickstart")
    assert code and all(c.execution_count is not None for c in code), "not executed"
    counts = [c.execution_count for c in code]
    assert counts == sorted(counts)  # executed top to bottom, in one kernel
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert _images(nb) >= 1  # the figures render (image/png), not "<Figure ...>"
    texts = "".join(o.get("data", {}).get("text/plain", "") for c in code for o in c.outputs)
    assert "<Figure size" not in texts


def test_quickstart_trains_with_defaults_only():
    nb = nbformat.read(NOTEBOOKS / "quickstart.ipynb", as_version=4)
    calls = [c.source for c in nb.cells if "seainpaint.train(" in c.source]
    assert len(calls) == 1
    call = calls[0][calls[0].index("seainpaint.train(") :].split(")")[0]
    keywords = set(re.findall(r"(\w+)\s*=", call))
    assert keywords <= {"max_minutes", "seed"}, keywords


def test_quickstart_runs(tmp_path):
    out = tmp_path / "out"
    params = (
        f"SIZE = 16\nN_TIME = 48\nTRAIN_MINUTES = 0.1\nTHRESHOLD = 70\n"
        f"OUTPUT = {str(out)!r}\nSEED = 0\n"
    )
    nb = _run("quickstart.ipynb", tmp_path, params)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    assert _images(nb) >= 1
    texts = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "cloud gaps left: 0" in texts
    # the product on disk: observed pixels exact, every cloud gap filled, CF flag variable
    with xr.open_dataset(out / "sst_observed.nc") as ds:
        name = next(v for v in ds.data_vars if "time" in ds[v].dims and ds[v].ndim == 3)
        obs = ds[name].load()
    with xr.open_dataset(out / "sst_filled.nc") as ds:
        filled = ds[name].load()
        assert "inpaint_flag" in ds.variables
        flag = ds["inpaint_flag"].load()
    seen = np.isfinite(obs.values)
    assert 0 < (~seen).mean() < 1
    np.testing.assert_array_equal(filled.values[seen], obs.values[seen])
    land = ~seen.any(axis=0)  # never observed
    assert np.isfinite(filled.values[:, ~land]).all()
    assert np.isnan(filled.values[:, land]).all()
    assert set(np.unique(flag.values)) <= {0, 1, 2, 3}
    flag = np.asarray(flag.values)
    assert np.isin(flag, (1, 3)).sum() == (~seen[:, ~land]).sum()  # 3: filled, never seen
    assert (flag[:, land] == 2).all()
    table = pd.read_csv(out / "table.csv", index_col=0)
    assert list(table.index) == ["learned (self-supervised)", "DINEOF", "linear in time",
                                 "climatology"]
    assert table["MAE"].between(0, 5).all()
    assert (out / "model").is_dir()


def test_paper_reproduction_runs_one_quick_table(tmp_path):
    params = (
        f"MODE = 'quick'\nOUTPUT = {str(tmp_path / 'out')!r}\n"
        "NAMES = ['ablation_table4']\nTHREADS = 1\n"
    )
    nb = _run("paper_reproduction.ipynb", tmp_path, params)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert _images(nb) >= 1
    markdown = "".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    assert "279.78" in markdown  # the paper's static-variant FVD next to ours
    assert (tmp_path / "out" / "ablation_table4" / "table4.csv").exists()
