"""The documentation in the repository: docs/API.md names every public function, its examples run, the README
links it, every local link resolves, and the docstrings render with pydoc (the standard tool) without errors."""
import doctest
import inspect
import pathlib
import pydoc
import re
import subprocess
import sys
import warnings

import pytest

import dualnum
import dualnum.testing
import dualnum.tracker
import nn

ROOT = pathlib.Path(__file__).resolve().parent.parent
API = ROOT / "docs" / "API.md"
README = ROOT / "README.md"


def code_words(text):
    """Every identifier inside a `code span` or a code block of a markdown text."""
    spans = re.findall(r"```.*?```|`[^`\n]+`", text, flags=re.S)
    return {w for span in spans for w in re.findall(r"\w+", span)}


def _testing_names():
    """dualnum.testing's public functions and classes (it has no __all__): those defined in it."""
    return [n for n, o in vars(dualnum.testing).items()
            if not n.startswith("_") and (inspect.isfunction(o) or inspect.isclass(o))
            and o.__module__ == dualnum.testing.__name__]


@pytest.mark.parametrize("module", [dualnum, dualnum.tracker, nn, dualnum.testing], ids=lambda m: m.__name__)
def test_every_public_name_is_in_the_api_reference(module):
    names = getattr(module, "__all__", None) or _testing_names()
    assert names, f"{module.__name__} exports nothing?"
    documented = code_words(API.read_text(encoding="utf-8"))
    missing = [n for n in names if n not in documented]
    assert not missing, f"docs/API.md does not mention {module.__name__}: {missing}"


def test_the_api_reference_names_no_function_that_does_not_exist():
    """Each `name(` written in a table row's first column is a real function of the section's module."""
    text = API.read_text(encoding="utf-8")
    modules = {"`dualnum`": dualnum, "`dualnum.tracker`": dualnum.tracker, "`dualnum.testing`": dualnum.testing,
               "`nn`": nn}
    module, checked = None, 0
    for line in text.splitlines():
        if line.startswith("## "):
            module = next((m for key, m in modules.items() if key in line), None)
        elif line.startswith("| `") and module is not None:
            first = line.split("|")[1]
            for name in re.findall(r"`(\w+)[(`]", first):
                assert hasattr(module, name), f"docs/API.md: {module.__name__}.{name} does not exist"
                checked += 1
    assert checked >= 80


def test_the_api_reference_examples_run():
    result = doctest.testfile(str(API), module_relative=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted >= 15 and result.failed == 0


def test_the_readme_links_the_reference_and_every_local_link_resolves():
    readme = README.read_text(encoding="utf-8")
    assert "(docs/API.md)" in readme
    for doc in (README, API):
        text = doc.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)]+)\)", text):
            if "://" in target or target.startswith("#"):
                continue
            assert (doc.parent / target.split("#")[0]).exists(), f"{doc.name} links {target}, which is not there"


def test_the_docs_stand_on_their_own():
    """Someone who clones the repository has README.md and docs/, not the files of the process that wrote them."""
    for doc in (README, API):
        text = doc.read_text(encoding="utf-8")
        assert "../shared" not in text and "SPEC.md" not in text, f"{doc.name} points outside the repository"
        for word in ("session", "issue"):
            assert not re.search(rf"\b{word}", text, flags=re.I), f"{doc.name} speaks of {word}s"


def test_the_readme_keeps_its_two_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert lines[3].startswith('pip install -e ".[digits]" && python -m tutorials')
    assert lines[4].startswith('pip install -e ".[test]" && python -m pytest -q')


@pytest.mark.parametrize("name", ["dualnum", "dualnum.tracker", "dualnum.testing", "nn", "nn.landscape", "nn.train"])
def test_pydoc_renders_the_docstrings_without_warnings(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = pydoc.render_doc(pydoc.locate(name), renderer=pydoc.plaintext)
    assert len(text) > 500


def test_the_html_reference_builds_with_one_command_without_warnings(tmp_path):
    """The command docs/API.md gives, run with warnings as errors, writes one page per module."""
    command = re.search(r"`python -m pydoc -w ([\w. ]+)`", API.read_text(encoding="utf-8"))
    assert command, "docs/API.md does not give the pydoc command"
    modules = command.group(1).split()
    done = subprocess.run([sys.executable, "-W", "error", "-m", "pydoc", "-w", *modules], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    assert "problem" not in done.stdout, done.stdout
    for m in modules:
        page = tmp_path / f"{m}.html"
        assert page.exists() and page.stat().st_size > 2000, f"{page.name} was not written"
