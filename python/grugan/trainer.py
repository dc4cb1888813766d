"""The built-in GAN training loop, its progress callback and its checkpoints."""
import collections
import contextlib
import ctypes
import signal
import threading
import weakref

import numpy as np

from . import _structs as S
from . import constants as K
from ._handle import Handle, create, path_arg, ptr, read_buffer
from ._library import lib
from .discriminator import Discriminator
from .generator import Generator
from .optimizer import Optimizer

# What the trainer reports (grugan_progress): step, epoch, total_steps, d_loss, g_loss,
# d_real, d_fake, d_grad_norm, g_grad_norm, samples_per_second, skipped,
# elapsed_seconds, evaluations, quality, best_quality, best_step, finished (FINISHED_*),
# final_quality, final_step.
Progress = collections.namedtuple(
    "Progress", [name for name, _ in S.Progress._fields_ if name != "struct_size"])


def _progress(p):
    return Progress(**S.as_dict(p))


@contextlib.contextmanager
def _interrupt_deferred(trainer):
    """While the library trains, Ctrl-C sets trainer._interrupted (the callback then stops
    training) instead of raising inside the ctypes callback, where ctypes would print and
    drop the KeyboardInterrupt. Only in the main thread and over Python's own handler."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return

    def on_interrupt(signum, frame):
        trainer._interrupted = True

    signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


class Trainer(Handle):
    """The GAN loop over a generator, a discriminator, their optimizers and a dataset
    (grugan_trainer). It borrows the five: this object keeps them alive, and closing one
    of them closes the trainer first. Trainer.for_dataset makes all of them."""
    _c_free = "grugan_trainer_free"
    _c_message = "grugan_trainer_message"

    def __init__(self, handle, borrowed, owned=()):
        super().__init__(handle, borrowed)
        self.generator, self.discriminator, self.generator_optimizer, \
            self.discriminator_optimizer, self.dataset = borrowed
        self._owned = tuple(owned)
        self._callback = None     # the Python function, or None
        self._c_callback = None   # the ctypes trampoline installed in C, kept alive here
        self._pending = None      # an exception the callback raised, re-raised after C
        self._stopped = False     # the callback asked to stop
        self._interrupted = False # Ctrl-C arrived while the library ran

    @classmethod
    def create(cls, generator, discriminator, generator_optimizer, discriminator_optimizer,
               dataset, callback=None, **config):
        """config: the fields of grugan_trainer_config: loss ("bce", "lsgan",
        "wasserstein", "hinge", "wgan-gp"), d_steps, batch_size, total_steps, epochs,
        label_smoothing, clip_grad_norm, clip_weights, feature_matching,
        nonfinite_policy ("stop", "skip"), threads, moment_matching, max_seconds (time
        budget), select_every, patience and final_candidates (model selection, early
        stopping and the final ranking),
        instance_noise, difference_matching, gradient_penalty, r1_gamma and r2_gamma;
        absent or 0: the library's default, negative switches a default-on setting
        off. callback: see the callback property."""
        c = S.make_config(S.TrainerConfig, **config)
        handles = (generator, discriminator, generator_optimizer, discriminator_optimizer,
                   dataset)
        tr = cls(create(lib().grugan_trainer_create, None, ctypes.byref(c),
                        *(h._h for h in handles)), handles)
        tr.callback = callback
        return tr

    @classmethod
    def for_dataset(cls, dataset, hidden_size=24, num_layers=3, noise_size=None,
                    discriminator="conv1d", lr_g=1e-3, lr_d=1e-3, seed=1, callback=None,
                    **config):
        """A trainer with new models for `dataset`, made as train_csv makes them: a
        generator (noise_size: the number of features by default, seed), a discriminator
        of that kind (seed + 1; conv1d for the dataset's sequence length), Adam for both,
        batch_size at most the training sequences and clip_weights 0.1 for the
        Wasserstein loss unless given. The trainer owns the models it made: close()
        frees them too. config as for create."""
        n, steps, features = dataset.shape
        config.setdefault("batch_size", min(128, dataset.split[0]))
        if config.get("loss") in (K.LOSS_WASSERSTEIN, "wasserstein"):
            config.setdefault("clip_weights", 0.1)
        made = []
        try:
            made.append(Generator.create(noise_size or features, features,
                                         hidden_size=hidden_size, num_layers=num_layers,
                                         condition_size=dataset.condition_size, seed=seed))
            made.append(Discriminator.create(features, kind=discriminator,
                                             hidden_size=hidden_size, num_layers=num_layers,
                                             condition_size=dataset.condition_size,
                                             sequence_length=steps, seed=seed + 1))
            made.append(Optimizer.create(made[0], lr=lr_g))
            made.append(Optimizer.create(made[1], lr=lr_d))
            tr = cls.create(*made, dataset, callback=callback, **config)
        except BaseException:
            for h in reversed(made):
                h.close()
            raise
        tr._owned = tuple(made)
        return tr

    def close(self):
        """Frees the trainer, then the models it made itself (for_dataset)."""
        super().close()
        owned, self._owned = getattr(self, "_owned", ()), ()
        for h in reversed(owned):
            h.close()

    # ---- the progress callback ----------------------------------------------------

    @property
    def callback(self):
        """A function called with a Progress after every step (None: none). A true
        return value stops training after that step; an exception in it also stops
        training and is raised again by the call that ran the step, once the library has
        returned. The library always calls back into Python after each step, also
        without a function, so Ctrl-C (KeyboardInterrupt) stops training that way too."""
        return self._callback

    @callback.setter
    def callback(self, fn):
        if fn is not None and not callable(fn):
            raise TypeError("callback must be callable or None")
        self._callback = fn
        if self._c_callback is not None:
            return
        owner = weakref.ref(self)  # no reference cycle through the C callback

        def trampoline(progress, user):
            tr = owner()
            if tr._interrupted:
                return 1
            try:
                if tr._callback is not None and tr._callback(_progress(progress.contents)):
                    tr._stopped = True
                    return 1
                return 0
            except BaseException as e:  # must not cross the C frames: kept for later
                tr._pending = e
                return 1

        c_fn = S.PROGRESS_FN(trampoline)
        self._check(lib().grugan_trainer_set_callback(self._h, c_fn, None))
        self._c_callback = c_fn

    def _run_c(self, fn):
        """Calls a stepping C function; re-raises the callback's exception, if any, and
        returns False when the callback asked to stop."""
        self._pending, self._stopped, self._interrupted = None, False, False
        with _interrupt_deferred(self):
            status = fn(self._h)
        pending, self._pending = self._pending, None
        if pending is not None:
            raise pending
        if self._interrupted and status in (K.OK, K.E_ABORTED):
            raise KeyboardInterrupt
        if status == K.E_ABORTED and self._stopped:
            return False
        self._check(status)
        return True

    def step(self):
        """One step: d_steps discriminator updates, one generator update. Returns False
        when the callback asked to stop (the step is complete either way)."""
        return self._run_c(lib().grugan_trainer_step)

    def run(self):
        """Steps until training is finished (total_steps or epochs, max_seconds, early
        stopping) or the callback stops it; returns the last Progress: its `finished`
        is FINISHED_NO when the callback stopped it. Can be called again to go on."""
        self._run_c(lib().grugan_trainer_run)
        return self.progress

    @property
    def progress(self):
        p = S.make_config(S.Progress)
        self._check(lib().grugan_trainer_progress(self._h, ctypes.byref(p)))
        return _progress(p)

    # ---- model selection ----------------------------------------------------------

    def best_params(self):
        """{name: array} of the best generator of model selection (the current one
        before the first estimate and without selection)."""
        params = self.generator.params
        flat = np.empty(params.num_scalars, np.float32)
        self._check(lib().grugan_trainer_best_params(self._h, ptr(flat), flat.size))
        return params.split_flat(flat)

    def restore_best(self):
        """Copies the best generator into the generator (e.g. to sample from it)."""
        self._check(lib().grugan_trainer_restore_best(self._h))

    def rank_final(self):
        """Runs model selection's final ranking now (for loops that stop on their own;
        the step that finishes training runs it by itself)."""
        self._check(lib().grugan_trainer_rank_final(self._h))

    def estimate(self):
        """A quality estimate of the current generator now (0 best, 0.5 worst); raises
        StateError when model selection is off."""
        q = ctypes.c_double()
        self._check(lib().grugan_trainer_estimate(self._h, ctypes.byref(q)))
        return q.value

    # ---- checkpoints and exports ----------------------------------------------------

    def save(self, path):
        """Writes the whole training state atomically (resume with load)."""
        self._check(lib().grugan_trainer_save(self._h, path_arg(path)))

    def load(self, path):
        """Restores a state saved by save into these handles (same architecture);
        training then continues exactly as if it had not stopped."""
        self._check(lib().grugan_trainer_load(self._h, path_arg(path)))

    def to_bytes(self):
        """The checkpoint save writes, as bytes."""
        return read_buffer(lib().grugan_trainer_save_buffer, self._h, self._check)

    def load_bytes(self, data):
        """As load, from the bytes of a checkpoint."""
        data = bytes(data)
        self._check(lib().grugan_trainer_load_buffer(self._h, data, len(data)))

    def export(self, path):
        """Writes a generator-only export of the best generator (small; enough to sample
        with Generator.load)."""
        self._check(lib().grugan_trainer_export(self._h, path_arg(path)))
