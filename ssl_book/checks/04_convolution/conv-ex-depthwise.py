OK_FORMAT = True

test = {
    "name": "conv-ex-depthwise",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> assert int(full_parameters) == 36928
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "The full convolution: 64 x 64 kernels of 9 weights, plus one bias per "
                        "output channel."
                    ),
                },
                {
                    "code": r"""
>>> assert int(separable_parameters) == 4800
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "Depthwise: one 9-tap kernel per channel plus biases; pointwise: a 64 "
                        "x 64 matrix plus biases."
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
