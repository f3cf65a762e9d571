"""`keras-ae-font` / `scripts/font.py`: the 5x7 character exercise.

Trains the dense 35-25-10-2-10-25-35 autoencoder on the 32 glyphs of data/font5x7.txt until every
character comes back with at most one wrong pixel, reports the per-character errors, draws the 2-D latent
space with each glyph at its code, decodes a new character between two known ones and the concept vector
between two characters. With --denoise it trains one denoiser per salt-and-pepper level instead.
"""

from __future__ import annotations

import pathlib
import sys
from collections.abc import Sequence

from keras_ae.cli.common import ArgumentParser, parse_with_config, quiet_tensorflow, run_main
from keras_ae.errors import UsageError

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear", "elu", "selu", "softplus")
INITIALIZERS = ("uniform", "glorot", "he")


def int_list(text: str) -> list[int]:
    return [int(v) for v in str(text).split(",") if v.strip()]


def float_list(text: str) -> list[float]:
    return [float(v) for v in str(text).split(",") if v.strip()]


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="keras-ae-font", description=__doc__.split("\n\n")[0])
    p.add_argument("--hidden", default="25,10", help="encoder hidden widths, mirrored in the decoder")
    p.add_argument("--latent-dim", type=int, default=2)
    p.add_argument("--activation", default="tanh", help=f"hidden activation ({', '.join(ACTIVATIONS)})")
    p.add_argument("--code-activation", default="linear", help="activation of the code layer")
    p.add_argument("--initializer", default="glorot", choices=INITIALIZERS)
    p.add_argument("--lr", type=float, default=0.003, help="Adam learning rate")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-epochs", type=int, default=10000, help="cap on passes over the 32 glyphs")
    p.add_argument("--max-wrong", type=int, default=1, help="target: wrong pixels allowed per character")
    p.add_argument("--between", default="m,n", help="decode a new character halfway between these two")
    p.add_argument("--concept", default="m,s", help="concept vector from the first character to the second")
    p.add_argument("--steps", type=int, default=9, help="images along the concept vector")
    p.add_argument("--denoise", action="store_true", help="train denoisers on salt-and-pepper noise instead")
    p.add_argument("--noise-levels", default="0.2,0.5,0.9", help="salt-and-pepper fractions for --denoise")
    p.add_argument("--denoise-epochs", type=int, default=300, help="Keras epochs per denoiser")
    p.add_argument("--copies", type=int, default=16, help="noisy copies of each glyph per denoising epoch")
    p.add_argument("--draws", type=int, default=20, help="noisy test versions of each glyph per level")
    p.add_argument("--font", default=None, help="font file (default data/font5x7.txt)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/font", help="output directory")
    p.add_argument("--config", default=None, help="JSON file of options (flags given here win)")
    return p


def check_args(args) -> None:
    try:
        args.hidden = int_list(args.hidden) if isinstance(args.hidden, str) else [int(v) for v in args.hidden]
    except ValueError:
        raise UsageError(f"--hidden must be comma-separated integers, received {args.hidden!r}") from None
    if not args.hidden or min(args.hidden) <= 0:
        raise UsageError(f"--hidden must be positive widths, received {args.hidden}")
    try:
        levels = args.noise_levels
        args.noise_levels = float_list(levels) if isinstance(levels, str) else [float(v) for v in levels]
    except ValueError:
        raise UsageError(f"--noise-levels must be comma-separated numbers, received {args.noise_levels!r}") \
            from None
    if not args.noise_levels or not all(0.0 <= v <= 1.0 for v in args.noise_levels):
        raise UsageError(f"--noise-levels must be fractions in [0, 1], received {args.noise_levels}")
    for name in ("activation", "code_activation"):
        if getattr(args, name) not in ACTIVATIONS:
            raise UsageError(f"--{name.replace('_', '-')}: unknown activation {getattr(args, name)!r} "
                             f"(known: {', '.join(ACTIVATIONS)})")
    for name in ("latent_dim", "batch_size", "max_epochs", "steps", "denoise_epochs", "copies", "draws"):
        if getattr(args, name) <= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be > 0, received {getattr(args, name)}")
    if args.lr <= 0:
        raise UsageError(f"--lr must be > 0, received {args.lr}")
    if args.max_wrong < 0:
        raise UsageError(f"--max-wrong must be >= 0, received {args.max_wrong}")
    for name in ("between", "concept"):
        pair = [v.strip() for v in getattr(args, name).split(",")]
        if len(pair) != 2:
            raise UsageError(f"--{name} takes two characters separated by a comma, received "
                             f"{getattr(args, name)!r}")
        setattr(args, name, pair)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_with_config(build_parser(), argv)
    check_args(args)
    quiet_tensorflow()
    from keras_ae.data.font import FONT_PATH, read_font

    font = read_font(args.font or FONT_PATH)
    for name in (*args.between, *args.concept):
        font.index(name)  # UsageError naming an unknown character before any training
    if args.latent_dim != 2 and not args.denoise:
        print("note: the latent-space picture shows the first two code dimensions", file=sys.stderr)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = run_denoising(args, font, out) if args.denoise else run_reconstruction(args, font, out)

    from keras_ae.io import write_json

    write_json(out / "font.json", report)
    print(f"-> {out}/font.json")
    return 0


