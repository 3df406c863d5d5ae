OK_FORMAT = True

test = {
    "name": "vq-ex-orthogonal-bound",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> assert abs(float(orthogonal_bound) - 1 / 32) < 1e-9
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": ("The bound 1/D - 1/K for K = 32 codes in D = 16 dimensions."),
                },
                {
                    "code": r"""
>>> assert 1 / 32 - 1e-5 <= float(orthogonal_minimum) <= 1 / 32 + 0.005
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "Minimise orthogonal_loss over a free 32 x 16 codebook with Adam: the "
                        "minimum should come close to the bound, and no codebook goes below "
                        "it."
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
