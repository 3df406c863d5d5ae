OK_FORMAT = True

test = {
    "name": "conv-ex-receptive-field",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> assert int(receptive_field([(3, 1, 1)])) == 3
>>> assert int(receptive_field([(5, 1, 4)])) == 17
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "One layer: a kernel of k taps with dilation d spans d(k - 1) + 1 inputs."
                    ),
                },
                {
                    "code": r"""
>>> assert int(receptive_field([(7, 2, 1), (5, 1, 2), (3, 2, 1)])) == 27
>>> assert int(receptive_field([(3, 2, 1)] * 3)) == 15
>>> assert int(receptive_field([(2, 2, 1)] * 3)) == 8
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "Stacks: a layer's span counts in outputs of the layer below, which "
                        "are as many inputs apart as the product of the strides below it."
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
