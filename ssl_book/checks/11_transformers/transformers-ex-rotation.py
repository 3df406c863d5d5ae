OK_FORMAT = True

test = {
    "name": "transformers-ex-rotation",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> import torch as _t
>>> from ssl_book.transformer import sinusoidal_positions as _pe
>>> _r = _t.as_tensor(rotation_for_offset(5, 32)).float()
>>> assert _r.shape == (32, 32)
>>> assert _t.allclose(_pe(100, 32)[:-5] @ _r, _pe(100, 32)[5:], atol=1e-4)
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "For k = 5, d = 32: PE(p) R_k should equal PE(p + k) for every position p < 95."
                    ),
                },
                {
                    "code": r"""
>>> import torch as _t
>>> from ssl_book.transformer import sinusoidal_positions as _pe
>>> assert all(_t.allclose(_pe(60, d)[:-k] @ _t.as_tensor(rotation_for_offset(k, d)).float(),
...                       _pe(60, d)[k:], atol=1e-4) for k, d in ((1, 8), (17, 16)))
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "Other offsets and widths (k = 1, d = 8; k = 17, d = 16): R_k depends "
                        "on k through the angles k * omega_i."
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
