OK_FORMAT = True

test = {
    "name": "prior-ex-memorisation",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> assert set(nearest_median) == {"samples", "test series"}
>>> assert tuple(samples.shape) == tuple(test.shape) == (200, x_train.shape[1])
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "A median for the samples and for the test series, 200 series of each, as long as "
                        "the training series."
                    ),
                },
                {
                    "code": r"""
>>> import torch as _torch
>>> _series = {"samples": samples, "test series": test}
>>> _medians = {k: _torch.cdist(v, x_train).min(1).values.median().item() for k, v in _series.items()}
>>> assert all(abs(float(nearest_median[k]) - _medians[k]) <= 1e-4 * (1 + _medians[k]) for k in _series)
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "For each series take the Euclidean distance to its nearest training series "
                        "(torch.cdist, then the minimum over the training set), then the median over the "
                        "200 series."
                    ),
                },
            ],
            "scored": True,
            "setup": "",
            "teardown": "",
            "type": "doctest",
        }
    ],
}
