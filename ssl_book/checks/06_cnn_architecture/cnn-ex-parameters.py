OK_FORMAT = True

test = {
    "name": "cnn-ex-parameters",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> from ssl_book.fcn import FCN as _FCN
>>> assert int(fcn_parameters) == sum(p.numel() for p in _FCN(2).parameters())
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "Your count differs from PyTorch's: count the weights and biases of "
                        "the three convolutions, the scale and shift of the three BatchNorms, "
                        "and the linear layer."
                    ),
                },
                {
                    "code": r"""
>>> assert abs(float(second_block_share) - 164608 / 264962) < 0.002
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "The share of the second block (its parameters over the FCN's) is off."
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
