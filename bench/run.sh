#!/bin/sh
# run.sh - libgrugan's GRU against torch.nn.GRU, and a GAN training iteration
# against the same iteration in PyTorch, on this machine (make bench).
#
#   sh bench/run.sh [--no-torch] [--only gru|gan|penalty] [--config NAME[,NAME]]
#                   [--threads 1,2] [--repeats N] [--min-time S] [--quick]
#                   [--pin CPU]
#
# --pin CPU runs every 1-thread measurement, ours and torch's, under
# `taskset -c CPU`, so that both sides run on the same core: on machines
# whose cores differ in speed (virtual machines), an unpinned 1-thread run
# lands on either, and the ratio moves with it (docs/PERFORMANCE.md).
#
# GRU section (--config chooses its configurations):
# Runs build/gru_bench (BENCH_BIN) once, then bench/torch_gru.py with PYTHON
# (default /usr/bin/python3, Debian's python3-torch) once per thread count n,
# with BLIS_NUM_THREADS=n in its environment: Debian's torch does its matrix
# products through BLIS, which takes its thread count from there. libgrugan
# sets its threads per handle (GRUGAN_KEY_THREADS), so gru_bench runs with
# BLIS_NUM_THREADS unset. Prints a table, then one line per configuration and
# thread count:
#   gru config=I5-H24-L3-T24-B128 threads=1 fwd_ms=.. fwdbwd_ms=.. torch_fwd_ms=..
#       torch_fwdbwd_ms=.. speedup_fwd=.. speedup_fwdbwd=..
# with n/a for the torch fields when torch is absent. Speedup = torch ms / our ms.
#
# GAN section, after it: build/gan_bench (GAN_BENCH_BIN) times
# grugan_trainer_step (one discriminator and one generator update, TimeGAN
# size), then bench/torch_gan.py the same iteration in PyTorch, once per
# thread count as above; prints a table, then at the end one line per thread
# count:
#   gan config=timegan threads=1 step_ms=.. torch_step_ms=.. speedup=..
#
# Penalty section, last: build/penalty_bench (PENALTY_BENCH_BIN) times one
# update of the CONV1D discriminator plain, with R1 and with WGAN-GP
# (docs/gradient-penalties.md), then bench/torch_penalty.py the same with
# torch.autograd.grad(create_graph=True), at 1 thread; prints both and one
# line
#   penalty config=timegan-conv threads=1 r1_cost=.. gp_cost=.. torch_r1_cost=..
#       torch_gp_cost=.. speedup_r1=.. speedup_gp=..
# (cost: a penalised update's time over a plain one's; target at most 3).
# --repeats, --min-time and --quick apply to every section (--min-time not
# to the penalty one), --config to the GRU section only; --only runs one
# section.
#
# Before all, build/fma_peak (PEAK_BIN) measures the machine's FMA
# throughput (AVX2 and AVX-512, per thread count, 1-thread runs pinned like
# the others) and records the CPU model and BLIS's kernel class; every
# libgrugan figure is then also given as the share of the best peak at its
# thread count that its matrix products reach (peak_share fields: flops of
# the products / time / peak).
set -eu
cd "$(dirname "$0")/.."
: "${BENCH_BIN:=build/gru_bench}" "${GAN_BENCH_BIN:=build/gan_bench}" "${PYTHON:=/usr/bin/python3}"
: "${PEAK_BIN:=build/fma_peak}" "${PENALTY_BENCH_BIN:=build/penalty_bench}"

