OK_FORMAT = True

test = {
    "name": "rep-ex-digits",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> assert float(multiple_of_10_accuracy['decimal']) >= 0.99
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "With one-hot decimal digits one indicator answers the question: a "
                        "linear probe should be (nearly) perfect."
                    ),
                },
                {
                    "code": r"""
>>> assert 0.5 <= float(multiple_of_10_accuracy['binary']) < float(multiple_of_10_accuracy['decimal'])
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "With binary digits divisibility by 10 is not linear: the probe should "
                        "do worse than with decimal digits."
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
