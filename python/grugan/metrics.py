"""Sample quality: TimeGAN's discriminative and predictive scores and cheap statistics."""
import ctypes

from . import _structs as S
from ._handle import check, floats_in, ptr
from ._library import lib


def _pair(real, synthetic):
    real = floats_in(real, "real", ndim=3)
    synthetic = floats_in(synthetic, "synthetic", ndim=3)
    if real.shape[1:] != synthetic.shape[1:]:
        raise ValueError(f"real {real.shape} and synthetic {synthetic.shape} differ in "
                         "steps or features")
    return real, synthetic


def _score(fn, real, synthetic, repetitions, iterations, batch_size, seed, threads):
    real, synthetic = _pair(real, synthetic)
    c = S.make_config(S.MetricConfig, repetitions=repetitions, iterations=iterations,
                      batch_size=batch_size, seed=seed, threads=threads)
    mean, std, err = ctypes.c_double(), ctypes.c_double(), S.Error()
    status = fn(None, ctypes.byref(c), ptr(real), real.shape[0], ptr(synthetic),
                synthetic.shape[0], real.shape[1], real.shape[2], ctypes.byref(mean),
                ctypes.byref(std), ctypes.byref(err))
    check(status, lambda: err.message.decode(errors="replace"))
    return mean.value, std.value


def discriminative_score(real, synthetic, repetitions=0, iterations=0, batch_size=0, seed=0,
                         threads=0):
    """TimeGAN's discriminative score, (mean, std) over the repetitions: 0 is best.
    real (N, T, F) and synthetic (M, T, F) scaled to [0, 1]; 0 settings take the
    defaults (10 repetitions of 2000 iterations, batch 128, seed 0, 1 thread)."""
    return _score(lib().grugan_discriminative_score, real, synthetic, repetitions,
                  iterations, batch_size, seed, threads)


def predictive_score(real, synthetic, repetitions=0, iterations=0, batch_size=0, seed=0,
                     threads=0):
    """TimeGAN's predictive score ("train on synthetic, test on real"), (mean, std) of the
    mean absolute error: lower is better. Needs F >= 2 and T >= 2; defaults as
    discriminative_score but 5000 iterations."""
    return _score(lib().grugan_predictive_score, real, synthetic, repetitions, iterations,
                  batch_size, seed, threads)


def statistics_error(real, synthetic, max_lag=None):
    """{"mean_error", "std_error", "acf_error"}: per-feature differences of means,
    standard deviations and autocorrelations (lags 1..max_lag, default min(5, T-1)),
    averaged over features; the data need not be scaled."""
    real, synthetic = _pair(real, synthetic)
    steps = real.shape[1]
    lag = min(5, steps - 1) if max_lag is None else max_lag
    mean, std, acf = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    status = lib().grugan_statistics_error(
        ptr(real), real.shape[0], ptr(synthetic), synthetic.shape[0], steps, real.shape[2],
        lag, ctypes.byref(mean), ctypes.byref(std), ctypes.byref(acf) if lag >= 1 else None)
    check(status)
    return {"mean_error": mean.value, "std_error": std.value,
            "acf_error": acf.value if lag >= 1 else None}