threads=1,2
common=""
gan_common=""
peak_opts=""
penalty_common=""
use_torch=1
only=""
pin=""
while [ $# -gt 0 ]; do
    case $1 in
    --no-torch) use_torch=0 ;;
    --quick) common="$common $1"; gan_common="$gan_common $1"; peak_opts="--quick"; penalty_common="$1" ;;
    --threads)
        [ $# -ge 2 ] || { echo "run.sh: --threads needs a value" >&2; exit 2; }
        threads=$2; shift ;;
    --pin)
        [ $# -ge 2 ] || { echo "run.sh: --pin needs a CPU number" >&2; exit 2; }
        case $2 in '' | *[!0-9]*) echo "run.sh: --pin takes a CPU number" >&2; exit 2 ;; esac
        command -v taskset >/dev/null || { echo "run.sh: --pin needs taskset (util-linux)" >&2; exit 2; }
        pin=$2; shift ;;
    --only)
        [ $# -ge 2 ] || { echo "run.sh: --only needs a value" >&2; exit 2; }
        case $2 in
        gru | gan | penalty) only=$2 ;;
        *) echo "run.sh: --only gru, gan or penalty" >&2; exit 2 ;;
        esac
        shift ;;
    --config)
        [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }
        common="$common $1 $2"; shift ;;
    --repeats | --min-time)
        [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }
        common="$common $1 $2"; gan_common="$gan_common $1 $2"
        [ "$1" != --repeats ] || penalty_common="$penalty_common $1 $2"
        shift ;;
    *) echo "run.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
    shift
done
run_gru=1 run_gan=1 run_penalty=1
[ -z "$only" ] || { run_gru=0 run_gan=0 run_penalty=0; }
case $only in gru) run_gru=1 ;; gan) run_gan=1 ;; penalty) run_penalty=1 ;; esac

if [ "$run_gru" -eq 1 ] && [ ! -x "$BENCH_BIN" ]; then
    echo "run.sh: $BENCH_BIN not built (make build/gru_bench)" >&2
    exit 1
fi
if [ "$run_gan" -eq 1 ] && [ ! -x "$GAN_BENCH_BIN" ]; then
    echo "run.sh: $GAN_BENCH_BIN not built (make build/gan_bench)" >&2
    exit 1
fi
if [ ! -x "$PEAK_BIN" ]; then
    echo "run.sh: $PEAK_BIN not built (make build/fma_peak)" >&2
    exit 1
fi

if [ "$run_penalty" -eq 1 ] && [ ! -x "$PENALTY_BENCH_BIN" ]; then
    echo "run.sh: $PENALTY_BENCH_BIN not built (make build/penalty_bench)" >&2
    exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "machine: $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)," \
    "$(nproc 2>/dev/null || echo '?') CPUs"
if [ -r /proc/loadavg ]; then
    load=$(cut -d' ' -f1 /proc/loadavg)
    echo "load average at start: $load"
    if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
        echo "warning: the machine is busy; other work distorts the numbers, above all at 2 threads" >&2
    fi
fi

# Empty when torch can be used, else why not.
if [ "$use_torch" -eq 0 ]; then
    no_torch="--no-torch"
elif ! why=$("$PYTHON" -c 'import torch' 2>&1); then
    no_torch="$PYTHON: $(printf '%s\n' "$why" | tail -n 1)"
else
    no_torch=""
fi

# The command prefix of a measurement at $1 threads: taskset for 1 thread with --pin.
pinned() {
    if [ -n "$pin" ] && [ "$1" = 1 ]; then echo "taskset -c $pin"; fi
}

# Our program ($1) once per thread count, its lines appended to $2.
run_ours() {
    : >"$2"
    for n in $(echo "$threads" | tr ',' ' '); do
        # shellcheck disable=SC2046,SC2086
        $(pinned "$n") env -u BLIS_NUM_THREADS "$1" $3 --threads "$n" >>"$2"
    done
}

# The PyTorch script $1 once per thread count (heading $2), every line into
# $3; $4 the script's options; shows its lines except those matching $5.
run_torch() {
    : >"$3"
    if [ -n "$no_torch" ]; then
        echo "torch not available: comparison skipped ($no_torch)"
        return
    fi
    for n in $(echo "$threads" | tr ',' ' '); do
        echo "$2: timing (threads $n, BLIS_NUM_THREADS=$n) ..."
        # shellcheck disable=SC2046,SC2086
        if ! $(pinned "$n") env BLIS_NUM_THREADS="$n" "$PYTHON" "$1" $4 --threads "$n" \
            >"$3.$n"; then
            echo "$(basename "$1") failed at $n threads: its numbers are skipped" >&2
            : >"$3.$n"
        fi
        grep -v "$5" "$3.$n" | sed 's/^/  /'
        cat "$3.$n" >>"$3"
    done
}

