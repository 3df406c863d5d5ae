OK_FORMAT = True

test = {
    "name": "stft-ex-alias",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> assert abs(float(alias_peaks[0.8]) - 0.2) <= 0.005
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "f = 0.8: a cosine is the same at f and -f, and at f plus any whole number."
                    ),
                },
                {
                    "code": r"""
>>> assert abs(float(alias_peaks[1.3]) - 0.3) <= 0.005
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "f = 1.3: subtract whole numbers of cycles per sample until f lies in [-1/2, 1/2]."
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
