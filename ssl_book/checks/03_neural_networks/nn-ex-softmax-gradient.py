OK_FORMAT = True

test = {
    "name": "nn-ex-softmax-gradient",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> import torch as _t
>>> _g = _t.Generator().manual_seed(7)
>>> _z = _t.randn(9, 5, generator=_g, dtype=_t.float64, requires_grad=True)
>>> _y = _t.randint(0, 5, (9,), generator=_g)
>>> _t.nn.functional.cross_entropy(_z, _y, reduction='sum').backward()
>>> _mine = _t.as_tensor(cross_entropy_gradient(_z.detach().clone(), _y.clone()))
>>> assert _mine.shape == (9, 5) and _t.allclose(_mine.double(), _z.grad)
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "On random logits (9 examples, 5 classes) your gradient differs from autograd's."
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
