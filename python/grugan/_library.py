"""Finding and loading libgrugan, checking its version, declaring the C signatures.

The library is loaded on first use, from the first of:
  1. the path given to grugan.load_library(path);
  2. the environment variable GRUGAN_LIBRARY;
  3. the copy bundled into the package when it was installed (libgrugan.so.0 beside
     this file);
  4. the source tree's lib/libgrugan.so.0 when the package is imported from python/ in
     a checkout;
  5. the system's library (ctypes.util.find_library("grugan"), else libgrugan.so.0 on
     the loader's search path).
An explicit path (1 or 2) that fails is an error; nothing else is tried then.
"""
import ctypes
import ctypes.util
import os
import threading
from ctypes import POINTER, c_char_p, c_double, c_float, c_int, c_size_t, c_uint, c_uint64, c_void_p

from . import _structs as S
from .errors import LibraryError

ABI_MAJOR = 0      # the SONAME's major version this package is written for
MIN_VERSION = 100  # 0.1.0: the oldest library with every function and field used here

_HERE = os.path.dirname(os.path.abspath(__file__))
BUNDLED = os.path.join(_HERE, "libgrugan.so.0")
SOURCE_TREE = os.path.join(_HERE, "..", "..", "lib", "libgrugan.so.0")
SOURCE_HEADER = os.path.join(_HERE, "..", "..", "include", "grugan.h")  # marks a checkout

_F = POINTER(c_float)
_H = c_void_p             # every handle is an opaque pointer
_PH = POINTER(c_void_p)
_E = POINTER(S.Error)
_Z = POINTER(c_size_t)
_U64 = POINTER(c_uint64)
_D = POINTER(c_double)

SIGNATURES = {
    "grugan_version_number": (c_uint, []),
    "grugan_version_string": (c_char_p, []),
    "grugan_status_string": (c_char_p, [c_int]),
    # parameters
    "grugan_params_message": (c_char_p, [_H]),
    "grugan_params_count": (c_size_t, [_H]),
    "grugan_params_num_scalars": (c_size_t, [_H]),
    "grugan_params_info": (c_int, [_H, c_size_t, POINTER(c_char_p), _Z, _Z]),
    "grugan_params_find": (c_int, [_H, c_char_p, _Z]),
    "grugan_params_read": (c_int, [_H, c_size_t, _F, c_size_t]),
    "grugan_params_write": (c_int, [_H, c_size_t, _F, c_size_t]),
    "grugan_params_grad_read": (c_int, [_H, c_size_t, _F, c_size_t]),
    # generator
    "grugan_generator_create": (c_int, [_H, POINTER(S.GeneratorConfig), _PH, _E]),
    "grugan_generator_load": (c_int, [_H, c_char_p, _PH, _E]),
    "grugan_generator_load_buffer": (c_int, [_H, c_void_p, c_size_t, _PH, _E]),
    "grugan_generator_free": (None, [_H]),
    "grugan_generator_message": (c_char_p, [_H]),
    "grugan_generator_set": (c_int, [_H, c_int, c_double]),
    "grugan_generator_get": (c_int, [_H, c_int, _D]),
    "grugan_generator_params": (_H, [_H]),
    "grugan_generator_get_config": (c_int, [_H, POINTER(S.GeneratorConfig)]),
    "grugan_generator_noise": (c_int, [_H, c_uint64, c_uint64, c_size_t, c_size_t, _F]),
    "grugan_generator_forward": (c_int, [_H, c_size_t, c_size_t, _F, _F, _F, _F]),
    "grugan_generator_sample": (c_int, [_H, c_uint64, c_size_t, c_size_t, _F, _F, _F]),
    "grugan_generator_set_scaler": (c_int, [_H, _F, _F]),
    "grugan_generator_get_scaler": (c_int, [_H, _F, _F]),
    "grugan_generator_unscale": (c_int, [_H, _F, c_size_t]),
    "grugan_generator_save": (c_int, [_H, c_char_p]),
    "grugan_generator_save_buffer": (c_int, [_H, c_void_p, c_size_t, _Z]),
    "grugan_generator_quality": (c_int, [_H, POINTER(S.MetricConfig), _F, _F, c_size_t,
                                         c_size_t, c_size_t, _D]),
    # discriminator
    "grugan_discriminator_create": (c_int, [_H, POINTER(S.DiscriminatorConfig), _PH, _E]),
    "grugan_discriminator_free": (None, [_H]),
    "grugan_discriminator_message": (c_char_p, [_H]),
    "grugan_discriminator_set": (c_int, [_H, c_int, c_double]),
    "grugan_discriminator_get": (c_int, [_H, c_int, _D]),
    "grugan_discriminator_params": (_H, [_H]),
    "grugan_discriminator_get_config": (c_int, [_H, POINTER(S.DiscriminatorConfig)]),
    "grugan_discriminator_logit_count": (c_size_t, [_H, c_size_t]),
    "grugan_discriminator_forward": (c_int, [_H, c_size_t, c_size_t, _F, _F, _Z, _F]),
    # optimizer
    "grugan_optimizer_create": (c_int, [_H, POINTER(S.OptimizerConfig), _H, _PH, _E]),
    "grugan_optimizer_free": (None, [_H]),
    "grugan_optimizer_message": (c_char_p, [_H]),
    "grugan_optimizer_set": (c_int, [_H, c_int, c_double]),
    "grugan_optimizer_get": (c_int, [_H, c_int, _D]),
    "grugan_optimizer_step_count": (c_int, [_H, _U64]),
    # dataset
    "grugan_dataset_from_array": (c_int, [_H, POINTER(S.DatasetConfig), _F, c_size_t,
                                          c_size_t, c_size_t, _F, c_size_t, _Z, _PH, _E]),
    "grugan_dataset_from_series": (c_int, [_H, POINTER(S.DatasetConfig), _F, c_size_t,
                                           c_size_t, _PH, _E]),
    "grugan_dataset_from_csv": (c_int, [_H, POINTER(S.DatasetConfig), c_char_p, _PH, _E]),
    "grugan_dataset_from_npy": (c_int, [_H, POINTER(S.DatasetConfig), c_char_p, _PH, _E]),
    "grugan_dataset_free": (None, [_H]),
    "grugan_dataset_message": (c_char_p, [_H]),
    "grugan_dataset_shape": (c_int, [_H, _Z, _Z, _Z, _Z]),
    "grugan_dataset_split": (c_int, [_H, _Z, _Z]),
    "grugan_dataset_holdout_index": (c_int, [_H, c_size_t, _Z]),
    "grugan_dataset_scaler": (c_int, [_H, _F, _F]),
    "grugan_dataset_scale": (c_int, [_H, _F, c_size_t]),
    "grugan_dataset_get": (c_int, [_H, c_size_t, _F, _F, _Z]),
    # trainer
    "grugan_trainer_create": (c_int, [_H, POINTER(S.TrainerConfig), _H, _H, _H, _H, _H,
                                      _PH, _E]),
    "grugan_trainer_free": (None, [_H]),
    "grugan_trainer_message": (c_char_p, [_H]),
    "grugan_trainer_set_callback": (c_int, [_H, S.PROGRESS_FN, c_void_p]),
    "grugan_trainer_step": (c_int, [_H]),
    "grugan_trainer_run": (c_int, [_H]),
    "grugan_trainer_progress": (c_int, [_H, POINTER(S.Progress)]),
    "grugan_trainer_best_params": (c_int, [_H, _F, c_size_t]),
    "grugan_trainer_restore_best": (c_int, [_H]),
    "grugan_trainer_export": (c_int, [_H, c_char_p]),
    "grugan_trainer_rank_final": (c_int, [_H]),
    "grugan_trainer_estimate": (c_int, [_H, _D]),
    "grugan_trainer_save": (c_int, [_H, c_char_p]),
    "grugan_trainer_load": (c_int, [_H, c_char_p]),
    "grugan_trainer_save_buffer": (c_int, [_H, c_void_p, c_size_t, _Z]),
    "grugan_trainer_load_buffer": (c_int, [_H, c_void_p, c_size_t]),
    # sample quality
    "grugan_discriminative_score": (c_int, [_H, POINTER(S.MetricConfig), _F, c_size_t, _F,
                                            c_size_t, c_size_t, c_size_t, _D, _D, _E]),
    "grugan_predictive_score": (c_int, [_H, POINTER(S.MetricConfig), _F, c_size_t, _F,
                                        c_size_t, c_size_t, c_size_t, _D, _D, _E]),
    "grugan_statistics_error": (c_int, [_F, c_size_t, _F, c_size_t, c_size_t, c_size_t,
                                        c_size_t, _D, _D, _D]),
    "grugan_write_sequences": (c_int, [c_char_p, c_int, _F, c_size_t, c_size_t, c_size_t,
                                       _E]),
}

