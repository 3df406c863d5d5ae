OK_FORMAT = True

test = {
    "name": "prior-ex-steps",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> assert sorted(fid_by_steps) == [1, 3, 10]
>>> import math as _math
>>> assert all(_math.isfinite(float(v)) and float(v) >= 0 for v in fid_by_steps.values())
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "One FID for each number of decoding steps (1, 3 and 10); a FID is a squared "
                        "distance, finite and never negative."
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
