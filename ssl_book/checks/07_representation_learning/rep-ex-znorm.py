OK_FORMAT = True

test = {
    "name": "rep-ex-znorm",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> assert float(gain_accuracy['scaled']) >= 0.9
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "On the scaled series the gain is visible in the amplitude: a linear "
                        "probe should find it almost always."
                    ),
                },
                {
                    "code": r"""
>>> assert float(gain_accuracy['z-normalised']) <= 0.7
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "After z-normalisation the gain is gone from the data: the probe "
                        "should be near chance level (0.5)."
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