# awk functions of both joins: a key=value field of a summary line, a time,
# a ratio (n/a when a side is missing).
awk_lib='
function field(line, key,    n, i, a, kv) {
    n = split(line, a, " ")
    for (i = 2; i <= n; i++) { split(a[i], kv, "="); if (kv[1] == key) return kv[2] }
    return ""
}
function ms(v) { return v == "" ? "n/a" : sprintf("%.3f", v) }
function ratio(num, den) { return (num == "" || den == "" || den + 0 <= 0) ? "n/a" : sprintf("%.2f", num / den) }
# share of the peak (GFLOP/s) that mflop million flops in t ms reach
function share(mflop, t, p) { return (mflop == "" || t == "" || t + 0 <= 0 || p == "" || p + 0 <= 0) ? "n/a" : sprintf("%.3f", mflop / t / p) }
function pct(v) { return v == "n/a" ? "n/a" : sprintf("%.1f%%", 100 * v) }
# the best variant at each thread count, from the peak file; more threads
# never have less peak than one (a lower measurement was disturbed by other
# work, and is replaced by the 1-thread figure)
function read_peaks(file,    line, k) {
    while ((getline line < file) > 0)
        if (line ~ /^peak /) {
            k = field(line, "threads")
            if (field(line, "gflops") + 0 > peak[k] + 0) peak[k] = field(line, "gflops")
        }
    close(file)
    for (k in peak) if (k + 0 > 1 && (1 in peak) && peak[k] + 0 < peak[1] + 0) peak[k] = peak[1]
}
'

[ -z "$pin" ] || echo "1-thread measurements pinned to CPU $pin (both libraries)"

# The FMA peak once per thread count (1-thread run pinned like the others).
echo "FMA peak: measuring (threads $threads) ..."
: >"$tmp/peak"
for n in $(echo "$threads" | tr ',' ' '); do
    # shellcheck disable=SC2046,SC2086
    $(pinned "$n") "$PEAK_BIN" $peak_opts --threads "$n" >"$tmp/peak.$n"
    if [ ! -s "$tmp/peak" ]; then grep '^#' "$tmp/peak.$n" | sed 's/^# /  /' >>"$tmp/peak.head"; fi
    grep '^peak ' "$tmp/peak.$n" >>"$tmp/peak" || true
done
cat "$tmp/peak.head"
sed 's/^/  /' "$tmp/peak"
awk "$awk_lib"'
$1 == "peak" { g = field($0, "gflops"); t = field($0, "threads"); i = field($0, "isa"); if (t == 1) one[i] = g; else if (i in one && g + 0 < 0.75 * t * one[i]) low = low " " i "@" t }
END { if (low != "") print "warning: FMA peak at" low " threads below 0.75 x threads x the 1-thread peak: other work on the machine; shares at more than 1 thread are then too high" }' "$tmp/peak" >&2

