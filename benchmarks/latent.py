"""Font figures: epochs the 5x7 font needs for <= 1 wrong pixel per character and denoising errors under
salt-and-pepper noise (the smileys VAE is benchmarks/smileys.py).

    nice python benchmarks/latent.py            # about an hour on 2 busy CPU cores
    nice python benchmarks/latent.py --parts font   # re-run one part
    nice python benchmarks/latent.py --quick    # a smoke run (not the README figures)

Writes benchmarks/results/latent.json; run directories (with the pictures) go to benchmarks/out/latent/.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import harness  # noqa: E402

OUT = harness.OUT / "latent"
RESULT = harness.RESULTS / "latent.json"


def font_epochs(seeds, max_epochs):
    """Epochs (passes over the 32 glyphs) until every glyph has <= 1 wrong pixel, one run per seed."""
    from keras_ae import training
    from keras_ae.data.font import read_font
    from keras_ae.lectures import characters

    x = read_font().vectors
    runs = []
    for seed in seeds:
        training.set_seed(seed)
        model = characters.build_font_autoencoder()
        fit = characters.train_until_reconstructed(x, model, max_epochs=max_epochs, seed=seed)
        import numpy as np

        errors = characters.pixel_errors(np.asarray(model.autoencoder(x, training=False)), x)
        runs.append({"seed": seed, "epochs_needed": fit.reached_epoch, "epochs_run": fit.epochs,
                     "seconds": round(fit.seconds, 1), "worst_character_wrong": int(errors.max()),
                     "total_wrong": int(errors.sum())})
        print(runs[-1], flush=True)
    return runs


def timed(fn, *args):
    """Call a library run; returns (its result, seconds taken, rounded to 0.1)."""
    result, seconds = harness.timed(fn, *args)
    return result, round(seconds, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--parts", default="font,denoise,sweep",
                        help="comma-separated parts to (re)run; the others keep their figures in the JSON")
    args = parser.parse_args()
    run = harness.Run(__file__)
    from keras_ae.lectures import experiment
    from keras_ae.lectures.font import FontConfig, run_font
    from keras_ae.lectures.sweep import run_sweep

    quick, parts = args.quick, set(args.parts.split(","))
    target = RESULT if not quick else OUT / "latent_quick.json"
    result = harness.read_result(target, {})  # the parts not re-run keep their figures (and their run record)
    result["quick"] = quick
    if "font" in parts:
        result["font_epochs"] = font_epochs(range(2 if quick else 5), 200 if quick else 10000)
        font_dir = OUT / "font"
        report, result["font_run_seconds"] = timed(run_font, FontConfig(out=str(font_dir),
                                                                         max_epochs=200 if quick else 10000))
        result["font_run"] = {k: report[k] for k in ("epochs_needed", "epochs_run", "wrong_pixels",
                                                     "new_character", "concept_vector")}

    if "denoise" in parts:
        denoise_dir = OUT / "font-denoise"
        quick_options = {"denoise_epochs": 5, "draws": 3} if quick else {}
        report, result["denoise_seconds"] = timed(run_font, FontConfig(denoise=True, out=str(denoise_dir),
                                                                       **quick_options))
        result["denoise"] = report["levels"]

    if "sweep" in parts:
        sweep_dir = OUT / "font-sweep"
        config = harness.ROOT / "configs" / "font_sweep.json"
        if quick:
            tiny = json.loads(config.read_text())
            tiny.update(n_runs=1)
            tiny["grid"].update(activation=["tanh", "relu"], initializer=["glorot"], learning_rate=[0.005],
                                epochs=[20])
            config = OUT / "font_sweep_quick.json"
            harness.write_json(config, tiny)
        sweep = experiment.parse_sweep(json.loads(pathlib.Path(config).read_text()), source=str(config))
        _, result["sweep_seconds"] = timed(run_sweep, sweep, sweep_dir)
        import pandas as pd

        result["sweep_summary"] = pd.read_csv(sweep_dir / "summary.csv").to_dict(orient="records")

    harness.write_result(target, result, run.record())
    print(json.dumps({k: result.get(k) for k in ("font_epochs", "font_run")}, indent=1)[:3000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
