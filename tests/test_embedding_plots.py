"""ssl_book.embedding_plots: what each class map and spectrum puts on the axes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from ssl_book.embedding_plots import plot_spectrum, scatter_by_class  # noqa: E402
from ssl_book.plot import PALETTE  # noqa: E402


def test_each_class_gets_its_points_colour_and_name():
    rng = np.random.default_rng(0)
    points, labels = rng.normal(size=(30, 2)), rng.integers(0, 3, 30)
    labels[:3] = (0, 1, 2)  # every class present
    fig, ax = plt.subplots()
    collections = scatter_by_class(ax, points, labels, ("a", "b", "c"), size=9)
    assert len(collections) == 3 and list(ax.collections) == collections
    for c, collection in enumerate(collections):
        np.testing.assert_array_equal(collection.get_offsets(), points[labels == c])
        np.testing.assert_allclose(collection.get_facecolor()[0], to_rgba(PALETTE[c]))
        assert collection.get_label() == "abc"[c]
        assert collection.get_sizes()[0] == 9
    handles, names = ax.get_legend_handles_labels()
    assert names == ["a", "b", "c"]
    plt.close(fig)


def test_a_class_without_points_keeps_its_colour_slot():
    fig, ax = plt.subplots()
    collections = scatter_by_class(ax, np.zeros((2, 2)), np.array([2, 2]), ("x", "y", "z"))
    assert [len(c.get_offsets()) for c in collections] == [0, 0, 2]
    np.testing.assert_allclose(collections[2].get_facecolor()[0], to_rgba(PALETTE[2]))
    plt.close(fig)


@pytest.mark.parametrize(
    "points, labels, match",
    [
        (np.zeros((4, 3)), np.zeros(4, int), "shape"),
        (np.zeros((4, 2)), np.zeros(3, int), "labels must have shape"),
        (np.zeros((4, 2)), np.array([0, 1, 2, 3]), "labels must lie"),
        (np.zeros((4, 2)), np.array([0, -1, 0, 0]), "labels must lie"),
    ],
)
def test_bad_maps_are_refused(points, labels, match):
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match=match):
        scatter_by_class(ax, points, labels, ("a", "b", "c"))
    with pytest.raises(ValueError, match="at most"):
        scatter_by_class(ax, np.zeros((1, 2)), np.zeros(1, int), [str(i) for i in range(9)])
    plt.close(fig)


def test_spectrum_is_the_normalised_singular_values_of_the_centred_embeddings():
    z = np.random.default_rng(1).normal(size=(40, 6)) * np.logspace(0, -2, 6) + 5.0
    fig, ax = plt.subplots()
    line = plot_spectrum(ax, torch.tensor(z), color=PALETTE[3], label="z")
    sigma = np.linalg.svd(z - z.mean(0), compute_uv=False)
    np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 7))
    np.testing.assert_allclose(line.get_ydata(), sigma / sigma.sum(), rtol=1e-6)
    assert line.get_ydata().sum() == pytest.approx(1.0)
    assert line.get_label() == "z" and line.get_markersize() == 3 and line.get_marker() == "o"
    assert to_rgba(line.get_color()) == to_rgba(PALETTE[3])
    assert plot_spectrum(ax, z, ms=7).get_markersize() == 7
    plt.close(fig)


def test_spectrum_of_a_collapsed_embedding_is_refused():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="collapsed"):
        plot_spectrum(ax, np.ones((10, 4)))
    plt.close(fig)
