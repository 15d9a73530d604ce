"""The installed package: import boundaries and entry points."""

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from declare import __version__
from declare.cli import main


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
