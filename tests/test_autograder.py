"""The exercises' checks (``ssl_book/checks``, otter-grader) and grading a class (tools/grade.py).

* Every check cell of the book names a check file of its chapter, and every check file has a
  check cell; every chapter has at least two checks.
* The reference solution passes its check: the solution's code cells, taken from the chapter,
  run after the chapter's setup cell and a small stand-in for what the solution uses from
  earlier in the chapter (``CASES``), without executing the chapter. (The book's own test run
  executes every chapter, whose check cells raise on failure, so it proves the same in place.)
* A wrong answer fails every check, and so does a missing one (nothing passes regardless).
* A student's copy keeps the check cells, with an answer cell before each, and a grader that
  reports instead of raising.
* ``tools/grade.py`` grades two fake submissions, one right and one wrong, into a grade table.

To add checks to a chapter: write the check files in
``ssl_book/checks/<chapter folder>/<exercise label>.py`` (otter's OK format, see the files
there), put the ``checks.grader("<chapter folder>", raise_on_failure=True)`` cell before the
chapter's first exercise and a ``grader.check("<label>")`` cell after each checked solution,
and add a ``Case`` per check below.
"""

from __future__ import annotations

import ast
import csv
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import nbformat
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from student_copy import ANSWER_CELL, PLACEHOLDER, is_check_cell, strip_solutions  # noqa: E402

from ssl_book import checks  # noqa: E402

CHECK_CALL = re.compile(r'^grader\.check\("([^"]+)"\)$')
CHAPTERS = sorted(p for p in (ROOT / "book").glob("[0-9][0-9]_*") if list(p.glob("*.ipynb")))


def notebook_of(chapter: str) -> nbformat.NotebookNode:
    return nbformat.read(next((ROOT / "book" / chapter).glob("*.ipynb")), as_version=4)


def check_labels(nb: nbformat.NotebookNode) -> list[str]:
    return [
        m.group(1)
        for c in nb.cells
        if c.cell_type == "code"
        for m in [CHECK_CALL.match(c.source.strip())]
        if m
    ]


@dataclass
class Case:
    """How to build a namespace that holds the reference answer, and a wrong one.

    ``context``: code run after the chapter's setup cell and before the solution, standing in
    for what the solution uses from earlier in the chapter; ``functions``: names of functions
    whose definitions are copied from the chapter; ``wrong``: code that replaces the answer by
    a wrong one (a typical mistake)."""

    wrong: str
    context: str = ""
    functions: tuple[str, ...] = ()


