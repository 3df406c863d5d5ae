OK_FORMAT = True

test = {
    "name": "ssl-ex-barlow",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> assert abs(float(barlow_original) - float(barlow_rescaled)) <= 1e-6 * (1 + abs(float(barlow_original)))
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "Shifting and rescaling a view's dimensions by positive factors should "
                        "leave the loss unchanged."
                    ),
                },
                {
                    "code": r"""
>>> assert float(barlow_original) < float(barlow_constant)
>>> assert 4 < float(barlow_constant) < 8
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "A nearly constant second view has (almost) no correlation with the "
                        "first: with 6 dimensions each diagonal term stays near 1."
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
