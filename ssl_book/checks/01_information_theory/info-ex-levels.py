OK_FORMAT = True

test = {
    "name": "info-ex-levels",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> assert sorted(level_bits) == [4, 16, 64, 256]
>>> assert all(0 < level_bits[n] <= __import__('math').log2(n) + 1e-9 for n in level_bits)
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "One entropy per number of levels (4, 16, 64, 256), in bits: never "
                        "more than the bits of a fixed-length code."
                    ),
                },
                {
                    "code": r"""
>>> import numpy as _np
>>> from ssl_book.data import load_ucr as _load
>>> _v = _load('ECG5000').x_train.reshape(-1)
>>> _c = {n: _np.bincount(_np.digitize(_v, _np.linspace(_v.min(), _v.max(), n + 1)[1:-1]),
...      minlength=n) for n in (4, 16, 64, 256)}
>>> _h = {n: float(-(c[c > 0] / c.sum() * _np.log2(c[c > 0] / c.sum())).sum())
...       for n, c in _c.items()}
>>> assert all(abs(float(level_bits[n]) - _h[n]) < 0.01 for n in _h)
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "Round all the training heartbeats' values to equally spaced levels "
                        "between their minimum and maximum, as the compression experiment "
                        "does, and take the entropy of the level frequencies in bits."
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
