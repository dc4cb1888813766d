#!/usr/bin/python3
"""make_optim_golden.py - golden data from torch.optim and
torch.nn.utils.clip_grad_norm_ for tests/test_optimizer.c.

Run from anywhere with Debian's interpreter and its python3-torch package:

    /usr/bin/python3 tests/golden/make_optim_golden.py

It (re)writes tests/golden/optim_*.txt next to this script, in the format of
the GRU golden files (see make_gru_golden.py and README.md). The files are
committed, so building and testing libgrugan never needs torch. The output is
deterministic: rerunning it on the same torch version rewrites the same bytes.

The parameters are those of a torch.nn.GRU(input_size=3, hidden_size=2)
(weight_ih_l0 (6, 3), weight_hh_l0 (6, 2), bias_ih_l0 (6), bias_hh_l0 (6):
42 floats), so the C test can load them by name into a libgrugan GRU of the
same shape and run its optimizer on that GRU's parameter set.

optim_<name>.txt: one optimizer configuration, STEPS steps. Before step k
(1-based) every parameter's .grad is set to the tensor grad<k>_<param>, then
optimizer.step() runs (torch's default single-tensor path, foreach=False)
and the parameters are written as after<k>_<param>. Hyperparameters are
config entries of two integers, numerator and denominator, whose quotient
(correctly rounded, in Python and in C) is exactly the Python float torch
used; keys absent from a file take torch's default, which is also
libgrugan's (RMSprop's lr, whose defaults differ, is always given).

    config kind K             0 Adam, 1 AdamW, 2 SGD, 3 RMSprop (GRUGAN_OPT_*)
    config torch_fused 0|1    1 if torch's kernels rounded the multiply-adds
                              of add_(alpha=) and addcmul_ once (its AVX2 and
                              AVX-512 kernels do): libgrugan rounds them so
                              too, and the test then requires identical bits
    config steps N            number of steps
    config lr NUM DEN         and beta1, beta2, eps, weight_decay, momentum,
                              dampening, alpha: hyperparameters
    config nesterov 0|1       and centered
    config switch_step K      (optional) before step K the hyperparameters
    config switch_KEY NUM DEN   switch_KEY are changed (param_groups[0][KEY])
    tensor <param>            initial parameter values
    tensor grad<k>_<param>    gradient of step k
    tensor after<k>_<param>   parameters after step k
    tensor state              (if the optimizer has state) the state after the
                              last step, flat, in grugan_optimizer_state_read's
                              order: Adam/AdamW exp_avg then exp_avg_sq; SGD
                              momentum_buffer; RMSprop square_avg,
                              momentum_buffer (momentum > 0), grad_avg
                              (centered); each block in parameter order

optim_clip_<name>.txt: clip_grad_norm_(parameters, max_norm) (norm_type 2).

    config max_norm NUM DEN   max_norm (a float32 value)
    tensor grad_<param>       gradients before clipping
    tensor norm  1 1          the total norm torch returned
    tensor clipped_<param>    gradients after clipping

Every computation is repeated in float64; the script stops if torch's
float32 results are not within 2e-6 + 2e-5 * |value| of it.

Inputs (parameters, gradients) are the float32 values nearest to numbers with
3 decimals, and every value is written as the shortest decimal that reads
back (strtof) as exactly that float32.
"""

import os
import sys
from fractions import Fraction

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = 5
SANITY_ABS, SANITY_REL = 2e-6, 2e-5
KINDS = {"Adam": 0, "AdamW": 1, "SGD": 2, "RMSprop": 3}
HYPER = ["lr", "beta1", "beta2", "eps", "weight_decay", "momentum", "dampening", "alpha"]
FLAGS = ["nesterov", "centered"]

# name: torch class, hyperparameters (decimal strings: exact Python floats),
#       optional (step, {key: value}) switch before that step, seed
CONFIGS = [
    ("adam", "Adam", {}, None, 11),
    ("adam_wd", "Adam", dict(lr="0.01", beta1="0.8", beta2="0.99", eps="1e-6",
                             weight_decay="0.1"), None, 12),
    ("adamw", "AdamW", dict(lr="0.005"), None, 13),
    ("adamw_sched", "AdamW", dict(lr="0.02", weight_decay="0.1", beta2="0.95"),
     (3, dict(lr="0.002")), 14),
    ("sgd", "SGD", dict(lr="0.1"), None, 21),
    ("sgd_momentum", "SGD", dict(lr="0.05", momentum="0.9", dampening="0.3"),
     (4, dict(lr="0.02")), 22),
    ("sgd_nesterov", "SGD", dict(lr="0.05", momentum="0.8", nesterov=True,
                                 weight_decay="0.01"), None, 23),
    ("sgd_late_momentum", "SGD", dict(lr="0.1"),
     (3, dict(momentum="0.9", dampening="0.5")), 24),
    ("rmsprop", "RMSprop", dict(lr="0.01"), None, 31),
    ("rmsprop_centered", "RMSprop", dict(lr="0.01", alpha="0.9", eps="1e-6",
                                         weight_decay="0.05", momentum="0.5",
                                         centered=True), None, 32),
]

