OK_FORMAT = True

test = {
    "name": "results-ex-seeds",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> from ssl_book.experiments.report import aggregate as _aggregate
>>> _rows = [r for r in _aggregate(results) if len(r.seeds) > 1 and r.values.get("svm")]
>>> assert set(svm_spread) == {(r.dataset, r.config, r.protocol, r.hardware) for r in _rows}
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "One entry for every group of aggregate(results) with SVM accuracies from more "
                        "than one seed, keyed (dataset, config, protocol, hardware)."
                    ),
                },
                {
                    "code": r"""
>>> import numpy as _np
>>> from ssl_book.experiments.report import aggregate as _aggregate
>>> _rows = [r for r in _aggregate(results) if len(r.seeds) > 1 and r.values.get("svm")]
>>> _want = {(r.dataset, r.config, r.protocol, r.hardware):
...          (_np.mean(r.values["svm"]), _np.std(r.values["svm"], ddof=1)) for r in _rows}
>>> assert all(_np.allclose([float(v) for v in svm_spread[k]], _want[k]) for k in _want)
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "Each value is (mean, standard deviation) of the SVM accuracy over seeds; the "
                        "standard deviation of a few seeds is the sample one (ddof=1)."
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
