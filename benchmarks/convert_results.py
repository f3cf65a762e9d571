"""Move the run metadata of result files written before benchmarks/harness.py into its "run" record.

The older scripts each wrote their own keys (command, cpu_count, machine, load_average_at_start, load_average,
load_average_before, minutes, total_seconds, ...); this moves their values, unchanged (but minutes, written as
wall_seconds), into the record (`harness.converted_record`: null where a value was not kept,
``converted_from_older_format: true``) and leaves every measurement where it is; absolute paths in the file become
relative (`harness.display_path`). Files that already hold a "run" are left alone, so running it twice changes
nothing.

    python benchmarks/convert_results.py                          # every benchmarks/results/**/*.json
    python benchmarks/convert_results.py benchmarks/results/fraud.json --check   # exit 1 if one needs converting
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys

import harness

# Notes of the older files, worded for any reader (without the development context they mentioned).
SHARED_TF = ("shared machine: other TensorFlow jobs ran on the same 2 cores during the run, so absolute figures are "
             "noisy; sides were interleaved and medians reported")
REWORDED = {
    "not measured: no GPU was lent to this session (target 1.5x on GPU unverified)":
        "not measured: the run had no GPU (target 1.5x on GPU unverified)",
}
ABSOLUTE = re.compile(r"(?<![\w/.])(/[\w.-]+)+")
TOP_LEVEL_LOADS = {"load_average_at_start": "load_average_before", "load_average_at_end": "load_average_after",
                   "load_average_before": "load_average_before", "load_average_after": "load_average_after",
                   "load_average": "load_average_before"}
# Files whose "command" is the user command a benchmark reproduces (a result), not the benchmark's own.
REPRODUCED_COMMAND = ("one_class_all", "pneumonia_defaults")


def relative_paths(value):
    """Every absolute path in a string (or inside lists and dicts) written as `harness.display_path` does."""
    if isinstance(value, str):
        return ABSOLUTE.sub(lambda m: harness.display_path(m.group(0)), value)
    if isinstance(value, list):
        return [relative_paths(v) for v in value]
    if isinstance(value, dict):
        return {k: relative_paths(v) for k, v in value.items()}
    return value


def converted(name: str, data: dict) -> dict:
    """The file `name` (its stem) in the new layout: {"run": ..., the rest in its order, "earlier_runs"?}."""
    data = dict(data)
    run: dict = {"machine": {}}
    earlier = []
    note = None
    if name not in REPRODUCED_COMMAND:
        run["command"] = data.pop("command", None)
    for old, new in TOP_LEVEL_LOADS.items():
        if old in data:
            run[new] = data.pop(old)
    for key in ("seconds", "total_seconds"):  # the whole run's time (one_class_all/pneumonia_defaults: a figure)
        if key in data and name not in REPRODUCED_COMMAND:
            run["wall_seconds"] = data.pop(key)
    if "cpu_count" in data:
        run["machine"]["cpu_count"] = data.pop("cpu_count")
    if "python" in data:
        run["versions"] = {"python": data.pop("python")}
    machine = data.get("machine")
    device = None
    if isinstance(machine, str):
        if m := re.fullmatch(r"(\d+) CPU cores, (.+)", machine):  # lecture.py: "N CPU cores, <device>"
            run["machine"]["cpu_count"], device = int(m.group(1)), m.group(2)
            if device.startswith("shared with"):  # memory.py
                device, note = None, "shared machine: other jobs ran during the runs (times are noisy, memory is not)"
        elif m := re.fullmatch(r"([\w-]+), (\d+) CPU cores, (.+)", machine):  # readme_timings.py
            run["machine"].update(machine=m.group(1), cpu_count=int(m.group(2)))
            note = m.group(3)
        else:  # fraud_speed.py, fraud_spark.py: platform.machine()
            run["machine"]["machine"] = machine
    elif isinstance(machine, dict):  # throughput.py
        device, note = machine.get("device"), SHARED_TF
        run["machine"].update(cpu_count=machine.get("cpu_cores"), platform=machine.get("platform"))
        run["versions"] = {k: machine[k] for k in ("keras", "tensorflow") if k in machine}
        run["load_average_before"] = machine.get("load_average_start")
        run["load_average_after"] = machine.get("load_average_end")
        if "minutes" in machine:
            run["wall_seconds"] = round(machine["minutes"] * 60, 1)
        if "load_average_time_to_target" in machine:  # a later --only-target run updated the file
            earlier.append(harness.converted_record(note=note, **run))
            before, after = machine["load_average_time_to_target"]
            run = {"command": data.pop("time_to_target_command", None), "load_average_before": before,
                   "load_average_after": after, "machine": dict(run["machine"]), "versions": run["versions"]}
    commands = data.get("commands")  # memory.py: its first command, then those that appended runs to the file
    if commands and all(isinstance(c, str) for c in commands):  # (readme_timings.py's are measurements)
        *first, last = data.pop("commands")
        earlier += [harness.converted_record(command=c, machine=dict(run["machine"]), note=note) for c in first]
        run["command"] = last
    out = {"run": harness.converted_record(note=note, **run)}
    for key, value in data.items():
        if key == "machine":
            if device is not None:
                out["device"] = device
            continue
        out[key] = REWORDED.get(value, value) if isinstance(value, str) else value
    out = {k: relative_paths(v) if k != "run" else v for k, v in out.items()}
    if earlier:
        out["earlier_runs"] = earlier
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("files", nargs="*", type=pathlib.Path)
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 naming each file to convert")
    args = p.parse_args(argv)
    todo = [f for f in args.files or sorted(harness.RESULTS.rglob("*.json")) if "run" not in harness.read_result(f)]
    for path in todo:
        if args.check:
            print(f"{harness.display_path(path)} is in the older format")
        else:
            harness.write_json(path, converted(path.stem, harness.read_result(path)))
            print(f"converted {harness.display_path(path)}")
    return 1 if todo and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
