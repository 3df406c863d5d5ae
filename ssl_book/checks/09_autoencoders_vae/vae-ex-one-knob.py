OK_FORMAT = True

test = {
    "name": "vae-ex-one-knob",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> _k = [float(v) for v in knob_differences]
>>> assert len(_k) >= 3, 'at least three trials'
>>> assert max(_k) - min(_k) <= 1e-6 * (1 + max(abs(v) for v in _k))
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "The differences should be the same constant in every trial (the two "
                        "losses differ by a factor and a constant): divide the loss with "
                        "sigma_x = 1 by sigma_x**2."
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
