#!/usr/bin/env python3
"""scaling_model.py - the model of docs/SCALING.md ("Efficiency at scale"):
the parallel efficiency of data-parallel training with the same batch per
rank (weak scaling) at 8, 64 and 512 ranks on 10 and 100 Gbit/s networks.

    python3 bench/mpi/scaling_model.py [--compute-ms DEFAULT,LARGE] [--slot-bytes DEFAULT,LARGE]

Inputs (measured with build/sines_mpi_bench, see docs/SCALING.md):
  compute: one rank's step without communication at batch 128, 1 thread
  slot:    bytes one shard's slot adds to a step's reductions (bytes_per_step
           of a run on 2 ranks / 2)
Assumptions:
  - a step's 3 reductions (discriminator, batch statistics, generator; d_steps
    1) are MPI_Allreduce calls of S slots each, S = the number of ranks p,
    with Rabenseifner's algorithm (reduce-scatter + allgather):
    t(V) = 2 log2(p) alpha + 2 (p - 1) / p * V / beta; plus 4 small
    agreements per step of 2 log2(p) alpha each (latency only)
  - 10 Gbit/s: Ethernet with TCP, alpha = 25 us, beta = 1.0 GB/s (80 % of
    the line rate); 100 Gbit/s: InfiniBand or RoCE with RDMA, alpha = 2 us,
    beta = 10 GB/s
  - one rank per node (the node's cores as its threads), no overlap of the
    reduction with compute, compute per rank independent of p
  - efficiency = compute / (compute + communication)
"one slot" is the alternative of the same model where each reduction moves
one slot whatever p (per-rank partial sums, see "What to change").
"""
import argparse
import math

NETWORKS = {"10 Gbit/s": (25e-6, 1.0e9), "100 Gbit/s": (2e-6, 10.0e9)}
RANKS = (8, 64, 512)
REDUCTIONS, AGREEMENTS = 3, 4


def allreduce(p, nbytes, alpha, beta):
    return 2 * math.log2(p) * alpha + 2 * (p - 1) / p * nbytes / beta


def comm_seconds(p, slot_bytes, alpha, beta, slots):
    """Communication of one step: `slots` slots in all over the reductions."""
    per_reduction = slots * slot_bytes / REDUCTIONS
    return (REDUCTIONS * allreduce(p, per_reduction, alpha, beta)
            + AGREEMENTS * 2 * math.log2(p) * alpha)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compute-ms", default="7.2,712",
                    help="step milliseconds of the default and the large model")
    ap.add_argument("--slot-bytes", default="90712,15858968",
                    help="bytes per shard slot of the default and the large model")
    a = ap.parse_args()
    compute = [float(x) / 1e3 for x in a.compute_ms.split(",")]
    slot = [float(x) for x in a.slot_bytes.split(",")]
    models = [("default (H 24)", compute[0], slot[0]), ("hidden 512", compute[1], slot[1])]
    print("| model | network | ranks | comm ms/step (S = p) | efficiency | comm ms (one slot) | efficiency (one slot) |")
    print("|---|---|---|---|---|---|---|")
    for name, tc, sb in models:
        for net, (alpha, beta) in NETWORKS.items():
            for p in RANKS:
                full = comm_seconds(p, sb, alpha, beta, p)
                one = comm_seconds(p, sb, alpha, beta, 1)
                print(f"| {name} | {net} | {p} | {1e3 * full:.1f} | {tc / (tc + full):.0%} "
                      f"| {1e3 * one:.2f} | {tc / (tc + one):.0%} |")


if __name__ == "__main__":
    main()
