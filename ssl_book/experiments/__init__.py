"""The NC-VQVAE pipeline: configurations, stage 1, stage 2, evaluation, results and reports.

Taught in the chapters "Training NC-VQVAE", "The prior and generation" and "Results"; run from
the command line with ``python -m ssl_book.experiments``.
"""

from ssl_book.experiments.config import EvalConfig, RunConfig, Stage1Config, Stage2Config

__all__ = ["EvalConfig", "RunConfig", "Stage1Config", "Stage2Config"]