gru_section() {
echo "libgrugan: timing (threads $threads) ..."
run_ours "$BENCH_BIN" "$tmp/ours" "$common"
grep -v '^#' "$tmp/ours" | sed 's/^/  /'

run_torch bench/torch_gru.py "torch.nn.GRU" "$tmp/torch" "$common" '^#'

# Join on (config, threads); the targets are those of docs/PERFORMANCE.md.
awk -v peak_file="$tmp/peak" "$awk_lib"'
BEGIN {
    read_peaks(peak_file)
    target["I5-H24-L3-T24-B128"] = 5; target["I64-H256-L1-T50-B64"] = 1.4
    target["I128-H512-L2-T100-B32"] = 1.2; scale_target["I128-H512-L2-T100-B32"] = 1.6
}
FNR == 1 { file++ }
/^#/ { next }
file == 1 && $1 == "grugan" {
    k = field($0, "config") SUBSEP field($0, "threads")
    order[++n] = k; cfg[k] = field($0, "config"); thr[k] = field($0, "threads")
    fwd[k] = field($0, "fwd_ms"); fb[k] = field($0, "fwdbwd_ms")
    fb_mflop[k] = field($0, "fwdbwd_mflop")
}
file == 2 && $1 == "torch" {
    k = field($0, "config") SUBSEP field($0, "threads")
    tfwd[k] = field($0, "fwd_ms"); tfb[k] = field($0, "fwdbwd_ms"); tng[k] = field($0, "fwd_nograd_ms")
}
END {
    print ""
    printf "%-22s %3s | %9s %9s %7s | %9s %9s %7s | %-14s | %s\n", "configuration", "thr", "fwd ms", "torch", "speedup", "f+b ms", "torch", "speedup", "f+b target", "f+b of peak"
    for (i = 1; i <= n; i++) {
        k = order[i]; s = ratio(tfb[k], fb[k]); t = target[cfg[k]]
        verdict = t == "" ? "-" : s == "n/a" ? sprintf(">= %sx: n/a", t) : sprintf(">= %sx: %s", t, s + 0 >= t ? "met" : "MISSED")
        fb_share[k] = share(fb_mflop[k], fb[k], peak[thr[k]])
        printf "%-22s %3s | %9s %9s %7s | %9s %9s %7s | %-14s | %s\n", cfg[k], thr[k], ms(fwd[k]), ms(tfwd[k]), ratio(tfwd[k], fwd[k]), ms(fb[k]), ms(tfb[k]), s, verdict, pct(fb_share[k])
    }
    print "(of peak: the flops of the GRU matrix products per second, against the best FMA peak"
    print "measured at that thread count)"
    header = 0
    for (i = 1; i <= n; i++) {
        k = order[i]; k1 = cfg[k] SUBSEP 1
        if (thr[k] != 2 || !(k1 in fb)) continue
        if (!header) {
            print ""
            printf "%-22s | %8s %8s | %8s %8s | %s\n", "2 threads vs 1", "fwd", "f+b", "torch fwd", "torch f+b", "f+b target"
            header = 1
        }
        s = ratio(fb[k1], fb[k]); t = scale_target[cfg[k]]
        verdict = t == "" ? "-" : sprintf(">= %sx: %s", t, s + 0 >= t ? "met" : "MISSED")
        printf "%-22s | %7sx %7sx | %8sx %8sx | %s\n", cfg[k], ratio(fwd[k1], fwd[k]), s, ratio(tfwd[k1], tfwd[k]), ratio(tfb[k1], tfb[k]), verdict
    }
    nograd = 0
    for (i = 1; i <= n; i++) if (tng[order[i]] != "") nograd = 1
    if (nograd) {
        print ""
        print "torch forward under torch.no_grad() (inference only; not compared):"
        for (i = 1; i <= n; i++) { k = order[i]; if (tng[k] != "") printf "  %-22s threads=%s %s ms\n", cfg[k], thr[k], ms(tng[k]) }
    }
    print ""
    for (i = 1; i <= n; i++) {
        k = order[i]
        printf "gru config=%s threads=%s fwd_ms=%s fwdbwd_ms=%s torch_fwd_ms=%s torch_fwdbwd_ms=%s speedup_fwd=%s speedup_fwdbwd=%s peak_share_fwdbwd=%s\n", cfg[k], thr[k], ms(fwd[k]), ms(fb[k]), ms(tfwd[k]), ms(tfb[k]), ratio(tfwd[k], fwd[k]), ratio(tfb[k], fb[k]), fb_share[k]
    }
}' "$tmp/ours" "$tmp/torch"
}

