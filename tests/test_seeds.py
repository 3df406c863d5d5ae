"""ssl_book.seeds: one experiment over several seeds, summarised by mean and sd."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch

from ssl_book.plot import plot_seeds, subplots
from ssl_book.seeds import SeedResults, over_seeds


def noisy_experiment(seed: int) -> dict:
    """Draws from the global generators that over_seeds reseeds (and ignores ``seed``)."""
    return {"a": float(np.random.rand()), "b": torch.rand(()).item() + 1.0, "curve": torch.rand(3).numpy()}


def test_same_seed_gives_the_same_numbers():
    first = over_seeds(noisy_experiment, [3, 1, 4])
    second = over_seeds(noisy_experiment, [4, 3, 1])
    for key in first.keys():
        np.testing.assert_array_equal(first[key][[0, 1, 2]], second[key][[1, 2, 0]])
    assert len(set(first["a"].tolist())) == 3  # different seeds differ


def test_the_seed_is_passed_on_and_rows_follow_the_order_of_seeds():
    runs = over_seeds(lambda seed: {"seed": seed, "square": seed**2}, [5, 2, 7])
    assert runs.seeds == (5, 2, 7) and runs.n == 3
    np.testing.assert_array_equal(runs["seed"], [5, 2, 7])
    np.testing.assert_array_equal(runs["square"], [25, 4, 49])


def test_mean_and_sd_match_numpy():
    runs = over_seeds(noisy_experiment, range(5))
    for key in ("a", "b"):
        assert runs.mean(key) == pytest.approx(np.mean(runs[key]))
        assert runs.sd(key) == pytest.approx(np.std(runs[key], ddof=1))
        assert isinstance(runs.mean(key), float)
    assert runs["curve"].shape == (5, 3)
    np.testing.assert_allclose(runs.mean("curve"), runs["curve"].mean(0))
    np.testing.assert_allclose(runs.sd("curve"), runs["curve"].std(0, ddof=1))
    assert runs.summary("a") == f"{np.mean(runs['a']):.3f} ± {np.std(runs['a'], ddof=1):.3f}"
    assert "(n = 5 seeds)" in runs.table(["a", "b"])


def test_paired_difference_and_overlap():
    runs = SeedResults(
        (0, 1, 2),
        {"x": np.array([1.0, 2.0, 3.0]), "y": np.array([1.5, 2.5, 3.6]), "far": np.array([10.0, 10.1, 9.9])},
    )
    diff = runs.difference("x", "y")
    assert diff.mean == pytest.approx(np.mean([0.5, 0.5, 0.6]))
    assert diff.sd == pytest.approx(np.std([0.5, 0.5, 0.6], ddof=1))
    assert runs.overlap("x", "y") and not runs.overlap("x", "far")


def test_inner_progress_bars_are_off_only_inside():
    import os

    seen = over_seeds(lambda seed: {"off": os.environ.get("TQDM_DISABLE") == "1"}, [0, 1])
    assert seen["off"].all() and os.environ.get("TQDM_DISABLE") != "1"


@pytest.mark.parametrize("seeds", [[], [0], [0, 0], [-1, 2], [0.5, 1], [True, 2]])
def test_bad_seeds_are_refused(seeds):
    with pytest.raises(ValueError):
        over_seeds(noisy_experiment, seeds)


def test_bad_metrics_are_refused():
    with pytest.raises(TypeError, match="mapping"):
        over_seeds(lambda seed: 0.5, [0, 1])
    with pytest.raises(TypeError, match="mapping"):
        over_seeds(lambda seed: {}, [0, 1])
    with pytest.raises(ValueError, match="seed 1 returned"):
        over_seeds(lambda seed: {"a": 1.0} if seed == 0 else {"b": 1.0}, [0, 1])
    with pytest.raises(ValueError, match="seed 1 returned"):
        over_seeds(lambda seed: {"a": np.zeros(seed + 1)}, [0, 1])
    runs = over_seeds(lambda seed: {"a": float(seed), "v": np.zeros(2)}, [0, 1])
    with pytest.raises(KeyError, match="no metric"):
        runs["missing"]
    with pytest.raises(ValueError, match="scalar"):
        runs.summary("v")


def test_plot_seeds_draws_bars_and_bands_and_checks_shapes():
    fig, ax = subplots()
    values = np.array([[0.5, 0.7], [0.6, 0.8], [0.55, 0.75]])
    plot_seeds(ax, [0, 1], values, label="bars")
    plot_seeds(ax, [0, 1], values, kind="line", label="band", color="C1")
    plot_seeds(ax, 2, values[:, 0])  # one bar from (n_seeds,)
    assert len(ax.patches) == 3 and len(ax.collections) >= 2
    with pytest.raises(ValueError, match="n_seeds"):
        plot_seeds(ax, [0, 1, 2], values)
    with pytest.raises(ValueError, match="kind"):
        plot_seeds(ax, [0, 1], values, kind="pie")
