"""The UCR loader (bundled data, archive folders, bad files) and the synthetic generators."""

import os
import shutil

import numpy as np
import pytest

from ssl_book.data import (
    BUNDLED,
    REGISTRY,
    UCR_ROOT_ENV,
    UCRDataError,
    available_datasets,
    load_ucr,
    make_cbf,
    read_ucr_tsv,
)
from ssl_book.data.ucr import BUNDLED_ROOT


@pytest.fixture
def bundled_only(monkeypatch):
    monkeypatch.delenv(UCR_ROOT_ENV, raising=False)


def write_tsv(folder, name, split, rows):
    (folder / name).mkdir(parents=True, exist_ok=True)
    path = folder / name / f"{name}_{split}.tsv"
    path.write_text("".join("\t".join(map(str, r)) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_dataset_loads_with_its_registered_shape(bundled_only, name):
    data = load_ucr(name)
    info = REGISTRY[name]
    assert data.folder == BUNDLED_ROOT / name
    assert data.x_train.shape == (info.n_train, info.length)
    assert data.x_test.shape == (info.n_test, info.length)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert data.n_classes == info.n_classes
    assert set(np.unique(data.y_train)) == set(range(info.n_classes))
    assert data.y_test.min() >= 0 and data.y_test.max() < info.n_classes


def test_bundle_is_small():
    size = sum(p.stat().st_size for p in BUNDLED_ROOT.rglob("*") if p.is_file())
    assert size < 15 * 2**20


def test_global_normalisation_is_the_thesis_preprocessing(bundled_only):
    raw = load_ucr("ECG200", normalize="none")
    norm = load_ucr("ECG200")
    mean, std = raw.x_train.astype(np.float64).mean(), raw.x_train.astype(np.float64).std()
    np.testing.assert_allclose(norm.x_train, (raw.x_train - mean) / std, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(norm.x_test, (raw.x_test - mean) / std, rtol=1e-5, atol=1e-5)
    assert abs(norm.x_train.mean()) < 1e-4 and abs(norm.x_train.std() - 1) < 1e-4


def test_labels_are_encoded_from_the_archive_labels(bundled_only):
    data = load_ucr("ECG200", normalize="none")  # archive labels are -1 and 1
    np.testing.assert_array_equal(data.classes, [-1.0, 1.0])
    _, raw_labels = read_ucr_tsv(data.folder / "ECG200_TRAIN.tsv")
    np.testing.assert_array_equal(data.classes[data.y_train], raw_labels)


def test_root_argument_and_environment_variable(tmp_path, monkeypatch):
    shutil.copytree(BUNDLED_ROOT / "Coffee", tmp_path / "Coffee")
    assert load_ucr("Coffee", root=tmp_path).folder == tmp_path / "Coffee"
    monkeypatch.setenv(UCR_ROOT_ENV, str(tmp_path))
    assert load_ucr("Coffee").folder == tmp_path / "Coffee"
    # a dataset the environment's folder lacks still comes from the bundle
    assert load_ucr("GunPoint").folder == BUNDLED_ROOT / "GunPoint"
    assert "Coffee" in available_datasets(tmp_path)
    # an explicit root is searched alone
    with pytest.raises(UCRDataError, match="not bundled|not found|GunPoint"):
        load_ucr("GunPoint", root=tmp_path)


def test_unknown_name_suggests_the_right_one(bundled_only):
    with pytest.raises(UCRDataError, match="no Gunpoint/Gunpoint_TRAIN.tsv in .*Did you mean 'GunPoint'"):
        load_ucr("Gunpoint")


def test_a_dataset_the_registry_lacks_is_read_with_sizes_from_its_files(tmp_path):
    write_tsv(tmp_path, "Toy", "TRAIN", [[1, 0.1, 0.2, 0.3], [2, 0.3, 0.4, 0.5], [2, 0.0, 0.1, 0.2]])
    write_tsv(tmp_path, "Toy", "TEST", [[2, 1.0, 2.0, 3.0]])
    data = load_ucr("Toy", root=tmp_path)
    assert "Toy" not in REGISTRY and "Toy" in available_datasets(tmp_path)
    assert data.x_train.shape == (3, 3) and data.x_test.shape == (1, 3) and data.n_classes == 2


@pytest.mark.parametrize(
    "train, message",
    [
        ([[1, 0.1, 0.2], [1, 0.3, 0.4]], "Toy_TRAIN.tsv holds one class only"),
        ([[1, 0.1, "inf"], [2, 0.3, 0.4]], "Toy_TRAIN.tsv holds infinite values"),
    ],
)
def test_datasets_the_pipeline_cannot_use_are_refused(tmp_path, train, message):
    write_tsv(tmp_path, "Toy", "TRAIN", train)
    write_tsv(tmp_path, "Toy", "TEST", [[1, 1.0, 2.0]])
    with pytest.raises(UCRDataError, match=message):
        load_ucr("Toy", root=tmp_path)


def test_known_but_absent_dataset_says_how_to_get_it(bundled_only):
    with pytest.raises(UCRDataError, match=f"not bundled.*{UCR_ROOT_ENV}"):
        load_ucr("StarLightCurves")


def test_incomplete_copy_names_the_missing_file(tmp_path):
    write_tsv(tmp_path, "Toy", "TRAIN", [[1, 0.1, 0.2], [2, 0.3, 0.4]])
    with pytest.raises(UCRDataError, match="Toy_TEST.tsv is missing"):
        load_ucr("Toy", root=tmp_path)


def test_missing_root_is_an_error(tmp_path):
    with pytest.raises(UCRDataError, match="does not exist"):
        load_ucr("Coffee", root=tmp_path / "nowhere")


def test_checksum_mismatch_is_detected(tmp_path):
    shutil.copytree(BUNDLED_ROOT / "Coffee", tmp_path / "Coffee")
    path = tmp_path / "Coffee" / "Coffee_TEST.tsv"
    text = path.read_text()
    path.write_text(text.replace("\t", "\t0", 1))  # still valid numbers, different bytes
    with pytest.raises(UCRDataError, match="checksum mismatch.*Coffee_TEST.tsv"):
        load_ucr("Coffee", root=tmp_path)


@pytest.mark.parametrize(
    "rows, message",
    [
        ([[1, 0.1, 0.2], [2, 0.3]], "not a valid UCR file: row 2 has 2 columns where the rows above have 3"),
        ([[1, 0.1, "abc"], [2, 0.3, 0.4]], r"not a valid UCR file: row 1, column 3 \(a value\) is 'abc'"),
        ([["one", 0.1, 0.2]], r"row 1, column 1 \(the class label\) is 'one', not a number"),
        ([], "empty"),
        ([[1], [2]], "only one column"),
        ([["NaN", 0.1, 0.2]], "missing .*label"),
    ],
)
def test_malformed_files_raise_and_name_the_file(tmp_path, rows, message):
    path = write_tsv(tmp_path, "Toy", "TRAIN", rows)
    with pytest.raises(UCRDataError, match=message) as err:
        read_ucr_tsv(path)
    assert "Toy_TRAIN.tsv" in str(err.value)


def test_missing_values_become_zero_or_raise(tmp_path):
    write_tsv(tmp_path, "Toy", "TRAIN", [[1, 1.0, 2.0, "NaN"], [2, 3.0, 4.0, 5.0]])
    write_tsv(tmp_path, "Toy", "TEST", [[2, 1.0, "NaN", 2.0]])
    data = load_ucr("Toy", root=tmp_path, normalize="none")
    assert data.x_train[0, 2] == 0.0 and data.x_test[0, 1] == 0.0
    normed = load_ucr("Toy", root=tmp_path)
    assert np.isfinite(normed.x_train).all() and normed.x_train[0, 2] == 0.0
    with pytest.raises(UCRDataError, match="missing values"):
        load_ucr("Toy", root=tmp_path, nan="raise")


def test_test_labels_unseen_in_train_are_refused(tmp_path):
    write_tsv(tmp_path, "Toy", "TRAIN", [[1, 1.0, 2.0], [2, 3.0, 4.0]])
    write_tsv(tmp_path, "Toy", "TEST", [[3, 1.0, 2.0]])
    with pytest.raises(UCRDataError, match=r"labels \[3.0\]"):
        load_ucr("Toy", root=tmp_path)


@pytest.mark.parametrize(
    "kwargs, message", [({"normalize": "zscore"}, "normalize"), ({"nan": "drop"}, "nan")]
)
def test_bad_options(bundled_only, kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_ucr("Coffee", **kwargs)


ARCHIVE = os.environ.get(UCR_ROOT_ENV)


@pytest.mark.skipif(not ARCHIVE, reason=f"needs a UCR archive folder in {UCR_ROOT_ENV}")
@pytest.mark.parametrize("name", ["SonyAIBORobotSurface1", "Mallat", "FordA"])
def test_archive_datasets_load_and_verify(name):
    data = load_ucr(name)
    info = REGISTRY[name]
    assert data.x_train.shape == (info.n_train, info.length)
    assert data.x_test.shape == (info.n_test, info.length)


def test_cbf_follows_its_definition():
    x, y = make_cbf(50, seed=3)
    assert x.shape == (150, 128) and np.bincount(y).tolist() == [50, 50, 50]
    x_again, _ = make_cbf(50, seed=3)
    np.testing.assert_array_equal(x, x_again)
    # Within the event window, bells rise and funnels fall; cylinders are flat at about 6.
    window = slice(40, 48)  # inside [a, b] for every series: a <= 32, b >= a + 32 >= 48
    mean_shape = [x[y == c].mean(0) for c in range(3)]
    assert 4 < mean_shape[0][window].mean() < 8
    late, early = slice(60, 70), slice(34, 40)
    assert mean_shape[1][late].mean() > mean_shape[1][early].mean() + 1
    assert mean_shape[2][late].mean() < mean_shape[2][early].mean() - 1
    assert abs(x[:, :10].mean()) < 0.3  # before the event: noise only


@pytest.mark.parametrize("kwargs", [{"n_per_class": 0}, {"n_per_class": 2, "length": 8}])
def test_cbf_rejects_bad_sizes(kwargs):
    with pytest.raises(ValueError):
        make_cbf(**kwargs)
