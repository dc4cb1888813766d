#!/usr/bin/python3
"""torch_gru.py - times torch.nn.GRU for the configurations of bench/gru_bench.c.

Run with Debian's python3-torch, once per thread count, with BLIS_NUM_THREADS
equal to --threads in the environment: Debian's torch does its matrix products
through BLIS's BLAS interface, which takes its thread count from there, not
from torch.set_num_threads. bench/run.sh does this.

For each configuration it prints one line
  torch config=I5-H24-L3-T24-B128 threads=1 fwd_ms=8.1 fwdbwd_ms=25.0 \
        fwd_nograd_ms=6.2 fwd_repeats=.. fwdbwd_repeats=..
with median milliseconds after a warm-up:
  fwd_ms         out, h_n = gru(x) with autograd on and x.requires_grad=True,
                 as in training (the graph and what backward needs are kept)
  fwdbwd_ms      grads set to None, forward as above, out.backward(d_out):
                 the gradient of loss = (out * d_out).sum() without the two
                 extra elementwise operations; computes every parameter
                 gradient and x.grad, as grugan_gru_backward with d_x
  fwd_nograd_ms  the forward under torch.no_grad() (inference), for reference
If torch cannot be imported it prints "torch not available: <reason>" to
stderr and exits with status 3.
"""
import argparse
import os
import re
import statistics
import sys
import time

KNOWN = {
    "timegan": (5, 24, 3, 24, 128),
    "mid": (64, 256, 1, 50, 64),
    "large": (128, 512, 2, 100, 32),
}
NAME_RE = re.compile(r"^I(\d+)-H(\d+)-L(\d+)-T(\d+)-B(\d+)$", re.IGNORECASE)
MAX_REPEATS = 100000


def parse_config(name):
    if name in KNOWN:
        return KNOWN[name]
    m = NAME_RE.match(name)
    if not m or any(int(v) == 0 for v in m.groups()):
        raise argparse.ArgumentTypeError(
            "unknown configuration %r (timegan, mid, large or I<i>-H<h>-L<l>-T<t>-B<b>)" % name)
    return tuple(int(v) for v in m.groups())


def config_name(cfg):
    return "I%d-H%d-L%d-T%d-B%d" % cfg


def measure(fn, opts):
    """Median milliseconds of fn() after the warm-up, and the repeat count."""
    start = time.perf_counter()
    i = 0
    while i < opts.warmup or time.perf_counter() - start < opts.warmup_time:
        fn()
        i += 1
    samples = []
    timed = 0.0
    while len(samples) < opts.repeats or (timed < opts.min_time and len(samples) < MAX_REPEATS):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        samples.append(dt * 1e3)
        timed += dt
    return statistics.median(samples), len(samples)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", action="append", default=[],
                    help="timegan, mid, large or I<i>-H<h>-L<l>-T<t>-B<b>; may be "
                         "repeated or comma-separated (default: all three)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch.set_num_threads; run with BLIS_NUM_THREADS set to the same")
    ap.add_argument("--repeats", type=int, default=10, help="at least this many timed repeats")
    ap.add_argument("--min-time", type=float, default=1.0,
                    help="seconds of timing per measurement")
    ap.add_argument("--quick", action="store_true", help="1 warm-up, 3 repeats")
    opts = ap.parse_args()
    names = [n for item in opts.config for n in item.split(",") if n] or list(KNOWN)
    try:
        configs = [parse_config(n) for n in names]
    except argparse.ArgumentTypeError as e:
        ap.error(str(e))
    if opts.quick:
        opts.warmup, opts.warmup_time, opts.repeats, opts.min_time = 1, 0.0, 3, 0.0
    else:
        opts.warmup, opts.warmup_time = 3, 0.2

    try:
        import torch
    except Exception as e:  # ImportError, or a broken installation
        print("torch not available: %s" % e, file=sys.stderr)
        return 3

    blis = os.environ.get("BLIS_NUM_THREADS")
    if blis != str(opts.threads):
        print("torch_gru.py: warning: BLIS_NUM_THREADS=%s but --threads %d; torch's matrix "
              "products may not use the intended thread count" % (blis, opts.threads),
              file=sys.stderr)
    torch.set_num_threads(opts.threads)
    torch.manual_seed(0)
    print("# torch %s, threads=%d, BLIS_NUM_THREADS=%s, median ms after warm-up"
          % (torch.__version__, torch.get_num_threads(), blis))
    sys.stdout.flush()

    for cfg in configs:
        i, h, layers, t, b = cfg
        gru = torch.nn.GRU(i, h, num_layers=layers, batch_first=True)
        x = torch.rand(b, t, i) * 2 - 1
        x.requires_grad_(True)
        d_out = torch.rand(b, t, h) * 2 - 1
        params = list(gru.parameters())

        def forward():
            return gru(x)

        def forward_nograd():
            with torch.no_grad():
                return gru(x)

        def forward_backward():
            for p in params:
                p.grad = None
            x.grad = None
            out, _ = gru(x)
            out.backward(d_out)

        fwd, fwd_n = measure(forward, opts)
        fwdbwd, fwdbwd_n = measure(forward_backward, opts)
        nograd, _ = measure(forward_nograd, opts)
        print("torch config=%s threads=%d fwd_ms=%.4f fwdbwd_ms=%.4f fwd_nograd_ms=%.4f "
              "fwd_repeats=%d fwdbwd_repeats=%d"
              % (config_name(cfg), opts.threads, fwd, fwdbwd, nograd, fwd_n, fwdbwd_n))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
