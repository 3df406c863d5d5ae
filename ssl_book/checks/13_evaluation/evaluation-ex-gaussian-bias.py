OK_FORMAT = True

test = {
    "name": "evaluation-ex-gaussian-bias",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> _sizes = (100, 200, 400, 800, 1600)
>>> assert sorted(fid_bias) == sorted((d, n) for d in (8, 32) for n in _sizes)
>>> assert all(float(fid_bias[(d, n)]) > 2 * d / n for d, n in fid_bias)
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "One mean FID per (d, n); FID is at least its mean term, whose expectation is 2d/n."
                    ),
                },
                {
                    "code": r"""
>>> assert all(float(fid_bias[(d, 100)]) > 4 * float(fid_bias[(d, 1600)]) for d in (8, 32))
>>> assert all(float(fid_bias[(32, n)]) > float(fid_bias[(8, n)]) for n in (100, 200, 400, 800, 1600))
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": ("The bias shrinks like 1/n and grows with the dimension d."),
                },
            ],
            "scored": True,
            "setup": "",
            "teardown": "",
            "type": "doctest",
        }
    ],
}