CLIPS = [
    ("a", "0.5", 41),    # clipped
    ("b", "100", 42),    # norm below max_norm: unchanged
]


def quantize(t):
    """The float32 nearest to t rounded to 3 decimals: short in the files."""
    return torch.round(t * 1000) / 1000


def fmt(v):
    """Shortest decimal that reads back as exactly the float32 v."""
    s = np.format_float_positional(np.float32(v), unique=True, trim="-")
    if len(s) > 12:
        s = np.format_float_scientific(np.float32(v), unique=True, trim="-")
    assert np.float32(float(s)) == np.float32(v), (s, v)
    return s


def rational(text):
    """(numerator, denominator) whose quotient is exactly float(text)."""
    f = Fraction(text)
    assert f.numerator < 2 ** 53 and f.denominator < 2 ** 53
    assert f.numerator / f.denominator == float(text)
    return f.numerator, f.denominator


def tensor_lines(name, t):
    t = t.detach().to(torch.float32).contiguous()
    lines = ["tensor %s %d %s" % (name, t.dim(), " ".join(str(s) for s in t.shape))]
    vals = [fmt(v) for v in t.numpy().ravel().tolist()]
    for i in range(0, len(vals), 8):
        lines.append(" ".join(vals[i:i + 8]))
    return lines


def check_close(what, f32, f64):
    a = f32.double().numpy().ravel()
    b = f64.numpy().ravel()
    bad = np.abs(a - b) > SANITY_ABS + SANITY_REL * np.abs(b)
    if bad.any():
        i = int(np.argmax(np.abs(a - b)))
        sys.exit("%s: float32 and float64 disagree at %d: %r vs %r" % (what, i, a[i], b[i]))
    return float(np.max(np.abs(a - b) / (SANITY_ABS + SANITY_REL * np.abs(b)), initial=0.0))


def torch_kwargs(cls, hyper):
    kw = {}
    for k, v in hyper.items():
        if k in ("beta1", "beta2"):
            continue
        kw[k] = v if k in FLAGS else float(v)
    if "beta1" in hyper or "beta2" in hyper:
        kw["betas"] = (float(hyper.get("beta1", "0.9")), float(hyper.get("beta2", "0.999")))
    if cls == "SGD":
        kw.setdefault("lr", 0.01)
    kw["foreach"] = False
    return kw


def make_params(seed):
    torch.manual_seed(seed)
    gru = torch.nn.GRU(3, 2, batch_first=True)
    named = [(n, quantize(p.detach().clone())) for n, p in gru.named_parameters()]
    return named


