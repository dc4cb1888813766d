#!/bin/sh
# The benchmarks build and run: bench/fma_peak.c, bench/gru_bench.c in --quick
# mode on the smallest configuration, bench/gan_bench.c and
# bench/penalty_bench.c in --quick mode, then bench/run.sh without torch
# (also pinned to CPU 0); every output parses.
set -eu
: "${MAKE:=make}"
$MAKE -s build/gru_bench build/gan_bench build/fma_peak build/penalty_bench >/dev/null

num='[0-9][0-9]*\.[0-9][0-9]*'
out=$(build/fma_peak --quick --threads 1)
printf '%s\n' "$out"
printf '%s\n' "$out" | grep -q '^# cpu: '
printf '%s\n' "$out" | grep -q '^# blis: .* sgemm_ukernel=\(optimized\|reference\)$'
if grep -q '^flags.* avx512f' /proc/cpuinfo 2>/dev/null; then
    printf '%s\n' "$out" | grep -q "^peak isa=avx512 threads=1 gflops=$num\$"
fi
if grep -q '^flags.* avx2' /proc/cpuinfo 2>/dev/null; then
    printf '%s\n' "$out" | grep -q "^peak isa=avx2 threads=1 gflops=$num\$"
fi
out=$(build/gru_bench --quick --config timegan --threads 1,2)
printf '%s\n' "$out"
for n in 1 2; do
    printf '%s\n' "$out" | grep -q "^grugan config=I5-H24-L3-T24-B128 threads=$n fwd_ms=$num fwdbwd_ms=$num fwd_repeats=3 fwdbwd_repeats=3 fwd_mflop=55.296 fwdbwd_mflop=165.888\$"
done
test "$(printf '%s\n' "$out" | grep -vc '^#')" -eq 2

if build/gru_bench --config nonsense >/dev/null 2>&1; then
    echo "gru_bench accepted an unknown configuration"; exit 1
fi

out=$(build/gan_bench --quick --threads 1,2)
printf '%s\n' "$out"
for n in 1 2; do
    printf '%s\n' "$out" | grep -q "^grugan_gan config=timegan threads=$n step_ms=$num cpu_ms=$num repeats=3 step_mflop=667.681\$"
done
test "$(printf '%s\n' "$out" | grep -vc '^#')" -eq 2
if build/gan_bench --config mid >/dev/null 2>&1; then
    echo "gan_bench accepted an unknown configuration"; exit 1
fi

out=$(build/penalty_bench --quick)
printf '%s\n' "$out"
printf '%s\n' "$out" | grep -q "^grugan_penalty config=timegan-conv threads=1 plain_ms=$num r1_ms=$num gp_ms=$num repeats=3\$"

out=$(sh bench/run.sh --no-torch --quick --config I5-H24-L3-T24-B128 --threads 1,2 --pin 0)
printf '%s\n' "$out"
printf '%s\n' "$out" | grep -q '^1-thread measurements pinned to CPU 0'
test "$(printf '%s\n' "$out" | grep -c '^gru ')" -eq 2
test "$(printf '%s\n' "$out" | grep -c '^gan ')" -eq 2
if sh bench/run.sh --no-torch --quick --pin x >/dev/null 2>&1; then
    echo "run.sh accepted --pin x"; exit 1
fi

out=$(sh bench/run.sh --no-torch --quick --config I5-H24-L3-T24-B128 --threads 1)
printf '%s\n' "$out"
printf '%s\n' "$out" | grep -q '^torch not available: comparison skipped'
test "$(printf '%s\n' "$out" | grep -c '^gru ')" -eq 1
printf '%s\n' "$out" | grep -q "^gru config=I5-H24-L3-T24-B128 threads=1 fwd_ms=$num fwdbwd_ms=$num torch_fwd_ms=n/a torch_fwdbwd_ms=n/a speedup_fwd=n/a speedup_fwdbwd=n/a peak_share_fwdbwd=\\($num\\|n/a\\)\$"
printf '%s\n' "$out" | grep -q "^gan config=timegan threads=1 step_ms=$num torch_step_ms=n/a speedup=n/a peak_share=\\($num\\|n/a\\)\$"
last=$(printf '%s\n' "$out" | tail -n 1)
printf '%s\n' "$last" | grep -q "^penalty config=timegan-conv threads=1 r1_cost=$num gp_cost=$num torch_r1_cost=n/a torch_gp_cost=n/a speedup_r1=n/a speedup_gp=n/a\$"
echo ok
