"""Optimizers with torch.optim's update rules."""
import ctypes

from . import _structs as S
from . import constants as K
from ._handle import Handle, create
from ._library import lib


class Optimizer(Handle):
    """An optimizer for one model's parameters (grugan_optimizer); it borrows the model,
    which this object keeps alive."""
    _c_free = "grugan_optimizer_free"
    _c_message = "grugan_optimizer_message"

    @classmethod
    def create(cls, model, kind="adam", **config):
        """For model.params. kind: "adam" (default), "adamw", "sgd" or "rmsprop"; config:
        lr, beta1, beta2, eps, weight_decay, momentum, dampening, nesterov, alpha,
        centered (absent or 0: torch's default; the library refuses settings the kind
        does not use)."""
        c = S.make_config(S.OptimizerConfig, kind=kind, **config)
        handle = create(lib().grugan_optimizer_create, None, ctypes.byref(c), model.params._h)
        return cls(handle, borrowed=(model,))

    def _key(self, name):
        if name not in K.OPTIMIZER_KEYS:
            raise KeyError(f"{name!r}; known: {', '.join(K.OPTIMIZER_KEYS)}")
        return K.OPTIMIZER_KEYS[name]

    def get(self, name):
        """A hyperparameter by name ("lr", "beta1", ..., "threads")."""
        value = ctypes.c_double()
        self._check(lib().grugan_optimizer_get(self._h, self._key(name), ctypes.byref(value)))
        return value.value

    def set(self, name, value):
        """Sets a hyperparameter by name between steps (e.g. a learning-rate schedule)."""
        self._check(lib().grugan_optimizer_set(self._h, self._key(name), value))

    @property
    def step_count(self):
        steps = ctypes.c_uint64()
        self._check(lib().grugan_optimizer_step_count(self._h, ctypes.byref(steps)))
        return steps.value
