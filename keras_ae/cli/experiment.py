"""`keras-ae-experiment` / `scripts/experiment.py`: run a grid of configurations from a JSON sweep file.

Every configuration of the grid is trained `n_runs` times (seeds seed, seed+1, ...). Writes results.csv
(one row per run), summary.csv (mean and std per configuration), histories.csv (loss per epoch per run),
comparison.png (mean +- std of the chosen metric per configuration) and loss_curves.png (overlaid).
"""

from __future__ import annotations

import pathlib
import sys
from collections.abc import Sequence

from keras_ae.cli.common import ArgumentParser, quiet_tensorflow, run_main
from keras_ae.errors import UsageError


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="keras-ae-experiment", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", required=True, help="sweep file (JSON), see configs/*.json")
    p.add_argument("--out", default=None, help="output directory (default runs/experiment-<config name>)")
    p.add_argument("--dry-run", action="store_true", help="check the file and list the configurations only")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from keras_ae.io import read_json
    from keras_ae.lectures import experiment

    sweep = experiment.parse_sweep(read_json(args.config, what="config file"), source=args.config)
    settings, configs = sweep.settings, sweep.configs
    runs = len(configs) * settings["n_runs"]
    print(f"{len(configs)} configuration(s) x {settings['n_runs']} seed(s) = {runs} run(s) "
          f"of {settings['arch']} on {settings['dataset']}")
    if args.dry_run:
        for i, config in enumerate(configs):
            print(f"  c{i:02d}  {config.label()}")
        return 0
    quiet_tensorflow()
    from keras_ae.lectures.sweep import run_sweep

    name = settings["name"] or pathlib.Path(args.config).stem
    if args.out is not None and not args.out.strip():
        raise UsageError(f"--out {args.out!r}: empty path")
    out = run_sweep(sweep, f"runs/experiment-{name}" if args.out is None else args.out, inputs=[args.config])
    print(f"-> {out}/results.csv, summary.csv, comparison.png, loss_curves.png")
    return 0


def cli(argv: Sequence[str] | None = None) -> int:
    return run_main(main, argv, parser=build_parser)


if __name__ == "__main__":
    sys.exit(cli())

