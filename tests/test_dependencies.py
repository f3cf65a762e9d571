"""pyproject.toml declares what the package imports, and nothing it does not."""

import ast
import pathlib
import sys

import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]
# import name -> distribution name, where they differ
DISTRIBUTIONS = {"sklearn": "scikit-learn", "PIL": "pillow", "tensorflow_datasets": "tensorflow-datasets",
                 "yaml": "pyyaml"}
# declared for what they do without being imported by name (pandas reads .zst through zstandard; tfds imports
# importlib_resources without declaring it; the dev tools run as commands)
INDIRECT = {"zstandard", "importlib_resources", "pytest", "pytest-xdist", "hypothesis", "ruff", "tensorflow"}


def imported_packages() -> set[str]:
    names = set()
    for path in [*ROOT.glob("keras_ae/**/*.py"), *ROOT.glob("scripts/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    third_party = names - set(sys.stdlib_module_names) - {"keras_ae", "__future__"}
    return {DISTRIBUTIONS.get(n, n) for n in third_party}


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = [*project["dependencies"], *(d for extra in project["optional-dependencies"].values() for d in extra)]
    return {s.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower() for s in specs}


def test_every_imported_package_is_declared():
    assert imported_packages() - declared() == set()


def test_every_declared_package_is_imported_or_needed_for_a_stated_reason():
    assert declared() - imported_packages() - INDIRECT == set()


def test_the_package_list_names_every_package_and_the_shipped_samples():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {str(p.parent.relative_to(ROOT)).replace("/", ".") for p in ROOT.glob("keras_ae/**/__init__.py")}
    assert set(setuptools["packages"]) == found | {"keras_ae._shipped"}
    assert setuptools["package-dir"]["keras_ae._shipped"] == "data"
    from keras_ae.data.base import shipped_file

    for name in ("mnist_sample.npz", "font5x7.txt"):
        assert shipped_file(name).is_file()


def test_a_wheel_install_finds_the_samples_beside_the_package(tmp_path, monkeypatch):
    import keras_ae.data.base as base

    fake = tmp_path / "site-packages" / "keras_ae"
    (fake / "data").mkdir(parents=True)
    (fake / "_shipped").mkdir()
    (fake / "_shipped" / "font5x7.txt").write_text("x")
    monkeypatch.setattr(base, "__file__", str(fake / "data" / "base.py"))
    assert base.shipped_file("font5x7.txt") == fake / "_shipped" / "font5x7.txt"
