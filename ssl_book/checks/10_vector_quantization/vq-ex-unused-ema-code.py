OK_FORMAT = True

test = {
    "name": "vq-ex-unused-ema-code",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> import math as _m
>>> assert len(code3_norms) == 150
>>> assert max(code3_norms) > 1e4 * _m.hypot(30, 30)
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "One norm per step (150). With no vectors assigned, Laplace smoothing "
                        "divides the code's running sum by about epsilon = 1e-5 after the "
                        "first step."
                    ),
                },
                {
                    "code": r"""
>>> import math as _m
>>> assert float(code3_norms[-1]) < _m.hypot(30, 30)
>>> assert code3_first_use is not None and 90 <= int(code3_first_use) < 150
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "The decay 0.9 brings the code back: after about log(1e5)/log(1/0.9) "
                        "steps it is at its starting distance, and soon after among the data."
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
