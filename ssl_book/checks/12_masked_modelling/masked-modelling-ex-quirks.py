OK_FORMAT = True

test = {
    "name": "masked-modelling-ex-quirks",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> import math as _m
>>> assert abs(float(expected_masked) - 2 / _m.pi) < 0.005
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "E[gamma(t)] for the cosine schedule gamma(t) = cos(pi t / 2), t uniform on [0, 1]."
                    ),
                },
                {
                    "code": r"""
>>> import math as _m
>>> assert abs(float(expected_masked_inverted) - (1 - 2 / _m.pi)) < 0.005
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": ("The inverted schedule masks 1 - gamma(t)."),
                },
            ],
            "scored": True,
            "setup": "",
            "teardown": "",
            "type": "doctest",
        }
    ],
}
