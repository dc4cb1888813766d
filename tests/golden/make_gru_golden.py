#!/usr/bin/python3
"""make_gru_golden.py - golden data from torch.nn.GRU for tests/test_gru_golden.c.

Run from anywhere with Debian's interpreter and its python3-torch package:

    /usr/bin/python3 tests/golden/make_gru_golden.py

It (re)writes tests/golden/gru_*.txt next to this script. The files are
committed, so building and testing libgrugan never needs torch. The output is
deterministic (fixed seeds, one thread); rerunning it on the same torch
version rewrites the same bytes.

Each configuration builds torch.nn.GRU(batch_first=True), runs it in float32
on random inputs (optionally with an initial state h0 and with variable
lengths through pack_padded_sequence(enforce_sorted=False) and
pad_packed_sequence(total_length=T), so outputs past a sequence's length are
0), then backpropagates the loss

    L = sum(out * d_out) + sum(h_n * d_hn)

for random d_out, d_hn. The same computation is repeated in float64 as a
sanity check: the script stops if the float32 results are not close to it.

File format (plain text, ASCII, one directive per line)
-------------------------------------------------------
    format grugan_golden 1            first directive, always
    # ...                             comment line (ignored); blank lines too
    config KEY V1 [V2 ...]            integer values; keys used here:
        input_size, hidden_size, num_layers, bidirectional (0/1),
        convention (0: reset after, PyTorch's), batch, steps,
        has_h0 (0: forward with h0 = NULL, i.e. zeros; grad_h0 is still the
        gradient with respect to that zero state), seed,
        lengths (B values; present only for variable-length batches)
    tensor NAME NDIM D0 ... D(NDIM-1) header of a tensor, followed on the
                                      next lines by D0*...*D(NDIM-1) values in
                                      row-major order, whitespace-separated,
                                      any number per line
    end                               last directive; anything after it is an
                                      error (a missing end means truncation)

Values are float32, each written as the shortest decimal that reads back as
exactly that float32 (at most 9 significant digits), so strtof recovers the
bits torch computed. To keep the files small, the inputs (x, h0, the
parameters, d_out, d_hn) are the float32 values nearest to numbers with 3
decimals (torch's default initialization and randn, rounded).

Tensors (all shapes as in PyTorch; L layers, D directions):
    x              (B, T, I)    input, batch_first
    h0             (L*D, B, H)  initial state (only when has_h0 = 1)
    weight_ih_l{k}[_reverse] (3H, I or D*H), weight_hh_l{k}[_reverse] (3H, H),
    bias_ih_l{k}[_reverse] (3H), bias_hh_l{k}[_reverse] (3H)
                                parameters, gate order r, z, n
    out            (B, T, D*H)  output of the last layer, 0 past a length
    h_n            (L*D, B, H)  final state
    d_out          (B, T, D*H)  loss coefficients of out (random everywhere,
                                also past a length, where torch ignores them)
    d_hn           (L*D, B, H)  loss coefficients of h_n
    grad_x         (B, T, I)    dL/dx
    grad_h0        (L*D, B, H)  dL/dh0
    grad_<param>   same shape as <param>: dL/d<param>

Only PyTorch's convention (reset gate applied after the recurrent product)
exists in torch.nn.GRU, so there is no golden file for the "reset before"
convention (TF1 GRUCell, Keras reset_after=False); other tests cover it.
"""

import os
import sys

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

HERE = os.path.dirname(os.path.abspath(__file__))

# name: input_size, hidden_size, num_layers, bidirectional, batch, steps,
#       has_h0, lengths (None: every sequence has T steps), seed
CONFIGS = [
    ("a", dict(I=3, H=5, L=1, bi=False, B=2, T=4, has_h0=False, lengths=None, seed=101)),
    ("b", dict(I=4, H=6, L=2, bi=True, B=3, T=5, has_h0=True, lengths=None, seed=202)),
    ("c", dict(I=2, H=4, L=3, bi=False, B=3, T=6, has_h0=True, lengths=[6, 3, 1], seed=303)),
    ("d", dict(I=3, H=3, L=2, bi=True, B=4, T=5, has_h0=True, lengths=[5, 2, 4, 1], seed=404)),
    # TimeGAN's defaults: hidden_dim 24, num_layers 3, seq_len 24.
    ("e", dict(I=5, H=24, L=3, bi=False, B=2, T=24, has_h0=False, lengths=None, seed=505)),
]

# The float32 results must agree with float64 this well (the C test uses
# 1e-5 absolute + 1e-4 relative; torch's own float32 rounding must stay well
# inside that).
SANITY_ABS, SANITY_REL = 2e-6, 2e-5


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


