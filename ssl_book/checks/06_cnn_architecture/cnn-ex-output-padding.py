OK_FORMAT = True

test = {
    "name": "cnn-ex-output-padding",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> assert int(common_length) == 75
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": ("Output length of a convolution: floor((L + 2p - k) / s) + 1."),
                },
                {
                    "code": r"""
>>> assert int(output_padding_for[150]) == 1 and int(output_padding_for[149]) == 0
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "Length of a transposed convolution: (L - 1)s - 2p + k + output_padding."
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
