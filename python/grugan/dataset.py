"""Datasets: scaled training sequences from arrays, series, CSV or NPY files."""
import ctypes

import numpy as np

from . import _structs as S
from . import constants as K
from ._handle import Handle, SIZEP, create, floats_in, path_arg, ptr, sizes_in
from ._library import lib


def _config(columns, delimiter, **fields):
    """The dataset config and the size_t array its columns field points to (keep both
    alive for the call)."""
    cols = None
    if columns is not None:
        cols = sizes_in(list(columns), "columns", (len(columns),))
    if isinstance(delimiter, str):
        if len(delimiter.encode()) != 1:
            raise ValueError("delimiter must be a single byte")
        delimiter = ord(delimiter)
    c = S.make_config(S.DatasetConfig, csv_delimiter=delimiter, **fields)
    if cols is not None and len(cols):
        c.columns, c.num_columns = ptr(cols, SIZEP), len(cols)
    return c, cols


class Dataset(Handle):
    """N sequences of T steps and F features, scaled per feature, with a shuffled
    minibatch stream and an optional holdout for model selection (grugan_dataset).
    Shared settings of every source: scaling ("minmax" to [0, 1] by default,
    "minmax_sym" to [-1, 1], "none"), columns (0-based features to keep), seed (the
    minibatch order), holdout (share of the sequences kept out of training, 0..0.5)."""
    _c_free = "grugan_dataset_free"
    _c_message = "grugan_dataset_message"

    @classmethod
    def from_array(cls, x, conditions=None, lengths=None, columns=None, **config):
        """From sequences x (N, T, F) (copied); conditions (N, C); lengths (N,) valid
        steps per sequence, 1..T."""
        x = floats_in(x, "x", ndim=3)
        n = x.shape[0]
        cond = None if conditions is None else floats_in(conditions, "conditions", ndim=2)
        if cond is not None and cond.shape[0] != n:
            raise ValueError(f"conditions must have {n} rows, not {cond.shape[0]}")
        lens = None if lengths is None else sizes_in(lengths, "lengths", (n,))
        c, _cols = _config(columns, 0, **config)
        return cls(create(lib().grugan_dataset_from_array, None, ctypes.byref(c), ptr(x),
                          *x.shape, ptr(cond), 0 if cond is None else cond.shape[1],
                          ptr(lens, SIZEP)))

    @classmethod
    def from_series(cls, series, sequence_length, stride=1, columns=None, **config):
        """Windows of `sequence_length` steps every `stride` rows of a series (rows, F)."""
        s = floats_in(series, "series", ndim=2)
        c, _cols = _config(columns, 0, sequence_length=sequence_length, stride=stride,
                           **config)
        return cls(create(lib().grugan_dataset_from_series, None, ctypes.byref(c), ptr(s),
                          *s.shape))

    @classmethod
    def from_csv(cls, path, sequence_length, stride=1, columns=None, header="auto",
                 delimiter=",", **config):
        """Windows of a CSV series (rows in time order, a numeric column per feature);
        header "auto", "yes" or "no". A bad row raises FormatError naming its line."""
        c, _cols = _config(columns, delimiter, sequence_length=sequence_length,
                           stride=stride, csv_header=header, **config)
        return cls(create(lib().grugan_dataset_from_csv, None, ctypes.byref(c),
                          path_arg(path)))

    @classmethod
    def from_npy(cls, path, sequence_length=0, stride=1, columns=None, **config):
        """From a .npy file: 2-D (rows, F) cut into windows, 3-D (N, T, F) as is."""
        c, _cols = _config(columns, 0, sequence_length=sequence_length, stride=stride,
                           **config)
        return cls(create(lib().grugan_dataset_from_npy, None, ctypes.byref(c),
                          path_arg(path)))

    @property
    def shape(self):
        """(N, T, F)."""
        n, t, f = ctypes.c_size_t(), ctypes.c_size_t(), ctypes.c_size_t()
        self._check(lib().grugan_dataset_shape(self._h, ctypes.byref(n), ctypes.byref(t),
                                               ctypes.byref(f), None))
        return n.value, t.value, f.value

    @property
    def condition_size(self):
        c = ctypes.c_size_t()
        self._check(lib().grugan_dataset_shape(self._h, None, None, None, ctypes.byref(c)))
        return c.value

    @property
    def split(self):
        """(n_train, n_holdout): sequences in the minibatch stream and held out."""
        train, hold = ctypes.c_size_t(), ctypes.c_size_t()
        self._check(lib().grugan_dataset_split(self._h, ctypes.byref(train),
                                               ctypes.byref(hold)))
        return train.value, hold.value

    def holdout_indices(self):
        """The dataset indices of the held-out sequences, increasing."""
        index = ctypes.c_size_t()
        out = []
        for k in range(self.split[1]):
            self._check(lib().grugan_dataset_holdout_index(self._h, k, ctypes.byref(index)))
            out.append(index.value)
        return out

    @property
    def scaler(self):
        """(offset, scale), each (F,): x_scaled = (x - offset) * scale."""
        f = self.shape[2]
        offset, scale = np.empty(f, np.float32), np.empty(f, np.float32)
        self._check(lib().grugan_dataset_scaler(self._h, ptr(offset), ptr(scale)))
        return offset, scale

    def scale(self, x):
        """A copy of x (..., F) in data units mapped to the dataset's scaled units."""
        y = np.array(x, dtype=np.float32, order="C", copy=True)
        self._check(lib().grugan_dataset_scale(self._h, ptr(y), y.size))
        return y

    def get(self, index):
        """Sequence `index` (T, F), scaled."""
        _, t, f = self.shape
        x = np.empty((t, f), np.float32)
        self._check(lib().grugan_dataset_get(self._h, index, ptr(x), None, None))
        return x

    def sequences(self, indices=None):
        """The scaled sequences (len(indices), T, F); all N by default."""
        n, t, f = self.shape
        indices = range(n) if indices is None else indices
        out = np.empty((len(indices), t, f), np.float32)
        for row, i in enumerate(indices):
            self._check(lib().grugan_dataset_get(self._h, i, ptr(out[row]), None, None))
        return out
