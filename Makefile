# Set-up and the two entry points: `make test` and `make demo`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Scores complexes (tests, benchmarks/overfit.py); see setup.py's 'test'
# extras for why it is installed on its own.
DOCKQ := DockQ==2.1.3

.PHONY: test demo venv clean

venv: $(STAMP)

$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	$(PY) -m pip install -q --no-deps --no-build-isolation $(DOCKQ) \
	  || echo "WARNING: $(DOCKQ) did not install (it compiles a C extension: a C compiler and the Python headers are needed); the tests against it are skipped (they fail under CI=true)."
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -n 2 -q --durations=15 tests

# The demo (README, "Demo"). A chain: train the tiny model on the bundled
# chain (or reuse it), predict that chain with run_alphafold.py, score the
# prediction. Then a complex: the tiny multimer trained on the bundled
# two-chain complex, predicted with --model_preset=multimer, scored with
# DockQ and interface lDDT. Training shows its progress bar (step, loss,
# lDDT-Ca, time left); the full logs go to $(DEMO_OUT)/*.log.
DEMO_OUT := demo_out
DEMO_TARGET := 2rbg_A
DEMO_COMPLEX := 3pwp_DE
DEMO_DB := demo/databases/mini_uniref.fasta
DEMO_MSAS := $(DEMO_OUT)/prediction/$(DEMO_TARGET)/msas
RUN := PYTHONPATH=$(CURDIR) XLA_FLAGS=--xla_cpu_multi_thread_eigen=false
# Runs a command with its output on the terminal and in a log file ($1: the
# log's name), failing when the command fails.
TEE = bash -o pipefail -c '$(RUN) $(2) 2>&1 | tee $(DEMO_OUT)/$(1).log' \
	  || (echo "Failed; the log is $(DEMO_OUT)/$(1).log"; exit 1)
SUMMARY = $(PY) -c "import json,sys; m=json.loads(sys.stdin.readlines()[-1]); print(f\"      step {m['step']}: loss {m['loss']:.3f}, training lDDT-Ca {100 * m['lddt_ca']:.1f}\" + (f\", DockQ {m['dockq']:.3f}\" if 'dockq' in m else ''))"

demo: $(STAMP)
	@mkdir -p $(DEMO_OUT) $(DEMO_MSAS)
	@date +%s > $(DEMO_OUT)/.started
	@echo "[1/6] Chain: training the demo model (configs/tiny.py on demo/$(DEMO_TARGET).pdb) in $(DEMO_OUT)/model; a finished run is reused."
	@$(call TEE,train,$(PY) train/train.py --config=demo/model_config.py --workdir=$(DEMO_OUT)/model --verbosity=-1)
	@$(SUMMARY) < $(DEMO_OUT)/model/metrics.jsonl
	@echo "[2/6] run_alphafold.py on demo/$(DEMO_TARGET).fasta (bundled alignment + jackhmmer on $(DEMO_DB)). Log: $(DEMO_OUT)/predict.log"
	@cp demo/$(DEMO_TARGET)_bfd_uniclust_hits.a3m $(DEMO_MSAS)/bfd_uniclust_hits.a3m
	@$(RUN) $(PY) run_alphafold.py --fasta_paths=demo/$(DEMO_TARGET).fasta \
	  --output_dir=$(DEMO_OUT)/prediction --checkpoint=$(DEMO_OUT)/model \
	  --uniref90_database_path=$(DEMO_DB) --mgnify_database_path=$(DEMO_DB) \
	  --db_preset=full_dbs --use_precomputed_msas --models_to_relax=best \
	  --random_seed=0 --save_embeddings > $(DEMO_OUT)/predict.log 2>&1 \
	  || (tail -30 $(DEMO_OUT)/predict.log; exit 1)
	@ls $(DEMO_OUT)/prediction/$(DEMO_TARGET)
	@echo "[3/6] Accuracy against the experimental structure (demo/$(DEMO_TARGET).pdb)"
	@$(RUN) $(PY) demo/score.py --verbosity=-1 --experimental=demo/$(DEMO_TARGET).pdb \
	  --predicted=$(DEMO_OUT)/prediction/$(DEMO_TARGET)/unrelaxed_model_checkpoint.pdb,$(DEMO_OUT)/prediction/$(DEMO_TARGET)/ranked_0.pdb
	@echo "[4/6] Complex: training the tiny multimer (configs/multimer_tiny.py on demo/$(DEMO_COMPLEX).pdb) in $(DEMO_OUT)/complex_model; a finished run is reused."
	@$(call TEE,complex_train,$(PY) train/train.py --config=demo/complex_config.py --workdir=$(DEMO_OUT)/complex_model --verbosity=-1)
	@$(SUMMARY) < $(DEMO_OUT)/complex_model/metrics.jsonl
	@echo "[5/6] run_alphafold.py --model_preset=multimer on demo/$(DEMO_COMPLEX).fasta (jackhmmer and hmmsearch on the demo's small databases). Log: $(DEMO_OUT)/complex_predict.log"
	@$(RUN) $(PY) run_alphafold.py --fasta_paths=demo/$(DEMO_COMPLEX).fasta \
	  --output_dir=$(DEMO_OUT)/prediction --checkpoint=$(DEMO_OUT)/complex_model \
	  --model_preset=multimer --db_preset=reduced_dbs \
	  --uniref90_database_path=$(DEMO_DB) --mgnify_database_path=$(DEMO_DB) \
	  --small_bfd_database_path=$(DEMO_DB) --uniprot_database_path=$(DEMO_DB) \
	  --pdb_seqres_database_path=demo/databases/pdb_seqres.txt \
	  --template_mmcif_dir=demo/databases --max_template_date=2020-01-01 \
	  --num_multimer_predictions_per_model=1 --models_to_relax=none \
	  --random_seed=0 > $(DEMO_OUT)/complex_predict.log 2>&1 \
	  || (tail -30 $(DEMO_OUT)/complex_predict.log; exit 1)
	@ls $(DEMO_OUT)/prediction/$(DEMO_COMPLEX)
	@echo "[6/6] Accuracy against the experimental complex (demo/$(DEMO_COMPLEX).pdb)"
	@$(RUN) $(PY) demo/score.py --verbosity=-1 --experimental=demo/$(DEMO_COMPLEX).pdb \
	  --predicted=$(DEMO_OUT)/prediction/$(DEMO_COMPLEX)/ranked_0.pdb
	@echo "Demo done in $$(( $$(date +%s) - $$(cat $(DEMO_OUT)/.started) ))s; outputs in $(DEMO_OUT)/prediction/"

clean:
	rm -rf $(VENV) .pytest_cache $(DEMO_OUT)
