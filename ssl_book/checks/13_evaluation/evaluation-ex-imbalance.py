OK_FORMAT = True

test = {
    "name": "evaluation-ex-imbalance",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> _s = [(float(a), float(b)) for a, b in imbalance_scores]
>>> assert len(_s) == 3
>>> assert all(1 - 1e-9 <= score <= bound + 1e-6 for score, bound in _s)
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "Three (score, bound) pairs; an Inception Score lies between 1 and exp "
                        "H of the predicted class distribution."
                    ),
                },
                {
                    "code": r"""
>>> import numpy as _np
>>> _b = [float(b) for _, b in imbalance_scores]
>>> _p = [(1 / 3, 1 / 3, 1 / 3), (0.6, 0.2, 0.2), (0.9, 0.05, 0.05)]
>>> _h = [float(_np.exp(-sum(q * _np.log(q) for q in p))) for p in _p]
>>> assert _b[0] > _b[1] > _b[2]
>>> assert all(abs(b - h) < tol for b, h, tol in zip(_b, _h, (0.05, 0.1, 0.15)))
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "exp H(pi) for the class proportions pi: 3 for balanced classes, less "
                        "for imbalanced ones (natural logarithms; the subsets' whole counts make "
                        "it differ slightly from the exact proportions)."
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
