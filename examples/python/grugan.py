"""grugan - a ctypes binding of libgrugan's main calls (no compilation needed).

The library is found through the environment variable GRUGAN_LIBRARY (a path
to libgrugan.so), else in the source tree (lib/libgrugan.so two folders up),
else on the system's library path. Arrays are numpy float32, C order, shaped
as in grugan.h: a batch of sequences is (N, T, F).

Every call that fails raises grugan.Error carrying the status code and the
library's message. Handles are freed by close(), by a `with` block, or when
the object is garbage collected; objects that borrow others (an optimizer its
model, a trainer its five handles) keep references to them, so Python never
frees a handle that is still borrowed. A handle is used by one thread at a
time (ctypes releases the GIL during calls, so that is the caller's duty).

    import grugan
    with grugan.Generator.load("checkpoint.safetensors") as gen:
        x = gen.sample(100, 24, seed=1)        # (100, 24, F), data units
"""
import ctypes
import os
from ctypes import (POINTER, Structure, byref, c_char, c_char_p, c_double, c_float, c_int,
                    c_int32, c_size_t, c_uint, c_uint64, c_void_p)

import numpy as np

# Constants of grugan.h (fixed values).
OK = 0
KEY_THREADS = 1
KEY_LR = 10
NOISE_NORMAL, NOISE_UNIFORM = 0, 1
ACT_SIGMOID, ACT_TANH, ACT_IDENTITY, ACT_LEAKY_RELU = 1, 2, 3, 4
GRU_RESET_AFTER, GRU_RESET_BEFORE = 0, 1
DISC_GRU, DISC_CONV1D = 0, 1
LOSS_BCE, LOSS_LSGAN, LOSS_WASSERSTEIN, LOSS_HINGE = 0, 1, 2, 3
OPT_ADAM, OPT_ADAMW, OPT_SGD, OPT_RMSPROP = 0, 1, 2, 3
E_STATE = -5
ABI_MAJOR = 0  # the major version this binding was written for


class Error(Exception):
    """A libgrugan call failed: .code is the GRUGAN_E_* status, .message the detail."""

    def __init__(self, code, message):
        self.code, self.message = code, message
        super().__init__(f"{message} ({_lib.grugan_status_string(code).decode()})")


# ---- structs (field order and types exactly as in grugan.h) ----------------------

class _Error(Structure):
    _fields_ = [("code", c_int32), ("message", c_char * 252)]


class _GeneratorConfig(Structure):
    _fields_ = [("struct_size", c_size_t), ("noise_size", c_size_t), ("output_size", c_size_t),
                ("hidden_size", c_size_t), ("num_layers", c_size_t),
                ("condition_size", c_size_t), ("covariate_size", c_size_t),
                ("noise_kind", c_int32), ("output_activation", c_int32),
                ("convention", c_int32), ("seed", c_uint64)]


class _DiscriminatorConfig(Structure):
    _fields_ = [("struct_size", c_size_t), ("kind", c_int32), ("input_size", c_size_t),
                ("condition_size", c_size_t), ("hidden_size", c_size_t),
                ("num_layers", c_size_t), ("bidirectional", c_int32), ("convention", c_int32),
                ("logits", c_int32), ("sequence_length", c_size_t), ("conv_layers", c_size_t),
                ("channels", c_size_t), ("kernel_size", c_size_t), ("stride", c_size_t),
                ("padding", c_size_t), ("leaky_slope", c_float), ("seed", c_uint64)]


class _DatasetConfig(Structure):
    _fields_ = [("struct_size", c_size_t), ("sequence_length", c_size_t), ("stride", c_size_t),
                ("scaling", c_int32), ("csv_header", c_int32), ("csv_delimiter", c_int32),
                ("columns", POINTER(c_size_t)), ("num_columns", c_size_t), ("seed", c_uint64)]


class _TrainerConfig(Structure):
    _fields_ = [("struct_size", c_size_t), ("loss", c_int32), ("d_steps", c_size_t),
                ("batch_size", c_size_t), ("total_steps", c_uint64), ("epochs", c_uint64),
                ("label_smoothing", c_float), ("clip_grad_norm", c_float),
                ("clip_weights", c_float), ("feature_matching", c_float),
                ("nonfinite_policy", c_int32), ("threads", c_int32),
                ("moment_matching", c_float)]


