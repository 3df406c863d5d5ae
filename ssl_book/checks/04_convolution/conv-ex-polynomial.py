OK_FORMAT = True

test = {
    "name": "conv-ex-polynomial",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> import numpy as _np
>>> assert _np.asarray(product_coefficients, dtype=float).shape == (4,)
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "A product of a degree-1 and a degree-2 polynomial has degree 3: four coefficients."
                    ),
                },
                {
                    "code": r"""
>>> import numpy as _np
>>> assert _np.allclose(_np.asarray(product_coefficients, dtype=float), [3, 7, 6, 8])
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "Expand (1 + 2z)(3 + z + 4z^2) by hand and compare, coefficient by coefficient."
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
