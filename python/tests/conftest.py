"""Shared fixtures of the grugan package's tests.

Run from the top of the repository after `make`: `python3 -m pytest python/tests`.
The package is imported from python/ (or from wherever it is installed, when
python/ is not first on sys.path); the library from GRUGAN_LIBRARY, else as the
package finds it.
"""
import os
import sys

import numpy as np
import pytest

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(PYTHON_DIR)
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

import grugan  # noqa: E402


@pytest.fixture
def root():
    """The top of the repository."""
    return ROOT


@pytest.fixture
def sines():
    """60 sequences (60, 12, 3) of sines in [0, 1], as TimeGAN's Sines but smaller."""
    rng = np.random.default_rng(7)
    t = np.arange(12, dtype=np.float64)[None, :, None]
    f, p = rng.uniform(0, 0.1, (60, 1, 3)), rng.uniform(0, 0.1, (60, 1, 3))
    return ((np.sin(f * t + p) + 1) / 2).astype(np.float32)


@pytest.fixture
def series_csv(tmp_path):
    """A CSV series of 300 rows: a time column and two features."""
    i = np.arange(300)
    rows = ["t,load,price"] + [f"{k},{50 + 20 * np.sin(k / 8):.4f},{3 + np.cos(k / 5):.4f}"
                               for k in i]
    path = tmp_path / "series.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def small_trainer(data, **config):
    """A trainer with small models (hidden 8, one layer) for fast tests."""
    config.setdefault("batch_size", 16)
    return grugan.Trainer.for_dataset(data, hidden_size=8, num_layers=1, **config)
