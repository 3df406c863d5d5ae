OK_FORMAT = True

test = {
    "name": "ssl-ex-infonce",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> import math as _m
>>> assert abs(float(infonce_collapse) - _m.log(15)) < 1e-4
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "At collapse every similarity is 1: compute NT-Xent for 2N = 16 equal embeddings."
                    ),
                },
                {
                    "code": r"""
>>> import math as _m
>>> assert sorted(infonce_orthonormal) == [0.03, 0.1, 0.3, 1.0]
>>> assert all(abs(float(infonce_orthonormal[t]) - _m.log(1 + 14 * _m.exp(-1 / t)))
...            < 1e-4 for t in infonce_orthonormal)
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "With N = 8 orthonormal embeddings as both views, compute the loss at "
                        "each temperature with ssl.info_nce_loss(..., temperature=tau)."
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
