OK_FORMAT = True

test = {
    "name": "info-ex-perplexity",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> assert abs(float(r_four_codes) - 0.5) <= 0.02
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "At your ratio the perplexity of the 32 codes is not about 4: "
                        "normalise the frequencies r**k to a distribution before computing the "
                        "perplexity."
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
