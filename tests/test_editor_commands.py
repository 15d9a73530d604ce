"""What the editor plug-ins run: the installed declare, from any folder, whatever the
path of the venv, each photo to its own output. darktable's Lua script runs here in
Lua (lupa) against a stand-in for darktable's API whose ``control.execute`` runs the
command line through the real shell."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from declare.cli import main
from photos import real_photo_path

lupa = pytest.importorskip("lupa", reason="lupa not installed (pip install -e '.[dev]')")

DARKTABLE = """
local photo, cwd = ...
executed, imported, printed = {}, {}, {}
local dt = {
  preferences = {register = function(...) end, read = function(...) return "" end},
  configuration = {tmp_dir = TMP},
  control = {
    execute = function(command) table.insert(executed, command); return run_shell(command, cwd) end,
    sleep = function() end,
    dispatch = function(f, ...) f(...) end,
  },
  database = {import = function(path)
    table.insert(imported, path); return {group_with = function() end} end},
  gui = {action_images = IMAGES, views = {lighttable = "lighttable"},
         create_job = function() return {valid = true, percent = 0} end},
  new_format = function() return {write_image = function(self, image, path) copy(photo, path) end} end,
  new_widget = function() return function(t) return t end end,
  register_lib = function(...) end,
  print = function(text) table.insert(printed, text) end,
  print_error = function(text) table.insert(printed, text) end,
}
package.preload["darktable"] = function() return dt end
"""


def trap_folder(tmp_path: Path) -> Path:
    """A folder holding a clone-like ``declare/declare/``: ``python -m declare`` run
    there imports the clone as a namespace package and fails."""
    folder = tmp_path / "home"
    (folder / "declare" / "declare").mkdir(parents=True)
    (folder / "declare" / "README.md").write_text("a clone of declare\n")
    return folder


@pytest.fixture
def spaced_scripts(tmp_path, monkeypatch):
    """This installation's scripts folder seen through a path with a space in it."""
    real = Path(__import__("sysconfig").get_path("scripts"))
    if not (real / "declare-photo").is_file():
        pytest.skip("declare-photo script not installed")
    spaced = tmp_path / "my venv" / "bin"
    spaced.mkdir(parents=True)
    (spaced / "declare-photo").symlink_to(real / "declare-photo")
    import declare_plugins
    monkeypatch.setattr(declare_plugins.sysconfig, "get_path", lambda name: str(spaced))
    return spaced


def run_darktable_script(script: Path, images: list[dict], cwd: Path, tmp: Path) -> dict:
    lua = lupa.LuaRuntime(unpack_returned_tuples=True)
    g = lua.globals()
    g.TMP = str(tmp)
    g.IMAGES = lua.table(*[lua.table_from(i) for i in images])
    g.copy = lambda src, dst: shutil.copyfile(src, dst) and None
    g.run_shell = lambda command, folder: subprocess.run(command, shell=True, cwd=folder).returncode
    lua.execute(DARKTABLE, str(real_photo_path()), str(cwd))
    module = lua.execute(script.read_text())
    module.remove_reflection()
    return {name: list(g[name].values()) for name in ("executed", "imported", "printed")}


def test_darktable_cleans_raw_and_jpeg_of_one_shot_into_two_files_from_a_clone_folder(
        tmp_path, spaced_scripts):
    result = CliRunner().invoke(main, ["plugins", "install", "darktable", "--dest", str(tmp_path / "dt")])
    assert result.exit_code == 0, result.output
    script = tmp_path / "dt" / "lua" / "contrib" / "declare.lua"
    photos = tmp_path / "shoot 1"
    photos.mkdir()
    images = [{"id": 1, "filename": "IMG_1.CR2", "path": str(photos)},
              {"id": 2, "filename": "IMG_1.JPG", "path": str(photos)}]
    (tmp_path / "tmp").mkdir()
    seen = run_darktable_script(script, images, trap_folder(tmp_path), tmp_path / "tmp")
    assert seen["printed"] == ["declare: 2 of 2 photos cleaned"], seen
    assert seen["imported"] == [str(photos / "IMG_1.CR2.declare.jpg"), str(photos / "IMG_1.declare.jpg")]
    assert all(Path(p).stat().st_size > 1000 for p in seen["imported"])
    assert not list((tmp_path / "tmp").iterdir())  # the exported copies are removed


def test_gimp_plugin_command_runs_from_a_clone_folder(tmp_path, spaced_scripts):
    result = CliRunner().invoke(main, ["plugins", "install", "gimp", "--dest", str(tmp_path / "gimp")])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "gimp" / "declare-remove-reflection" / "declare-remove-reflection.py").read_text()
    line = next(li for li in text.splitlines() if li.startswith("DECLARE = "))
    command = ast.literal_eval(line.split("=", 1)[1].strip())
    assert command == [str(spaced_scripts / "declare-photo")]
    done = subprocess.run(command + ["--version"], cwd=trap_folder(tmp_path), capture_output=True, text=True)
    assert done.returncode == 0 and "declare, version" in done.stdout, done.stderr


def test_without_the_script_the_module_runs_with_the_working_folder_off_the_path(tmp_path, monkeypatch):
    import declare_plugins
    monkeypatch.setattr(declare_plugins.sysconfig, "get_path", lambda name: str(tmp_path / "none"))
    command = declare_plugins.declare_command()
    assert command[0] == sys.executable and command[-2:] == ["-m", "declare"]
    if sys.version_info < (3, 11):
        pytest.skip("-P needs Python 3.11")
    done = subprocess.run(command + ["--version"], cwd=trap_folder(tmp_path), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_sandboxed_editors_are_pointed_out_and_a_flatpak_one_reaches_declare_through_the_host(
        tmp_path, monkeypatch):
    """A Flatpak or Snap GIMP or darktable reads its own folder, not ~/.config: the
    installer says where it is; installed there, a Flatpak editor's command goes
    through flatpak-spawn --host (its sandbox has no view of this Python)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))
    flatpak_gimp = tmp_path / ".var" / "app" / "org.gimp.GIMP" / "config" / "GIMP" / "3.0" / "plug-ins"
    flatpak_gimp.mkdir(parents=True)
    (tmp_path / "snap" / "darktable" / "current").mkdir(parents=True)
    gimp = CliRunner().invoke(main, ["plugins", "install", "gimp"])
    assert gimp.exit_code == 0, gimp.output
    assert f"a Flatpak gimp is here too, reading {flatpak_gimp}" in gimp.output
    darktable = CliRunner().invoke(main, ["plugins", "install", "darktable"])
    assert "a Snap darktable is here too" in darktable.output and "cannot run programs" in darktable.output
    native = (tmp_path / ".config" / "GIMP" / "3.0" / "plug-ins" / "declare-remove-reflection"
              / "declare-remove-reflection.py").read_text()
    assert "flatpak-spawn" not in native
    there = CliRunner().invoke(main, ["plugins", "install", "gimp", "--dest", str(flatpak_gimp)])
    assert there.exit_code == 0 and "note:" not in there.output
    text = (flatpak_gimp / "declare-remove-reflection" / "declare-remove-reflection.py").read_text()
    line = next(li for li in text.splitlines() if li.startswith("DECLARE = "))
    assert ast.literal_eval(line.split("=", 1)[1].strip())[:2] == ["flatpak-spawn", "--host"]
