"""The discriminator: sequences in, logits out."""
import ctypes

from . import _structs as S
from ._handle import Handle, create, floats_in, floats_out, ptr, sizes_in, SIZEP
from ._library import lib
from .params import Params


class Discriminator(Handle):
    """A GRU or 1-D convolutional discriminator (grugan_discriminator)."""
    _c_free = "grugan_discriminator_free"
    _c_message = "grugan_discriminator_message"

    @classmethod
    def create(cls, input_size, **config):
        """Fresh weights. config: the fields of grugan_discriminator_config (kind "gru" or
        "conv1d", condition_size, hidden_size, num_layers, bidirectional, convention,
        logits, sequence_length (required for conv1d), conv_layers, channels,
        kernel_size, stride, padding, leaky_slope, seed); absent or 0: the default."""
        c = S.make_config(S.DiscriminatorConfig, input_size=input_size, **config)
        return cls(create(lib().grugan_discriminator_create, None, ctypes.byref(c)))

    @property
    def config(self):
        """The configuration, every default resolved, as a dict."""
        c = S.make_config(S.DiscriminatorConfig)
        self._check(lib().grugan_discriminator_get_config(self._h, ctypes.byref(c)))
        return S.as_dict(c)

    @property
    def params(self):
        """The parameters under PyTorch's names (gru.* or conv.*, head.*)."""
        return Params(self, lib().grugan_discriminator_params(self._h))

    def forward(self, x, condition=None, lengths=None, out=None):
        """Logits (B, per sequence: T per-step, else 1) for x (B, T, F); condition (B, C);
        lengths (B,) valid steps per sequence (GRU kind only)."""
        x = floats_in(x, "x", ndim=3)
        b, steps = x.shape[0], x.shape[1]
        cond = None if condition is None else \
            floats_in(condition, "condition", (b, self.config["condition_size"]))
        lens = None if lengths is None else sizes_in(lengths, "lengths", (b,))
        per_seq = lib().grugan_discriminator_logit_count(self._h, steps)
        logits = floats_out(out, (b, max(per_seq, 1)))
        self._check(lib().grugan_discriminator_forward(self._h, b, steps, ptr(x), ptr(cond),
                                                       ptr(lens, SIZEP), ptr(logits)))
        return logits
