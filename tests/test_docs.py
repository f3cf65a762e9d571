"""The README and docs/: generated tables agree with benchmarks/results, links resolve, code runs, no dev notes."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
USER_TEXT = [*PAGES, ROOT / "data" / "README.md"]
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def make_docs():
    spec = importlib.util.spec_from_file_location("make_docs", ROOT / "tools" / "make_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found, seen = set(), {}
    for line in FENCE.sub("", page.read_text()).splitlines():
        if m := re.match(r"#{1,6} (.+)", line):
            s = slug(m.group(1))
            found.add(s if s not in seen else f"{s}-{seen[s]}")
            seen[s] = seen.get(s, 0) + 1
    return found


def test_pages_agree_with_their_json(capsys):
    assert make_docs().main(["--check"]) == 0, capsys.readouterr().out


def test_check_fails_when_a_figure_changes(tmp_path, capsys):
    results = tmp_path / "results"
    shutil.copytree(ROOT / "benchmarks" / "results", results)
    path = results / "fraud_quick.json"
    data = json.loads(path.read_text())
    data["summary"]["methods"]["fraud_detector"]["mean_roc_auc"] += 0.01
    path.write_text(json.dumps(data))
    before = {p: p.read_text() for p in PAGES}
    assert make_docs().main(["--check", "--results", str(results)]) == 1
    out = capsys.readouterr().out
    assert "README.md: table headline" in out and "docs/fraud.md: table fraud_summary" in out
    assert {p: p.read_text() for p in PAGES} == before  # --check writes nothing


def test_generator_rewrites_a_stale_block(tmp_path):
    root = tmp_path / "clone"
    (root / "docs").mkdir(parents=True)
    shutil.copy(README, root / "README.md")
    page = root / "docs" / "fraud.md"
    text = (ROOT / "docs" / "fraud.md").read_text()
    page.write_text(re.sub(r"(<!-- table: fraud_ablation -->\n).*?(<!-- /table -->)", r"\1| stale |\n\2", text,
                           flags=re.S))
    tool = make_docs()
    assert tool.main(["--check", "--root", str(root)]) == 1
    assert tool.main(["--root", str(root)]) == 0
    assert page.read_text() == text and tool.main(["--check", "--root", str(root)]) == 0


def test_unknown_table_is_an_error(tmp_path, capsys):
    (tmp_path / "README.md").write_text("<!-- table: no_such_table -->\n<!-- /table -->\n")
    assert make_docs().main(["--check", "--root", str(tmp_path)]) == 2
    assert "no_such_table" in capsys.readouterr().err


def test_readme_is_short():
    assert len(README.read_text().splitlines()) <= 300


@pytest.mark.parametrize("page", USER_TEXT, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_development_notes(page):
    text = page.read_text()
    for pattern in (r"issue \d", r"\.\./shared", r"this machine", r"this session"):
        assert not re.search(pattern, text, re.I), f"{page.name}: {pattern!r}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_and_images_resolve(page):
    text = re.sub(r"`[^`\n]*`", "", FENCE.sub("", page.read_text()))
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(target)
    assert not broken, f"{page.name}: {broken}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_blocks_compile(page):
    blocks = python_blocks(page.read_text())
    assert blocks or page != README
    for i, code in enumerate(blocks):
        compile(code, f"{page.name} python block {i}", "exec")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_what_python_blocks_import_from_keras_ae_exists(page):
    """A name a page imports from keras_ae is there (no page shows a module or name the package no longer has)."""
    import ast
    import importlib

    missing = []
    for code in python_blocks(page.read_text()):
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("keras_ae"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if not hasattr(module, alias.name):
                        try:
                            importlib.import_module(f"{node.module}.{alias.name}")
                        except ImportError:
                            missing.append(f"{node.module}.{alias.name}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("keras_ae"):
                        try:
                            importlib.import_module(alias.name)
                        except ImportError:
                            missing.append(alias.name)
    assert not missing, f"{page.name}: {missing}"


def test_readme_notebook_snippet_runs():
    """The builders snippet, as a notebook user pastes it, with one epoch."""
    code = next(b for b in python_blocks(README.read_text()) if "build_conv()" in b)
    code = re.sub(r"epochs=\d+", "epochs=1", code)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "(1000, 4, 4, 8)" in done.stdout


@pytest.mark.parametrize(("page", "marker"), [("latent.md", "run_"), ("images.md", "run_"),
                                             ("speed.md", "get_strategy")])
def test_the_pages_python_walkthrough_runs_as_pasted(page, marker, tmp_path):
    """The page's Python block defines everything it uses: pasted into a fresh interpreter it runs (with one epoch
    per training stage), writing only below the folder it runs in."""
    code = next(b for b in python_blocks((ROOT / "docs" / page).read_text()) if marker in b)
    code = re.sub(r"epochs=\d+", "epochs=1", code)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert marker != "run_" or (tmp_path / "runs").is_dir()
