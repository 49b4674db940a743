"""Damaged copies of real files, for the tests that every reader of a run's
inputs either reads a file or raises its error naming the file.

A damaged copy is the file cut short at a random byte (an interrupted
download or copy) or with one to four random bytes changed (a disk or
transfer error). The draws are derandomized so that CI sees the same cases
on every run, and no example database is written.
"""
import hypothesis
from hypothesis import strategies as st

# Examples per reader: enough to hit every kind of line of the small real
# files used, while each fuzz test stays within seconds.
MAX_EXAMPLES = 80

FUZZ_SETTINGS = hypothesis.settings(
    max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
    database=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow])


def _flip(data: bytes, changes) -> bytes:
  damaged = bytearray(data)
  for position, mask in changes:
    damaged[position] ^= mask
  return bytes(damaged)


def damaged_copies(data: bytes) -> st.SearchStrategy:
  """Strategy, each a third of the time: `data` truncated; with 1-4 bytes
  XOR-ed with masks below 128, which keep an ASCII byte ASCII (a changed
  letter, digit or separator that a text parser must catch); or with masks
  of any non-zero value (mostly bytes that are not UTF-8 text)."""
  if not data:
    raise ValueError('damaged_copies needs a non-empty file.')
  truncated = st.integers(0, len(data) - 1).map(lambda n: data[:n])

  def flipped(masks):
    return st.lists(st.tuples(st.integers(0, len(data) - 1), masks),
                    min_size=1, max_size=4).map(
                        lambda changes: _flip(data, changes))

  return st.one_of(truncated, flipped(st.integers(1, 127)),
                   flipped(st.integers(1, 255)))
