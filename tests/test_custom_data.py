"""The pipeline on data the registry does not know: any UCR archive folder, and a reader's own
TRAIN/TEST files (.tsv in the UCR format, or .npz), with clear errors for bad files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from ssl_book.data import UCR_ROOT_ENV, UCRDataError, load_series_files, load_ucr
from ssl_book.data.files import dataset_name_from
from ssl_book.evaluator import EvaluatorConfig, load_or_train_evaluator
from ssl_book.experiments.cli import main, make_config
from ssl_book.experiments.config import RunConfig
from ssl_book.experiments.pipeline import load_run_data

LENGTH = 32
#: The smallest run the CLI allows: two steps per stage, one epoch of each FCN.
TINY = [
    "--preset",
    "cpu",
    "--precision",
    "fp32",
    "--device",
    "cpu",
    "--stage1-steps",
    "2",
    "--stage2-steps",
    "2",
    "--evaluator-epochs",
    "1",
    "--cas-epochs",
    "1",
]


def waves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` noisy series ``(n, 32)``: sines (label 1) and square waves (label 2), alternating."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, LENGTH, endpoint=False)
    labels = np.arange(n) % 2 + 1
    x = np.sin(2 * np.pi * 2 * t + rng.uniform(0, 2 * np.pi, (n, 1)))
    x = np.where(labels[:, None] == 2, np.sign(x), x) + 0.1 * rng.standard_normal((n, LENGTH))
    return x, labels


def write_tsv(path: Path, x, labels) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join("\t".join(map(str, [label, *row])) + "\n" for label, row in zip(labels, x)))
    return path


def write_npz(path: Path, x, labels) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=x, y=labels)
    return path


def own_pair(folder: Path, suffix: str, stem: str = "waves") -> tuple[Path, Path]:
    write = write_tsv if suffix == ".tsv" else write_npz
    return (
        write(folder / f"{stem}_TRAIN{suffix}", *waves(20, 0)),
        write(folder / f"{stem}_TEST{suffix}", *waves(20, 1)),
    )


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A fresh evaluator cache, and no archive folder but the one a test sets."""
    monkeypatch.setenv("SSL_BOOK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(UCR_ROOT_ENV, raising=False)
    return tmp_path / "cache"


# ----------------------------------------------------------------------------- end to end
#: 20 test series give a singular FID covariance; the tiny runs only check that everything runs.
few_samples = pytest.mark.filterwarnings("ignore:only 20 samples")


@few_samples
def test_any_archive_dataset_runs_end_to_end(tmp_path, cache, monkeypatch):
    archive = tmp_path / "archive"
    write_tsv(archive / "Waves" / "Waves_TRAIN.tsv", *waves(20, 0))
    write_tsv(archive / "Waves" / "Waves_TEST.tsv", *waves(20, 1))
    monkeypatch.setenv(UCR_ROOT_ENV, str(archive))
    data = load_ucr("Waves")  # sizes from the files: the registry lacks Waves
    assert (data.x_train.shape, data.x_test.shape, data.n_classes) == ((20, LENGTH), (20, LENGTH), 2)
    out = tmp_path / "runs"
    assert main(["run", "--dataset", "Waves", "--out", str(out), *TINY]) == 0
    (path,) = out.rglob("results.json")
    assert path.relative_to(out).parts[:2] == ("Waves", "baseline")
    results = json.loads(path.read_text())
    assert "train_path" not in results["config"] and 0 <= results["metrics"]["cas"] <= 1
    assert [p.name for p in (cache / "evaluators").iterdir()][0].startswith("Waves-fcn-")


@few_samples
@pytest.mark.parametrize("suffix, name", [(".tsv", None), (".npz", "MyWaves")])
def test_own_files_run_end_to_end(tmp_path, cache, suffix, name):
    train, test = own_pair(tmp_path / "data", suffix)
    out = tmp_path / "runs"
    named = [] if name is None else ["--name", name]
    assert main(["run", "--train", str(train), "--test", str(test), *named, "--out", str(out), *TINY]) == 0
    name = name or "waves"  # waves_TRAIN.tsv -> waves
    (path,) = out.rglob("results.json")
    assert path.relative_to(out).parts[:2] == (name, "baseline")
    config = json.loads(path.read_text())["config"]
    assert config["train_path"] == str(train.resolve()) and config["test_path"] == str(test.resolve())
    assert len(config["data_sha256"]) == 64
    assert RunConfig.from_dict(config).to_dict() == config  # the run can be configured again
    (evaluator,) = (cache / "evaluators").iterdir()  # keyed by name and content
    assert evaluator.name.startswith(f"{name}-{load_run_data(RunConfig.from_dict(config)).content_digest()}")


# ----------------------------------------------------------------------------- bad files
def rows_tsv(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def good_test(folder: Path) -> Path:
    return write_tsv(folder / "bad_TEST.tsv", *waves(6, 1))


def ragged(folder):
    return rows_tsv(folder / "bad_TRAIN.tsv", "1\t0.1\t0.2\t0.3\n2\t0.3\t0.4\n"), good_test(folder)


def one_class(folder):
    x, _ = waves(6, 0)
    return write_tsv(folder / "bad_TRAIN.tsv", x, np.ones(6, int)), good_test(folder)


def unseen_label(folder):
    x, labels = waves(6, 1)
    labels[0] = 3
    return write_tsv(folder / "bad_TRAIN.tsv", *waves(6, 0)), write_tsv(folder / "bad_TEST.tsv", x, labels)


def empty(folder):
    return rows_tsv(folder / "bad_TRAIN.tsv", ""), good_test(folder)


def missing(folder):
    return write_tsv(folder / "bad_TRAIN.tsv", *waves(6, 0)), folder / "bad_TEST.tsv"


def text_label(folder):
    x, _ = waves(2, 0)
    return write_tsv(folder / "bad_TRAIN.tsv", x, ["sine", "square"]), good_test(folder)


def other_length(folder):
    x, labels = waves(6, 1)
    return (
        write_tsv(folder / "bad_TRAIN.tsv", *waves(6, 0)),
        write_tsv(folder / "bad_TEST.tsv", x[:, :30], labels),
    )


def with_nan(folder):
    x, labels = waves(6, 0)
    x[0, -3:] = np.nan
    return write_tsv(folder / "bad_TRAIN.tsv", x, labels), good_test(folder)


def npz_without_y(folder):
    path = folder / "bad_TRAIN.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=waves(6, 0)[0])
    return path, good_test(folder)


def npz_flat_x(folder):
    return write_npz(folder / "bad_TRAIN.npz", np.zeros(6), np.arange(6) % 2), good_test(folder)


def csv_file(folder):
    return rows_tsv(folder / "bad_TRAIN.csv", "1,0.1,0.2\n"), good_test(folder)


@pytest.mark.parametrize(
    "make, bad, message",
    [
        (ragged, "TRAIN", r"row 2 has 3 columns where the rows above have 4"),
        (one_class, "TRAIN", r"one class only"),
        (unseen_label, "TEST", r"labels \[3.0\] that TRAIN"),
        (empty, "TRAIN", r"is empty"),
        (missing, "TEST", r"does not exist"),
        (text_label, "TRAIN", r"row 1, column 1 \(the class label\) is 'sine', not a number"),
        (other_length, "TEST", r"have length 32 but those in .* have length 30"),
        (with_nan, "TRAIN", r"missing values \(NaN\)"),
        (npz_without_y, "TRAIN", r"lacks the array 'y'"),
        (npz_flat_x, "TRAIN", r"x must be an \(n, length\) array"),
        (csv_file, "TRAIN", r"unsupported file type '.csv'"),
    ],
)
def test_bad_files_are_refused_before_anything_is_written(tmp_path, cache, capsys, make, bad, message):
    train, test = make(tmp_path / "data")
    out = tmp_path / "runs"
    assert main(["run", "--train", str(train), "--test", str(test), "--out", str(out), *TINY]) == 2
    error = capsys.readouterr().err
    assert re.search(message, error), error
    assert (train if bad == "TRAIN" else test).name in error
    assert not out.exists() and not cache.exists()  # nothing partial is written


def test_missing_values_are_allowed_on_request(tmp_path, cache):
    train, test = with_nan(tmp_path)
    config = make_config("bad", "baseline", None, 1, train_path=train, test_path=test, nan="zero")
    data = load_run_data(config)
    assert data.x_train[0, -1] == 0 and np.isfinite(data.x_train).all()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--train", "TRAIN"], "--train needs --test"),
        (["--dataset", "CBF", "--test", "TEST"], "--test and --name go with --train"),
        (["--dataset", "CBF", "--name", "Mine"], "--test and --name go with --train"),
        (["--train", "TRAIN", "--test", "TEST", "--name", "ECG5000"], "is the name of a UCR dataset"),
        (["--train", "TRAIN", "--test", "TEST", "--name", "../up"], "cannot name a folder"),
        (["--dataset", "NoSuchData"], "unknown dataset 'NoSuchData': no NoSuchData/NoSuchData_TRAIN.tsv"),
    ],
)
def test_cli_refuses_bad_data_arguments(tmp_path, cache, capsys, arguments, message):
    train, test = own_pair(tmp_path, ".tsv")
    arguments = [{"TRAIN": str(train), "TEST": str(test)}.get(a, a) for a in arguments]
    assert main(["run", *arguments, "--out", str(tmp_path / "runs"), *TINY]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_dataset_and_train_exclude_each_other(tmp_path):
    with pytest.raises(SystemExit):
        main(["run", "--dataset", "CBF", "--train", str(tmp_path / "x.tsv")])


# ----------------------------------------------------------------------------- configuration
def test_own_files_config_records_and_checks_the_data(tmp_path, cache, monkeypatch):
    train, test = own_pair(tmp_path, ".tsv")
    monkeypatch.chdir(tmp_path)
    config = RunConfig("waves", train_path=train.name, test_path=test.name)  # relative paths
    assert config.train_path == str(train.resolve()) and config.nan_policy == "raise"
    assert RunConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert load_run_data(config).x_train.shape == (20, LENGTH)
    write_tsv(train, *waves(20, 5))  # the file changes after the run
    with pytest.raises(UCRDataError, match="changed since the run was configured"):
        load_run_data(config)
    assert RunConfig("waves", train_path=train, test_path=test).digest() != config.digest()
    with pytest.raises(ValueError, match="both train_path and test_path"):
        RunConfig("waves", train_path=train)


def test_archive_configs_keep_their_dict_and_digest():
    config = make_config("ECG5000", "vibcreg", "gauss", 2, preset="cpu")
    assert not {"train_path", "test_path", "data_sha256", "nan"} & config.to_dict().keys()
    assert config.nan_policy == "zero" and RunConfig.from_dict(config.to_dict()).digest() == config.digest()


# ----------------------------------------------------------------------------- loading
def test_tsv_and_npz_give_the_same_dataset(tmp_path):
    from_tsv = load_series_files(*own_pair(tmp_path, ".tsv"))
    from_npz = load_series_files(*own_pair(tmp_path, ".npz"))
    assert from_tsv.name == from_npz.name == "waves"
    assert from_tsv.content_digest() == from_npz.content_digest()
    np.testing.assert_array_equal(from_tsv.x_test, from_npz.x_test)
    assert from_tsv.x_train.shape == (20, LENGTH) and from_tsv.classes.tolist() == [1.0, 2.0]


def test_npz_labels_may_be_text(tmp_path):
    x, labels = waves(20, 0)
    names = np.array(["sine", "square"])[labels - 1]
    data = load_series_files(
        write_npz(tmp_path / "a_TRAIN.npz", x, names), write_npz(tmp_path / "a_TEST.npz", x[:4], names[:4])
    )
    assert data.classes.tolist() == ["sine", "square"] and data.y_test.tolist() == [0, 1, 0, 1]


@pytest.mark.parametrize(
    "path, name", [("Waves_TRAIN.tsv", "Waves"), ("ecg-train.npz", "ecg"), ("mine.tsv", "mine")]
)
def test_default_name_comes_from_the_train_file(path, name):
    assert dataset_name_from(path) == name


def test_evaluator_of_given_data_is_cached_by_content(tmp_path, cache):
    recipe = EvaluatorConfig(epochs=1, batch_size=32)
    data = load_series_files(*own_pair(tmp_path, ".tsv"))
    first = load_or_train_evaluator("waves", recipe, "cpu", data=data)
    again = load_or_train_evaluator("waves", recipe, "cpu", data=data)
    assert not first.from_cache and again.from_cache and again.path == first.path
    x, labels = waves(20, 7)
    other = load_series_files(
        write_tsv(tmp_path / "o" / "waves_TRAIN.tsv", x, labels),
        write_tsv(tmp_path / "o" / "waves_TEST.tsv", x, labels),
    )
    assert not load_or_train_evaluator("waves", recipe, "cpu", data=other).from_cache
