"""The ECG5000 probe offset: our probes (SVM, 5-NN on pooled quantized latents) against the
thesis's choices, switched in one at a time, on stage-1 tokenizers trained with our pipeline.

    python results/calibration/probe_offset.py --seeds 1 2 3 --steps 300 --probe-at 300 --out ...
    python results/calibration/probe_offset.py --seeds 1 --full --probe-at 300 1000 2000 4000 --out ...

``--steps N``: the CPU preset's stage 1 (cosine schedule over N steps); ``--full``: the thesis's
stage-1 schedule (1000 epochs = 4000 steps on ECG5000, cosine period 5000). Probe variants are
computed on a copy of the tokenizer at each ``--probe-at`` step. Prints one JSON line per
(seed, step) and writes them all to ``--out``.
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ssl_book.data import load_ucr
from ssl_book.experiments import pipeline
from ssl_book.experiments.cli import make_config
from ssl_book.experiments.models import NCVQVAE
from ssl_book.probes import probe_accuracies

MADE: list[NCVQVAE] = []


class _Recorded(NCVQVAE):
    """NCVQVAE that remembers its instances, so that ``on_step`` can probe the model in training."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        MADE.append(self)


@torch.no_grad()
def _encode(tok, x: np.ndarray, order: np.ndarray, batch: int, train_mode: bool, vq_train: bool = True):
    """Pooled features of ``x`` encoded in the batches ``order`` gives (returned in row order).
    ``train_mode``: the encoder's BatchNorm uses batch statistics, as in the thesis's probe
    (Lightning's ``on_train_epoch_end`` runs with the module in training mode); ``vq_train``: the
    quantizer too (EMA codebook updates while encoding, as the thesis's ``quantize`` does)."""
    tok.train(train_mode)
    tok.quantizer.train(train_mode and vq_train)
    feats = {k: np.zeros((len(x), tok.dim * (2 if k == "zq_meanmax" else 1))) for k in ("zq", "z", "zq_meanmax")}
    xt = torch.as_tensor(x)
    for i in range(0, len(order), batch):
        idx = order[i:i + batch]
        z = tok.encode(xt[idx])
        zq = tok.quantize(z).z_q
        feats["zq"][idx] = zq.mean(dim=(2, 3)).double().numpy()
        feats["z"][idx] = z.mean(dim=(2, 3)).double().numpy()
        feats["zq_meanmax"][idx] = torch.cat([zq.mean(dim=(2, 3)), zq.amax(dim=(2, 3))], 1).double().numpy()
    tok.eval()
    return feats


def variants(tokenizer, data, seed: int) -> dict[str, dict[str, float]]:
    """Probe accuracies under each switched-in choice."""
    rng = np.random.default_rng(seed)
    ntr, nte = len(data.x_train), len(data.x_test)
    in_order_tr, in_order_te = np.arange(ntr), np.arange(nte)
    out = {}

    def probe(ftr, fte):
        return {k: round(v, 4) for k, v in probe_accuracies(ftr, data.y_train, fte, data.y_test).items()}

    ours_tr = _encode(copy.deepcopy(tokenizer), data.x_train, in_order_tr, 512, False)
    ours_te = _encode(copy.deepcopy(tokenizer), data.x_test, in_order_te, 512, False)
    out["ours (eval mode, GAP z_q)"] = probe(ours_tr["zq"], ours_te["zq"])
    out["pre-quantization z"] = probe(ours_tr["z"], ours_te["z"])
    out["mean+max of z_q"] = probe(ours_tr["zq_meanmax"], ours_te["zq_meanmax"])
    # the thesis's encode_data: training mode, batches of 128, train shuffled, test in file order,
    # train encoded before test with one model (its EMA codebook updates carry over)
    thesis = copy.deepcopy(tokenizer)
    th_tr = _encode(thesis, data.x_train, rng.permutation(ntr), 128, True)
    th_te = _encode(thesis, data.x_test, in_order_te, 128, True)
    out["thesis encoding (train-mode BN+EMA, test in file order)"] = probe(th_tr["zq"], th_te["zq"])
    bn_only = copy.deepcopy(tokenizer)
    b_tr = _encode(bn_only, data.x_train, rng.permutation(ntr), 128, True, vq_train=False)
    b_te = _encode(bn_only, data.x_test, in_order_te, 128, True, vq_train=False)
    out["train-mode BN only (no EMA), test in file order"] = probe(b_tr["zq"], b_te["zq"])
    shuf = copy.deepcopy(tokenizer)
    s_tr = _encode(shuf, data.x_train, rng.permutation(ntr), 128, True)
    s_te = _encode(shuf, data.x_test, rng.permutation(nte), 128, True)
    out["train-mode BN+EMA, test shuffled"] = probe(s_tr["zq"], s_te["zq"])
    # the thesis's preprocessing: one global mean and std of the training split
    mean, std = float(data.x_train.mean()), float(data.x_train.std())
    g_tr = _encode(copy.deepcopy(tokenizer), (data.x_train - mean) / std, in_order_tr, 512, False)
    g_te = _encode(copy.deepcopy(tokenizer), (data.x_test - mean) / std, in_order_te, 512, False)
    out[f"global standardisation (mean {mean:.2g}, std {std:.4f})"] = probe(g_tr["zq"], g_te["zq"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--full", action="store_true", help="the thesis's 1000-epoch stage-1 schedule")
    parser.add_argument("--probe-at", type=int, nargs="+", default=[300])
    parser.add_argument("--method", default="baseline")
    parser.add_argument("--augment", default=None)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    data = load_ucr("ECG5000")
    pipeline.NCVQVAE = _Recorded
    rows = []
    raw = probe_accuracies(data.x_train, data.y_train, data.x_test, data.y_test)
    print(json.dumps({"raw series": raw}), flush=True)
    for seed in args.seeds:
        overrides = {"stage1__steps": None} if args.full else {"stage1__steps": args.steps}
        config = make_config("ECG5000", args.method, args.augment, seed, preset="cpu", precision="fp32",
                             **overrides)
        MADE.clear()
        started = time.perf_counter()

        def on_step(step: int, seed=seed, started=started) -> None:
            if step in args.probe_at:
                row = {"seed": seed, "step": step, "seconds": round(time.perf_counter() - started, 1),
                       "probes": variants(MADE[-1].tokenizer, data, seed)}
                rows.append(row)
                print(json.dumps(row), flush=True)

        with tempfile.TemporaryDirectory() as tmp:
            paths = pipeline.run_paths(config, tmp)
            pipeline.train_stage1(config, data, paths, torch.device("cpu"), on_step=on_step)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"raw": raw, "rows": rows, "args": {k: str(v) for k, v in vars(args).items()}},
                                       indent=1))


if __name__ == "__main__":
    main()
