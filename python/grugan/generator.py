"""The generator: noise (and an optional condition and covariates) in, sequences out."""
import ctypes

import numpy as np

from . import _structs as S
from . import constants as K
from ._handle import (Handle, create, floats_in, floats_out, path_arg, ptr, read_buffer)
from ._library import lib
from .params import Params


class Generator(Handle):
    """A GRU generator (grugan_generator). Make one with Generator.create, Generator.load
    or Generator.from_bytes; shapes: Z noise size, C condition size, V covariate size,
    F features."""
    _c_free = "grugan_generator_free"
    _c_message = "grugan_generator_message"

    @classmethod
    def create(cls, noise_size, output_size, **config):
        """Fresh weights. config: the fields of grugan_generator_config (hidden_size,
        num_layers, condition_size, covariate_size, noise_kind, output_activation,
        convention, seed); absent or 0 takes the library's default."""
        c = S.make_config(S.GeneratorConfig, noise_size=noise_size, output_size=output_size,
                          **config)
        return cls(create(lib().grugan_generator_create, None, ctypes.byref(c)))

    @classmethod
    def load(cls, path):
        """From a training checkpoint (its best generator) or a generator-only export."""
        return cls(create(lib().grugan_generator_load, None, path_arg(path)))

    @classmethod
    def from_bytes(cls, data):
        """As load, from the bytes of such a file."""
        data = bytes(data)
        return cls(create(lib().grugan_generator_load_buffer, None, data, len(data)))

    @property
    def config(self):
        """The configuration, every default resolved, as a dict."""
        c = S.make_config(S.GeneratorConfig)
        self._check(lib().grugan_generator_get_config(self._h, ctypes.byref(c)))
        return S.as_dict(c)

    @property
    def params(self):
        """The parameters under PyTorch's names (gru.*, head.*)."""
        return Params(self, lib().grugan_generator_params(self._h))

    @property
    def threads(self):
        value = ctypes.c_double()
        self._check(lib().grugan_generator_get(self._h, K.KEY_THREADS, ctypes.byref(value)))
        return int(value.value)

    @threads.setter
    def threads(self, n):
        """Threads of this generator's products (1..256); results are the same bits."""
        self._check(lib().grugan_generator_set(self._h, K.KEY_THREADS, n))

    def _extras(self, cfg, n, steps, condition, covariates, per_sequence):
        cond = None
        if condition is not None:
            shape = (n, cfg["condition_size"]) if per_sequence else (cfg["condition_size"],)
            cond = floats_in(condition, "condition", shape)
        cov = None if covariates is None else \
            floats_in(covariates, "covariates", (n, steps, cfg["covariate_size"]))
        return cond, cov

    def noise(self, n, steps, seed, first=0, out=None):
        """The noise (n, steps, Z) of samples first .. first+n-1 for seed: sample i at
        step t depends on (seed, i, t) only."""
        z = floats_out(out, (n, steps, self.config["noise_size"]))
        self._check(lib().grugan_generator_noise(self._h, seed, first, n, steps, ptr(z)))
        return z

    def forward(self, z, condition=None, covariates=None, out=None):
        """Outputs (N, T, F) in scaled units for noise z (N, T, Z); condition (N, C),
        covariates (N, T, V) when the generator takes them."""
        cfg = self.config
        z = floats_in(z, "z", ndim=3)
        n, steps = z.shape[0], z.shape[1]
        cond, cov = self._extras(cfg, n, steps, condition, covariates, per_sequence=True)
        y = floats_out(out, (n, steps, cfg["output_size"]))
        self._check(lib().grugan_generator_forward(self._h, n, steps, ptr(z), ptr(cond),
                                                   ptr(cov), ptr(y)))
        return y

    def sample(self, n, steps, seed=0, condition=None, covariates=None, scaled=False,
               out=None):
        """n sequences (n, steps, F) of any length with the noise of samples 0 .. n-1 for
        seed, in data units when a scaler is attached (unless scaled=True), mapped in
        place. condition: (C) values for every sequence; covariates (n, steps, V)."""
        cfg = self.config
        cond, cov = self._extras(cfg, n, steps, condition, covariates, per_sequence=False)
        y = floats_out(out, (n, steps, cfg["output_size"]))
        self._check(lib().grugan_generator_sample(self._h, seed, n, steps, ptr(cond),
                                                  ptr(cov), ptr(y)))
        if not scaled and self.has_scaler:
            self._check(lib().grugan_generator_unscale(self._h, ptr(y), y.size))
        return y

    @property
    def has_scaler(self):
        return lib().grugan_generator_get_scaler(self._h, None, None) == K.OK

    @property
    def scaler(self):
        """(offset, scale), each (F,): x_scaled = (x - offset) * scale; None if none."""
        if not self.has_scaler:
            return None
        f = self.config["output_size"]
        offset, scale = np.empty(f, np.float32), np.empty(f, np.float32)
        self._check(lib().grugan_generator_get_scaler(self._h, ptr(offset), ptr(scale)))
        return offset, scale

    def set_scaler(self, offset, scale):
        """Attaches a per-feature scaler (offset, scale each (F,)); None, None removes it."""
        if offset is None and scale is None:
            self._check(lib().grugan_generator_set_scaler(self._h, None, None))
            return
        f = self.config["output_size"]
        o, s = floats_in(offset, "offset", (f,)), floats_in(scale, "scale", (f,))
        self._check(lib().grugan_generator_set_scaler(self._h, ptr(o), ptr(s)))

    def unscale(self, x):
        """A copy of x (..., F) mapped from scaled units to data units."""
        y = np.array(x, dtype=np.float32, order="C", copy=True)
        self._check(lib().grugan_generator_unscale(self._h, ptr(y), y.size))
        return y

    def quality(self, real, n_test=0, conditions=None, repetitions=0, iterations=0,
                batch_size=0, seed=0, threads=0):
        """The quick quality estimate of model selection (0 best, 0.5 worst) against real
        sequences (n, T, F) in scaled units; n_test: the last n_test of them test the
        classifier, 0 splits at random (grugan_generator_quality)."""
        real = floats_in(real, "real", ndim=3)
        n, steps, _ = real.shape
        cond = None if conditions is None else \
            floats_in(conditions, "conditions", (n, self.config["condition_size"]))
        c = S.make_config(S.MetricConfig, repetitions=repetitions, iterations=iterations,
                          batch_size=batch_size, seed=seed, threads=threads)
        q = ctypes.c_double()
        self._check(lib().grugan_generator_quality(self._h, ctypes.byref(c), ptr(real),
                                                   ptr(cond), n, n_test, steps,
                                                   ctypes.byref(q)))
        return q.value

    def save(self, path):
        """Writes a generator-only export (weights, architecture, scaler) atomically."""
        self._check(lib().grugan_generator_save(self._h, path_arg(path)))

    def to_bytes(self):
        """The export save writes, as bytes."""
        return read_buffer(lib().grugan_generator_save_buffer, self._h, self._check)
