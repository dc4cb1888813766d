#!/usr/bin/python3
"""torch_penalty.py - the discriminator update of bench/penalty_bench.c in
PyTorch: the CONV1D discriminator (3 Conv1d of 32 channels, kernel 5,
stride 2, padding 2, leaky ReLU 0.2, Flatten, Linear), BCE on 128 real and
128 fake sequences of T = 24, F = 5 as one batch, Adam; r1 adds
gamma / 2 * mean ||grad_x D(real)||^2 (gamma 1) and gp
10 * mean (||grad_x D(x_hat)|| - 1)^2 on interpolates, both through
torch.autograd.grad(create_graph=True).

    BLIS_NUM_THREADS=1 /usr/bin/python3 bench/torch_penalty.py [--threads N] [--repeats N] [--quick]

Prints one line
    torch_penalty config=timegan-conv threads=1 plain_ms=.. r1_ms=.. gp_ms=.. repeats=..
with the median wall-clock milliseconds of an update of each kind.
"""
import argparse
import time

import torch

T, F, B = 24, 5, 128


class Disc(torch.nn.Module):
    def __init__(self):
        super().__init__()
        layers, c, t = [], F, T
        for _ in range(3):
            layers += [torch.nn.Conv1d(c, 32, 5, stride=2, padding=2), torch.nn.LeakyReLU(0.2)]
            c, t = 32, (t + 4 - 5) // 2 + 1
        self.conv = torch.nn.Sequential(*layers)
        self.head = torch.nn.Linear(32 * t, 1)

    def forward(self, x):
        return self.head(torch.flatten(self.conv(x.transpose(1, 2)), 1)).squeeze(1)


def update(d, opt, x, kind):
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    opt.zero_grad(set_to_none=True)
    if kind == "r1":
        x = x.detach().requires_grad_(True)
    logits = d(x)
    loss = bce(logits[:B], torch.ones(B)) + bce(logits[B:], torch.zeros(B))
    if kind == "r1":
        (g,) = torch.autograd.grad(logits[:B].sum(), x, create_graph=True)
        loss = loss + 0.5 * g[:B].flatten(1).pow(2).sum(1).mean()
    if kind == "gp":
        x_hat = (0.5 * x[:B] + 0.5 * x[B:]).detach().requires_grad_(True)
        (g,) = torch.autograd.grad(d(x_hat).sum(), x_hat, create_graph=True)
        loss = loss + 10.0 * (g.flatten(1).norm(dim=1) - 1).pow(2).mean()
    loss.backward()
    opt.step()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    repeats = 3 if a.quick else a.repeats
    d = Disc()
    opt = torch.optim.Adam(d.parameters(), lr=1e-3)
    x = torch.rand(2 * B, T, F)
    ms = {}
    for kind in ("plain", "r1", "gp"):
        for _ in range(3):
            update(d, opt, x, kind)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            update(d, opt, x, kind)
            times.append(1e3 * (time.perf_counter() - t0))
        times.sort()
        ms[kind] = times[len(times) // 2]
    print("torch_penalty config=timegan-conv threads=%d plain_ms=%.4f r1_ms=%.4f gp_ms=%.4f "
          "repeats=%d" % (a.threads, ms["plain"], ms["r1"], ms["gp"], repeats))


if __name__ == "__main__":
    main()
