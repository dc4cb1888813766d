"""grugan: train and sample GANs for multivariate time series with libgrugan.

A Python package over the C library's stable ABI (ctypes, numpy). Arrays are numpy
float32 in C order, a batch of sequences (N, T, F); inputs that already are that go
to C without a copy, outputs are numpy arrays filled by C. Every handle is a class
with close() and `with`; a failed call raises a subclass of grugan.Error carrying the
status code and the library's message. docs/python.md is the tutorial.

    import grugan
    with grugan.Dataset.from_csv("series.csv", sequence_length=24) as data, \\
            grugan.Trainer.for_dataset(data, total_steps=2000) as trainer:
        trainer.run()
        x = trainer.generator.sample(100, 24, seed=1)   # (100, 24, F), data units

The shared library is found as grugan.load_library describes.
"""
from . import constants
from ._library import ABI_MAJOR, load_library
from ._library import lib as _lib
from .constants import *  # noqa: F401,F403 (the GRUGAN_ constants without the prefix)
from .dataset import Dataset
from .discriminator import Discriminator
from .errors import (AbortedError, Error, FileIOError, FormatError, InternalError,
                     InvalidError, LibraryError, NoMemoryError, NonFiniteError,
                     NotFoundError, RangeError, SizeError, StateError, UnsupportedError)
from .files import write_sequences
from .generator import Generator
from .metrics import discriminative_score, predictive_score, statistics_error
from .optimizer import Optimizer
from .params import Params
from .trainer import Progress, Trainer

__version__ = "0.1.0"


def version():
    """The loaded library's version string, e.g. "0.1.0" (loads the library)."""
    return _lib().grugan_version_string().decode()


def version_number():
    """The loaded library's MAJOR * 10000 + MINOR * 100 + PATCH."""
    return _lib().grugan_version_number()


def library_path():
    """The path libgrugan was loaded from (loads it on first use)."""
    return load_library()
