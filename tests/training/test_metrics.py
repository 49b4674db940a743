"""JSON-lines metrics."""
import math

from alphafold_jax.training import metrics as metrics_lib


def test_writer_appends_one_record_per_step(tmp_path):
  writer = metrics_lib.MetricsWriter(tmp_path, tensorboard=False)
  writer.write(1, {'loss': 2.5, 'lddt_ca': 0.25})
  writer.write(2, {'loss': math.nan, 'skipped': 1})
  writer.close()
  # A resumed run appends.
  writer = metrics_lib.MetricsWriter(tmp_path, tensorboard=False)
  writer.write(3, {'loss': 1.0})
  writer.close()
  records = metrics_lib.read_metrics(tmp_path)
  assert [r['step'] for r in records] == [1, 2, 3]
  assert records[0] == {'step': 1, 'loss': 2.5, 'lddt_ca': 0.25}
  assert records[1]['loss'] == 'nan' and records[1]['skipped'] == 1
