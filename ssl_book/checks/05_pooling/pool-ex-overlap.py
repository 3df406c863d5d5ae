OK_FORMAT = True

test = {
    "name": "pool-ex-overlap",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> assert int(overlap_lengths[3]) == 27 and int(overlap_lengths[2]) == 27
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "Output length of pooling without padding: floor((L - size) / stride) + 1."
                    ),
                },
                {
                    "code": r"""
>>> assert int(never_maximum[2]) == 28
>>> assert 28 <= int(never_maximum[3]) <= 54
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "Count the inputs whose gradient is zero. With size 2 the 27 windows "
                        "are disjoint; with size 3 neighbouring windows share an input."
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
