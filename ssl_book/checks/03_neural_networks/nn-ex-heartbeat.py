OK_FORMAT = True

test = {
    "name": "nn-ex-heartbeat",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> assert int(heartbeat_width) == 128
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "Build the interpolating network of each width for the first ECG5000 "
                        "training heartbeat and compute its RMS error over the 140 samples."
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
