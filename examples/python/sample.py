#!/usr/bin/env python3
"""sample.py - synthetic sequences from a libgrugan checkpoint into numpy.

Shows: loading a generator (from a training checkpoint or a generator-only
export) with the grugan package, its configuration, sampling in data units,
and saving the array as .npy.

    python3 sample.py CHECKPOINT [--n N] [--steps T] [--seed X] [--out FILE.npy]

Uses the installed grugan package (docs/python.md), else the one in this
checkout's python/; the library is found as grugan.load_library describes.
"""
import argparse
import os
import sys

import numpy as np

try:
    import grugan
except ImportError:  # not installed: the package of this checkout
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "python"))
    import grugan


def main():
    ap = argparse.ArgumentParser(description="Sample sequences from a libgrugan checkpoint.")
    ap.add_argument("checkpoint", help="training checkpoint or generator-only export")
    ap.add_argument("--n", type=int, default=100, help="sequences (default 100)")
    ap.add_argument("--steps", type=int, default=24, help="steps per sequence (default 24)")
    ap.add_argument("--seed", type=int, default=1, help="noise seed (default 1)")
    ap.add_argument("--out", help="write the array (N, T, F) to this .npy file")
    args = ap.parse_args()
    if args.n < 1 or args.steps < 1 or args.seed < 0:
        ap.error("--n and --steps must be at least 1, --seed at least 0")

    try:
        with grugan.Generator.load(args.checkpoint) as gen:
            cfg = gen.config
            print(f"libgrugan {grugan.version()}: generator with {cfg['num_layers']} GRU layers "
                  f"of {cfg['hidden_size']}, noise {cfg['noise_size']}, "
                  f"{cfg['output_size']} features")
            x = gen.sample(args.n, args.steps, seed=args.seed)
            units = "scaled units (no scaler stored)" if gen.scaler is None else "data units"
    except grugan.Error as e:
        print(f"sample.py: {args.checkpoint}: {e}", file=sys.stderr)
        return 1
    print(f"samples {x.shape} in {units}")
    print("per-feature mean:", np.array2string(x.mean(axis=(0, 1)), precision=4))
    print("per-feature std: ", np.array2string(x.std(axis=(0, 1)), precision=4))
    if args.out:
        try:
            np.save(args.out, x)
        except OSError as e:
            print(f"sample.py: cannot write {args.out}: {e.strerror}", file=sys.stderr)
            return 1
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
