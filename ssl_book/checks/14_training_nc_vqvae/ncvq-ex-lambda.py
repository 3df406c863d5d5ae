OK_FORMAT = True

test = {
    "name": "ncvq-ex-lambda",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> _d = configs["barlowtwins-slice"].stage1.projector_dim
>>> assert 0 < float(lambd) < 1
>>> assert abs(float(lambd) * (_d - 1) - 0.005 * (4096 - 1)) <= 0.0005 * (_d - 1)
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "The redundancy term's weight is lambda (D - 1): with the thesis's lambda = 0.005 "
                        "and D = 4096 it is 0.005 x 4095; find the lambda that gives this page's D the "
                        "same weight."
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
