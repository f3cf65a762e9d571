"""The 5x7 character exercise as a run: train the 35-25-10-2-10-25-35 autoencoder until every glyph comes back
with at most `max_wrong` wrong pixels (pictures of the latent space, a new character, a concept vector), or
train one denoiser per salt-and-pepper level. `keras-ae-font` is `run_font` behind argparse."""

from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Sequence
from typing import Any, ClassVar

from keras_ae.errors import UsageError
from keras_ae.options import LEARNING_RATE, POSITIVE_INT, SEED, UNIT, Each, Spec, check_fields

INK = "gray_r"  # glyphs are drawn as ink (1) on paper (0): black on white, in every font picture
SHOWN = 128  # the glyphs the reconstruction and latent-space pictures draw (the lecture's font has 32)

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear", "elu", "selu", "softplus")


@dataclasses.dataclass
class FontConfig:
    hidden: list[int] = dataclasses.field(default_factory=lambda: [25, 10])
    latent_dim: int = 2
    activation: str = "tanh"
    code_activation: str = "linear"
    initializer: str = "glorot"
    lr: float = 0.003
    batch_size: int = 8
    max_epochs: int = 10000
    max_wrong: int = 1
    between: list[str] = dataclasses.field(default_factory=lambda: ["m", "n"])
    concept: list[str] = dataclasses.field(default_factory=lambda: ["m", "s"])
    steps: int = 9
    denoise: bool = False
    noise_levels: list[float] = dataclasses.field(default_factory=lambda: [0.2, 0.5, 0.9])
    denoise_epochs: int = 300
    copies: int = 16
    draws: int = 20
    font: str | None = None
    seed: int = 0
    out: str = "runs/font"

    # What every numeric field accepts: the argparse type of its option in `keras-ae-font` and the check here.
    SPECS: ClassVar[dict[str, Spec | Each]] = {
        "hidden": Each(POSITIVE_INT),
        "latent_dim": POSITIVE_INT,
        "lr": LEARNING_RATE,
        "batch_size": POSITIVE_INT,
        "max_epochs": POSITIVE_INT,
        "max_wrong": Spec(int, 0, 35),  # a glyph has 35 pixels
        "steps": Spec(int, 2, 100),  # the two ends at least (latent.interpolate); a picture shows them all
        "noise_levels": Each(UNIT),
        "denoise_epochs": POSITIVE_INT,
        "copies": POSITIVE_INT,
        "draws": POSITIVE_INT,
        "seed": SEED,
    }

    def check(self) -> None:
        """UsageError naming the first field out of range (the rule of its `SPECS` entry), before any work."""
        from keras_ae.models.registry import INITIALIZERS

        check_fields(self)
        for name in ("activation", "code_activation"):
            if getattr(self, name) not in ACTIVATIONS:
                raise UsageError(f"{name}: unknown activation {getattr(self, name)!r} "
                                 f"(known: {', '.join(ACTIVATIONS)})")
        if self.initializer not in INITIALIZERS:
            raise UsageError(f"initializer: unknown initializer {self.initializer!r} "
                             f"(known: {', '.join(INITIALIZERS)})")
        for name in ("between", "concept"):
            check_pair(name, getattr(self, name))
        if len({f"{level:g}" for level in self.noise_levels}) != len(self.noise_levels):  # font.json's keys
            raise UsageError(f"noise_levels lists a level twice (to 6 significant digits): {self.noise_levels!r}",
                             param="noise_levels")
        unused = RECONSTRUCTION_ONLY if self.denoise else DENOISE_ONLY
        defaults = FontConfig()
        for name in unused:  # a value away from the default that the mode would ignore: say so
            if list_of(getattr(self, name)) != list_of(getattr(defaults, name)):
                where = "runs without --denoise; a --denoise run" if self.denoise else "--denoise runs; this run"
                raise UsageError(f"{name}={getattr(self, name)!r} applies to {where} does not use it", param=name)


# Options only one of the two modes reads (the other keeps their defaults).
RECONSTRUCTION_ONLY = ("max_epochs", "batch_size", "between", "concept", "steps")
DENOISE_ONLY = ("noise_levels", "denoise_epochs", "copies", "draws")


def list_of(value: Any) -> Any:
    """A tuple as a list (a config read from JSON holds lists), anything else as it is."""
    return list(value) if isinstance(value, tuple) else value


def check_pair(name: str, pair: Any) -> None:
    """`between` and `concept` name two different characters."""
    if isinstance(pair, str) or len(pair) != 2 or not all(isinstance(c, str) and c for c in pair):
        raise UsageError(f"{name} must be two characters, received {pair!r}", param=name)
    if pair[0] == pair[1]:
        raise UsageError(f"{name} must be two different characters, received {pair!r}", param=name)


