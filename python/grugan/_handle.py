"""The base class of every handle, and the helpers that pass numpy arrays to C.

Arrays go to C without a copy when they already are C-contiguous float32 (sizes:
the platform's size_t); anything else is converted once. Outputs are allocated
with numpy and filled by C, or written into a caller's `out` array.
"""
import ctypes
import os
import weakref

import numpy as np

from . import _structs as S
from ._library import lib
from .errors import error_for

F32P = ctypes.POINTER(ctypes.c_float)
SIZEP = ctypes.POINTER(ctypes.c_size_t)


def floats_in(x, name, shape=None, ndim=None):
    """x as a C-contiguous float32 array (x itself when it is one already)."""
    a = np.ascontiguousarray(x, dtype=np.float32)
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, not shape {a.shape}")
    if shape is not None and a.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, not {a.shape}")
    return a


def floats_out(out, shape, name="out"):
    """A new float32 array of `shape`, or the caller's `out` after checking that C can
    fill it in place (float32, C-contiguous, writeable, that shape)."""
    if out is None:
        return np.empty(shape, np.float32)
    if not isinstance(out, np.ndarray) or out.dtype != np.float32 or \
            not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError(f"{name} must be a writeable C-contiguous float32 numpy array")
    if out.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, not {out.shape}")
    return out


def sizes_in(x, name, shape):
    """x as a C-contiguous array of size_t values of `shape`."""
    a = np.asarray(x)
    if a.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, not {a.shape}")
    if a.size and (not np.issubdtype(a.dtype, np.integer) or a.min() < 0):
        raise ValueError(f"{name} must hold non-negative integers")
    return np.ascontiguousarray(a, dtype=np.uintp)


def ptr(a, kind=F32P):
    """The C pointer of an array, or NULL for None."""
    return None if a is None else a.ctypes.data_as(kind)


def path_arg(path):
    """A file path (str, bytes or os.PathLike) as the bytes C expects."""
    return os.fsencode(path)


def check(status, message=""):
    """Raises the exception of a failed status; `message` may be a function giving it."""
    if status != 0:
        text = message() if callable(message) else message
        if not text:
            text = lib().grugan_status_string(status).decode()
        raise error_for(status, text)


def create(fn, *args):
    """Calls a creation function (its last two parameters: the new handle, grugan_error)
    and returns the handle, or raises with the error's message."""
    out, err = ctypes.c_void_p(), S.Error()
    status = fn(*args, ctypes.byref(out), ctypes.byref(err))
    check(status, lambda: err.message.decode(errors="replace"))
    return out.value


class Handle:
    """Owns one library handle and frees it once: by close(), at the end of a `with`
    block, or when garbage collected. A handle that borrows others keeps them alive;
    closing a handle first closes every handle that borrows it."""
    _c_free = None     # name of the C function that frees this kind of handle
    _c_message = None  # name of the C function that gives its last message

    def __init__(self, handle, borrowed=()):
        self._ptr = handle
        self._free_fn = getattr(lib(), self._c_free)  # kept for interpreter shutdown
        self._borrowed = tuple(borrowed)
        self._borrowers = weakref.WeakSet()
        for b in self._borrowed:
            b._borrowers.add(self)

    @property
    def _h(self):
        if self._ptr is None:
            raise ValueError(f"this {type(self).__name__} is closed")
        return self._ptr

    @property
    def closed(self):
        return getattr(self, "_ptr", None) is None

    def _message(self):
        return getattr(lib(), self._c_message)(self._ptr).decode(errors="replace")

    def _check(self, status):
        check(status, self._message)

    def close(self):
        """Frees the handle (and first closes the handles borrowing it); idempotent."""
        if self.closed:
            return
        for borrower in list(self._borrowers):
            borrower.close()
        if self.closed:  # a borrower that owned this handle closed it
            return
        handle, self._ptr = self._ptr, None
        self._free_fn(handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_free_fn", None) is not None:
            self.close()

    def __repr__(self):
        state = "closed" if self.closed else hex(self._ptr)
        return f"<grugan.{type(self).__name__} {state}>"


def read_buffer(save_fn, handle, check_fn):
    """bytes from a "query the size, then fill" save function."""
    size = ctypes.c_size_t()
    check_fn(save_fn(handle, None, 0, ctypes.byref(size)))
    buf = ctypes.create_string_buffer(size.value)
    check_fn(save_fn(handle, buf, size.value, ctypes.byref(size)))
    return buf.raw[:size.value]
