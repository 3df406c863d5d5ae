OK_FORMAT = True

test = {
    "name": "nn-ex-perceptron-xor",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> assert len(xor_mistakes) == 100 and min(xor_mistakes) > 0
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "On the plain XOR inputs the perceptron should make mistakes in every "
                        "one of the 100 epochs."
                    ),
                },
                {
                    "code": r"""
>>> assert product_mistakes[-1] == 0 and len(product_mistakes) < 100
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "With the input x1*x2 the classes are linearly separable: the "
                        "perceptron stops after an epoch without mistakes."
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
