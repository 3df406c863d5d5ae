OK_FORMAT = True

test = {
    "name": "transformers-ex-memory",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> assert sorted(attention_gb) == [40, 140, 500, 360000]
>>> assert abs(float(attention_gb[40]) - 0.0032768) < 1e-9
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "One entry per length (40, 140, 500, 360000). For L = 40: batch x "
                        "heads x L x L weights of 4 bytes each."
                    ),
                },
                {
                    "code": r"""
>>> assert all(abs(float(attention_gb[n]) / (2048e-9 * n * n) - 1) < 1e-6 for n in (140, 500, 360000))
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": ("The memory grows with the square of the length."),
                },
            ],
            "scored": True,
            "setup": "",
            "teardown": "",
            "type": "doctest",
        }
    ],
}