class _Progress(Structure):
    _fields_ = [("struct_size", c_size_t), ("step", c_uint64), ("epoch", c_uint64),
                ("total_steps", c_uint64), ("d_loss", c_float), ("g_loss", c_float),
                ("d_real", c_float), ("d_fake", c_float), ("d_grad_norm", c_float),
                ("g_grad_norm", c_float), ("samples_per_second", c_double),
                ("skipped", c_uint64)]


def _config(cls, **fields):
    """A config struct: struct_size set, every field 0 (the default) unless given."""
    c = cls()
    c.struct_size = ctypes.sizeof(cls)
    for k, v in fields.items():
        setattr(c, k, v)
    return c


# ---- loading the library and declaring the functions it uses ----------------------

def _load_library():
    path = os.environ.get("GRUGAN_LIBRARY")
    if not path:
        here = os.path.dirname(os.path.abspath(__file__))
        tree = os.path.join(here, "..", "..", "lib", "libgrugan.so")
        path = tree if os.path.exists(tree) else "libgrugan.so.0"
    lib = ctypes.CDLL(path)
    lib.grugan_version_number.restype = c_uint
    lib.grugan_version_number.argtypes = []
    if lib.grugan_version_number() // 10000 != ABI_MAJOR:
        raise ImportError(f"{path} is libgrugan {lib.grugan_version_number()}, "
                          f"this binding needs major version {ABI_MAJOR}")
    return lib


_lib = _load_library()
_F = POINTER(c_float)
_H = c_void_p  # every handle is an opaque pointer
_PH = POINTER(c_void_p)
_E = POINTER(_Error)
_SIGNATURES = {
    "grugan_version_string": (c_char_p, []),
    "grugan_status_string": (c_char_p, [c_int]),
    # generator
    "grugan_generator_create": (c_int, [_H, POINTER(_GeneratorConfig), _PH, _E]),
    "grugan_generator_load": (c_int, [_H, c_char_p, _PH, _E]),
    "grugan_generator_load_buffer": (c_int, [_H, c_void_p, c_size_t, _PH, _E]),
    "grugan_generator_free": (None, [_H]),
    "grugan_generator_message": (c_char_p, [_H]),
    "grugan_generator_set": (c_int, [_H, c_int, c_double]),
    "grugan_generator_get_config": (c_int, [_H, POINTER(_GeneratorConfig)]),
    "grugan_generator_params": (_H, [_H]),
    "grugan_generator_noise": (c_int, [_H, c_uint64, c_uint64, c_size_t, c_size_t, _F]),
    "grugan_generator_forward": (c_int, [_H, c_size_t, c_size_t, _F, _F, _F, _F]),
    "grugan_generator_sample": (c_int, [_H, c_uint64, c_size_t, c_size_t, _F, _F, _F]),
    "grugan_generator_get_scaler": (c_int, [_H, _F, _F]),
    "grugan_generator_unscale": (c_int, [_H, _F, c_size_t]),
    "grugan_generator_save": (c_int, [_H, c_char_p]),
    # discriminator
    "grugan_discriminator_create": (c_int, [_H, POINTER(_DiscriminatorConfig), _PH, _E]),
    "grugan_discriminator_free": (None, [_H]),
    "grugan_discriminator_message": (c_char_p, [_H]),
    "grugan_discriminator_params": (_H, [_H]),
    # parameters (owned by their model)
    "grugan_params_message": (c_char_p, [_H]),
    "grugan_params_count": (c_size_t, [_H]),
    "grugan_params_info": (c_int, [_H, c_size_t, POINTER(c_char_p), POINTER(c_size_t),
                                   POINTER(c_size_t)]),
    "grugan_params_read": (c_int, [_H, c_size_t, _F, c_size_t]),
    "grugan_params_write": (c_int, [_H, c_size_t, _F, c_size_t]),
    # optimizer
    "grugan_optimizer_create": (c_int, [_H, c_void_p, _H, _PH, _E]),
    "grugan_optimizer_free": (None, [_H]),
    "grugan_optimizer_message": (c_char_p, [_H]),
    "grugan_optimizer_set": (c_int, [_H, c_int, c_double]),
    # dataset
    "grugan_dataset_from_array": (c_int, [_H, POINTER(_DatasetConfig), _F, c_size_t, c_size_t,
                                          c_size_t, _F, c_size_t, POINTER(c_size_t), _PH, _E]),
    "grugan_dataset_from_csv": (c_int, [_H, POINTER(_DatasetConfig), c_char_p, _PH, _E]),
    "grugan_dataset_free": (None, [_H]),
    "grugan_dataset_message": (c_char_p, [_H]),
    "grugan_dataset_shape": (c_int, [_H, POINTER(c_size_t), POINTER(c_size_t),
                                     POINTER(c_size_t), POINTER(c_size_t)]),
    # trainer
    "grugan_trainer_create": (c_int, [_H, POINTER(_TrainerConfig), _H, _H, _H, _H, _H, _PH, _E]),
    "grugan_trainer_free": (None, [_H]),
    "grugan_trainer_message": (c_char_p, [_H]),
    "grugan_trainer_step": (c_int, [_H]),
    "grugan_trainer_run": (c_int, [_H]),
    "grugan_trainer_progress": (c_int, [_H, POINTER(_Progress)]),
    "grugan_trainer_save": (c_int, [_H, c_char_p]),
    "grugan_trainer_load": (c_int, [_H, c_char_p]),
}
for _name, (_res, _args) in _SIGNATURES.items():
    _fn = getattr(_lib, _name)
    _fn.restype, _fn.argtypes = _res, _args


