OK_FORMAT = True

test = {
    "name": "transformers-ex-corruption",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> import torch as _t
>>> _x = _t.randint(0, n_levels, (400, 50), generator=_t.Generator().manual_seed(1))
>>> _c, _m = bert_corruption(_x.clone(), _t.Generator().manual_seed(2))
>>> assert _c.shape == _x.shape and _m.shape == _x.shape and _m.dtype == _t.bool
>>> assert abs(_m.float().mean().item() - 0.15) < 0.01
>>> assert _t.equal(_c[~_m], _x[~_m])
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "About 15% of the positions should be chosen, and only chosen positions may change."
                    ),
                },
                {
                    "code": r"""
>>> import torch as _t
>>> _x = _t.randint(0, n_levels, (400, 50), generator=_t.Generator().manual_seed(1))
>>> _c, _m = bert_corruption(_x.clone(), _t.Generator().manual_seed(2))
>>> assert abs((_c[_m] == mask_id).float().mean().item() - 0.8) < 0.03
>>> assert abs((_c[_m] == _x[_m]).float().mean().item() - (0.1 + 0.1 / n_levels)) < 0.03
>>> assert ((_c[_m] >= 0) & (_c[_m] <= mask_id)).all()
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "Among the chosen positions: 80% [MASK] (mask_id), 10% a random token, 10% unchanged."
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
