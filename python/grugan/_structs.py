"""ctypes mirrors of the structs of grugan.h: field names, order and types exactly as
declared there (tests/test_layout.py compares every offset and size with the C
compiler's), and make_config, which fills one from keyword arguments.
"""
import ctypes
import numbers
from ctypes import (POINTER, Structure, c_char, c_double, c_float, c_int32, c_int64,
                    c_size_t, c_uint64, c_void_p)

from . import constants as K


class Error(Structure):
    """grugan_error: filled by creation functions."""
    _c_name_ = "grugan_error"
    _fields_ = [("code", c_int32), ("message", c_char * 252)]


class GeneratorConfig(Structure):
    _c_name_ = "grugan_generator_config"
    _fields_ = [("struct_size", c_size_t), ("noise_size", c_size_t), ("output_size", c_size_t),
                ("hidden_size", c_size_t), ("num_layers", c_size_t),
                ("condition_size", c_size_t), ("covariate_size", c_size_t),
                ("noise_kind", c_int32), ("output_activation", c_int32),
                ("convention", c_int32), ("seed", c_uint64)]
    _names_ = {"noise_kind": K.NOISE_KINDS, "output_activation": K.ACTIVATIONS,
               "convention": K.CONVENTIONS}


class DiscriminatorConfig(Structure):
    _c_name_ = "grugan_discriminator_config"
    _fields_ = [("struct_size", c_size_t), ("kind", c_int32), ("input_size", c_size_t),
                ("condition_size", c_size_t), ("hidden_size", c_size_t),
                ("num_layers", c_size_t), ("bidirectional", c_int32), ("convention", c_int32),
                ("logits", c_int32), ("sequence_length", c_size_t), ("conv_layers", c_size_t),
                ("channels", c_size_t), ("kernel_size", c_size_t), ("stride", c_size_t),
                ("padding", c_size_t), ("leaky_slope", c_float), ("seed", c_uint64)]
    _names_ = {"kind": K.DISCRIMINATOR_KINDS, "convention": K.CONVENTIONS,
               "logits": K.LOGITS}


class OptimizerConfig(Structure):
    _c_name_ = "grugan_optimizer_config"
    _fields_ = [("struct_size", c_size_t), ("kind", c_int32), ("lr", c_double),
                ("beta1", c_double), ("beta2", c_double), ("eps", c_double),
                ("weight_decay", c_double), ("momentum", c_double), ("dampening", c_double),
                ("nesterov", c_int32), ("alpha", c_double), ("centered", c_int32)]
    _names_ = {"kind": K.OPTIMIZER_KINDS}


class DatasetConfig(Structure):
    _c_name_ = "grugan_dataset_config"
    _fields_ = [("struct_size", c_size_t), ("sequence_length", c_size_t), ("stride", c_size_t),
                ("scaling", c_int32), ("csv_header", c_int32), ("csv_delimiter", c_int32),
                ("columns", POINTER(c_size_t)), ("num_columns", c_size_t), ("seed", c_uint64),
                ("holdout", c_float)]
    _names_ = {"scaling": K.SCALINGS, "csv_header": K.CSV_HEADERS}


class TrainerConfig(Structure):
    _c_name_ = "grugan_trainer_config"
    _fields_ = [("struct_size", c_size_t), ("loss", c_int32), ("d_steps", c_size_t),
                ("batch_size", c_size_t), ("total_steps", c_uint64), ("epochs", c_uint64),
                ("label_smoothing", c_float), ("clip_grad_norm", c_float),
                ("clip_weights", c_float), ("feature_matching", c_float),
                ("nonfinite_policy", c_int32), ("threads", c_int32),
                ("moment_matching", c_float), ("max_seconds", c_double),
                ("select_every", c_int64), ("patience", c_int64),
                ("instance_noise", c_float), ("difference_matching", c_double),
                ("gradient_penalty", c_float), ("r1_gamma", c_float), ("r2_gamma", c_float),
                ("final_candidates", c_int64), ("shards", c_int64)]
    _names_ = {"loss": K.LOSSES, "nonfinite_policy": K.NONFINITE_POLICIES}


class MetricConfig(Structure):
    _c_name_ = "grugan_metric_config"
    _fields_ = [("struct_size", c_size_t), ("repetitions", c_size_t), ("iterations", c_size_t),
                ("batch_size", c_size_t), ("seed", c_uint64), ("threads", c_int32)]


class Progress(Structure):
    _c_name_ = "grugan_progress"
    _fields_ = [("struct_size", c_size_t), ("step", c_uint64), ("epoch", c_uint64),
                ("total_steps", c_uint64), ("d_loss", c_float), ("g_loss", c_float),
                ("d_real", c_float), ("d_fake", c_float), ("d_grad_norm", c_float),
                ("g_grad_norm", c_float), ("samples_per_second", c_double),
                ("skipped", c_uint64), ("elapsed_seconds", c_double),
                ("evaluations", c_uint64), ("quality", c_double), ("best_quality", c_double),
                ("best_step", c_uint64), ("finished", c_int32),
                ("final_quality", c_double), ("final_step", c_uint64)]


# Every struct above, for the layout test.
ALL = (Error, GeneratorConfig, DiscriminatorConfig, OptimizerConfig, DatasetConfig,
       TrainerConfig, MetricConfig, Progress)

# The progress callback: int (*)(const grugan_progress *, void *user).
PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_int, POINTER(Progress), c_void_p)

_INT_RANGES = {c_int32: (-2**31, 2**31 - 1), c_int64: (-2**63, 2**63 - 1),
               c_size_t: (0, 2**(8 * ctypes.sizeof(c_size_t)) - 1), c_uint64: (0, 2**64 - 1)}


def _value(cls, field, ctype, value):
    """A Python value for one field: a constant's name resolved, integers range-checked
    (ctypes would wrap -1 into a huge size silently)."""
    names = getattr(cls, "_names_", {}).get(field)
    if isinstance(value, str):
        if names is None or value.lower() not in names:
            known = ", ".join(sorted(names)) if names else "a number"
            raise ValueError(f"{field}={value!r}: expected {known}")
        return names[value.lower()]
    if ctype in _INT_RANGES:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{field} must be an integer, not {type(value).__name__}")
        value = int(value)
        low, high = _INT_RANGES[ctype]
        if not low <= value <= high:
            raise ValueError(f"{field}={value} is outside {low}..{high}")
        return value
    return float(value)


def make_config(cls, **fields):
    """A config struct of type cls with struct_size set and every field 0 (the library's
    default) except those given; None counts as not given. Unknown names raise TypeError."""
    c = cls()
    c.struct_size = ctypes.sizeof(cls)
    types = dict(cls._fields_)
    for name, value in fields.items():
        if value is None:
            continue
        if name not in types or name == "struct_size" or name == "columns":
            settable = [n for n in types if n not in ("struct_size", "columns", "num_columns")]
            raise TypeError(f"unknown setting {name!r}; known: {', '.join(settable)}")
        setattr(c, name, _value(cls, name, types[name], value))
    return c


def as_dict(struct):
    """The fields of a struct (struct_size left out) as a dict of Python values."""
    return {name: getattr(struct, name) for name, _ in struct._fields_ if name != "struct_size"}