CASES: dict[str, Case] = {
    # 01 information theory
    "info-ex-mi-extremes": Case("mi_self = 0.0"),
    "info-ex-perplexity": Case("r_four_codes = 0.25"),
    "info-ex-levels": Case(
        "level_bits = {n: np.log2(n) for n in (4, 16, 64, 256)}",
        "values = load_ucr('ECG5000').x_train.reshape(-1)",
    ),
    # 02 time series
    "stft-ex-alias": Case("alias_peaks = {0.8: 0.8, 1.3: 1.3}"),
    "stft-ex-frames": Case("frames_centred = lambda length, hop: length // hop"),
    "stft-ex-constant": Case("lf_share = {1: 0.5, 2: 1.0}", functions=("hann_window", "window_sums")),
    # 03 neural networks
    "nn-ex-perceptron-xor": Case(
        "xor_mistakes, product_mistakes = product_mistakes, xor_mistakes",
        "inputs = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])\ntargets = {'XOR': np.array([0, 1, 1, 0])}",
        ("with_bias", "train_perceptron"),
    ),
    "nn-ex-softmax-gradient": Case("cross_entropy_gradient = lambda logits, labels: logits.softmax(1)"),
    "nn-ex-heartbeat": Case(
        "heartbeat_width = 64",
        "ecg = load_ucr('ECG5000')\nconstructed_rmse = dict.fromkeys((8, 16, 32, 64, 128), float('nan'))",
    ),
    # 04 convolution
    "conv-ex-polynomial": Case(
        "product_coefficients = np.array([8.0, 6.0, 7.0, 3.0])", functions=("convolve_from_definition",)
    ),
    "conv-ex-receptive-field": Case(
        "receptive_field = lambda layers: 1 + sum(d * (k - 1) for k, s, d in layers)"
    ),
    "conv-ex-depthwise": Case("separable_parameters = 64 * 9 + 64 * 64", functions=("n_parameters",)),
    # 05 pooling
    "pool-ex-gradient": Case(
        "max_pool_gradient = [0.5] * 8",
        "example = [round(float(v), 1) for v in load_ucr('ECG5000').x_train[0, 2::17][:8]]",
    ),
    "pool-ex-overlap": Case("never_maximum = {3: 27, 2: 27}"),
    "pool-ex-padding": Case("first_output = {True: 5.0, False: 10 / 3}"),
    # 06 CNN architecture
    "cnn-ex-output-padding": Case("output_padding_for = {150: 0, 149: 1}"),
    "cnn-ex-stride-one": Case(
        "transposed_as_convolution = lambda y, w, padding: scratch.conv1d(\n"
        "    y, w.transpose(0, 1), padding=w.shape[-1] - 1 - padding)"
    ),
    "cnn-ex-parameters": Case("fcn_parameters = fcn_parameters - 2 * (128 + 256 + 128)"),
    # 07 representation learning
    "rep-ex-digits": Case(
        "multiple_of_10_accuracy = {'binary': 0.9, 'decimal': 0.9}",
        "numbers = np.arange(1024)\n"
        "as_bits = ((numbers[:, None] >> np.arange(10)) & 1).astype(float)\n"
        "train_numbers = rng.permutation(1024)[:512]\n"
        "test_numbers = np.setdiff1d(numbers, train_numbers)",
    ),
    "rep-ex-znorm": Case("gain_accuracy = {'scaled': 0.5, 'z-normalised': 0.98}", functions=("z_normalise",)),
    # 08 self-supervised learning
    "ssl-ex-infonce": Case("infonce_collapse = np.log(16)"),
    "ssl-ex-barlow": Case("barlow_rescaled = barlow_original + 0.1"),
    # 09 autoencoders and the VAE
    "vae-ex-kl-two-gaussians": Case(
        "kl_closed_form = kl_gaussians(m1, np.sqrt(v1), m2, np.sqrt(v2))", functions=("kl_gaussians",)
    ),
    "vae-ex-one-knob": Case("knob_differences = [1.0, 2.0, 3.0]"),
    # 10 vector quantization
    "vq-ex-unused-ema-code": Case("code3_first_use = None"),
    "vq-ex-orthogonal-bound": Case("orthogonal_minimum = 0.0"),
    # 11 transformers
    "transformers-ex-memory": Case("attention_gb = {n: 4 * 256 * 2 * n / 1e9 for n in attention_gb}"),
    "transformers-ex-rotation": Case("rotation_for_offset = lambda k, d: torch.eye(d)"),
    "transformers-ex-corruption": Case(
        "def bert_corruption(tokens, generator):\n"  # every chosen token becomes [MASK]
        "    chosen = torch.rand(tokens.shape, generator=generator) < 0.15\n"
        "    corrupted = tokens.clone()\n"
        "    corrupted[chosen] = mask_id\n"
        "    return corrupted, chosen",
        "n_levels = mask_id = 16\n"
        "train_tokens = torch.randint(0, 16, (500, 35), generator=torch.Generator().manual_seed(0))",
    ),
    # 12 masked modelling
    "masked-modelling-ex-quirks": Case("expected_masked = 0.5", "cosine = get_schedule('cosine')"),
    "masked-modelling-ex-cost": Case(
        "network_evaluations = {'left-to-right': 40, 'maskgit': 10, 'maskgit-guided': 10}",
        "class _Prior:\n"  # sampling's time is not checked
        "    def sample(self, *args, **kwargs):\n"
        "        return None\n"
        "prior = _Prior()",
    ),
    # 13 evaluation
    "evaluation-ex-imbalance": Case(
        "imbalance_scores = [(bound + 0.5, bound) for _, bound in imbalance_scores]",
        "y_real = np.repeat([0, 1, 2], 120)\n"  # a confident evaluator's probabilities
        "probs = {'real': np.full((360, 3), 0.05) + 0.85 * np.eye(3)[y_real]}",
    ),
    "evaluation-ex-similar": Case("trace_three_ways = (1.0, 1.0, 2.0)", functions=("psd_sqrt",)),
    "evaluation-ex-gaussian-bias": Case("fid_bias = {(d, n): 2 * d / n for d, n in fid_bias}"),
    # 14 training NC-VQVAE: two runs' logged terms, and a stage-1 trainer that trains nothing
    "ncvq-ex-terms": Case(
        "term_shares = {n: {k: 1 / len(s) for k in s} for n, s in term_shares.items()}",  # equal shares
        "histories = {n: {'terms': {'recon': [0.9, r], 'commit': [0.2, c], 'ssl': [0.4, s],\n"
        "                           'p1_std': [1.0, 0.8], 'loss': [1.5, r + c + s]}}\n"
        "             for n, r, c, s in (('baseline', 0.2, 0.05, 0.0), ('vibcreg-gauss', 0.3, 0.05, 0.1))}",
    ),
    "ncvq-ex-lambda": Case(
        "lambd = bt.bt_lambda",  # the thesis's lambda, not its balance
        "configs = {'barlowtwins-slice': book_config('SonyAIBORobotSurface2', 'barlowtwins', 'slice', False)}\n"
        "bt = configs['barlowtwins-slice'].stage1\n"
        "shrink = (4096 - 1) / (bt.projector_dim - 1)\n"
        "BATCH, runs, data = 27, None, None\n"
        "histories = {'barlowtwins-slice': {'terms': {'p1_erank': [3.0], 'p2_erank': [4.0], 'ssl': [0.1]}}}\n"
        "run_paths = lambda config, runs: None\n"
        "train_stage1 = lambda *args: (None, {'terms': {'p1_erank': [5.0], 'p2_erank': [6.0], 'ssl': [0.2]}})",
    ),
    # 15 prior and generation: random stand-ins for the samples, the prior, decoder and evaluator
    "prior-ex-memorisation": Case(
        "nearest_median = {k: torch.cdist(v, x_train).min(1).values.mean().item()\n"  # the mean
        "                  for k, v in (('samples', samples), ('test series', test))}",
        "x_train = torch.randn(40, 70)\n"
        "data = type('Data', (), {'x_test': np.random.default_rng(0).normal(size=(250, 70)).astype('float32')})\n"
        "priors = tokenizers = configs = {'vibcreg-gauss': None}\n"
        "generate = lambda prior, tokenizer, n, config, device, seed_offset=0: (\n"
        "    torch.randn(n, 70, generator=torch.Generator().manual_seed(seed_offset)).abs())",
    ),
    "prior-ex-steps": Case(
        "fid_by_steps = {steps: fid_by_steps[steps] for steps in (1, 3)}",
        "class _Prior:\n"
        "    def sample(self, n, steps=10, generator=None):\n"
        "        return torch.randint(0, 8, (n, 12), generator=generator)\n"
        "class _Tokenizer:\n"
        "    def decode_tokens(self, tokens):\n"
        "        return tokens.float().repeat(1, 4)\n"
        "class _Evaluator:\n"
        "    def features(self, x):\n"
        "        return x[:, :16]\n"
        "nc_prior, nc_tokenizer, evaluator = _Prior(), _Tokenizer(), _Evaluator()\n"
        "data = type('Data', (), {'x_test': np.random.default_rng(0).normal(size=(300, 48)).astype('float32')})",
    ),
    # 16 results: the committed results files and the thesis's table
    "results-ex-seeds": Case(
        "svm_spread = {(r.dataset, r.config, r.protocol, r.hardware): (np.mean(r.values['svm']),\n"
        "                                                              np.std(r.values['svm']))\n"  # ddof=0
        "              for r in aggregate(results) if len(r.seeds) > 1 and r.values.get('svm')}",
        "FULL, SMALL = 'full protocol', 'reduced'",
    ),
    "results-ex-thesis": Case("fid_wins = {c: 13 - w for c, w in fid_wins.items()}"),  # the baseline's wins
}

