OK_FORMAT = True

test = {
    "name": "stft-ex-constant",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> assert abs(float(lf_share[1]) - 2 / 3) < 1e-3
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "low_bins=1: bin 0 of a frame is c times the sum of the window; "
                        "weighted overlap-add then divides by the sum of the squared windows."
                    ),
                },
                {
                    "code": r"""
>>> assert abs(float(lf_share[2]) - 1) < 1e-3
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "low_bins=2: where does the rest of a constant's spectrum sit, for a "
                        "Hann window of 8 samples?"
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
