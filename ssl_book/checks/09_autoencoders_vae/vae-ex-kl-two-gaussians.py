OK_FORMAT = True

test = {
    "name": "vae-ex-kl-two-gaussians",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> import math as _m
>>> assert abs(float(kl_closed_form) - 0.5 * (_m.log(4) + 4.5 / 2 - 1)) < 1e-6
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "The closed form for m1 = 1, v1 = 0.5, m2 = -1, v2 = 2 is off: mind "
                        "variances against standard deviations."
                    ),
                },
                {
                    "code": r"""
>>> import math as _m
>>> assert abs(float(kl_monte_carlo) - 0.5 * (_m.log(4) + 4.5 / 2 - 1)) < 0.02
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "The Monte Carlo estimate is the mean of log q(z) - log p(z) over "
                        "draws z from q (200,000 of them)."
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