LABEL_CHAPTER = {label: chapter for chapter in checks.chapters() for label in checks.questions(chapter)}


def chapter_function(nb: nbformat.NotebookNode, name: str) -> str:
    """The source of the function ``name`` defined in one of the chapter's code cells."""
    for cell in nb.cells:
        if cell.cell_type == "code" and f"def {name}(" in cell.source:
            tree = ast.parse(cell.source)
            for node in tree.body:
                if isinstance(node, ast.FunctionDef) and node.name == name:
                    return ast.get_source_segment(cell.source, node)
    raise LookupError(f"no function {name} in the chapter")


def solution_code(nb: nbformat.NotebookNode, label: str) -> list[str]:
    """The code cells of the solution of exercise ``label``."""
    cells, inside = [], False
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "{solution-start}" in cell.source:
            inside = label in cell.source
        elif cell.cell_type == "markdown" and "{solution-end}" in cell.source:
            inside = False
        elif inside and cell.cell_type == "code":
            cells.append(cell.source)
    assert cells, f"no solution code for {label}"
    return cells


def setup_namespace(chapter: str) -> dict:
    """The chapter's setup cell (imports, seed, device) run in a fresh namespace."""
    nb = notebook_of(chapter)
    namespace: dict = {"__name__": "__main__"}
    exec([c for c in nb.cells if c.cell_type == "code"][1].source, namespace)
    return namespace


