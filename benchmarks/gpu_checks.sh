#!/usr/bin/env bash
# GPU checks and benchmarks in one sitting, for a machine with an NVIDIA GPU and JAX with CUDA
# (docs/performance.md, "GPU"). Run from the repository root; results go to $OUT (default
# ./gpu_out): the benchmark JSONs, framework_layers.{json,md}, and the logs. Each step has its
# own time limit, so one that fails or hangs does not cost the others.
#
#     OUT=gpu_out bash benchmarks/gpu_checks.sh
#     STEPS="env tests" TESTS=tests TEST_SECONDS=300 bash benchmarks/gpu_checks.sh
set -u
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
export XLA_PYTHON_CLIENT_PREALLOCATE=false
PY=${PY:-python3}

step() {  # step NAME SECONDS COMMAND...: run with a limit, log to $OUT/NAME.log, time it
    local name=$1 limit=$2
    shift 2
    local t0=$SECONDS
    timeout "$limit" "$@" >"$OUT/$name.log" 2>&1
    local rc=$?
    echo "== $name: rc $rc, $((SECONDS - t0)) s" | tee -a "$OUT/steps.txt"
    tail -n "${TAIL:-12}" "$OUT/$name.log"
}

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm \
    --format=csv | tee "$OUT/gpu.txt"
want() { [[ " ${STEPS:-env bench frameworks tests} " == *" $1 "* ]]; }

want env && step env 60 "$PY" -c "import jax, jaxfb; print(jax.__version__, jax.devices()); \
print(jaxfb.environment())"
if want bench; then
    step bench_gram 150 "$PY" benchmarks/bench_gram.py --reps 5 --scale 32 \
        --json "$OUT/bench_gram_gpu.json"
    step bench_conv 60 "$PY" benchmarks/bench_conv.py --reps 7 --json "$OUT/bench_conv_gpu.json"
    step bench_kernels 60 "$PY" benchmarks/bench_kernels.py --draws 20000 --numpy-draws 100 \
        --json "$OUT/bench_kernels_gpu.json"
    step bench_engine 150 "$PY" benchmarks/bench_engine.py --draws 10000000 \
        --json "$OUT/bench_engine_gpu.json"
fi
want frameworks && step frameworks 100 "$PY" experiments/framework_layers.py --out "$OUT" \
    --layers 100
want tests && TAIL=25 step tests "${TEST_SECONDS:-200}" "$PY" -m pytest -q -n 8 -m "not slow" \
    -p no:cacheprovider -rf ${TESTS:-tests/test_gram.py tests/test_conv.py tests/test_frames.py \
    tests/test_strided.py tests/test_sampling.py tests/montecarlo}
want bench && step tables 60 "$PY" benchmarks/gpu_tables.py "$OUT"
cat "$OUT/steps.txt"
