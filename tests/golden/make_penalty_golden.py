#!/usr/bin/python3
"""make_penalty_golden.py - golden data of gradient penalties of the CONV1D
discriminator from torch.autograd.grad(..., create_graph=True), for
tests/test_penalty.c.

Run from anywhere with Debian's interpreter and its python3-torch package:

    /usr/bin/python3 tests/golden/make_penalty_golden.py

It (re)writes tests/golden/penalty_*.txt next to this script, in the format
of the GRU golden files (see make_gru_golden.py and README.md). The files
are committed, so building and testing libgrugan never needs torch. The
output is deterministic for a given torch version.

The model is libgrugan's CONV1D discriminator written with torch.nn: for
k < conv_layers, a = leaky_relu(Conv1d_k(a)) over x_in = [x, c] (c repeated
at every step), then Flatten and Linear(T_out * channels, 1). With
weights w (B):
    g      = autograd.grad(sum_b w_b logit_b, x, create_graph=True)   (B, T, F)
    value  = scale / B * sum_b phi(g_b)
    phi    = ||g_b||^2 (sq_*) or (||g_b|| - 1)^2 (unit_*)
    grad   = autograd.grad(value, parameters)

Config keys: input_size F, condition_size C, steps T, batch B, conv_layers,
channels, kernel_size, stride, padding (-1: none), slope NUM DEN,
sq_scale NUM DEN, unit_scale NUM DEN, seed.
Tensors: x (B, T, F), condition (B, C) (when C > 0), weights (B), the
parameters under their names with '.' written '_' (conv_0_weight,
conv_0_bias, ..., head_weight, head_bias), logits (B), g (B, T, F), and per
penalty P in {sq, unit}: P_value (1), P_grad_<param>.

torch computes in float32; the script repeats everything in float64 and
refuses to write a file whose float32 results are not within
2e-6 + 2e-5 * |value| of it.
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
SANITY_ABS, SANITY_REL = 2e-6, 2e-5

CONFIGS = {
    # condition columns, padding, stride 2, two layers
    "a": dict(F=3, C=2, T=11, B=4, L=2, ch=5, K=3, S=2, P=1, slope=(1, 5), seed=31),
    # no padding, stride 1, three layers, an even kernel
    "b": dict(F=2, C=0, T=13, B=3, L=3, ch=4, K=4, S=1, P=-1, slope=(3, 10), seed=32),
    # a pointwise convolution (no im2col)
    "c": dict(F=4, C=0, T=5, B=2, L=1, ch=3, K=1, S=1, P=-1, slope=(1, 10), seed=33),
}
SQ_SCALE = (7, 10)
UNIT_SCALE = (13, 10)


def quantize(t):
    return torch.round(t * 1000) / 1000


def fmt(v):
    s = np.format_float_positional(np.float32(v), unique=True, trim="-")
    if len(s) > 12:
        s = np.format_float_scientific(np.float32(v), unique=True, trim="-")
    assert np.float32(float(s)) == np.float32(v), (s, v)
    return s


class Disc(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        pad = 0 if c["P"] < 0 else c["P"]
        t, cin = c["T"], c["F"] + c["C"]
        self.conv = torch.nn.ModuleList()
        for _ in range(c["L"]):
            self.conv.append(torch.nn.Conv1d(cin, c["ch"], c["K"], stride=c["S"], padding=pad))
            t = (t + 2 * pad - c["K"]) // c["S"] + 1
            cin = c["ch"]
        self.head = torch.nn.Linear(t * c["ch"], 1)
        self.slope = c["slope"][0] / c["slope"][1]

    def forward(self, x, cond):
        if cond is not None:
            x = torch.cat([x, cond.unsqueeze(1).expand(-1, x.shape[1], -1)], dim=2)
        a = x.transpose(1, 2)
        for conv in self.conv:
            a = torch.nn.functional.leaky_relu(conv(a), self.slope)
        return self.head(torch.flatten(a, 1)).squeeze(1)


def run(model, x, cond, w, kind, scale):
    x = x.detach().clone().requires_grad_(True)
    logits = model(x, cond)
    (g,) = torch.autograd.grad((w * logits).sum(), x, create_graph=True)
    norms = g.flatten(1).norm(dim=1)
    phi = norms ** 2 if kind == "sq" else (norms - 1) ** 2
    value = scale * phi.sum() / x.shape[0]
    params = [p for _, p in model.named_parameters()]
    grads = torch.autograd.grad(value, params, allow_unused=True)
    grads = [torch.zeros_like(p) if gr is None else gr for p, gr in zip(params, grads)]
    return logits.detach(), g.detach(), value.detach().reshape(1), [gr.detach() for gr in grads]


def check_close(what, f32, f64):
    a = f32.double().numpy().ravel()
    b = f64.numpy().ravel()
    bad = np.abs(a - b) > SANITY_ABS + SANITY_REL * np.abs(b)
    if bad.any():
        i = int(np.argmax(np.abs(a - b)))
        sys.exit("%s: float32 and float64 disagree at %d: %r vs %r" % (what, i, a[i], b[i]))


def make(tag, c):
    torch.manual_seed(c["seed"])
    model = Disc(c)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(quantize(p))
    x = quantize(torch.rand(c["B"], c["T"], c["F"]))
    cond = quantize(torch.randn(c["B"], c["C"])) if c["C"] else None
    w = quantize(torch.randn(c["B"]))
    names = [n.replace(".", "_") for n, _ in model.named_parameters()]
    model64 = Disc(c).double()
    model64.load_state_dict({k: v.double() for k, v in model.state_dict().items()})

    tensors = [("x", x)]
    if cond is not None:
        tensors.append(("condition", cond))
    tensors.append(("weights", w))
    tensors += list(zip(names, [p.detach() for p in model.parameters()]))
    for kind, (num, den) in (("sq", SQ_SCALE), ("unit", UNIT_SCALE)):
        res = run(model, x, cond, w, kind, num / den)
        ref = run(model64, x.double(), None if cond is None else cond.double(), w.double(),
                  kind, num / den)
        for what, a, b in zip(("logits", "g", "value"), res[:3], ref[:3]):
            check_close("%s %s %s" % (tag, kind, what), a, b)
        for n, a, b in zip(names, res[3], ref[3]):
            check_close("%s %s grad %s" % (tag, kind, n), a, b)
        if kind == "sq":
            tensors += [("logits", res[0]), ("g", res[1])]
        tensors.append(("%s_value" % kind, res[2]))
        tensors += [("%s_grad_%s" % (kind, n), gr) for n, gr in zip(names, res[3])]

    lines = [
        "format grugan_golden 1",
        "# CONV1D discriminator gradient penalties, written by tests/golden/make_penalty_golden.py",
        "# (torch %s); see tests/golden/README.md" % torch.__version__,
        "config input_size %d" % c["F"],
        "config condition_size %d" % c["C"],
        "config steps %d" % c["T"],
        "config batch %d" % c["B"],
        "config conv_layers %d" % c["L"],
        "config channels %d" % c["ch"],
        "config kernel_size %d" % c["K"],
        "config stride %d" % c["S"],
        "config padding %d" % c["P"],
        "config slope %d %d" % c["slope"],
        "config sq_scale %d %d" % SQ_SCALE,
        "config unit_scale %d %d" % UNIT_SCALE,
        "config seed %d" % c["seed"],
    ]
    for name, t in tensors:
        t = t.contiguous()
        lines.append("tensor %s %d %s" % (name, t.dim(), " ".join(str(s) for s in t.shape)))
        vals = [fmt(v) for v in t.numpy().ravel()]
        for i in range(0, len(vals), 8):
            lines.append(" ".join(vals[i:i + 8]))
    lines.append("end")
    path = os.path.join(HERE, "penalty_%s.txt" % tag)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("%s: %d bytes" % (os.path.basename(path), os.path.getsize(path)))


def main():
    torch.set_num_threads(1)
    for tag, c in CONFIGS.items():
        make(tag, c)


if __name__ == "__main__":
    main()
