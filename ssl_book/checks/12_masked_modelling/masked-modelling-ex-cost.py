OK_FORMAT = True

test = {
    "name": "masked-modelling-ex-cost",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> assert int(network_evaluations['left-to-right']) == 40
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": ("A left-to-right prior generates one token per network evaluation."),
                },
                {
                    "code": r"""
>>> assert int(network_evaluations['maskgit']) == 10
>>> assert int(network_evaluations['maskgit-guided']) == 20
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "MaskGIT: one evaluation per decoding step; guidance needs a "
                        "conditional and an unconditional prediction at every step."
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
