"""`keras-ae-font` / `scripts/font.py`: the 5x7 character exercise.

Trains the dense 35-25-10-2-10-25-35 autoencoder on the 32 glyphs of data/font5x7.txt until every
character comes back with at most one wrong pixel, reports the per-character errors, draws the 2-D latent
space with each glyph at its code, decodes a new character between two known ones and the concept vector
between two characters. With --denoise it trains one denoiser per salt-and-pepper level instead.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from keras_ae.cli.common import ArgumentParser, parse_with_config, quiet_tensorflow, run_main
from keras_ae.errors import UsageError
from keras_ae.models.registry import INITIALIZERS

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear", "elu", "selu", "softplus")


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
    p.add_argument("--initializer", default="glorot", choices=tuple(INITIALIZERS))
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
    from keras_ae.lectures.font import FontConfig, run_font

    if args.latent_dim != 2 and not args.denoise:
        print("note: the latent-space picture shows the first two code dimensions", file=sys.stderr)
    run_font(FontConfig(**{k: v for k, v in vars(args).items() if k != "config"}))
    print(f"-> {args.out}/font.json")
    return 0


def cli(argv: Sequence[str] | None = None) -> int:
    return run_main(main, argv, parser=build_parser)


if __name__ == "__main__":
    sys.exit(cli())