def run(gru, x, h0, d_out, d_hn, lengths, T):
    x = x.detach().clone().requires_grad_(True)
    h0 = h0.detach().clone().requires_grad_(True)
    gru.zero_grad(set_to_none=True)
    if lengths is None:
        out, h_n = gru(x, h0)
    else:
        packed = pack_padded_sequence(x, torch.tensor(lengths, dtype=torch.int64),
                                      batch_first=True, enforce_sorted=False)
        out_p, h_n = gru(packed, h0)
        out, _ = pad_packed_sequence(out_p, batch_first=True, total_length=T)
    loss = (out * d_out).sum() + (h_n * d_hn).sum()
    loss.backward()
    grads = {name: p.grad.detach().clone() for name, p in gru.named_parameters()}
    return out.detach(), h_n.detach(), x.grad.detach(), h0.grad.detach(), grads


def check_close(what, f32, f64):
    a = f32.double().numpy().ravel()
    b = f64.numpy().ravel()
    bad = np.abs(a - b) > SANITY_ABS + SANITY_REL * np.abs(b)
    if bad.any():
        i = int(np.argmax(np.abs(a - b)))
        sys.exit("%s: float32 and float64 disagree at %d: %r vs %r" % (what, i, a[i], b[i]))
    return float(np.max(np.abs(a - b) / (SANITY_ABS + SANITY_REL * np.abs(b)), initial=0.0))


def make(tag, c):
    I, H, L, bi, B, T = c["I"], c["H"], c["L"], c["bi"], c["B"], c["T"]
    D = 2 if bi else 1
    torch.manual_seed(c["seed"])
    gru = torch.nn.GRU(I, H, num_layers=L, bidirectional=bi, batch_first=True)
    with torch.no_grad():
        for p in gru.parameters():
            p.copy_(quantize(p))
    x = quantize(torch.randn(B, T, I))
    h0 = quantize(0.5 * torch.randn(L * D, B, H)) if c["has_h0"] else torch.zeros(L * D, B, H)
    d_out = quantize(torch.randn(B, T, D * H))
    d_hn = quantize(torch.randn(L * D, B, H))
    lengths = c["lengths"]
    if lengths is not None:
        assert len(lengths) == B and all(1 <= n <= T for n in lengths)

    out, h_n, gx, gh0, grads = run(gru, x, h0, d_out, d_hn, lengths, T)

    gru64 = torch.nn.GRU(I, H, num_layers=L, bidirectional=bi, batch_first=True).double()
    gru64.load_state_dict({k: v.double() for k, v in gru.state_dict().items()})
    r64 = run(gru64, x.double(), h0.double(), d_out.double(), d_hn.double(), lengths, T)
    worst = max(check_close("out", out, r64[0]), check_close("h_n", h_n, r64[1]),
                check_close("grad_x", gx, r64[2]), check_close("grad_h0", gh0, r64[3]),
                max(check_close("grad_" + k, grads[k], r64[4][k]) for k in grads))

    if lengths is not None:  # torch's padding: outputs past a length are 0
        for b, n in enumerate(lengths):
            assert not out[b, n:].any()

    tensors = [("x", x)]
    if c["has_h0"]:
        tensors.append(("h0", h0))
    params = list(gru.named_parameters())
    tensors += [(name, p.detach()) for name, p in params]
    tensors += [("out", out), ("h_n", h_n), ("d_out", d_out), ("d_hn", d_hn),
                ("grad_x", gx), ("grad_h0", gh0)]
    tensors += [("grad_" + name, grads[name]) for name, _ in params]

    lines = [
        "format grugan_golden 1",
        "# torch.nn.GRU golden data, written by tests/golden/make_gru_golden.py",
        "# (torch %s); see tests/golden/README.md" % torch.__version__,
        "config input_size %d" % I,
        "config hidden_size %d" % H,
        "config num_layers %d" % L,
        "config bidirectional %d" % int(bi),
        "config convention 0",
        "config batch %d" % B,
        "config steps %d" % T,
        "config has_h0 %d" % int(c["has_h0"]),
        "config seed %d" % c["seed"],
    ]
    if lengths is not None:
        lines.append("config lengths " + " ".join(str(n) for n in lengths))
    for name, t in tensors:
        t = t.detach().to(torch.float32).contiguous()
        lines.append("tensor %s %d %s" % (name, t.dim(), " ".join(str(s) for s in t.shape)))
        vals = [fmt(v) for v in t.numpy().ravel().tolist()]
        per = 8
        for i in range(0, len(vals), per):
            lines.append(" ".join(vals[i:i + per]))
    lines.append("end")
    path = os.path.join(HERE, "gru_%s.txt" % tag)
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    print("%s: %d bytes, float32 vs float64 within %.2f of the sanity tolerance"
          % (os.path.basename(path), os.path.getsize(path), worst))


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    for tag, c in CONFIGS:
        make(tag, c)


if __name__ == "__main__":
    main()
