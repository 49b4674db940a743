"""predict_structure: one FASTA -> every output file of AlphaFold2.

The driver of run_alphafold.py (the released pipeline's order): features
(searches or reused MSAs) -> each model (process, predict, unrelaxed
structure, confidence files and plot) -> ranking by confidence -> Amber
relaxation of the best or all models -> ranked structures and the JSON
summaries.
"""
from __future__ import annotations

import logging
import os
import time
from typing import Any, Dict, Mapping, Optional

from alphafold_jax.common import protein as protein_lib
from alphafold_jax.inference import outputs
from alphafold_jax.inference import plots
from alphafold_jax.inference.relax import AmberRelaxation
from alphafold_jax.inference.runner import ModelRunner

MODELS_TO_RELAX = ('best', 'all', 'none')


def _result_for_pickle(prediction: Mapping[str, Any]) -> Dict[str, Any]:
  """The result pickle holds outputs and confidences; the representations
  (large) go to the embeddings file when asked for."""
  return {k: v for k, v in prediction.items() if k != 'representations'}


def predict_structure(fasta_path: str, fasta_name: str, output_dir_base: str,
                      data_pipeline, model_runners: Mapping[str, ModelRunner],
                      amber_relaxer: Optional[AmberRelaxation],
                      models_to_relax: str = 'best', random_seed: int = 0,
                      benchmark: bool = False,
                      save_embeddings: bool = False) -> Dict[str, Any]:
  """Predicts the structure of the chain in `fasta_path`.

  Args:
    fasta_path: a single-chain FASTA file, or for a multimer data pipeline
      one record per chain (checked beforehand).
    fasta_name: names the output folder <output_dir_base>/<fasta_name>.
    data_pipeline: an object with process(fasta_path, msa_output_dir) ->
      raw features (alphafold_jax.data.pipeline.DataPipeline, or
      data.multimer.pipeline.MultimerDataPipeline for a complex).
    model_runners: {model (prediction) name: ModelRunner or
      MultimerModelRunner}, in run order; a multimer model appears once per
      prediction ('<model>_pred_<i>'), each with its own seed.
    amber_relaxer: the relaxation, or None when models_to_relax is 'none'.
    models_to_relax: 'best' (the top-ranked model), 'all' or 'none'.
    random_seed: model i uses seed random_seed * len(model_runners) + i, as
      the released pipeline does.
    benchmark: run each model a second time to time it without compilation.
    save_embeddings: write embeddings_<model>.npz with the single [N, c_s]
      and pair [N, N, c_z] representations of the real residues.

  Returns:
    {'output_dir', 'ranking' (ranking_debug.json), 'timings',
    'predictions' {model: outputs}, 'ranked' [Protein, best first]}.
  """
  if models_to_relax not in MODELS_TO_RELAX:
    raise ValueError(f'models_to_relax must be one of {MODELS_TO_RELAX}, got '
                     f'{models_to_relax!r}.')
  if models_to_relax != 'none' and amber_relaxer is None:
    raise ValueError('An amber_relaxer is needed to relax models.')
  if save_embeddings:
    lacking = [name for name, runner in model_runners.items()
               if not runner.return_representations]
    if lacking:
      raise ValueError(f'save_embeddings needs runners that return the '
                       f'representations (return_representations=True); '
                       f'{lacking} do not.')
  output_dir = os.path.join(output_dir_base, fasta_name)
  msa_dir = os.path.join(output_dir, 'msas')
  os.makedirs(msa_dir, exist_ok=True)
  path = lambda name: os.path.join(output_dir, name)
  timings = {}

  started = time.time()
  raw_features = data_pipeline.process(fasta_path, msa_dir)
  timings['features'] = time.time() - started
  outputs.write_pickle(path('features.pkl'), raw_features)

  predictions, unrelaxed, confidences = {}, {}, {}
  num_models = len(model_runners)
  for index, (name, runner) in enumerate(model_runners.items()):
    seed = index + random_seed * num_models
    started = time.time()
    batch = runner.process_features(raw_features, random_seed=seed)
    timings[f'process_features_{name}'] = time.time() - started

    started = time.time()
    prediction = runner.predict(batch, random_seed=seed)
    timings[f'predict_and_compile_{name}'] = time.time() - started
    if benchmark:
      started = time.time()
      runner.predict(batch, random_seed=seed)
      timings[f'predict_benchmark_{name}'] = time.time() - started
    logging.info('%s: ranking confidence %.2f after %d recycles, %.1fs',
                 name, prediction['ranking_confidence'],
                 int(prediction['num_recycles']),
                 timings[f'predict_and_compile_{name}'])
    predictions[name] = prediction
    confidences[name] = prediction['ranking_confidence']
    outputs.write_pickle(path(f'result_{name}.pkl'),
                         _result_for_pickle(prediction))
    if save_embeddings:
      representations = prediction['representations']
      outputs.write_npz(path(f'embeddings_{name}.npz'),
                 single=representations['single'],
                 pair=representations['pair'])

    plddt = prediction['plddt']
    protein = protein_lib.from_prediction(batch, prediction, b_factors=plddt)
    unrelaxed[name] = protein
    outputs.write_text(path(f'unrelaxed_{name}.pdb'),
                       protein_lib.to_pdb(protein))
    outputs.write_json(path(f'confidence_{name}.json'),
                       outputs.confidence_json(plddt), indent=None)
    pae = prediction.get('predicted_aligned_error')
    max_pae = prediction.get('max_predicted_aligned_error')
    if pae is not None:
      outputs.write_json(path(f'pae_{name}.json'),
                         outputs.pae_json(pae, max_pae), indent=None)
    plots.write_confidence_png(path(f'confidence_{name}.png'), plddt, pae,
                               None if max_pae is None else float(max_pae),
                               title=name, asym_id=batch.get('asym_id'))

  # As v2.3: multimer models (those with ipTM) rank by 0.8 ipTM + 0.2 pTM.
  ranking = outputs.ranking(
      confidences, outputs.MULTIMER_RANKING_KEY
      if all('iptm' in p for p in predictions.values())
      else outputs.MONOMER_RANKING_KEY)
  order = ranking['order']
  to_relax = {'best': order[:1], 'all': order, 'none': []}[models_to_relax]
  relaxed_pdbs, violations, relax_errors = {}, {}, {}
  for name in to_relax:
    started = time.time()
    try:
      pdb, _, violations[name] = amber_relaxer.process(unrelaxed[name])
    except RuntimeError as e:
      # A structure no force field can start from (e.g. collapsed atoms of
      # an untrained model) keeps its unrelaxed coordinates; the run goes on
      # and relax_metrics.json says why.
      logging.warning('Relaxation of %s failed; ranking its unrelaxed '
                      'structure: %s', name, e)
      relax_errors[name] = str(e)
      continue
    finally:
      timings[f'relax_{name}'] = time.time() - started
    relaxed_pdbs[name] = pdb
    outputs.write_text(path(f'relaxed_{name}.pdb'), pdb)

  ranked = []
  for rank, name in enumerate(order):
    if name in relaxed_pdbs:
      pdb = relaxed_pdbs[name]
      protein = protein_lib.from_pdb_string(pdb, source=f'relaxed {name}')
    else:
      protein = unrelaxed[name]
      pdb = protein_lib.to_pdb(protein)
    ranked.append(protein)
    outputs.write_text(path(f'ranked_{rank}.pdb'), pdb)
    outputs.write_text(path(f'ranked_{rank}.cif'),
                       protein_lib.to_mmcif(protein, name=f'{fasta_name}_'
                                            f'ranked_{rank}'))

  outputs.write_json(path('ranking_debug.json'), ranking)
  outputs.write_json(path('relax_metrics.json'),
                     outputs.relax_metrics(violations, relax_errors))
  outputs.write_json(path('timings.json'), timings)
  return {'output_dir': output_dir, 'ranking': ranking, 'timings': timings,
          'predictions': predictions, 'ranked': ranked}

