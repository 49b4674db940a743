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

# The demo (README, "Demo"): train the tiny model on the bundled chain (or
# reuse it), predict that chain with run_alphafold.py, score the prediction.
DEMO_OUT := demo_out
DEMO_TARGET := 2rbg_A
DEMO_DB := demo/databases/mini_uniref.fasta
DEMO_MSAS := $(DEMO_OUT)/prediction/$(DEMO_TARGET)/msas
RUN := PYTHONPATH=$(CURDIR) XLA_FLAGS=--xla_cpu_multi_thread_eigen=false

demo: $(STAMP)
	@mkdir -p $(DEMO_OUT) $(DEMO_MSAS)
	@date +%s > $(DEMO_OUT)/.started
	@echo "[1/3] Training the demo model (configs/tiny.py on demo/$(DEMO_TARGET).pdb) in $(DEMO_OUT)/model; a finished run is reused. Log: $(DEMO_OUT)/train.log"
	@$(RUN) $(PY) train/train.py --config=demo/model_config.py \
	  --workdir=$(DEMO_OUT)/model --noprogress_bar > $(DEMO_OUT)/train.log 2>&1 \
	  || (tail -30 $(DEMO_OUT)/train.log; exit 1)
	@tail -1 $(DEMO_OUT)/model/metrics.jsonl | $(PY) -c "import json,sys; m=json.loads(sys.stdin.read()); print(f\"      step {m['step']}: loss {m['loss']:.3f}, training lDDT-Ca {100 * m['lddt_ca']:.1f}\")"
	@echo "[2/3] run_alphafold.py on demo/$(DEMO_TARGET).fasta (bundled alignment + jackhmmer on $(DEMO_DB))"
	@cp demo/$(DEMO_TARGET)_bfd_uniclust_hits.a3m $(DEMO_MSAS)/bfd_uniclust_hits.a3m
	@$(RUN) $(PY) run_alphafold.py --fasta_paths=demo/$(DEMO_TARGET).fasta \
	  --output_dir=$(DEMO_OUT)/prediction --checkpoint=$(DEMO_OUT)/model \
	  --uniref90_database_path=$(DEMO_DB) --mgnify_database_path=$(DEMO_DB) \
	  --db_preset=full_dbs --use_precomputed_msas --models_to_relax=best \
	  --random_seed=0 --save_embeddings > $(DEMO_OUT)/predict.log 2>&1 \
	  || (tail -30 $(DEMO_OUT)/predict.log; exit 1)
	@ls $(DEMO_OUT)/prediction/$(DEMO_TARGET)
	@echo "[3/3] Accuracy against the experimental structure (demo/$(DEMO_TARGET).pdb)"
	@$(RUN) $(PY) demo/score.py --experimental=demo/$(DEMO_TARGET).pdb \
	  --predicted=$(DEMO_OUT)/prediction/$(DEMO_TARGET)/unrelaxed_model_checkpoint.pdb,$(DEMO_OUT)/prediction/$(DEMO_TARGET)/ranked_0.pdb
	@echo "Demo done in $$(( $$(date +%s) - $$(cat $(DEMO_OUT)/.started) ))s; outputs in $(DEMO_OUT)/prediction/$(DEMO_TARGET)"

clean:
	rm -rf $(VENV) .pytest_cache $(DEMO_OUT)
