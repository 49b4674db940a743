"""The chunk-size memory estimate against XLA's plan.

Reads benchmarks/memory_plan.py's JSON lines on stdin and prints, for each,
one JSON line with the estimate of alphafold_jax/model/memory_budget.py for
the same preset, length, MSA depth and subbatch_size, XLA's planned
temporary bytes, and their ratio:

  python -m benchmarks.memory_plan --num_seq 128 --num_res 128 256 \\
      --subbatch_size 4 | python -m benchmarks.memory_budget_check
"""
import json
import sys


def main():
  from alphafold_jax.model import memory_budget, model_config
  for line in sys.stdin:
    plan = json.loads(line)
    cfg = model_config(plan['preset'])
    cfg.data.common.max_extra_msa = plan['max_extra_msa']
    cfg.model.global_config.bfloat16 = plan['bf16']
    estimate = memory_budget.estimate_peak_bytes(
        cfg, plan['num_res'], plan['subbatch_size'])
    print(json.dumps({
        'benchmark': 'memory_budget_check', 'preset': plan['preset'],
        'num_res': plan['num_res'], 'subbatch_size': plan['subbatch_size'],
        'max_extra_msa': plan['max_extra_msa'], 'backend': plan['backend'],
        'estimate_mib': round(estimate / 2**20, 1),
        'plan_temp_mib': round(plan['temp_bytes'] / 2**20, 1),
        'ratio': round(estimate / plan['temp_bytes'], 3)}), flush=True)


if __name__ == '__main__':
  main()
