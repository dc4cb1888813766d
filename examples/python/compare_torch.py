#!/usr/bin/env python3
"""compare_torch.py - load a libgrugan checkpoint's generator into torch.nn.GRU
and check that both give the same outputs.

Shows: the parameters carry PyTorch's names, shapes and layout, so the
generator's GRU weights load as a torch.nn.GRU(batch_first=True) state dict
and its head as a torch.nn.Linear; noise drawn by the library (or any noise)
then gives the same sequences in both. Exits 0 with a message when torch is
not installed.

    python3 compare_torch.py CHECKPOINT [--n N] [--steps T] [--seed X]
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

try:
    import torch
except ImportError:
    torch = None


def torch_generator(gen):
    """The generator as torch modules: GRU stack, linear head, output activation."""
    cfg, params = gen.config, gen.params.state_dict()
    inputs = cfg["noise_size"] + cfg["condition_size"] + cfg["covariate_size"]
    gru = torch.nn.GRU(inputs, cfg["hidden_size"], cfg["num_layers"], batch_first=True)
    head = torch.nn.Linear(cfg["hidden_size"], cfg["output_size"])
    gru.load_state_dict({k[len("gru."):]: torch.from_numpy(v) for k, v in params.items()
                         if k.startswith("gru.")})
    head.load_state_dict({k[len("head."):]: torch.from_numpy(v) for k, v in params.items()
                          if k.startswith("head.")})
    act = {0: torch.sigmoid, grugan.ACT_SIGMOID: torch.sigmoid, grugan.ACT_TANH: torch.tanh,
           grugan.ACT_IDENTITY: lambda y: y,
           grugan.ACT_LEAKY_RELU: lambda y: torch.nn.functional.leaky_relu(y, 0.01)}
    return gru, head, act[cfg["output_activation"]]


def main():
    ap = argparse.ArgumentParser(description="Compare a libgrugan generator with torch.nn.GRU.")
    ap.add_argument("checkpoint", help="training checkpoint or generator-only export")
    ap.add_argument("--n", type=int, default=16, help="sequences (default 16)")
    ap.add_argument("--steps", type=int, default=24, help="steps (default 24)")
    ap.add_argument("--seed", type=int, default=1, help="noise seed (default 1)")
    args = ap.parse_args()
    if args.n < 1 or args.steps < 1 or args.seed < 0:
        ap.error("--n and --steps must be at least 1, --seed at least 0")
    if torch is None:
        print("compare_torch.py: torch is not installed: comparison skipped")
        return 0

    try:
        with grugan.Generator.load(args.checkpoint) as gen:
            cfg = gen.config
            if cfg["convention"] != grugan.GRU_RESET_AFTER:
                print("compare_torch.py: this generator uses the reset-before (TF1) GRU, "
                      "which torch.nn.GRU does not implement: comparison skipped")
                return 0
            rng = np.random.default_rng(args.seed)
            n, steps = args.n, args.steps
            z = gen.noise(n, steps, args.seed)                        # (N, T, Z)
            cond = rng.random((n, cfg["condition_size"]), np.float32) \
                if cfg["condition_size"] else None                    # (N, C)
            cov = rng.random((n, steps, cfg["covariate_size"]), np.float32) \
                if cfg["covariate_size"] else None                    # (N, T, V)
            ours = gen.forward(z, cond, cov)                          # (N, T, F), scaled
            gru, head, act = torch_generator(gen)
    except grugan.Error as e:
        print(f"compare_torch.py: {args.checkpoint}: {e}", file=sys.stderr)
        return 1

    # the generator's input at step t is [z_t, c, v_t]
    parts = [z]
    if cond is not None:
        parts.append(np.repeat(cond[:, None, :], steps, axis=1))
    if cov is not None:
        parts.append(cov)
    with torch.no_grad():
        h, _ = gru(torch.from_numpy(np.concatenate(parts, axis=2)))
        theirs = act(head(h)).numpy()
    diff = float(np.abs(ours - theirs).max())
    print(f"torch {torch.__version__}: {n} sequences x {steps} steps x {cfg['output_size']} "
          f"features, largest difference {diff:.3g}")
    if diff > 1e-5:
        print("compare_torch.py: the outputs differ", file=sys.stderr)
        return 1
    print("same outputs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
