"""What every command shares: one-line errors with exit code 2, JSON configs, a quiet TensorFlow."""

from __future__ import annotations

import argparse
import contextlib
import pathlib
import re
import signal
import sys
from collections.abc import Callable, Iterator, Sequence

from keras_ae.cli.config_values import config_value
from keras_ae.cli.parser import EXIT_USAGE, ArgumentParser  # noqa: F401  (every command takes them from here)
from keras_ae.errors import UsageError


def quiet_tensorflow() -> None:
    """Import TensorFlow and Keras without their start-up chatter (see `keras_ae.quiet`)."""
    from keras_ae import quiet

    quiet.import_tensorflow()


def parse_with_config(parser: argparse.ArgumentParser, argv: Sequence[str] | None,
                      config_option: str = "config") -> argparse.Namespace:
    """Parse `argv`; values from ``--config FILE.json`` become defaults that explicit flags override.

    The JSON object's keys are the options' parameter names (``"batch_size": 64``, ``"trim_fraction": 0.01``) or
    their flags without dashes (``"batch-size"``, ``"trim"``); an unknown key is a UsageError naming it.
    """
    return _parsed(parser, argv, config_option)[0]


def _parsed(parser: argparse.ArgumentParser, argv: Sequence[str] | None,
            config_option: str = "config") -> tuple[argparse.Namespace, str | None, set[str]]:
    """`parse_with_config`'s arguments, the config file, and the options whose value it gave."""
    from keras_ae.io import read_json

    args = parser.parse_args(argv)
    path = getattr(args, config_option, None)
    if not path:
        require_given(parser, args)
        return args, None, set()
    config = read_json(path, what="config file")
    if not isinstance(config, dict):
        raise UsageError(f"config file {path} must hold a JSON object of options")
    target = _chosen_subparser(parser, args)  # `fit --config c.json`: the options are the sub-command's
    actions = {action.dest: action for action in target._actions}
    negative = set()  # "no-jit": true is --no-jit, jit false
    for action in target._actions:  # a flag's own name also names its option ("trim" for trim_fraction)
        for flag in action.option_strings:
            name = flag.lstrip("-").replace("-", "_")
            actions.setdefault(name, action)
            if name != action.dest and (isinstance(action, argparse._StoreFalseAction) or (
                    isinstance(action, argparse.BooleanOptionalAction) and flag.startswith("--no-"))):
                negative.add(name)
    defaults = {}
    for key, value in config.items():
        dest = key.replace("-", "_")
        if dest not in actions or actions[dest].dest == config_option or isinstance(
                actions[dest], (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
            raise UsageError(f"config file {path}: unknown option {key!r}")
        if actions[dest].dest in defaults:  # "batch-size" and "batch_size", "trim" and "trim_fraction": one option
            raise UsageError(f"config file {path}: {key!r} sets an option an earlier key already set")
        value = config_value(actions[dest], value, f"config file {path}: {key!r}")
        defaults[actions[dest].dest] = (not value) if dest in negative and isinstance(value, bool) else value
    typed = {dest for dest in defaults if getattr(args, dest, None) != target.get_default(dest)}  # flags win
    target.set_defaults(**defaults)
    args = parser.parse_args(argv)
    require_given(parser, args)
    return args, path, set(defaults) - typed


def needed(action: argparse.Action) -> argparse.Action:
    """Mark an option required on the command line or in ``--config``: argparse cannot require it, since the
    config file is read after the first parse (`parse_with_config` checks it)."""
    action.needed = True
    return action


def require_given(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A UsageError for the first option marked `needed` that is still None (no config file was given)."""
    target = _chosen_subparser(parser, args)
    for action in target._actions:
        if getattr(action, "needed", False) and getattr(args, action.dest, None) is None:
            raise UsageError(f"the following arguments are required: {action.option_strings[0]}")


def _chosen_subparser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The sub-command's parser that `args` came through (the parser itself when it has no sub-commands)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = getattr(args, action.dest, None)
            if chosen in action.choices:
                return _chosen_subparser(action.choices[chosen], args)
    return parser


def run_main(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None,
             parser: Callable[[], argparse.ArgumentParser] | None = None) -> int:
    """Run a command's main; a UsageError becomes ``error: <message>`` on stderr and exit code 2.

    With `parser` (the command's parser factory), arguments the library names in the message
    (``chunksize=0``) are reworded as the command's flags (``--chunksize 0``). Run from the command line (`argv`
    None), a stop request while the process exits after the command (TensorFlow's teardown takes a second) leaves
    its exit code as it is (`interrupt.finish_on_signals`, at exit: a program that calls the command and goes on
    keeps its signals).
    """
    code = _run_main(main, argv, parser)
    if argv is None:
        import atexit

        from keras_ae import interrupt

        atexit.register(interrupt.finish_on_signals)  # after TensorFlow's: run before them
    return code


def _run_main(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None,
              parser: Callable[[], argparse.ArgumentParser] | None) -> int:
    from keras_ae import interrupt, quiet

    previous = interrupt.stop_on_signals()
    unraisable = sys.unraisablehook
    sys.unraisablehook = interrupt.unraisable_hook(unraisable)
    try:
        with quiet.filtered_stderr():
            return int(main(argv) or 0)
    except UsageError as err:
        if parser is None:
            message = str(err)
        elif err.param is not None:  # the parameter comes as data: no need to read it out of the text
            message = err.about(option_flags(parser()))
        else:
            message = as_flags(str(err), option_flags(parser()))
        print(f"error: {one_line(message)}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as stop:  # argparse refused an option (already said in one line); --help exits 0
        if stop.code in (0, None):
            raise
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    except BaseException as err:
        from keras_ae.errors import disk_full, name_too_long, out_of_memory

        if (memory := disk_full(err) or out_of_memory(err) or name_too_long(err)) is not None \
                and not interrupt.requested:
            print(f"error: {one_line(str(memory))}", file=sys.stderr)
            return EXIT_USAGE
        if isinstance(err, RecursionError) and not interrupt.requested:  # e.g. a model of thousands of layers
            print("error: too deep to build (Python's recursion limit was reached); use fewer layers",
                  file=sys.stderr)
            return EXIT_USAGE
        # A stop request that landed inside library code may come out as another exception (TensorFlow turns
        # it into an AssertionError when it interrupts a graph being traced): after a request it is the stop.
        if not (isinstance(err, KeyboardInterrupt) or interrupt.requested):
            raise
        print("error: interrupted", file=sys.stderr)
        return 130
    finally:
        sys.unraisablehook = unraisable
        if previous is not None:
            for number, handler in previous.items():
                signal.signal(number, handler)
            signal.signal(signal.SIGINT, signal.default_int_handler)


def one_line(message: str) -> str:
    """A message on one line whatever it quotes: a line break inside (a file name holding one, a value read
    from a file) is shown as \\n."""
    return message.replace("\r", "\\r").replace("\n", "\\n")


def as_flags(message: str, names: Sequence[str] | dict[str, str]) -> str:
    """A library message about arguments reworded about flags: "Expected epochs > 0, received epochs=0"
    -> "--epochs must be > 0, received 0"; other ``name=value`` -> ``--name value``. `names`: the parameter
    names, or a dict of parameter name -> flag (``{"trim_fraction": "--trim"}``)."""
    flags = names if isinstance(names, dict) else {}

    def flag(name: str) -> str:
        return flags.get(name) or "--" + name.replace("_", "-")

    match = re.fullmatch(r"Expected (\w+) (.+?), received (\w+)=(.*)", message, flags=re.S)
    if match and match.group(1) == match.group(3) and match.group(1) in names:
        return f"{flag(match.group(1))} must be {match.group(2)}, received {match.group(4)}"
    for name in sorted(names, key=len, reverse=True):
        message = re.sub(rf"(?<![\w'-]){name}=", flag(name) + " ", message)
        if "_" in name:  # a bare word like "score" may be prose; a bare "threshold_value" is the argument
            message = re.sub(rf"(?<![\w'-]){name}(?![\w'-])", flag(name), message)
    return message


def option_flags(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Every option's dest of `parser` and of its sub-commands -> its long flag (``trim_fraction`` -> ``--trim``)."""
    flags: dict[str, str] = {}
    for action in parser._actions:
        long = [s for s in action.option_strings if s.startswith("--")]
        if long:
            flags.setdefault(action.dest, long[0])
        for sub in (getattr(action, "choices", None) or {}).values() if isinstance(action, argparse._SubParsersAction) \
                else ():
            for dest, flag in option_flags(sub).items():
                flags.setdefault(dest, flag)
    return flags


@contextlib.contextmanager
def flag_errors(parser: argparse.ArgumentParser) -> Iterator[None]:
    """Turn a ValueError that names a parser option (a config check) into a UsageError about the flag."""
    try:
        yield
    except UsageError:
        raise
    except ValueError as err:
        raise UsageError(as_flags(str(err), option_flags(parser))) from None


def registry_help(registry, default: str | None = None) -> str:
    """'name (help), name (help)' of a registry, with the default named: the choices of an option."""
    text = ", ".join(registry)
    return text + (f" (default {default})" if default else "")


def checked_config(parser: argparse.ArgumentParser, argv: Sequence[str] | None, make_config: Callable) -> object:
    """Parse `argv` (with --config defaults), build the run's config and check it, all before TensorFlow
    loads: a bad option ends at once with a message about its flag. Then TensorFlow is imported quietly."""
    from keras_ae import outputs
    from keras_ae.run_marker import refuse_running

    args, source, from_config = _parsed(parser, argv)
    config = make_config(args)
    try:
        with flag_errors(parser):
            config.check()
            if getattr(config, "out", None) is not None:  # the run directory, before any work
                outputs.check_output(config.out, "run", config_inputs(config, args))
                refuse_running(pathlib.Path(config.out))
            elif hasattr(config, "out"):  # the default, runs/<time>-<label> here: not inside a folder it reads
                from keras_ae.data.registry import local_inputs

                default_inside(local_inputs(getattr(config, "dataset", "")))
    except UsageError as err:  # a value the config file gave: say so (the flag was not typed)
        if err.param is None or err.param not in from_config:
            raise
        raise UsageError(f"{err} (set in config file {source})", param=err.param) from None
    quiet_tensorflow()
    return config


def default_inside(inputs: list[str]) -> None:
    """A UsageError if the default run directory, runs/ in the current directory, would lie inside (or be) one of
    `inputs`: a run writing its pictures into the folder it trains on would train on them next time."""
    runs = pathlib.Path("runs").resolve()
    for source in inputs:
        if "://" in str(source):
            continue
        folder = pathlib.Path(source).resolve()
        if runs == folder or folder in runs.parents:
            raise UsageError(f"the default run directory, runs/ here, lies inside the input {source}; give --out "
                             "outside it (or run the command from another folder)", param="out")


def config_inputs(config: object, args: argparse.Namespace | None = None) -> list[str]:
    """The files and folders a run reads (its output may be none of them nor lie inside one)."""
    from keras_ae.data.registry import local_inputs

    found = local_inputs(getattr(config, "dataset", ""))
    for name in ("data_path", "font", "input"):
        if getattr(config, name, None):
            found.append(str(getattr(config, name)))
    if args is not None and getattr(args, "config", None):
        found.append(str(args.config))
    return found
