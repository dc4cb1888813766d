#!/usr/bin/env python3
"""train.py - train a GRU GAN on a CSV or NPY time series from Python, then sample and
score it.

Shows: a dataset cut from a series with a holdout for model selection, the
models train_csv makes (Trainer.for_dataset), a time budget, a progress
callback printing one line per estimate, Ctrl-C saving a checkpoint, the best
generator exported and sampled into numpy, and TimeGAN's discriminative score
of the samples against the held-out windows.

    python3 train.py DATA.csv [--seq-len T] [--columns 1,2] [--steps N]
                     [--minutes M] [--hidden H] [--repetitions R] [--out DIR]

Uses the installed grugan package (docs/python.md), else the one in this
checkout's python/.
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


def show(p):
    """The progress callback: a line per quality estimate and at the end."""
    if p.finished or (p.evaluations and p.step == p.best_step) or p.step % 1000 == 0:
        quality = f"quality {p.quality:.4f}, best {p.best_quality:.4f} at step " \
            f"{p.best_step}" if p.evaluations else "no estimate yet"
        print(f"step {p.step:6d}  {p.elapsed_seconds:6.1f} s  D(real) {p.d_real:.3f}  "
              f"D(fake) {p.d_fake:.3f}  {quality}", flush=True)
    return False  # True would stop training


def main():
    ap = argparse.ArgumentParser(description="Train a GRU GAN on a CSV or NPY series.")
    ap.add_argument("data", help="CSV (rows in time order, a column per feature) or .npy")
    ap.add_argument("--seq-len", type=int, default=24, help="steps per window (default 24)")
    ap.add_argument("--columns", help="0-based columns to use, e.g. 1,2 (default: all)")
    ap.add_argument("--steps", type=int, default=200000, help="steps at most (default 200000)")
    ap.add_argument("--minutes", type=float, default=5, help="time budget (default 5)")
    ap.add_argument("--hidden", type=int, default=24, help="GRU hidden size (default 24)")
    ap.add_argument("--repetitions", type=int, default=3,
                    help="repetitions of the final score (default 3; 0: no score)")
    ap.add_argument("--out", default="python_run", help="output folder (default python_run)")
    args = ap.parse_args()
    if args.seq_len < 2 or args.steps < 1 or not args.minutes > 0 or args.hidden < 1 or \
            args.repetitions < 0:
        ap.error("--seq-len at least 2, --steps and --hidden at least 1, --minutes above 0, "
                 "--repetitions at least 0")
    columns = [int(c) for c in args.columns.split(",")] if args.columns else None
    os.makedirs(args.out, exist_ok=True)
    checkpoint = os.path.join(args.out, "checkpoint.safetensors")

    read = grugan.Dataset.from_npy if args.data.endswith(".npy") else grugan.Dataset.from_csv
    try:
        with read(args.data, args.seq_len, columns=columns, holdout=0.1, seed=1) as data, \
                grugan.Trainer.for_dataset(data, hidden_size=args.hidden, callback=show,
                                           total_steps=args.steps,
                                           max_seconds=60 * args.minutes) as trainer:
            n, steps, features = data.shape
            print(f"{args.data}: {n} windows of {steps} steps x {features} features, "
                  f"{data.split[1]} held out")
            try:
                p = trainer.run()
            except KeyboardInterrupt:
                p = trainer.progress
                print(f"interrupted at step {p.step}")
            trainer.save(checkpoint)
            trainer.export(os.path.join(args.out, "generator.safetensors"))
            held_out = data.sequences(data.holdout_indices())          # (K, T, F) scaled
            trainer.restore_best()
            gen = trainer.generator
            samples = gen.sample(max(len(held_out), 5), steps, seed=2)  # data units
            np.save(os.path.join(args.out, "samples.npy"), samples)
            synthetic = np.clip(data.scale(samples), 0, 1)
            if len(held_out) >= 5 and args.repetitions:
                score, std = grugan.discriminative_score(held_out, synthetic,
                                                         repetitions=args.repetitions)
                print(f"discriminative score against the held-out windows: {score:.3f} "
                      f"(std {std:.3f} over {args.repetitions} repetitions; 0 is best)")
    except grugan.Error as e:
        print(f"train.py: {e}", file=sys.stderr)
        return 1
    print(f"finished after {p.step} steps: wrote {checkpoint}, generator.safetensors and "
          f"samples.npy {samples.shape} in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
