OK_FORMAT = True

test = {
    "name": "pool-ex-padding",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> assert abs(float(first_output[True]) - 10 / 3) < 1e-5
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "count_include_pad=True: the padded zero counts as one of the three values."
                    ),
                },
                {
                    "code": r"""
>>> assert abs(float(first_output[False]) - 5) < 1e-5
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": ("count_include_pad=False: only the real values are averaged."),
                },
            ],
            "scored": True,
            "setup": "",
            "teardown": "",
            "type": "doctest",
        }
    ],
}
