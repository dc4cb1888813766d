"""A model's named tensors under PyTorch's names and shapes, as numpy arrays."""
import ctypes

import numpy as np

from . import constants as K
from ._handle import check, floats_in, ptr
from ._library import lib


class Params:
    """The parameter set of a model (owned by the model, which this object keeps alive):
    gru.weight_ih_l0 (3H, I), head.weight (F, H) and so on, as torch names them."""

    def __init__(self, owner, handle):
        self._owner, self._handle = owner, handle

    @property
    def _h(self):
        self._owner._h  # raises when the model is closed
        return self._handle

    def _check(self, status):
        check(status, lambda: lib().grugan_params_message(self._handle).decode(errors="replace"))

    def _index(self, name):
        index = ctypes.c_size_t()
        status = lib().grugan_params_find(self._h, name.encode(), ctypes.byref(index))
        if status == K.E_NOTFOUND:
            raise KeyError(name)
        self._check(status)
        return index.value

    def _info(self, index):
        name, ndim = ctypes.c_char_p(), ctypes.c_size_t()
        shape = (ctypes.c_size_t * K.MAX_DIMS)()
        self._check(lib().grugan_params_info(self._h, index, ctypes.byref(name),
                                             ctypes.byref(ndim), shape))
        return name.value.decode(), tuple(shape[:ndim.value])

    def __len__(self):
        return lib().grugan_params_count(self._h)

    def names(self):
        """The tensor names in the parameter block's order."""
        return [self._info(i)[0] for i in range(len(self))]

    def shapes(self):
        """{name: shape} in the parameter block's order."""
        return dict(self._info(i) for i in range(len(self)))

    @property
    def num_scalars(self):
        return lib().grugan_params_num_scalars(self._h)

    def __contains__(self, name):
        try:
            self._index(name)
            return True
        except KeyError:
            return False

    def __getitem__(self, name):
        """A copy of one tensor as a new float32 array of its shape."""
        i = self._index(name)
        out = np.empty(self._info(i)[1], np.float32)
        self._check(lib().grugan_params_read(self._h, i, ptr(out), out.size))
        return out

    def __setitem__(self, name, value):
        """Overwrites one tensor; value must have its shape (NaN and Inf are refused)."""
        i = self._index(name)
        a = floats_in(value, name, shape=self._info(i)[1])
        self._check(lib().grugan_params_write(self._h, i, ptr(a), a.size))

    def grad(self, name):
        """A copy of one tensor's gradient."""
        i = self._index(name)
        out = np.empty(self._info(i)[1], np.float32)
        self._check(lib().grugan_params_grad_read(self._h, i, ptr(out), out.size))
        return out

    def state_dict(self):
        """{name: array} of every tensor, ready for torch's load_state_dict after
        torch.from_numpy (strip the "gru." or "head." prefix for the submodule)."""
        return {name: self[name] for name in self.names()}

    def load_state_dict(self, tensors):
        """Overwrites the tensors named in `tensors` ({name: array}); unknown names raise
        KeyError before anything is written."""
        for name in tensors:
            self._index(name)
        for name, value in tensors.items():
            self[name] = value

    def split_flat(self, flat):
        """A flat array in the parameter block's order (as the trainer's best_params
        gives it) as {name: array}; the arrays are views of `flat`."""
        out, offset = {}, 0
        for name, shape in self.shapes().items():
            size = int(np.prod(shape))
            out[name] = flat[offset:offset + size].reshape(shape)
            offset += size
        return out
