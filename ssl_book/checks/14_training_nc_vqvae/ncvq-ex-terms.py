OK_FORMAT = True

test = {
    "name": "ncvq-ex-terms",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
>>> assert set(term_shares) == set(histories)
>>> assert all(abs(sum(float(s) for s in shares.values()) - 1) < 1e-6 for shares in term_shares.values())
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "One dictionary of shares per run in histories; each run's shares add up to 1."
                    ),
                },
                {
                    "code": r"""
>>> from ssl_book.experiments.models import loss_terms as _terms
>>> _last = {n: {k: v[-1] for k, v in _terms(h["terms"]).items()} for n, h in histories.items()}
>>> assert all(set(term_shares[n]) == set(_p) for n, _p in _last.items())
>>> assert all(abs(float(term_shares[n][k]) - _p[k] / sum(_p.values())) < 1e-6 for n, _p in _last.items() for k in _p)
""",
                    "hidden": False,
                    "locked": False,
                    "failure_message": (
                        "Each share is the last logged value of the term over the sum of the last logged "
                        "values of all loss terms (loss_terms leaves out the total and the diagnostics)."
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