_lock = threading.Lock()
_loaded = None  # (CDLL, path) of the library in use, once loaded


def _dotted(number):
    return f"{number // 10000}.{number // 100 % 100}.{number % 100}"


def check_version(number, path):
    """Raises LibraryError unless a library of version `number` (MAJOR * 10000 + MINOR * 100
    + PATCH) can serve this package: the same major version and at least MIN_VERSION."""
    if number // 10000 != ABI_MAJOR or number < MIN_VERSION:
        raise LibraryError(f"{path} is libgrugan {_dotted(number)}; this package needs "
                           f"{_dotted(MIN_VERSION)} or a later {ABI_MAJOR}.x")
    return number


def _candidates():
    """Where to look, in order, when no path is given: [(path, explicit)]."""
    env = os.environ.get("GRUGAN_LIBRARY")
    if env:
        return [(env, True)]
    found = []
    if os.path.exists(BUNDLED):
        found.append((BUNDLED, False))
    if os.path.exists(SOURCE_TREE) and os.path.exists(SOURCE_HEADER):
        found.append((os.path.normpath(SOURCE_TREE), False))
    found.append((ctypes.util.find_library("grugan") or "libgrugan.so.0", False))
    return found


def _open(path):
    lib = ctypes.CDLL(path)
    lib.grugan_version_number.restype = c_uint
    lib.grugan_version_number.argtypes = []
    check_version(lib.grugan_version_number(), path)
    for name, (restype, argtypes) in SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


def load_library(path=None):
    """Loads libgrugan (see the module's docstring for where it is looked for) unless it is
    loaded already, and returns the path it was loaded from. A path different from the
    library already in use raises LibraryError: handles of two libraries must not mix."""
    global _loaded
    with _lock:
        if _loaded is not None:
            if path is not None and os.path.realpath(path) != os.path.realpath(_loaded[1]):
                raise LibraryError(f"libgrugan is already loaded from {_loaded[1]}")
            return _loaded[1]
        tried = []
        for candidate, explicit in ([(os.fspath(path), True)] if path else _candidates()):
            try:
                _loaded = (_open(candidate), candidate)
                return candidate
            except OSError as e:
                if explicit:
                    raise LibraryError(f"cannot load libgrugan from {candidate}: {e}") from e
                tried.append(f"{candidate} ({e})")
        raise LibraryError("libgrugan not found; tried " + "; ".join(tried) +
                           ". Build it with `make`, then `pip install ./python` bundles it, "
                           "or set GRUGAN_LIBRARY to its path")


def lib():
    """The loaded library (loading it on first use)."""
    if _loaded is None:
        load_library()
    return _loaded[0]