def reference_namespace(label: str) -> dict:
    chapter, case = LABEL_CHAPTER[label], CASES[label]
    nb = notebook_of(chapter)
    namespace = setup_namespace(chapter)
    for name in case.functions:
        exec(chapter_function(nb, name), namespace)
    exec(case.context, namespace)
    for source in solution_code(nb, label):
        exec(source, namespace)
    return namespace


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path, monkeypatch):
    """otter writes its log (.OTTER_LOG) into the working directory: keep it out of the tree."""
    monkeypatch.chdir(tmp_path)


def test_every_check_has_a_case_and_a_check_cell():
    assert set(CASES) == set(LABEL_CHAPTER), "a check without a Case here, or a Case without a check"
    for chapter in checks.chapters():
        assert (ROOT / "book" / chapter).is_dir(), f"checks for a chapter that does not exist: {chapter}"
        assert sorted(check_labels(notebook_of(chapter))) == checks.questions(chapter), chapter


@pytest.mark.parametrize("folder", CHAPTERS, ids=lambda p: p.name)
def test_chapter_check_cells(folder):
    nb = notebook_of(folder.name)
    labels = check_labels(nb)
    assert len(labels) >= 2, f"{folder.name}: at least two checked exercises"
    sources = [c.source for c in nb.cells]
    setup = [i for i, s in enumerate(sources) if "checks.grader(" in s]
    assert len(setup) == 1, "one cell creates the grader"
    assert f'checks.grader("{folder.name}", raise_on_failure=True)' in sources[setup[0]]
    first_check = min(i for i, c in enumerate(nb.cells) if is_check_cell(c))
    assert setup[0] < first_check
    for i, cell in enumerate(nb.cells):
        if is_check_cell(cell):  # right after its solution, outside it (students keep it)
            assert "{solution-end}" in sources[i - 1], f"{cell.source} does not follow a solution"
            label = CHECK_CALL.match(cell.source.strip()).group(1)
            statement = next(s for s in sources if f":label: {label}\n" in s)
            assert "`" in statement.split(f":label: {label}", 1)[1], f"{label}: name the answer"


@pytest.mark.parametrize("label", sorted(CASES))
def test_reference_solution_passes_and_a_wrong_answer_fails(label):
    chapter = LABEL_CHAPTER[label]
    grader = checks.grader(chapter)
    right = reference_namespace(label)
    result = grader.check(label, right)
    assert result.passed_all, result.summary()
    wrong = dict(right)
    exec(CASES[label].wrong, wrong)
    result = grader.check(label, wrong)
    assert not result.passed_all and result.grade < 1, f"{label}: the wrong answer passes"


@pytest.mark.parametrize("label", sorted(CASES))
def test_a_missing_answer_fails(label):
    """The chapter's setup alone, no answer: the check fails (and reports, without raising)."""
    chapter = LABEL_CHAPTER[label]
    namespace = setup_namespace(chapter)
    exec(CASES[label].context, namespace)
    result = checks.grader(chapter).check(label, namespace)
    assert result.grade == 0, result.summary()
    with pytest.raises(AssertionError, match=label):
        checks.grader(chapter, raise_on_failure=True).check(label, namespace)


def test_the_grader_reads_the_callers_variables():
    namespace = {}
    exec(
        "from ssl_book import checks\nr_four_codes = 0.5\n"
        "result = checks.grader('01_information_theory').check('info-ex-perplexity')",
        namespace,
    )
    assert namespace["result"].passed_all


