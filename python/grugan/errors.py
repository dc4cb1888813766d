"""Exceptions: every failed libgrugan call raises a subclass of Error chosen by its status
code, carrying the code and the library's message (the handle's, or the creation
function's grugan_error)."""
from . import constants as K


class Error(Exception):
    """A libgrugan call failed: .code is the GRUGAN_E_* status, .message the detail."""
    code = None

    def __init__(self, code, message):
        super().__init__(code, message)
        self.code, self.message = code, message

    def __str__(self):
        return f"{self.message} ({_STATUS_NAMES.get(self.code, 'unknown status')})"


class InvalidError(Error):
    """GRUGAN_E_INVALID: an invalid argument (unknown key or kind, wrong handle)."""


class NoMemoryError(Error):
    """GRUGAN_E_NOMEM: an allocation failed."""


class SizeError(Error):
    """GRUGAN_E_SIZE: a size is zero, too large, overflows or does not match."""


class RangeError(Error):
    """GRUGAN_E_RANGE: a value is outside its documented bounds."""


class StateError(Error):
    """GRUGAN_E_STATE: a call out of order."""


class NonFiniteError(Error):
    """GRUGAN_E_NONFINITE: NaN or Inf in an input, a weight, a loss or a gradient."""


class FileIOError(Error):
    """GRUGAN_E_IO: reading or writing a file failed."""


class FormatError(Error):
    """GRUGAN_E_FORMAT: a malformed file or buffer."""


class AbortedError(Error):
    """GRUGAN_E_ABORTED: a callback asked to stop."""


class UnsupportedError(Error):
    """GRUGAN_E_UNSUPPORTED: a valid request this configuration cannot serve."""


class NotFoundError(Error):
    """GRUGAN_E_NOTFOUND: no item of that name or index."""


class InternalError(Error):
    """GRUGAN_E_INTERNAL: a bug in libgrugan; please report it."""


_CLASSES = {
    K.E_INVALID: InvalidError, K.E_NOMEM: NoMemoryError, K.E_SIZE: SizeError,
    K.E_RANGE: RangeError, K.E_STATE: StateError, K.E_NONFINITE: NonFiniteError,
    K.E_IO: FileIOError, K.E_FORMAT: FormatError, K.E_ABORTED: AbortedError,
    K.E_UNSUPPORTED: UnsupportedError, K.E_NOTFOUND: NotFoundError,
    K.E_INTERNAL: InternalError,
}
for _code, _cls in _CLASSES.items():
    _cls.code = _code

_STATUS_NAMES = {
    K.E_INVALID: "GRUGAN_E_INVALID", K.E_NOMEM: "GRUGAN_E_NOMEM", K.E_SIZE: "GRUGAN_E_SIZE",
    K.E_RANGE: "GRUGAN_E_RANGE", K.E_STATE: "GRUGAN_E_STATE",
    K.E_NONFINITE: "GRUGAN_E_NONFINITE", K.E_IO: "GRUGAN_E_IO", K.E_FORMAT: "GRUGAN_E_FORMAT",
    K.E_ABORTED: "GRUGAN_E_ABORTED", K.E_UNSUPPORTED: "GRUGAN_E_UNSUPPORTED",
    K.E_NOTFOUND: "GRUGAN_E_NOTFOUND", K.E_INTERNAL: "GRUGAN_E_INTERNAL",
}


def error_for(code, message):
    """The exception for a status code (Error itself for codes this package does not know)."""
    return _CLASSES.get(code, Error)(code, message)


class LibraryError(ImportError):
    """libgrugan could not be loaded, or the loaded one has an incompatible version."""