gan_section() {
echo "GAN training iteration, one discriminator and one generator update (timegan: generator"
echo "and discriminator 3-layer GRU H=24, F=Z=5, T=24, B=128, per-step logits, BCE, Adam):"
echo "libgrugan grugan_trainer_step: timing (threads $threads) ..."
run_ours "$GAN_BENCH_BIN" "$tmp/gan_ours" "$gan_common"
grep -v '^# libgrugan' "$tmp/gan_ours" | sed 's/^/  /'

run_torch bench/torch_gan.py "PyTorch, the same iteration" "$tmp/gan_torch" "$gan_common" \
    '^# torch'

# Join on threads; the target (at least 6x faster than torch) is that of
# docs/PERFORMANCE.md.
awk -v peak_file="$tmp/peak" "$awk_lib"'
BEGIN { target = 6; read_peaks(peak_file) }
FNR == 1 { file++ }
/^#/ { next }
file == 1 && $1 == "grugan_gan" {
    k = field($0, "threads"); order[++n] = k; cfg[k] = field($0, "config")
    ours[k] = field($0, "step_ms"); ours_cpu[k] = field($0, "cpu_ms"); mflop[k] = field($0, "step_mflop")
}
file == 2 && $1 == "torch_gan" {
    k = field($0, "threads"); torch[k] = field($0, "step_ms"); torch_cpu[k] = field($0, "cpu_ms")
}
END {
    print ""
    printf "%-13s %3s | %9s %9s %7s | %s | %9s %9s | %s\n", "GAN step", "thr", "ms", "torch", "speedup", "target       ", "CPU ms", "torch", "of peak"
    for (i = 1; i <= n; i++) {
        k = order[i]; s = ratio(torch[k], ours[k])
        verdict = s == "n/a" ? sprintf(">= %sx: n/a", target) : sprintf(">= %sx: %s", target, s + 0 >= target ? "met" : "MISSED")
        step_share[k] = share(mflop[k], ours[k], peak[k])
        printf "%-13s %3s | %9s %9s %7s | %-13s | %9s %9s | %s\n", cfg[k], k, ms(ours[k]), ms(torch[k]), s, verdict, ms(ours_cpu[k]), ms(torch_cpu[k]), pct(step_share[k])
    }
    print "(ms: median wall-clock time of an iteration; CPU ms: median CPU time of the process per"
    print "iteration, all threads and their spin-waiting included; of peak: the flops of the"
    print "iteration'"'"'s matrix products per second against the best FMA peak at that thread count)"
    if ((1 in ours) && (2 in ours)) {
        print ""
        printf "GAN step, 2 threads vs 1: libgrugan %sx, torch %sx\n", ratio(ours[1], ours[2]), ratio(torch[1], torch[2])
    }
    print ""
    for (i = 1; i <= n; i++) {
        k = order[i]
        printf "gan config=%s threads=%s step_ms=%s torch_step_ms=%s speedup=%s peak_share=%s\n", cfg[k], k, ms(ours[k]), ms(torch[k]), ratio(torch[k], ours[k]), step_share[k]
    }
}' "$tmp/gan_ours" "$tmp/gan_torch"
}

penalty_section() {
echo "Gradient penalties: one update of the CONV1D discriminator (defaults, F=5, T=24, B=128,"
echo "BCE, Adam), plain, with R1 and with WGAN-GP (bench/penalty_bench.c):"
# shellcheck disable=SC2046,SC2086
$(pinned 1) env -u BLIS_NUM_THREADS "$PENALTY_BENCH_BIN" --threads 1 $penalty_common \
    >"$tmp/pen_ours"
sed 's/^/  /' "$tmp/pen_ours"
: >"$tmp/pen_torch"
if [ -n "$no_torch" ]; then
    echo "torch not available: comparison skipped ($no_torch)"
else
    echo "PyTorch, the same with torch.autograd.grad(create_graph=True): timing (threads 1) ..."
    # shellcheck disable=SC2046,SC2086
    $(pinned 1) env BLIS_NUM_THREADS=1 "$PYTHON" bench/torch_penalty.py --threads 1 \
        $penalty_common >"$tmp/pen_torch" || : >"$tmp/pen_torch"
    sed 's/^/  /' "$tmp/pen_torch"
fi
awk "$awk_lib"'
FNR == 1 { file++ }
file == 1 && $1 == "grugan_penalty" { p = field($0, "plain_ms"); r = field($0, "r1_ms"); g = field($0, "gp_ms") }
file == 2 && $1 == "torch_penalty" { tp = field($0, "plain_ms"); tr = field($0, "r1_ms"); tg = field($0, "gp_ms") }
END {
    printf "penalty config=timegan-conv threads=1 r1_cost=%s gp_cost=%s torch_r1_cost=%s torch_gp_cost=%s speedup_r1=%s speedup_gp=%s\n", ratio(r, p), ratio(g, p), ratio(tr, tp), ratio(tg, tp), ratio(tr, r), ratio(tg, g)
}' "$tmp/pen_ours" "$tmp/pen_torch"
}

if [ "$run_gru" -eq 1 ]; then
    gru_section
fi
if [ "$run_gan" -eq 1 ]; then
    [ "$run_gru" -eq 0 ] || echo ""
    gan_section
fi
if [ "$run_penalty" -eq 1 ]; then
    [ "$run_gru" -eq 0 ] && [ "$run_gan" -eq 0 ] || echo ""
    penalty_section
fi
