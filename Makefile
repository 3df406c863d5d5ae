# The two commands of the README: `make book` and `make test` (plus `make lab`).
# Each creates or reuses the virtual environment .venv and installs what it needs.

PYTHON     ?= python3
VENV       ?= .venv
# PyTorch first, so that requirements.txt finds it satisfied. The default is the CPU build
# that this project's machines hold; for CUDA see README.md, e.g.
#   make book TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cu124"
TORCH_SPEC ?= torch==2.13.0
JOBS       ?= 2

BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Larger UCR datasets: the development setup's archive folder, unless the reader set their own.
ifeq ($(SSL_BOOK_UCR_ROOT),)
  ifneq ($(wildcard ../shared/data/ucr),)
    export SSL_BOOK_UCR_ROOT := $(abspath ../shared/data/ucr)
  endif
endif

.PHONY: book pdf book-student test lint lab student vendor clean venv

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_SPEC)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## Build the rendered book (every chapter executed, warnings are errors) into _build/html.
book: $(STAMP)
	$(BIN)/python tools/build_book.py

## The whole book as one PDF (Chromium prints the single-page build) into _build/pdf/ssl-book.pdf.
pdf: $(STAMP)
	$(BIN)/python tools/build_pdf.py

## The answer-free edition (the students' copies, with outputs) into _build/student/_build/html.
book-student: $(STAMP)
	$(BIN)/python tools/build_student_book.py

## Lint, then run the unit tests and execute every chapter in quick mode.
test: $(STAMP) lint
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n $(JOBS) --dist loadfile --nbval-lax tests book

## Lint and check the formatting of the library, tests, tools, benchmarks and chapters
## (settings: [tool.ruff] in pyproject.toml, 110 columns; the chapters' 88 in book/ruff.toml).
## `.venv/bin/ruff format` on the same paths (LINT_PATHS) fixes what the format check reports.
LINT_PATHS := ssl_book tests tools benchmarks conftest.py book
lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

## Open the chapters in JupyterLab.
lab: $(STAMP)
	$(BIN)/jupyter lab book

## Copies of every chapter without exercise solutions, for students, into student/.
student: $(STAMP)
	$(BIN)/python tools/student_copy.py book student

## Grade a class: every .ipynb under SUBMISSIONS against the exercises' checks, a table in GRADES.
.PHONY: grade
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=folder [GRADES=grades.csv]"; exit 2; }
	$(BIN)/python tools/grade.py "$(SUBMISSIONS)" --out "$(or $(GRADES),grades.csv)"

## Re-fetch the vendored MathJax and widget scripts from npm (needs Node.js).
vendor:
	$(PYTHON) tools/vendor_web_assets.py

clean:
	rm -rf _build student
