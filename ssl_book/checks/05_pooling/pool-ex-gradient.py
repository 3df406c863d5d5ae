OK_FORMAT = True

test = {
    "name": "pool-ex-gradient",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> import numpy as _np
>>> _x, _g = _np.asarray(example, dtype=float), _np.asarray(max_pool_gradient, float)
>>> assert _g.shape == (8,) and _np.allclose(_g.reshape(4, 2).sum(1), 1)
>>> assert all(_x[2 * i + int(_np.argmax(_g[2 * i:2 * i + 2]))] == _x[2 * i:2 * i + 2].max() for i in range(4))
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "Max pooling: in each window of two, the whole gradient (1) goes to "
                        "one input; which one?"
                    ),
                },
                {
                    "code": r"""
>>> import numpy as _np
>>> assert _np.allclose(_np.asarray(avg_pool_gradient, dtype=float), 0.5)
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "Average pooling of size 2: how much does each input of a window "
                        "contribute to the window's output?"
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
