"""The notebooks run: quickstart end to end, paper_reproduction on one quick table.

Each notebook is executed with nbclient in a fresh kernel, in a temporary folder, after its
``parameters`` cell is replaced with tiny sizes.
"""

from __future__ import annotations

import contextlib
import os
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
        client.execute()
    return nb


@pytest.mark.parametrize("name", ["quickstart.ipynb", "paper_reproduction.ipynb"])
def test_committed_notebooks_are_valid_and_clean(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


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
    assert set(np.unique(flag.values)) <= {0, 1, 2}
    flag = np.asarray(flag.values)
    assert (flag == 1).sum() == (~seen[:, ~land]).sum()
    assert (flag[:, land] == 2).all()
    table = pd.read_csv(out / "table.csv", index_col=0)
    assert list(table.index) == ["GAN (ours)", "DINEOF", "linear in time"]
    assert table["MAE"].between(0, 5).all()
    assert (out / "model").is_dir()


def test_paper_reproduction_runs_one_quick_table(tmp_path):
    params = (
        f"MODE = 'quick'\nOUTPUT = {str(tmp_path / 'out')!r}\n"
        "NAMES = ['ablation_table4']\nTHREADS = 1\n"
    )
    nb = _run("paper_reproduction.ipynb", tmp_path, params)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert any(o.output_type == "display_data" and "image/png" in o.get("data", {})
               for o in outputs)
    markdown = "".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    assert "279.78" in markdown  # the paper's static-variant FVD next to ours
    assert (tmp_path / "out" / "ablation_table4" / "table4.csv").exists()