@pytest.mark.parametrize("folder", [p for p in CHAPTERS if p.name in checks.chapters()], ids=lambda p: p.name)
def test_students_copy_keeps_the_checks(folder):
    nb = notebook_of(folder.name)
    labels = check_labels(nb)
    strip_solutions(nb)
    assert check_labels(nb) == labels
    for i, cell in enumerate(nb.cells):
        if is_check_cell(cell):
            assert not cell.outputs
            assert nb.cells[i - 1].source == ANSWER_CELL
            assert nb.cells[i - 2].source.startswith(PLACEHOLDER)
        if "checks.grader(" in cell.source:
            assert cell.source.rstrip().endswith(f'checks.grader("{folder.name}")')
    assert len({c.id for c in nb.cells}) == len(nb.cells)
    nbformat.validate(nb)


def test_checks_ship_in_the_wheel(tmp_path):
    """A non-editable install (Colab's, from the repository) has every check file."""
    import shutil
    import subprocess
    import zipfile

    source = tmp_path / "source"  # a copy, so the build leaves the tree alone
    shutil.copytree(ROOT / "ssl_book", source / "ssl_book", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(tmp_path / "wheel"),
            str(source),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "wheel").glob("ssl_book-*.whl")
    shipped = {n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("ssl_book/checks/")}
    expected = {
        f"ssl_book/checks/{p.relative_to(checks.CHECKS_DIR).as_posix()}"
        for p in checks.CHECKS_DIR.glob("*/*.py")
    }
    assert len(expected) == len(CASES) and expected <= shipped


FAKE_ANSWERS = {
    "right": [
        "import numpy as np",
        "product_coefficients = np.array([3.0, 7.0, 6.0, 8.0])",
        "def receptive_field(stack):\n"
        "    field, step = 1, 1\n"
        "    for k, s, d in stack:\n"
        "        field, step = field + d * (k - 1) * step, step * s\n"
        "    return field",
        "full_parameters, separable_parameters = 64 * 64 * 9 + 64, 64 * 9 + 64 + 64 * 64 + 64",
    ],
    "wrong": [
        "import numpy as np",
        "product_coefficients = np.array([3.0, 7.0, 6.0, 8.0])",
        "def receptive_field(stack):\n    return 1 + sum(d * (k - 1) for k, s, d in stack)",
        "full_parameters, separable_parameters = 64 * 64 * 9, 64 * 9 + 64 * 64\n"
        "raise RuntimeError('a cell that fails does not stop the grading')",
    ],
}


def fake_submission(path: Path, answers: list[str]) -> None:
    """A student's notebook for chapter 4: the grader cell, answers and checks."""
    cells = [
        nbformat.v4.new_code_cell('from ssl_book import checks\n\ngrader = checks.grader("04_convolution")')
    ]
    cells += [nbformat.v4.new_code_cell(source) for source in answers]
    cells.append(nbformat.v4.new_code_cell('grader.check("conv-ex-polynomial")'))  # the others unrun
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)


def test_grading_a_class_writes_a_grade_table(tmp_path, capsys):
    import grade

    folder = tmp_path / "submissions"
    fake_submission(folder / "alice" / "convolution.ipynb", FAKE_ANSWERS["right"])
    fake_submission(folder / "bob" / "my_work.ipynb", FAKE_ANSWERS["wrong"])
    (folder / "notes").mkdir()
    nbformat.write(nbformat.v4.new_notebook(), folder / "notes" / "scratch.ipynb")
    out = tmp_path / "grades.csv"
    assert grade.main([str(folder), "--out", str(out)]) == 0
    rows = {row["submission"]: row for row in csv.DictReader(out.open())}
    alice, bob = rows["alice/convolution.ipynb"], rows["bob/my_work.ipynb"]
    assert alice["chapter"] == bob["chapter"] == "04_convolution"
    assert (alice["total"], alice["possible"], alice["percent"]) == ("3", "3", "100")
    assert all(alice[label] == "1" for label in checks.questions("04_convolution"))
    assert bob["conv-ex-polynomial"] == "1" and bob["conv-ex-receptive-field"] == "0.5"
    assert bob["conv-ex-depthwise"] == "0" and bob["total"] == "1.5" and bob["percent"] == "50"
    assert rows["notes/scratch.ipynb"]["error"].startswith("no checks.grader")
    printed = capsys.readouterr().out
    assert "alice/convolution.ipynb" in printed and "3/3" in printed
