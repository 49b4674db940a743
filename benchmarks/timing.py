"""Wall-clock and CPU timing of repeated calls, for the benchmarks' JSON
lines. NumPy only: benchmarks/reference_features.py runs it in the
reference's environment too."""
import time
from typing import Any, Callable, Dict, Tuple

import numpy as np


def time_calls(fn: Callable[[int], Any], repeats: int
               ) -> Tuple[Any, Dict[str, float]]:
  """Calls fn(0) once (the first call: tracing, caches), then fn(1) ...
  fn(repeats), timed. Returns fn(0)'s result and the timing fields:
  first_call_seconds, seconds (median), min_seconds, min_cpu_seconds and
  repeats."""
  start = time.perf_counter()
  result = fn(0)
  first = time.perf_counter() - start
  times, cpu_times = [], []
  for seed in range(1, repeats + 1):
    start, cpu_start = time.perf_counter(), time.process_time()
    fn(seed)
    times.append(time.perf_counter() - start)
    cpu_times.append(time.process_time() - cpu_start)
  return result, {
      'first_call_seconds': round(first, 3),
      'seconds': round(float(np.median(times)), 3),
      'min_seconds': round(float(np.min(times)), 3),
      'min_cpu_seconds': round(float(np.min(cpu_times)), 3),
      'repeats': repeats}
