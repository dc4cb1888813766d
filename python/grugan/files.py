"""Writing sequences to CSV or NPY files as the command-line tools write them."""
import ctypes

from . import _structs as S
from . import constants as K
from ._handle import check, floats_in, path_arg, ptr
from ._library import lib


def write_sequences(path, x, format="npy"):
    """Writes sequences x (N, T, F) to path atomically as "npy" (float32) or "csv" (header
    "sequence,step,f0,...", 9 significant digits: every float reads back exactly)."""
    x = floats_in(x, "x", ndim=3)
    fmt = K.FILE_FORMATS.get(format) if isinstance(format, str) else format
    if fmt not in K.FILE_FORMATS.values():
        raise ValueError(f"format={format!r}: expected 'csv' or 'npy'")
    err = S.Error()
    status = lib().grugan_write_sequences(path_arg(path), fmt, ptr(x), *x.shape,
                                          ctypes.byref(err))
    check(status, lambda: err.message.decode(errors="replace"))
