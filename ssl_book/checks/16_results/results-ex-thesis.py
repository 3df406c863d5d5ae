OK_FORMAT = True

test = {
    "name": "results-ex-thesis",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> from ssl_book.experiments.evidence import NC_CONFIGS as _configs
>>> assert set(fid_wins) == set(_configs)
>>> assert all(0 <= int(w) <= 13 for w in fid_wins.values())
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "A count out of the 13 datasets for each of the six NC-VQVAE configurations."
                    ),
                },
                {
                    "code": r"""
>>> from ssl_book.experiments.evidence import NC_CONFIGS as _configs
>>> from ssl_book.experiments.report import thesis_results as _thesis_results
>>> _t = _thesis_results()
>>> _datasets = sorted({k[0] for k in _t})
>>> _wins = {c: sum(_t[(d, "fid", c)][0] < _t[(d, "fid", "baseline")][0] for d in _datasets)
...          for c in _configs}
>>> assert all(int(fid_wins[c]) == _wins[c] for c in _configs)
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "Lower FID is better: count the datasets where the configuration's mean FID is "
                        "below the baseline's."
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