def run_font(config: FontConfig) -> dict:
    """Run the exercise; writes the pictures, the models and font.json into `config.out`; returns the report."""
    config.check()
    from keras_ae import training
    from keras_ae.data.font import FONT_PATH, read_font
    from keras_ae.io import write_json
    from keras_ae.run_marker import unfinished_marker

    font = read_font(FONT_PATH if config.font is None else config.font)
    # UsageError naming an unknown character and its option before training (a --denoise run does not use them)
    for option in () if config.denoise else ("between", "concept"):
        for name in getattr(config, option):
            try:
                font.index(name)
            except UsageError as err:
                raise UsageError(f"{option}: {err}", param=option) from None
    out = pathlib.Path(config.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"out={config.out!r} is an existing file, not a directory")
    with unfinished_marker(out, "font"), training.global_state(seed=config.seed):
        report = run_denoising(config, font, out) if config.denoise else run_reconstruction(config, font, out)
        write_json(out / "font.json", report)
    return report


def _model(config):
    from keras_ae import training
    from keras_ae.lectures import characters

    training.set_seed(config.seed)
    return characters.build_font_autoencoder(config.hidden, config.latent_dim, config.activation, config.initializer,
                                             config.code_activation, input_size=35)


def print_errors(names: Sequence[str], errors, header: str) -> None:
    print(header)
    print(" " + " ".join(f"{n:>4}" for n in names))
    print(" " + " ".join(f"{float(e):>4.3g}" for e in errors))


def per_character(names: Sequence[str], values) -> dict[str, float]:
    return {n: round(float(v), 3) for n, v in zip(names, values, strict=True)}


