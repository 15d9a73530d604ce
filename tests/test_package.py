"""The installed package: import boundaries, entry points, the README's commands."""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from click.testing import CliRunner

from declare import __version__
from declare.cli import main
from photos import real_photo_path


def test_declare_models_imports_with_torch_alone():
    code = ("import sys, declare_models; "
            "bad = [m for m in ('click', 'PIL', 'timm', 'torchvision', 'declare') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_console_script_and_module_entry_agree():
    script = Path(sys.executable).with_name("declare")  # installed beside this interpreter
    for cmd in ([str(script), "--version"], [sys.executable, "-m", "declare", "--version"]):
        result = subprocess.run(cmd, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"declare, version {__version__}"


def test_presets_lists_parameter_counts():
    result = CliRunner().invoke(main, ["presets"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split() for line in result.output.splitlines()[1:]}
    assert {"paper", "small", "tiny"} <= set(lines)
    assert int(lines["paper"][1].replace(",", "")) > int(lines["small"][1].replace(",", ""))


README = Path(__file__).resolve().parents[1] / "README.md"


def _code_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of each fenced block of a Markdown text."""
    return re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M)


def test_readme_shell_blocks_hold_only_their_shells_commands():
    """A fish line in a bash block, pasted into bash, runs the `declare` builtin and
    writes the shell's variables into the completion file."""
    for language, body in _code_blocks(README.read_text()):
        if language in ("bash", "sh"):
            assert "fish_source" not in body, body


def test_readme_exporter_examples_run_in_order(tmp_path):
    """The 'Without the editor's plug-in' lines, pasted one after the other."""
    text = README.read_text()
    section = text[text.index("**Without the editor's plug-in**"):]
    language, body = _code_blocks(section)[0]
    scripts = Path(sysconfig.get_path("scripts"))
    if not (scripts / "declare-photo").is_file():
        pytest.skip("declare-photo script not installed")
    shutil.copyfile(real_photo_path(), tmp_path / "photo.jpg")
    env = {**os.environ, "PATH": f"{scripts}{os.pathsep}{os.environ['PATH']}"}
    for line in body.splitlines():
        command = line.split("#")[0].strip()
        done = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, (command, done.stderr)
    assert {"photo.declare.jpg", "photo.declare.ora", "photo.declare.jpg.xmp"} <= {p.name for p in tmp_path.iterdir()}


def test_readme_python_example_runs(tmp_path):
    """'Use from Python' is a runnable example: run it as a user would paste it."""
    text = README.read_text()
    section = text[text.index("## Use from Python"):]
    language, body = _code_blocks(section)[0]
    assert language == "python"
    done = subprocess.run([sys.executable, "-W", "error::UserWarning", "-c", body], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "BurstWarning" in done.stderr  # the burst warning it promises
    done = subprocess.run([sys.executable, "-c", body], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