def gradients(named, seed):
    """STEPS sets of gradients; a few entries exactly 0, one step 10x larger."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for k in range(STEPS):
        scale = 10.0 if k == 2 else 1.0
        g = {}
        for n, p in named:
            t = quantize(scale * torch.randn(p.shape, generator=gen))
            if n == "bias_hh_l0":
                t[:2] = 0
            g[n] = t
        out.append(g)
    return out


def run_optimizer(cls, hyper, switch, named, grads, dtype):
    params = [torch.nn.Parameter(p.clone().to(dtype)) for _, p in named]
    opt = getattr(torch.optim, cls)(params, **torch_kwargs(cls, hyper))
    afters = []
    for k in range(STEPS):
        if switch is not None and switch[0] == k + 1:
            for key, v in switch[1].items():
                for group in opt.param_groups:
                    group[key] = v if key in FLAGS else float(v)
        for (n, _), p in zip(named, params):
            p.grad = grads[k][n].clone().to(dtype)
        opt.step()
        afters.append([p.detach().clone() for p in params])
    return opt, params, afters


def flat_state(cls, opt, params, final_hyper):
    blocks = []
    if cls in ("Adam", "AdamW"):
        names = ["exp_avg", "exp_avg_sq"]
    elif cls == "SGD":
        names = ["momentum_buffer"] if float(final_hyper.get("momentum", "0")) != 0 else []
    else:
        names = ["square_avg"]
        if float(final_hyper.get("momentum", "0")) > 0:
            names.append("momentum_buffer")
        if final_hyper.get("centered", False):
            names.append("grad_avg")
    for name in names:
        blocks.append(torch.cat([opt.state[p][name].detach().reshape(-1) for p in params]))
    return torch.cat(blocks) if blocks else None


def torch_fuses():
    """1 if torch's CPU kernels round a + alpha * b (add_ with alpha) and
    s + (v * x) * y (addcmul_) once, as its AVX2 / AVX-512 kernels do; then the
    C test requires libgrugan's results to be bit-identical to these files.
    x = y = alpha = 1 + 2^-12, a = s = -1: the exact result 2^-11 + 2^-24 is a
    float, while rounding the product first gives 2^-11."""
    e = 1 + 2.0 ** -12
    exact = 2.0 ** -11 + 2.0 ** -24
    a = torch.full((64,), -1.0)
    a.add_(torch.full((64,), e), alpha=e)
    s = torch.full((64,), -1.0)
    s.addcmul_(torch.full((64,), e), torch.full((64,), e), value=1.0)
    return int(bool((a == exact).all()) and bool((s == exact).all()))


def make(tag, cls, hyper, switch, seed):
    named = make_params(seed)
    grads = gradients(named, seed + 1000)
    opt, params, afters = run_optimizer(cls, hyper, switch, named, grads, torch.float32)
    opt64, params64, afters64 = run_optimizer(cls, hyper, switch, named, grads, torch.float64)
    final_hyper = dict(hyper)
    if switch is not None:
        final_hyper.update(switch[1])
    worst = 0.0
    for k in range(STEPS):
        for (n, _), a, b in zip(named, afters[k], afters64[k]):
            worst = max(worst, check_close("%s step %d %s" % (tag, k + 1, n), a, b))
    state = flat_state(cls, opt, params, final_hyper)
    if state is not None:
        worst = max(worst, check_close(tag + " state", state,
                                       flat_state(cls, opt64, params64, final_hyper)))

    lines = [
        "format grugan_golden 1",
        "# torch.optim.%s golden data, written by tests/golden/make_optim_golden.py" % cls,
        "# (torch %s); see tests/golden/README.md" % torch.__version__,
        "config kind %d" % KINDS[cls],
        "config torch_fused %d" % torch_fuses(),
        "config steps %d" % STEPS,
        "config seed %d" % seed,
    ]
    for key in HYPER:
        if key in hyper:
            lines.append("config %s %d %d" % ((key,) + rational(hyper[key])))
    for key in FLAGS:
        if key in hyper:
            lines.append("config %s %d" % (key, int(hyper[key])))
    if switch is not None:
        lines.append("config switch_step %d" % switch[0])
        for key, v in switch[1].items():
            if key in FLAGS:
                lines.append("config switch_%s %d" % (key, int(v)))
            else:
                lines.append("config switch_%s %d %d" % ((key,) + rational(v)))
    for n, p in named:
        lines += tensor_lines(n, p)
    for k in range(STEPS):
        for n, _ in named:
            lines += tensor_lines("grad%d_%s" % (k + 1, n), grads[k][n])
        for (n, _), a in zip(named, afters[k]):
            lines += tensor_lines("after%d_%s" % (k + 1, n), a)
    if state is not None:
        lines += tensor_lines("state", state)
    lines.append("end")
    write(tag, lines, worst)


def make_clip(tag, max_norm, seed):
    named = make_params(seed)
    gen = torch.Generator().manual_seed(seed + 1000)
    grads = {n: quantize(torch.randn(p.shape, generator=gen)) for n, p in named}
    results = []
    for dtype in (torch.float32, torch.float64):
        params = [torch.nn.Parameter(p.clone().to(dtype)) for _, p in named]
        for (n, _), p in zip(named, params):
            p.grad = grads[n].clone().to(dtype)
        norm = torch.nn.utils.clip_grad_norm_(params, float(max_norm))
        results.append((norm.detach().reshape(1), [p.grad.detach().clone() for p in params]))
    worst = check_close("clip %s norm" % tag, results[0][0], results[1][0])
    for (n, _), a, b in zip(named, results[0][1], results[1][1]):
        worst = max(worst, check_close("clip %s %s" % (tag, n), a, b))
    lines = [
        "format grugan_golden 1",
        "# torch.nn.utils.clip_grad_norm_ golden data, written by",
        "# tests/golden/make_optim_golden.py (torch %s); see tests/golden/README.md"
        % torch.__version__,
        "config max_norm %d %d" % rational(max_norm),
        "config seed %d" % seed,
    ]
    for n, _ in named:
        lines += tensor_lines("grad_" + n, grads[n])
    lines += tensor_lines("norm", results[0][0])
    for (n, _), g in zip(named, results[0][1]):
        lines += tensor_lines("clipped_" + n, g)
    lines.append("end")
    write("clip_" + tag, lines, worst)


def write(tag, lines, worst):
    path = os.path.join(HERE, "optim_%s.txt" % tag)
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    print("%s: %d bytes, float32 vs float64 within %.2f of the sanity tolerance"
          % (os.path.basename(path), os.path.getsize(path), worst))


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    for tag, cls, hyper, switch, seed in CONFIGS:
        make(tag, cls, hyper, switch, seed)
    for tag, max_norm, seed in CLIPS:
        make_clip(tag, max_norm, seed)


if __name__ == "__main__":
    main()
