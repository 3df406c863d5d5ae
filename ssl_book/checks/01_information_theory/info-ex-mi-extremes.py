OK_FORMAT = True

test = {
    "name": "info-ex-mi-extremes",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> import numpy as _np
>>> _a = _np.asarray(joint_independent, dtype=float)
>>> _b = _np.asarray(joint_self, dtype=float)
>>> assert all(_np.isclose(t.sum(), 1) and (t >= 0).all() for t in (_a, _b))
>>> assert _np.allclose(_a, _np.outer(_a.sum(1), _a.sum(0))), 'not independent'
>>> assert _b.shape[0] == _b.shape[1] and _np.allclose(_b, _np.diag(_np.diag(_b)))
>>> assert (_np.diag(_b) > 0).sum() >= 2, 'give X at least two possible values'
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "Each table must be a joint distribution (non-negative, summing to 1): "
                        "the first the outer product of two marginals, the second a diagonal "
                        "table with at least two non-zero entries."
                    ),
                },
                {
                    "code": r"""
>>> import numpy as _np
>>> _d = _np.diag(_np.asarray(joint_self, dtype=float))
>>> _d = _d[_d > 0]
>>> assert abs(float(mi_independent)) < 1e-9
>>> assert _np.isclose(float(mi_self), -(_d * _np.log(_d)).sum(), atol=1e-9)
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "What does a variable tell about itself? Compare I(X; X) with H(X), in nats."
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
