OK_FORMAT = True

test = {
    "name": "cnn-ex-stride-one",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> import torch as _t
>>> _g = _t.Generator().manual_seed(3)
>>> _y = _t.randn(2, 3, 20, generator=_g, dtype=_t.float64)
>>> _w = _t.randn(3, 2, 5, generator=_g, dtype=_t.float64)
>>> _f = _t.nn.functional.conv_transpose1d
>>> assert all(_t.allclose(transposed_as_convolution(_y, _w, p), _f(_y, _w, padding=p)) for p in (0, 1, 2))
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "3 -> 2 channels, kernel size 5, paddings 0, 1 and 2: your convolution "
                        "differs from the transposed convolution."
                    ),
                },
                {
                    "code": r"""
>>> import torch as _t
>>> _g = _t.Generator().manual_seed(4)
>>> _y = _t.randn(1, 4, 11, generator=_g, dtype=_t.float64)
>>> _w = _t.randn(4, 1, 3, generator=_g, dtype=_t.float64)
>>> _f = _t.nn.functional.conv_transpose1d
>>> assert _t.allclose(transposed_as_convolution(_y, _w, 1), _f(_y, _w, padding=1))
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "4 -> 1 channels, kernel size 3, padding 1: your convolution differs "
                        "from the transposed convolution."
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
