OK_FORMAT = True

test = {
    "name": "evaluation-ex-similar",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> import numpy as _np
>>> _v = _np.asarray(trace_three_ways, dtype=float)
>>> assert _v.shape == (3,) and _np.isfinite(_v).all() and (_v > 0).all()
>>> assert _np.allclose(_v, _v[0], rtol=1e-6)
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "The three traces should agree: each is the sum of the square roots of "
                        "the eigenvalues of S1 S2."
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