def run_reconstruction(config, font, out: pathlib.Path) -> dict:
    import numpy as np

    from keras_ae import artifacts, figures, latent
    from keras_ae.lectures import characters
    from keras_ae.lectures import figures as lecture_figures

    x = font.vectors
    model = _model(config)
    print(f"training {'-'.join(map(str, [35, *config.hidden, config.latent_dim, *config.hidden[::-1], 35]))} "
          f"until every character has <= {config.max_wrong} wrong pixel(s) (at most "
          f"{characters.epoch_cap(config.max_epochs)} epochs)")
    fit = characters.train_until_reconstructed(x, model, max_epochs=config.max_epochs, max_wrong=config.max_wrong,
                                               learning_rate=config.lr, batch_size=config.batch_size,
                                               seed=config.seed, progress=True)
    recon = np.asarray(model.autoencoder(x, training=False))
    errors = characters.pixel_errors(recon, x)
    if fit.reached_epoch:
        print(f"every character has <= {config.max_wrong} wrong pixel(s) after {fit.reached_epoch} epochs "
              f"({fit.seconds:.1f} s)")
    else:
        print(f"not reached in {fit.epochs} epochs: worst character has {int(errors.max())} wrong pixels")
    print_errors(font.names, errors, "wrong pixels per character:")

    codes = latent.encode(model, x)
    a, b = (font.index(n) for n in config.between)
    new_code = (codes[a] + codes[b]) / 2.0
    new_glyph = latent.decode(model, new_code[None])[0]
    start, end = (font.index(n) for n in config.concept)
    concept = latent.interpolate(model, x[start], x[end], steps=config.steps)
    glyph_shape = (7, 5)

    artifacts.save_models(model, out)
    artifacts.save_history(fit.history, out / "history.csv")
    passes = fit.epochs // max(1, len(fit.history["loss"]))
    figures.overlaid_curves({"training loss (BCE)": (np.array(fit.history["loss"]),
                                                   np.zeros(len(fit.history["loss"])))},
                          out / "loss.png", title="Font autoencoder: training loss", epoch_scale=passes)
    drawn = min(len(x), SHOWN)  # a font of thousands of glyphs: the pictures show the first SHOWN
    half = -(-drawn // 2)  # two blocks of columns; every column captioned with its character
    blocks = [slice(0, half), slice(half, drawn)]
    rows = [array for part in blocks for array in (x[part].reshape(-1, *glyph_shape),
                                                   (recon[part] > 0.5).reshape(-1, *glyph_shape))]
    first = f"the first {drawn} of {len(x)} glyphs, each" if drawn < len(x) else "each glyph"
    figures.image_rows(rows, ["glyph", "output", "glyph", "output"], out / "reconstruction.png",
                       captions=[font.names[blocks[0]], None, font.names[blocks[1]], None],
                       title=f"{first[0].upper() + first[1:]} over its output rounded at 0.5 ({int(errors.sum())} "
                             "wrong pixels in all)", cmap=INK)
    label = f"new: {config.between[0]}+{config.between[1]}"
    lecture_figures.glyph_scatter(codes[:drawn], x[:drawn].reshape(-1, *glyph_shape), font.names[:drawn],
                                  out / "latent_space.png", extra={label: (new_code, new_glyph.reshape(glyph_shape))},
                                  title=f"Font latent space: {first} at its code (new character in red)")
    captions = [f"{t:.2f}" for t in np.linspace(0, 1, config.steps)]
    figures.image_strip(concept.images.reshape(-1, *glyph_shape), out / "concept_vector.png", captions,
                      title=f"Concept vector '{config.concept[0]}' -> '{config.concept[1]}' (decoded codes)", cmap=INK)
    from keras_ae.data.font import glyph_text

    return {
        "mode": "reconstruction",
        "architecture": [35, *config.hidden, config.latent_dim, *config.hidden[::-1], 35],
        "target_max_wrong": config.max_wrong,
        "epochs_needed": fit.reached_epoch,
        "epochs_run": fit.epochs,
        "seconds": round(fit.seconds, 2),
        "final_loss": fit.history["loss"][-1],
        "wrong_pixels": {n: int(e) for n, e in zip(font.names, errors, strict=True)},
        "total_wrong_pixels": int(errors.sum()),
        "codes": {n: [round(float(v), 4) for v in c] for n, c in zip(font.names, codes, strict=True)},
        "new_character": {"between": config.between, "code": new_code.round(4).tolist(),
                          "bitmap": glyph_text(new_glyph)},
        "concept_vector": {"from": config.concept[0], "to": config.concept[1],
                           "bitmaps": [glyph_text(img) for img in concept.images]},
        "options": dataclasses.asdict(config),
        "pictures": ["loss.png", "reconstruction.png", "latent_space.png", "concept_vector.png"],
    }


def _shown_name(name: str) -> str:
    """A character's name as a picture's caption (matplotlib reads a lone '$' or '`' oddly: quote them)."""
    return repr(name) if len(name) == 1 and not name.isalnum() else name


def run_denoising(config, font, out: pathlib.Path) -> dict:
    import numpy as np

    from keras_ae import figures
    from keras_ae.data.noise import salt_and_pepper
    from keras_ae.lectures import characters

    x = font.vectors
    shown = min(12, len(x))  # the first characters, clean on top, then each level's noisy input and its output
    levels, series, rows, row_labels = {}, {}, [x[:shown].reshape(-1, 7, 5)], ["clean"]
    for level in config.noise_levels:
        model = _model(config)
        print(f"denoiser for salt-and-pepper {level:.0%}: {config.denoise_epochs} epochs x {config.copies} "
              "copies")
        fit = characters.train_denoiser(x, model, level, epochs=config.denoise_epochs, copies=config.copies,
                                        learning_rate=config.lr, seed=config.seed, progress=True)
        result = characters.denoising_errors(model, x, level, draws=config.draws, seed=config.seed + 1000)
        print_errors(font.names, result["output"], f"mean wrong pixels per character after denoising "
                                                   f"({level:.0%} noise; noisy input had "
                                                   f"{result['input'].mean():.2f} on average):")
        key = f"{level:g}"
        levels[key] = {
            "input_wrong_pixels": per_character(font.names, result["input"]),
            "output_wrong_pixels": per_character(font.names, result["output"]),
            "mean_input_wrong": round(float(result["input"].mean()), 3),
            "mean_output_wrong": round(float(result["output"].mean()), 3),
            "characters_within_max_wrong": int((result["output"] <= config.max_wrong).sum()),
            "final_loss": fit.history["loss"][-1],
            "seconds": round(fit.seconds, 2),
        }
        series[f"{level:.0%} noise (input {result['input'].mean():.1f} wrong on average)"] = result["output"]
        noisy = salt_and_pepper(x[:shown], level, seed=config.seed + 1000)
        denoised = np.asarray(model.autoencoder(noisy, training=False))
        rows += [noisy.reshape(-1, 7, 5), denoised.reshape(-1, 7, 5)]
        row_labels += [f"{level:.0%} noisy", "denoised"]
    bars = min(len(x), SHOWN)  # a font of thousands of glyphs: the first SHOWN
    figures.grouped_bars(font.names[:bars], {k: v[:bars] for k, v in series.items()}, out / "denoising_errors.png",
                         ylabel=f"mean wrong pixels of 35 ({config.draws} draws)",
                         title="Denoiser output: wrong pixels per character" +
                               (f" (the first {bars} of {len(x)})" if bars < len(x) else ""))
    figures.image_rows(rows, row_labels, out / "denoising_examples.png",
                       title="Salt-and-pepper noise in, the denoiser's output below each level",
                       captions=[[_shown_name(n) for n in font.names[:shown]]] + [None] * (len(rows) - 1), cmap=INK)
    return {"mode": "denoise", "noise": "salt-and-pepper (a hit pixel is set to 0 or 1 with equal odds)",
            "draws_per_character": config.draws, "levels": levels,
            "options": dataclasses.asdict(config),
            "pictures": ["denoising_errors.png", "denoising_examples.png"]}