def _model(args):
    from keras_ae import characters, training

    training.set_seed(args.seed)
    return characters.build_font_autoencoder(args.hidden, args.latent_dim, args.activation, args.initializer,
                                             args.code_activation, input_size=35)


def print_errors(names: Sequence[str], errors, header: str) -> None:
    print(header)
    print(" " + " ".join(f"{n:>4}" for n in names))
    print(" " + " ".join(f"{float(e):>4.3g}" for e in errors))


def per_character(names: Sequence[str], values) -> dict[str, float]:
    return {n: round(float(v), 3) for n, v in zip(names, values, strict=True)}


def run_reconstruction(args, font, out: pathlib.Path) -> dict:
    import numpy as np

    from keras_ae import artifacts, characters, latent, plots

    x = font.vectors
    model = _model(args)
    print(f"training {'-'.join(map(str, [35, *args.hidden, args.latent_dim, *args.hidden[::-1], 35]))} "
          f"until every character has <= {args.max_wrong} wrong pixel(s) (at most {args.max_epochs} epochs)")
    fit = characters.train_until_reconstructed(x, model, max_epochs=args.max_epochs, max_wrong=args.max_wrong,
                                               learning_rate=args.lr, batch_size=args.batch_size,
                                               seed=args.seed, report_every=500)
    recon = np.asarray(model.autoencoder(x, training=False))
    errors = characters.pixel_errors(recon, x)
    if fit.reached_epoch:
        print(f"every character has <= {args.max_wrong} wrong pixel(s) after {fit.reached_epoch} epochs "
              f"({fit.seconds:.1f} s)")
    else:
        print(f"not reached in {fit.epochs} epochs: worst character has {int(errors.max())} wrong pixels")
    print_errors(font.names, errors, "wrong pixels per character:")

    codes = latent.encode(model, x)
    a, b = (font.index(n) for n in args.between)
    new_code = (codes[a] + codes[b]) / 2.0
    new_glyph = latent.decode(model, new_code[None])[0]
    start, end = (font.index(n) for n in args.concept)
    concept = latent.interpolate(model, x[start], x[end], steps=args.steps)
    glyph_shape = (7, 5)

    artifacts.save_models(model, out)
    artifacts.save_history(fit.history, out / "history.csv")
    passes = fit.epochs // max(1, len(fit.history["loss"]))
    plots.overlaid_curves({"training loss (BCE)": (np.array(fit.history["loss"]),
                                                   np.zeros(len(fit.history["loss"])))},
                          out / "loss.png", title="Font autoencoder: training loss", epoch_scale=passes)
    half = len(x) // 2
    plots.image_rows([x[:half].reshape(-1, *glyph_shape), recon[:half].reshape(-1, *glyph_shape),
                      x[half:].reshape(-1, *glyph_shape), (recon[half:] > 0.5).reshape(-1, *glyph_shape)],
                     ["glyph", "output", "glyph", "output > 0.5"], out / "reconstruction.png")
    label = f"new: {args.between[0]}+{args.between[1]}"
    plots.glyph_scatter(codes, x.reshape(-1, *glyph_shape), font.names, out / "latent_space.png",
                        extra={label: (new_code, new_glyph.reshape(glyph_shape))},
                        title="Font latent space: each glyph at its code (new character in red)")
    captions = [f"{t:.2f}" for t in np.linspace(0, 1, args.steps)]
    plots.image_strip(concept.images.reshape(-1, *glyph_shape), out / "concept_vector.png", captions,
                      title=f"Concept vector '{args.concept[0]}' -> '{args.concept[1]}' (decoded codes)")
    from keras_ae.data.font import glyph_text

    return {
        "mode": "reconstruction",
        "architecture": [35, *args.hidden, args.latent_dim, *args.hidden[::-1], 35],
        "target_max_wrong": args.max_wrong,
        "epochs_needed": fit.reached_epoch,
        "epochs_run": fit.epochs,
        "seconds": round(fit.seconds, 2),
        "final_loss": fit.history["loss"][-1],
        "wrong_pixels": {n: int(e) for n, e in zip(font.names, errors, strict=True)},
        "total_wrong_pixels": int(errors.sum()),
        "codes": {n: [round(float(v), 4) for v in c] for n, c in zip(font.names, codes, strict=True)},
        "new_character": {"between": args.between, "code": new_code.round(4).tolist(),
                          "bitmap": glyph_text(new_glyph)},
        "concept_vector": {"from": args.concept[0], "to": args.concept[1],
                           "bitmaps": [glyph_text(img) for img in concept.images]},
        "options": {k: v for k, v in vars(args).items() if k != "config"},
        "pictures": ["loss.png", "reconstruction.png", "latent_space.png", "concept_vector.png"],
    }


