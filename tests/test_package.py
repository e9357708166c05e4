"""``import seainpaint``: light, every public name resolves, the accessor in any import order."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import seainpaint

ROOT = Path(seainpaint.__file__).resolve().parents[1]


def _python(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_every_public_name_resolves():
    assert set(seainpaint.__all__) == set(seainpaint._EXPORTS)
    for name in seainpaint.__all__:
        assert getattr(seainpaint, name) is not None
        assert name in dir(seainpaint)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        seainpaint.nope  # noqa: B018


def test_import_is_light():
    heavy = "('xarray', 'torch', 'dask', 'cartopy', 'scipy', 'pandas', 'matplotlib')"
    out = _python(f"import sys, seainpaint\nprint([m for m in {heavy} if m in sys.modules])")
    assert out == "[]"


@pytest.mark.parametrize(
    "imports",
    ["import seainpaint\nimport xarray as xr", "import xarray as xr\nimport seainpaint"],
)
def test_accessor_in_either_import_order(imports):
    code = (
        f"{imports}\nimport numpy as np\n"
        "da = xr.DataArray(np.ones((2, 3, 3)), dims=('time', 'y', 'x'))\n"
        "print(type(da.inpaint).__name__, type(da.to_dataset(name='v').inpaint).__name__,"
        " int(da.inpaint.land.sum()))"
    )
    assert _python(code) == "InpaintDataArrayAccessor InpaintDatasetAccessor 0"
