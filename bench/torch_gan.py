#!/usr/bin/python3
"""torch_gan.py - times the GAN training iteration of bench/gan_bench.c in PyTorch.

Run with Debian's python3-torch, once per thread count, with BLIS_NUM_THREADS
equal to --threads in the environment: Debian's torch does its matrix products
through BLIS's BLAS interface, which takes its thread count from there, not
from torch.set_num_threads. bench/run.sh does this.

The iteration, written as one would in PyTorch, at TimeGAN size:
  data           Sines, 10000 x 24 x 5, min-max scaled to [0, 1], preloaded
                 as one tensor; minibatches of 128 from a fresh
                 torch.randperm each epoch (the remainder of an epoch skipped)
  generator      nn.GRU(5, 24, num_layers=3, batch_first=True), per-step
                 nn.Linear(24, 5), sigmoid; noise torch.randn(128, 24, 5)
  discriminator  nn.GRU(5, 24, num_layers=3, batch_first=True), per-step
                 nn.Linear(24, 1) logits
  loss           nn.BCEWithLogitsLoss (mean); optimizers torch.optim.Adam(lr=1e-3)
  D update       fakes from fresh noise under torch.no_grad() (detached);
                 real and fake through D as one batch of 256;
                 loss = bce(real logits, 1) + bce(fake logits, 0);
                 zero_grad, backward, step
  G update       fakes from fresh noise; D's parameters frozen
                 (requires_grad_(False)) so that only dL/dx flows through D,
                 as libgrugan's input-only backward; loss = bce(D(fake), 1)
                 (non-saturating); zero_grad, backward, step
This is the computation grugan_trainer_step does with d_steps = 1.

It prints one line
  torch_gan config=timegan threads=1 step_ms=104.0 cpu_ms=103.0 repeats=20
with the median wall-clock milliseconds of an iteration over those that follow
a warm-up, and the median CPU time of the process per iteration (all threads),
then a comment line with the losses of the last iteration. If torch cannot be
imported it prints "torch not available: <reason>" to stderr and exits with
status 3.
"""
import argparse
import os
import statistics
import sys
import time

N_SEQ, T, F, Z, H, LAYERS, BATCH = 10000, 24, 5, 5, 24, 3, 128
MAX_REPEATS = 100000


def measure(fn, opts):
    """Median wall-clock and CPU milliseconds of fn() after the warm-up, and the
    repeat count."""
    start = time.perf_counter()
    i = 0
    while i < opts.warmup or time.perf_counter() - start < opts.warmup_time:
        fn()
        i += 1
    samples = []
    cpu = []
    timed = 0.0
    while len(samples) < opts.repeats or (timed < opts.min_time and len(samples) < MAX_REPEATS):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - c0) * 1e3)
        dt = time.perf_counter() - t0
        samples.append(dt * 1e3)
        timed += dt
    return statistics.median(samples), statistics.median(cpu), len(samples)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default="timegan", choices=["timegan"],
                    help="the only configuration (for symmetry with torch_gru.py)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch.set_num_threads; run with BLIS_NUM_THREADS set to the same")
    ap.add_argument("--repeats", type=int, default=20, help="at least this many timed iterations")
    ap.add_argument("--min-time", type=float, default=1.0, help="seconds of timing")
    ap.add_argument("--quick", action="store_true", help="1 warm-up, 3 iterations")
    opts = ap.parse_args()
    if opts.threads < 1 or opts.repeats < 1 or opts.min_time < 0:
        ap.error("--threads and --repeats must be >= 1, --min-time >= 0")
    if opts.quick:
        opts.warmup, opts.warmup_time, opts.repeats, opts.min_time = 1, 0.0, 3, 0.0
    else:
        opts.warmup, opts.warmup_time = 3, 0.2

    try:
        import torch
        from torch import nn
    except Exception as e:  # ImportError, or a broken installation
        print("torch not available: %s" % e, file=sys.stderr)
        return 3

    blis = os.environ.get("BLIS_NUM_THREADS")
    if blis != str(opts.threads):
        print("torch_gan.py: warning: BLIS_NUM_THREADS=%s but --threads %d; torch's matrix "
              "products may not use the intended thread count" % (blis, opts.threads),
              file=sys.stderr)
    torch.set_num_threads(opts.threads)
    torch.manual_seed(0)

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(Z, H, num_layers=LAYERS, batch_first=True)
            self.head = nn.Linear(H, F)

        def forward(self, z):
            out, _ = self.gru(z)
            return torch.sigmoid(self.head(out))

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(F, H, num_layers=LAYERS, batch_first=True)
            self.head = nn.Linear(H, 1)

        def forward(self, x):
            out, _ = self.gru(x)
            return self.head(out).squeeze(-1)  # (B, T): one logit per step

    # Sines as in gan_bench.c (different random draws), min-max scaled.
    f = 0.1 * torch.rand(N_SEQ, 1, F, dtype=torch.float64)
    p = 0.1 * torch.rand(N_SEQ, 1, F, dtype=torch.float64)
    t = torch.arange(T, dtype=torch.float64).view(1, T, 1)
    data = ((torch.sin(f * t + p) + 1) / 2).float()
    lo = data.amin(dim=(0, 1))
    hi = data.amax(dim=(0, 1))
    data = (data - lo) / (hi - lo + 1e-7)

    gen, disc = Generator(), Discriminator()
    g_opt = torch.optim.Adam(gen.parameters(), lr=1e-3)
    d_opt = torch.optim.Adam(disc.parameters(), lr=1e-3)
    bce = nn.BCEWithLogitsLoss()
    ones = torch.ones(BATCH, T)
    zeros = torch.zeros(BATCH, T)
    stream = {"perm": torch.randperm(N_SEQ), "pos": 0}
    last = {}

    def next_batch():
        if stream["pos"] + BATCH > N_SEQ:
            stream["perm"], stream["pos"] = torch.randperm(N_SEQ), 0
        idx = stream["perm"][stream["pos"]:stream["pos"] + BATCH]
        stream["pos"] += BATCH
        return data[idx]

    def iteration():
        # discriminator update
        real = next_batch()
        with torch.no_grad():
            fake = gen(torch.randn(BATCH, T, Z))
        logits = disc(torch.cat([real, fake]))
        d_loss = bce(logits[:BATCH], ones) + bce(logits[BATCH:], zeros)
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        # generator update through the frozen discriminator
        for q in disc.parameters():
            q.requires_grad_(False)
        fake = gen(torch.randn(BATCH, T, Z))
        g_loss = bce(disc(fake), ones)
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
        for q in disc.parameters():
            q.requires_grad_(True)
        last["d"], last["g"] = d_loss.item(), g_loss.item()

    print("# torch %s, threads=%d, BLIS_NUM_THREADS=%s, one D + one G update, median ms "
          "after warm-up" % (torch.__version__, torch.get_num_threads(), blis))
    sys.stdout.flush()
    ms, cpu_ms, n = measure(iteration, opts)
    print("torch_gan config=timegan threads=%d step_ms=%.4f cpu_ms=%.4f repeats=%d"
          % (opts.threads, ms, cpu_ms, n))
    print("# threads=%d: d_loss=%.4f g_loss=%.4f" % (opts.threads, last["d"], last["g"]))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
