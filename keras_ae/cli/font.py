"""`keras-ae-font` / `scripts/font.py`: the 5x7 character exercise.

Trains the dense 35-25-10-2-10-25-35 autoencoder on the 32 glyphs of data/font5x7.txt until every
character comes back with at most one wrong pixel, reports the per-character errors, draws the 2-D latent
space with each glyph at its code, decodes a new character between two known ones and the concept vector
between two characters. With --denoise it trains one denoiser per salt-and-pepper level instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from keras_ae.cli.common import ArgumentParser, checked_config, run_main
from keras_ae.errors import UsageError
from keras_ae.lectures.font import ACTIVATIONS, FontConfig
from keras_ae.models.registry import INITIALIZERS

SPECS = FontConfig.SPECS  # each option's type is the check of its FontConfig field


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="keras-ae-font", description=__doc__.split("\n\n")[0])
    p.add_argument("--hidden", type=SPECS["hidden"], default="25,10",
                   help="encoder hidden widths, mirrored in the decoder")
    p.add_argument("--latent-dim", type=SPECS["latent_dim"], default=2, help="width of the code (default 2)")
    p.add_argument("--activation", default="tanh", help=f"hidden activation ({', '.join(ACTIVATIONS)})")
    p.add_argument("--code-activation", default="linear", help="activation of the code layer")
    p.add_argument("--initializer", default="glorot", choices=tuple(INITIALIZERS), help="weight initialiser")
    p.add_argument("--lr", type=SPECS["lr"], default=0.003, help="Adam learning rate")
    p.add_argument("--batch-size", type=SPECS["batch_size"], default=8, help="glyphs per batch (default 8)")
    p.add_argument("--max-epochs", type=SPECS["max_epochs"], default=10000, help="cap on passes over the 32 glyphs")
    p.add_argument("--max-wrong", type=SPECS["max_wrong"], default=1,
                   help="target: wrong pixels allowed per character")
    p.add_argument("--between", default="m,n", help="decode a new character halfway between these two")
    p.add_argument("--concept", default="m,s", help="concept vector from the first character to the second")
    p.add_argument("--steps", type=SPECS["steps"], default=9,
                   help="images along the concept vector (2 to 100, default 9)")
    p.add_argument("--denoise", action="store_true", help="train denoisers on salt-and-pepper noise instead")
    p.add_argument("--noise-levels", type=SPECS["noise_levels"], default="0.2,0.5,0.9",
                   help="salt-and-pepper fractions in [0, 1] for --denoise")
    p.add_argument("--denoise-epochs", type=SPECS["denoise_epochs"], default=300, help="Keras epochs per denoiser")
    p.add_argument("--copies", type=SPECS["copies"], default=16,
                   help="noisy copies of each glyph per denoising epoch")
    p.add_argument("--draws", type=SPECS["draws"], default=20, help="noisy test versions of each glyph per level")
    p.add_argument("--font", default=None, help="font file (default data/font5x7.txt)")
    p.add_argument("--seed", type=SPECS["seed"], default=0, help="random seed, in [0, 2**32)")
    p.add_argument("--out", default="runs/font", help="output directory")
    p.add_argument("--config", default=None, help="JSON file of options (flags given here win)")
    for action in p._actions:  # every default in the help, as the other commands show theirs
        shown = action.default is not None and action.default is not False and action.default != argparse.SUPPRESS
        if shown and "default" not in (action.help or ""):
            action.help = f"{action.help} (default %(default)s)"
    return p


def check_args(args) -> None:
    """What the option types cannot check: the activation names and the two-character pairs (as lists)."""
    for name in ("activation", "code_activation"):
        if getattr(args, name) not in ACTIVATIONS:
            raise UsageError(f"--{name.replace('_', '-')}: unknown activation {getattr(args, name)!r} "
                             f"(known: {', '.join(ACTIVATIONS)})")
    for name in ("between", "concept"):
        value = getattr(args, name)
        pair = [v.strip() for v in value.split(",")] if isinstance(value, str) else value
        if len(pair) != 2:
            raise UsageError(f"--{name} takes two characters separated by a comma, received {value!r}")
        setattr(args, name, pair)


def config_from(args) -> FontConfig:
    check_args(args)
    return FontConfig(**{k: v for k, v in vars(args).items() if k != "config"})


def main(argv: Sequence[str] | None = None) -> int:
    config = checked_config(build_parser(), argv, config_from)  # every value checked before TensorFlow loads
    from keras_ae.lectures.font import run_font

    if config.latent_dim > 2 and not config.denoise:
        print("note: the latent-space picture shows the first two code dimensions", file=sys.stderr)
    run_font(config)
    print(f"-> {config.out}/font.json")
    return 0


def cli(argv: Sequence[str] | None = None) -> int:
    return run_main(main, argv, parser=build_parser)


if __name__ == "__main__":
    sys.exit(cli())