def version():
    """The loaded library's version string, e.g. "0.1.0"."""
    return _lib.grugan_version_string().decode()


def _floats(x, shape=None):
    """x as a C-ordered float32 array (copied only if needed) and its pointer."""
    a = np.ascontiguousarray(x, dtype=np.float32)
    if shape is not None and a.shape != tuple(shape):
        raise ValueError(f"expected shape {tuple(shape)}, got {a.shape}")
    return a, a.ctypes.data_as(_F)


def _ptr(a):
    return None if a is None else a.ctypes.data_as(_F)


def _create(fn, *args):
    """Calls a creation function; returns the new handle or raises with err.message."""
    out, err = c_void_p(), _Error()
    status = fn(*args, byref(out), byref(err))
    if status != OK:
        raise Error(status, err.message.decode(errors="replace"))
    return out.value


def _path(p):
    return os.fsencode(p)


class _Handle:
    """Owns one library handle; frees it once."""
    _free = _message = None

    def __init__(self, handle, borrowed=()):
        self._h = handle
        self._borrowed = borrowed  # keeps borrowed handles alive as long as this one

    def _check(self, status):
        if status != OK:
            raise Error(status, type(self)._message(self._h).decode(errors="replace"))

    def close(self):
        if getattr(self, "_h", None):
            type(self)._free(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()


class Params:
    """The named tensors of a model, under PyTorch's names and shapes (the model owns them)."""

    def __init__(self, owner, handle):
        self._owner, self._h = owner, handle  # the owner keeps the tensors alive

    def _check(self, status):
        if status != OK:
            raise Error(status, _lib.grugan_params_message(self._h).decode(errors="replace"))

    def _info(self, i):
        name, ndim, shape = c_char_p(), c_size_t(), (c_size_t * 4)()
        self._check(_lib.grugan_params_info(self._h, i, byref(name), byref(ndim), shape))
        return name.value.decode(), tuple(shape[:ndim.value])

    def names(self):
        return [self._info(i)[0] for i in range(_lib.grugan_params_count(self._h))]

    def __getitem__(self, name):
        for i in range(_lib.grugan_params_count(self._h)):
            n, shape = self._info(i)
            if n == name:
                out = np.empty(shape, np.float32)
                self._check(_lib.grugan_params_read(self._h, i, _ptr(out), out.size))
                return out
        raise KeyError(name)

    def __setitem__(self, name, value):
        for i in range(_lib.grugan_params_count(self._h)):
            n, shape = self._info(i)
            if n == name:
                a, p = _floats(value, shape)
                self._check(_lib.grugan_params_write(self._h, i, p, a.size))
                return
        raise KeyError(name)

    def state_dict(self):
        """{name: array}, e.g. gru.weight_ih_l0 (3H, I) as torch.nn.GRU names it."""
        return {n: self[n] for n in self.names()}


class Generator(_Handle):
    """A GRU generator: noise (and an optional condition) in, sequences out."""
    _free = _lib.grugan_generator_free
    _message = _lib.grugan_generator_message

    @classmethod
    def create(cls, noise_size, output_size, **config):
        """Fresh weights; config: hidden_size, num_layers, condition_size, covariate_size,
        noise_kind, output_activation, convention, seed (0 or absent: the default)."""
        c = _config(_GeneratorConfig, noise_size=noise_size, output_size=output_size, **config)
        return cls(_create(_lib.grugan_generator_create, None, byref(c)))

    @classmethod
    def load(cls, path):
        """From a training checkpoint or a generator-only export."""
        return cls(_create(_lib.grugan_generator_load, None, _path(path)))

    @classmethod
    def from_bytes(cls, data):
        buf = ctypes.create_string_buffer(bytes(data), len(data))
        return cls(_create(_lib.grugan_generator_load_buffer, None, buf, len(data)))

    @property
    def config(self):
        """The configuration, every default resolved, as a dict."""
        c = _config(_GeneratorConfig)
        self._check(_lib.grugan_generator_get_config(self._h, byref(c)))
        return {name: getattr(c, name) for name, _ in c._fields_ if name != "struct_size"}

    @property
    def params(self):
        return Params(self, _lib.grugan_generator_params(self._h))

    def set_threads(self, n):
        self._check(_lib.grugan_generator_set(self._h, KEY_THREADS, n))

    def noise(self, n, steps, seed, first=0):
        """The noise (n, steps, Z) of samples first .. first+n-1: sample i at step t
        depends on (seed, i, t) only."""
        z = np.empty((n, steps, self.config["noise_size"]), np.float32)
        self._check(_lib.grugan_generator_noise(self._h, seed, first, n, steps, _ptr(z)))
        return z

    def _extras(self, n, steps, condition, covariates):
        c = self.config
        cond = None if condition is None else _floats(condition, (n, c["condition_size"]))[0]
        cov = None if covariates is None else \
            _floats(covariates, (n, steps, c["covariate_size"]))[0]
        return c, cond, cov

    def forward(self, z, condition=None, covariates=None):
        """Outputs (N, T, F) for noise z (N, T, Z), in scaled units."""
        z, pz = _floats(z)
        n, steps = z.shape[0], z.shape[1]
        c, cond, cov = self._extras(n, steps, condition, covariates)
        out = np.empty((n, steps, c["output_size"]), np.float32)
        self._check(_lib.grugan_generator_forward(self._h, n, steps, pz, _ptr(cond), _ptr(cov),
                                                  _ptr(out)))
        return out

    def sample(self, n, steps, seed=0, condition=None, covariates=None, scaled=False):
        """n sequences of any length (N, T, F) with the noise of samples 0 .. n-1 for seed;
        in data units when a scaler is attached, unless scaled=True. condition: (C) values
        for every sequence."""
        c = self.config
        cond = None if condition is None else _floats(condition, (c["condition_size"],))[0]
        cov = None if covariates is None else \
            _floats(covariates, (n, steps, c["covariate_size"]))[0]
        out = np.empty((n, steps, c["output_size"]), np.float32)
        self._check(_lib.grugan_generator_sample(self._h, seed, n, steps, _ptr(cond),
                                                 _ptr(cov), _ptr(out)))
        return out if scaled or self.scaler is None else self.unscale(out)

    @property
    def scaler(self):
        """(offset, scale), each (F): x_scaled = (x - offset) * scale; None if none."""
        f = self.config["output_size"]
        offset, scale = np.empty(f, np.float32), np.empty(f, np.float32)
        status = _lib.grugan_generator_get_scaler(self._h, _ptr(offset), _ptr(scale))
        if status == E_STATE:
            return None
        self._check(status)
        return offset, scale

    def unscale(self, x):
        """A copy of x (rows of F) mapped from scaled to data units."""
        out = np.array(x, dtype=np.float32, order="C", copy=True)
        self._check(_lib.grugan_generator_unscale(self._h, _ptr(out), out.size))
        return out

    def save(self, path):
        """A generator-only export (weights, architecture, scaler)."""
        self._check(_lib.grugan_generator_save(self._h, _path(path)))


class Discriminator(_Handle):
    _free = _lib.grugan_discriminator_free
    _message = _lib.grugan_discriminator_message

    def __init__(self, input_size, **config):
        """config: kind (DISC_GRU, DISC_CONV1D), condition_size, hidden_size, num_layers,
        bidirectional, logits, sequence_length (CONV1D), conv_layers, channels,
        kernel_size, stride, padding, leaky_slope, seed."""
        c = _config(_DiscriminatorConfig, input_size=input_size, **config)
        super().__init__(_create(_lib.grugan_discriminator_create, None, byref(c)))

    @property
    def params(self):
        return Params(self, _lib.grugan_discriminator_params(self._h))


class Optimizer(_Handle):
    """Adam with torch's defaults (lr 1e-3 unless given) for a model's parameters."""
    _free = _lib.grugan_optimizer_free
    _message = _lib.grugan_optimizer_message

    def __init__(self, model, lr=None):
        params = model.params
        super().__init__(_create(_lib.grugan_optimizer_create, None, None, params._h),
                         borrowed=(model,))
        if lr is not None:
            self._check(_lib.grugan_optimizer_set(self._h, KEY_LR, lr))


class Dataset(_Handle):
    _free = _lib.grugan_dataset_free
    _message = _lib.grugan_dataset_message

    @classmethod
    def from_array(cls, x, seed=0, scaling=0):
        """From sequences x (N, T, F) (copied), scaled per feature to [0, 1] by default."""
        x, p = _floats(x)
        if x.ndim != 3:
            raise ValueError("x must be (N, T, F)")
        c = _config(_DatasetConfig, seed=seed, scaling=scaling)
        return cls(_create(_lib.grugan_dataset_from_array, None, byref(c), p, *x.shape, None,
                           0, None))

    @classmethod
    def from_csv(cls, path, sequence_length, stride=1, seed=0):
        """Windows of a CSV series (rows in time order, a column per feature)."""
        c = _config(_DatasetConfig, sequence_length=sequence_length, stride=stride, seed=seed)
        return cls(_create(_lib.grugan_dataset_from_csv, None, byref(c), _path(path)))

    @property
    def shape(self):
        """(N, T, F)."""
        n, t, f = c_size_t(), c_size_t(), c_size_t()
        self._check(_lib.grugan_dataset_shape(self._h, byref(n), byref(t), byref(f), None))
        return n.value, t.value, f.value


class Trainer(_Handle):
    """The built-in GAN loop; borrows the generator, discriminator, both optimizers and
    the dataset (this object keeps them alive)."""
    _free = _lib.grugan_trainer_free
    _message = _lib.grugan_trainer_message

    def __init__(self, gen, disc, gen_opt, disc_opt, data, **config):
        """config: loss, d_steps, batch_size, total_steps, epochs, label_smoothing,
        clip_grad_norm, clip_weights, feature_matching, nonfinite_policy, threads,
        moment_matching (0: the default 100, negative: off)."""
        c = _config(_TrainerConfig, **config)
        handles = [h._h for h in (gen, disc, gen_opt, disc_opt, data)]
        super().__init__(_create(_lib.grugan_trainer_create, None, byref(c), *handles),
                         borrowed=(gen, disc, gen_opt, disc_opt, data))

    def step(self):
        self._check(_lib.grugan_trainer_step(self._h))

    def run(self):
        self._check(_lib.grugan_trainer_run(self._h))

    @property
    def progress(self):
        p = _config(_Progress)
        self._check(_lib.grugan_trainer_progress(self._h, byref(p)))
        return {name: getattr(p, name) for name, _ in p._fields_ if name != "struct_size"}

    def save(self, path):
        self._check(_lib.grugan_trainer_save(self._h, _path(path)))

    def load(self, path):
        self._check(_lib.grugan_trainer_load(self._h, _path(path)))
