"""The fixed constants of grugan.h under their C names without the GRUGAN_ prefix.

tests/test_layout.py checks every value here against the header. Where a
config field takes one of these, the package also accepts its lowercase name
(for example loss="wasserstein" for LOSS_WASSERSTEIN) from the tables below.
"""

OK = 0
E_INVALID = -1
E_NOMEM = -2
E_SIZE = -3
E_RANGE = -4
E_STATE = -5
E_NONFINITE = -6
E_IO = -7
E_FORMAT = -8
E_ABORTED = -9
E_UNSUPPORTED = -10
E_NOTFOUND = -11
E_INTERNAL = -12

KEY_THREADS = 1
KEY_CHECK_FINITE = 2
KEY_LR = 10
KEY_BETA1 = 11
KEY_BETA2 = 12
KEY_EPS = 13
KEY_WEIGHT_DECAY = 14
KEY_MOMENTUM = 15
KEY_DAMPENING = 16
KEY_NESTEROV = 17
KEY_ALPHA = 18
KEY_CENTERED = 19

GRU_RESET_AFTER = 0
GRU_RESET_BEFORE = 1

ACT_DEFAULT = 0
ACT_SIGMOID = 1
ACT_TANH = 2
ACT_IDENTITY = 3
ACT_LEAKY_RELU = 4

NOISE_NORMAL = 0
NOISE_UNIFORM = 1

DISC_GRU = 0
DISC_CONV1D = 1
LOGITS_PER_STEP = 0
LOGITS_FINAL = 1

LOSS_BCE = 0
LOSS_LSGAN = 1
LOSS_WASSERSTEIN = 2
LOSS_HINGE = 3
LOSS_WGAN_GP = 4

OPT_ADAM = 0
OPT_ADAMW = 1
OPT_SGD = 2
OPT_RMSPROP = 3

SCALE_MINMAX = 0
SCALE_MINMAX_SYM = 1
SCALE_NONE = 2

CSV_HEADER_AUTO = 0
CSV_HEADER_YES = 1
CSV_HEADER_NO = 2

FILE_CSV = 0
FILE_NPY = 1

NONFINITE_STOP = 0
NONFINITE_SKIP = 1

FINISHED_NO = 0
FINISHED_STEPS = 1
FINISHED_TIME = 2
FINISHED_PATIENCE = 3

MAX_DIMS = 4

# Names accepted for config fields that take one of these constants.
CONVENTIONS = {"reset_after": GRU_RESET_AFTER, "reset_before": GRU_RESET_BEFORE}
ACTIVATIONS = {"default": ACT_DEFAULT, "sigmoid": ACT_SIGMOID, "tanh": ACT_TANH,
               "identity": ACT_IDENTITY, "leaky_relu": ACT_LEAKY_RELU}
NOISE_KINDS = {"normal": NOISE_NORMAL, "uniform": NOISE_UNIFORM}
DISCRIMINATOR_KINDS = {"gru": DISC_GRU, "conv1d": DISC_CONV1D}
LOGITS = {"per_step": LOGITS_PER_STEP, "final": LOGITS_FINAL}
LOSSES = {"bce": LOSS_BCE, "lsgan": LOSS_LSGAN, "wasserstein": LOSS_WASSERSTEIN,
          "hinge": LOSS_HINGE, "wgan-gp": LOSS_WGAN_GP}
OPTIMIZER_KINDS = {"adam": OPT_ADAM, "adamw": OPT_ADAMW, "sgd": OPT_SGD, "rmsprop": OPT_RMSPROP}
SCALINGS = {"minmax": SCALE_MINMAX, "minmax_sym": SCALE_MINMAX_SYM, "none": SCALE_NONE}
CSV_HEADERS = {"auto": CSV_HEADER_AUTO, "yes": CSV_HEADER_YES, "no": CSV_HEADER_NO}
NONFINITE_POLICIES = {"stop": NONFINITE_STOP, "skip": NONFINITE_SKIP}
FILE_FORMATS = {"csv": FILE_CSV, "npy": FILE_NPY}

# Optimizer hyperparameters by name, for Optimizer.get and Optimizer.set.
OPTIMIZER_KEYS = {
    "threads": KEY_THREADS, "lr": KEY_LR, "beta1": KEY_BETA1, "beta2": KEY_BETA2,
    "eps": KEY_EPS, "weight_decay": KEY_WEIGHT_DECAY, "momentum": KEY_MOMENTUM,
    "dampening": KEY_DAMPENING, "nesterov": KEY_NESTEROV, "alpha": KEY_ALPHA,
    "centered": KEY_CENTERED,
}
