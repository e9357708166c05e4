"""What the tests share to stay small and fast: tiny training options, one torch thread."""

from __future__ import annotations

import pytest
import torch

# the smallest training that runs every part of the loop
TINY = dict(
    window=4,
    patch=16,
    batch_size=2,
    base=4,
    n_val=2,
    progress=False,
)


@pytest.fixture(scope="module")
def one_thread():
    """Tiny tensors run fastest on one thread (no OpenMP sync on a loaded machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
