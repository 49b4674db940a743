#!/usr/bin/env bash
# The GPU figures of issue 12 in one run, JSON lines on stdout:
#
#   1. inference (full-size model_1_ptm, 256-sequence MSA, 3 recycles) at
#      N=256 and 1,024;
#   2. one initial-training step at crop 256 (configs/initial_training.py,
#      remat on), the second and third steps timed;
#   3. inference at N=2,048 with one recycle (the peak memory is that of any
#      number of recycles: one loop body);
#   4. the longest length that fits: XLA's plan (compile only) of 6,144,
#      5,120, 4,096, 3,584, 3,072 and 2,560 residues, longest first, until
#      one fits the device's memory (bytes_limit); that one is then run
#      with one recycle;
#   5. N=1,024 again in bfloat16 with global_config.fused_attention (cuDNN).
#
# Each line carries the device and its peak memory (jax's memory_stats,
# `peak_device_mb`). Every step runs in its own process with a time limit
# (times STEP_SCALE: 1, 15 for --smoke) within one deadline (SUITE_SECONDS,
# default 450: 7.5 minutes); a step cut by them or out of memory prints
# {"step": ..., "error": ...} and the suite goes on.
#
#   bash benchmarks/gpu_suite.sh            # on the GPU machine
#   bash benchmarks/gpu_suite.sh --smoke    # tiny sizes, any backend (CPU)
#
# PYTHON names the interpreter (default: .venv/bin/python, else python3).
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ -z "${PYTHON:-}" ]; then
  PYTHON=python3
  [ -x .venv/bin/python ] && PYTHON=.venv/bin/python
fi
export XLA_PYTHON_CLIENT_MEM_FRACTION=${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.95}
SUITE_SECONDS=${SUITE_SECONDS:-450}
STEP_SCALE=1

if [ "${1:-}" = "--smoke" ]; then
  SHORT=(16); LONG=(); CANDIDATES=(16); BF16_N=16; NUM_SEQ=4
  INFER=(--num_seq 4 --num_recycle 0); LONG_RECYCLE=0
  PLAN=(--num_seq 4 --max_extra_msa 8 --num_recycle 0)
  TRAIN=(--config=configs/tiny.py --crop_sizes=16 --steps 1)
  # The CPU compiles the full-size model in minutes, not seconds.
  SUITE_SECONDS=${SMOKE_SECONDS:-3600}; STEP_SCALE=15
else
  SHORT=(256 1024); LONG=(2048); CANDIDATES=(6144 5120 4096 3584 3072 2560)
  BF16_N=1024; NUM_SEQ=256
  INFER=(--num_seq 256 --num_recycle 3); LONG_RECYCLE=1
  PLAN=(--num_seq 256 --max_extra_msa 1024 --num_recycle 1)
  TRAIN=(--config=configs/initial_training.py --crop_sizes=256 --steps 2)
fi
START=$SECONDS
ERR=$(mktemp)
trap 'rm -f "$ERR"' EXIT

# step NAME SECONDS ARGS...: runs $PYTHON ARGS with at most SECONDS (and no
# more than what is left), prints its JSON lines, or one error line.
step() {
  local name=$1 limit=$2 left out rc why
  shift 2
  limit=$(( limit * STEP_SCALE ))
  left=$(( SUITE_SECONDS - (SECONDS - START) ))
  (( limit > left )) && limit=$left
  if (( limit < 10 )); then
    echo "{\"step\": \"$name\", \"error\": \"skipped: suite deadline\"}"
    return 1
  fi
  out=$(timeout --signal=KILL "$limit" "$PYTHON" "$@" 2>"$ERR")
  rc=$?
  echo "$out" | grep '^{'
  if (( rc != 0 )) || ! echo "$out" | grep -q '^{'; then
    if (( rc == 137 )); then
      why="killed after ${limit}s"
    else
      why=$(grep -v '^\s*$' "$ERR" | tail -n 1 | tr -d '"\\' | cut -c1-300)
    fi
    echo "{\"step\": \"$name\", \"error\": \"exit $rc: $why\"}"
    return 1
  fi
}

DEVICE=$("$PYTHON" -c "
import json, jax
d = jax.devices()[0]
stats = d.memory_stats() or {}
print(json.dumps({'step': 'device', 'backend': jax.default_backend(),
                  'device': d.device_kind, 'count': jax.device_count(),
                  'jax': jax.__version__,
                  'bytes_limit': stats.get('bytes_limit', 0)}))" 2>"$ERR" |
         grep '^{')
if [ -z "$DEVICE" ]; then
  why=$(grep -v '^\s*$' "$ERR" | tail -n 1 | tr -d '"\\' | cut -c1-300)
  echo "{\"step\": \"device\", \"error\": \"$why\"}"
  exit 1
fi
echo "$DEVICE"
LIMIT=$(echo "$DEVICE" | "$PYTHON" -c \
  "import json, sys; print(json.loads(sys.stdin.read())['bytes_limit'] or 0)")

for n in "${SHORT[@]}"; do
  step "inference_$n" 120 benchmarks/inference.py --in_process --num_res "$n" \
    "${INFER[@]}"
done
step train_step 180 benchmarks/train_step.py "${TRAIN[@]}"
for n in "${LONG[@]}"; do
  step "inference_$n" 150 benchmarks/inference.py --in_process --num_res "$n" \
    --num_seq "$NUM_SEQ" --num_recycle "$LONG_RECYCLE"
done

# The longest that fits: plan, longest first, until one fits.
for n in "${CANDIDATES[@]}"; do
  line=$(step "plan_$n" 90 -m benchmarks.memory_plan --in_process \
         --num_res "$n" "${PLAN[@]}") || { echo "$line"; break; }
  echo "$line"
  fits=$(echo "$line" | "$PYTHON" -c "
import json, sys
p = json.loads(sys.stdin.readline())
need = p['temp_bytes'] + p['argument_bytes'] + p['output_bytes']
# No limit reported (the CPU): the first candidate counts as fitting.
print(int(not $LIMIT or need <= $LIMIT))")
  if [ "$fits" = 1 ]; then
    step "inference_longest_$n" 150 benchmarks/inference.py --in_process \
      --num_res "$n" --num_seq "$NUM_SEQ" --num_recycle "$LONG_RECYCLE"
    break
  fi
done

step "inference_${BF16_N}_bf16_fused" 120 benchmarks/inference.py \
  --in_process --num_res "$BF16_N" "${INFER[@]}" --bf16 --fused_attention
echo "{\"step\": \"done\", \"seconds\": $(( SECONDS - START ))}"