def run_denoising(args, font, out: pathlib.Path) -> dict:
    import numpy as np

    from keras_ae import characters, plots
    from keras_ae.data.noise import salt_and_pepper

    x = font.vectors
    levels, series, rows, row_labels = {}, {}, [], []
    for level in args.noise_levels:
        model = _model(args)
        print(f"denoiser for salt-and-pepper {level:.0%}: {args.denoise_epochs} epochs x {args.copies} "
              "copies")
        fit = characters.train_denoiser(x, model, level, epochs=args.denoise_epochs, copies=args.copies,
                                        learning_rate=args.lr, seed=args.seed)
        result = characters.denoising_errors(model, x, level, draws=args.draws, seed=args.seed + 1000)
        print_errors(font.names, result["output"], f"mean wrong pixels per character after denoising "
                                                   f"({level:.0%} noise; noisy input had "
                                                   f"{result['input'].mean():.2f} on average):")
        key = f"{level:g}"
        levels[key] = {
            "input_wrong_pixels": per_character(font.names, result["input"]),
            "output_wrong_pixels": per_character(font.names, result["output"]),
            "mean_input_wrong": round(float(result["input"].mean()), 3),
            "mean_output_wrong": round(float(result["output"].mean()), 3),
            "characters_within_max_wrong": int((result["output"] <= args.max_wrong).sum()),
            "final_loss": fit.history["loss"][-1],
            "seconds": round(fit.seconds, 2),
        }
        series[f"{level:.0%} noise (input {result['input'].mean():.1f} wrong on average)"] = result["output"]
        noisy = salt_and_pepper(x[:12], level, seed=args.seed + 1000)
        denoised = np.asarray(model.autoencoder(noisy, training=False))
        rows += [noisy.reshape(-1, 7, 5), denoised.reshape(-1, 7, 5)]
        row_labels += [f"{level:.0%} noisy", "denoised"]
    plots.grouped_bars(font.names, series, out / "denoising_errors.png",
                       ylabel=f"mean wrong pixels of 35 ({args.draws} draws)",
                       title="Denoiser output: wrong pixels per character")
    plots.image_rows(rows, row_labels, out / "denoising_examples.png")
    return {"mode": "denoise", "noise": "salt-and-pepper (a hit pixel is set to 0 or 1 with equal odds)",
            "draws_per_character": args.draws, "levels": levels,
            "options": {k: v for k, v in vars(args).items() if k != "config"},
            "pictures": ["denoising_errors.png", "denoising_examples.png"]}


def cli(argv: Sequence[str] | None = None) -> int:
    return run_main(main, argv)


if __name__ == "__main__":
    sys.exit(cli())
