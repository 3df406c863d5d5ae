OK_FORMAT = True

test = {
    "name": "stft-ex-frames",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> import torch as _t
>>> from ssl_book.signal import stft as _stft
>>> assert all(int(frames_centred(n, h)) == _stft(_t.zeros(1, n), 8, h).shape[-1]
...            for n in (20, 23, 36, 61) for h in range(1, 9))
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "The centred count is wrong for some length and hop (N = 8): centring "
                        "pads N/2 samples at each end."
                    ),
                },
                {
                    "code": r"""
>>> import torch as _t
>>> from ssl_book.signal import stft as _stft
>>> assert all(int(frames_uncentred(n, f, h))
...            == _stft(_t.zeros(1, n), f, h, center=False).shape[-1]
...            for n in (20, 23, 36, 61) for f in (8, 16) for h in range(1, 9))
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "The uncentred count is wrong for some length, n_fft or hop: the last "
                        "frame must end by the last sample."
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
