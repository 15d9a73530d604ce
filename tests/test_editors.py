"""Our GIMP 3 plug-in and darktable script inside the real programs.

GIMP 3 needs the Debian 13 root of scripts/gimp3_root.sh; darktable needs
Debian's darktable and Xvfb. .ci/run provides both when it runs as root and
the packages can be installed; otherwise each test skips saying why.
DECLARE_SCREENSHOTS=DIR keeps darktable's screenshot there (docs/ holds one).
"""

from __future__ import annotations

import ast
import os
import shutil
import time
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageGrab

from declare.cli import main
from editors import (darktable_missing, gimp3_missing, run_gimp, virtual_screen, wait_for)
from photos import copy_real

pytestmark = pytest.mark.slow  # training, editors, networks: the full suite's (pytest -m 'not slow' skips them)

PROCEDURE = "declare-remove-reflection"
PHOTO = "glass-1.jpg"  # a test photo through glass (tests/data)


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(np.int16)


@pytest.fixture
def gimp_home(tmp_path):
    if gimp3_missing():
        pytest.skip(gimp3_missing())
    plugins = tmp_path / "home" / ".config" / "GIMP" / "3.0" / "plug-ins"
    result = CliRunner().invoke(main, ["plugins", "install", "gimp", "--dest", str(plugins)])
    assert result.exit_code == 0, result.output
    copy_real(tmp_path, PHOTO)
    return tmp_path


def _without_warnings(output: str) -> None:
    for sign in ("inconsistent", "Traceback", "stray image"):
        assert sign not in output, output[-3000:]


def test_gimp3_registers_the_plugin(gimp_home):
    records, output = run_gimp(f"""
procedure = PDB.lookup_procedure({PROCEDURE!r})
report(found=procedure is not None, menus=procedure.get_menu_paths(),
       label=procedure.get_menu_label(), types=procedure.get_image_types())
""", gimp_home)
    assert records == [{"found": True, "menus": ["<Image>/Filters/Enhance"],
                        "label": "Remove Reflection...", "types": "RGB*, GRAY*"}], output[-3000:]
    _without_warnings(output)


def test_gimp3_plugin_adds_the_cleaned_layer(gimp_home):
    """On a real photo's layer: one new layer above it, which is declare's result for
    that layer's pixels, the original untouched, the undo group closed, nothing left over."""
    w = str(gimp_home)
    records, output = run_gimp(f"""
image = load({str(gimp_home / PHOTO)!r})
image.undo_enable()  # a batch-loaded image starts with undo off; a user's has it on
layer = image.get_layers()[0]
save_layer(layer, {w!r} + "/before.png")
status = run_procedure({PROCEDURE!r}, image, [layer])
layers = image.get_layers()
report(status=status, layers=[l.get_name() for l in layers],
       sizes=[[l.get_width(), l.get_height(), *l.get_offsets()[1:]] for l in layers],
       undo=image.undo_is_enabled(), images=len(Gimp.get_images()))
save_layer(layers[0], {w!r} + "/cleaned.png")
save_layer(layers[1], {w!r} + "/after.png")
image.delete()
""", gimp_home)
    assert records, output[-3000:]
    (ran,) = records
    assert ran["status"] == "success", output[-3000:]
    assert ran["layers"] == ["declare: reflection removed", "Background"]
    assert ran["sizes"][0] == ran["sizes"][1]
    assert ran["undo"] and ran["images"] == 1  # undo still on; the plug-in's scratch image is gone
    _without_warnings(output)  # GIMP reports a plug-in that leaves an undo group open

    before = gimp_home / "before.png"
    assert (pixels(gimp_home / "after.png") == pixels(before)).all()
    expected = gimp_home / "expected.png"
    done = subprocess.run([sys.executable, "-m", "declare", str(before), "-o", str(expected), "-q"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    cleaned = pixels(gimp_home / "cleaned.png")
    assert np.abs(cleaned - pixels(expected)).max() <= 1
    assert np.abs(cleaned - pixels(before)).mean() > 0.5  # the layer really changed
    assert not list((gimp_home / "tmp").glob("declare-gimp-*"))  # its scratch folder is removed


def test_gimp3_plugin_keeps_grey_and_alpha_layers_as_they_are(gimp_home):
    """The procedure takes RGB* and GRAY* images: a greyscale layer gets a greyscale
    result, a layer with alpha a result with alpha."""
    photo = Image.open(gimp_home / PHOTO)
    photo.convert("L").save(gimp_home / "grey.png")
    photo.convert("RGBA").save(gimp_home / "alpha.png")
    w = str(gimp_home)
    records, output = run_gimp(f"""
for name in ("grey", "alpha"):
    image = load({w!r} + "/" + name + ".png")
    status = run_procedure({PROCEDURE!r}, image, [image.get_layers()[0]])
    report(name=name, status=status, layers=[[l.get_name(), l.is_gray(), l.has_alpha()] for l in image.get_layers()])
    image.delete()
""", gimp_home)
    assert records == [
        {"name": "grey", "status": "success",
         "layers": [["declare: reflection removed", True, False], ["Background", True, False]]},
        {"name": "alpha", "status": "success",
         "layers": [["declare: reflection removed", False, True], ["Background", False, True]]}], output[-3000:]


def test_gimp3_plugin_reports_a_failure_and_changes_nothing(gimp_home):
    """When declare fails, GIMP gets its error line, the image keeps its one layer, and
    the scratch folder is removed all the same."""
    script = next((gimp_home / "home").rglob(f"{PROCEDURE}.py"))
    lines = script.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("DECLARE = "))
    command = ast.literal_eval(lines[at].split("=", 1)[1].strip()) + ["--model", "/no/such/model.safetensors"]
    lines[at] = f"DECLARE = {command!r}\n"
    script.write_text("".join(lines))
    w = str(gimp_home)
    records, output = run_gimp(f"""
image = load({str(gimp_home / PHOTO)!r})
image.undo_enable()
status = run_procedure({PROCEDURE!r}, image, [image.get_layers()[0]])
report(status=status, layers=[l.get_name() for l in image.get_layers()])
image.delete()
""", gimp_home)
    assert records == [{"status": "execution-error", "layers": ["Background"]}], output[-3000:]
    assert "model.safetensors" in output  # declare's own error line reached GIMP
    assert "Traceback" not in output
    assert not list((gimp_home / "tmp").glob("declare-gimp-*"))


def test_gimp3_opens_our_openraster(gimp_home):
    """The .ora from --export gimp: three layers in order, the reflection hidden, the
    pixels those declare wrote."""
    photo = gimp_home / PHOTO
    result = CliRunner().invoke(main, [str(photo), "-o", str(gimp_home / "clean.png"), "--export", "gimp",
                                       "--save-reflection", "-q"])
    assert result.exit_code == 0, result.output
    w = str(gimp_home)
    records, output = run_gimp(f"""
image = load({w!r} + "/clean.ora")
layers = image.get_layers()
report(layers=[[l.get_name(), l.get_visible()] for l in layers], size=[image.get_width(), image.get_height()])
for i, l in enumerate(layers):
    save_layer(l, {w!r} + "/layer-%d.png" % i)
image.delete()
""", gimp_home)
    assert records, output[-3000:]
    (opened,) = records
    assert opened["layers"] == [["declare: reflection", False], ["declare: reflection removed", True],
                                ["original", True]]
    assert opened["size"] == list(Image.open(photo).size)
    assert (pixels(gimp_home / "layer-2.png") == pixels(photo)).all()
    assert (pixels(gimp_home / "layer-1.png") == pixels(gimp_home / "clean.png")).all()
    assert (pixels(gimp_home / "layer-0.png") == pixels(gimp_home / "clean.reflection.png")).all()


DRIVE = """
local dt = require "darktable"
local out = io.open({result!r}, "w")
local ok, err = pcall(function()
  local original = dt.database.import({photo!r})
  dt.gui.selection({{original}})
  local declare = require "contrib/declare"
  declare.button.clicked_callback(declare.button)
  out:write("job\\t", tostring(declare.job() ~= nil), "\\n")  -- the click returned; the job runs
  local waited = 0
  while declare.job() ~= nil and waited < 200000 do
    dt.control.sleep(200)
    waited = waited + 200
  end
  for _, member in ipairs(original:get_group_members()) do
    out:write("member\\t", member.filename, "\\t", member.group_leader.id, "\\t", original.id, "\\n")
  end
  dt.gui.libs["declare"].expanded = true
end)
out:write("finished\\t", tostring(ok), "\\t", tostring(err), "\\n")
out:close()
"""


def _run_darktable(config, drive, report, work, timeout, when_finished=None) -> tuple[bool, str]:
    """darktable's GUI on a virtual screen with our script installed in ``config``, running
    the Lua file ``drive`` until it writes "finished" to ``report``; (finished, its log)."""
    log = work / "darktable.log"
    with virtual_screen() as display, open(log, "w") as log_file:
        process = subprocess.Popen(
            ["darktable", "--configdir", str(config), "--cachedir", str(work / "cache"),
             "--library", ":memory:", "-d", "lua", "--luacmd", f'dofile("{drive}")'],
            env={**os.environ, "DISPLAY": display}, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            finished = wait_for(report, "finished", timeout, process)
            if finished and when_finished:
                when_finished(display)
        finally:
            process.kill()  # darktable sits out SIGTERM while it writes its caches
            process.wait(30)
    return finished, log.read_text()


def test_darktable_runs_the_module(tmp_path):
    """darktable's GUI with our script installed: the module loads without a Lua error
    and its button's action cleans the selected photo and groups the result with it."""
    if darktable_missing():
        pytest.skip(darktable_missing())
    config = tmp_path / "config"
    result = CliRunner().invoke(main, ["plugins", "install", "darktable", "--dest", str(config)])
    assert result.exit_code == 0, result.output
    (config / "darktablerc").write_text("ui_last/window_w=1400\nui_last/window_h=900\nui_last/maximized=TRUE\n")
    photos = tmp_path / "photos"
    photos.mkdir()
    photo = copy_real(photos, PHOTO)
    report = tmp_path / "result.txt"
    drive = tmp_path / "drive.lua"
    drive.write_text(DRIVE.format(result=str(report), photo=str(photo)))
    shots = []

    def screenshot(display):
        time.sleep(2)  # the lighttable redraws the new group
        shots.append(ImageGrab.grab(xdisplay=display))

    finished, output = _run_darktable(config, drive, report, tmp_path, 240, screenshot)
    shot = shots[0] if shots else None
    assert finished, output[-3000:]
    assert "LUA ERROR" not in output, output[-3000:]
    lines = [line.split("\t") for line in report.read_text().splitlines()]
    assert lines[-1][:2] == ["finished", "true"], lines
    assert lines[0] == ["job", "true"]  # the button started a background job and returned at once
    members = {name: (leader, original) for _, name, leader, original in lines[1:-1]}
    assert set(members) == {PHOTO, "glass-1.declare.jpg"}
    leader, original = members["glass-1.declare.jpg"]
    assert leader == original  # grouped under the original
    cleaned = pixels(photos / "glass-1.declare.jpg")
    assert cleaned.shape == pixels(photo).shape
    assert np.asarray(shot).std() > 10  # a drawn window, not a blank screen
    keep = os.environ.get("DECLARE_SCREENSHOTS")
    if keep:
        shot.save(os.path.join(keep, "darktable-module.png"))


CANCEL = """
local dt = require "darktable"
local out = io.open({result!r}, "w")
local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end
local ok, err = pcall(function()
  local images = {{}}
  for i, path in ipairs({photos}) do
    images[i] = dt.database.import(path)
  end
  dt.gui.selection(images)
  local declare = require "contrib/declare"
  declare.button.clicked_callback(declare.button)
  local polls, waited = 0, 0
  local function second_in_hand()  -- the job has moved on to the second photo
    local job = declare.job()
    return job ~= nil and job.percent > 0.3
  end
  while not second_in_hand() and waited < 200000 do  -- this loop runs while the job works
    dt.control.sleep(100)
    polls, waited = polls + 1, waited + 100
  end
  out:write("polls\\t", polls, "\\t", tostring(declare.job() ~= nil), "\\t", tostring(exists({first!r})), "\\n")
  declare.cancel()  -- what the job's cancel button does
  while declare.job() ~= nil and waited < 400000 do
    dt.control.sleep(100)
    waited = waited + 100
  end
  out:write("ended\\t", tostring(declare.job() == nil), "\\n")
  for _, image in ipairs(images) do
    out:write("group\\t", image.filename, "\\t", #image:get_group_members(), "\\n")
  end
end)
out:write("finished\\t", tostring(ok), "\\t", tostring(err), "\\n")
out:close()
"""


def test_darktable_cleans_in_a_background_job_that_cancels_between_photos(tmp_path):
    """Three photos: the click returns at once, the Lua thread keeps running while the
    job works, a cancel after the first photo stops the batch after the photo in hand;
    finished photos are imported and kept, nothing is half-written, the third is not started."""
    if darktable_missing():
        pytest.skip(darktable_missing())
    config = tmp_path / "config"
    result = CliRunner().invoke(main, ["plugins", "install", "darktable", "--dest", str(config)])
    assert result.exit_code == 0, result.output
    photos = tmp_path / "photos"
    photos.mkdir()
    names = [f"shot{i}.jpg" for i in range(3)]
    for name in names:
        shutil.copyfile(copy_real(tmp_path, PHOTO), photos / name)
    report, drive = tmp_path / "result.txt", tmp_path / "drive.lua"
    lua_list = "{" + ", ".join(f"{str(photos / n)!r}" for n in names) + "}"
    drive.write_text(CANCEL.format(result=str(report), photos=lua_list,
                                   first=str(photos / "shot0.declare.jpg")))
    finished, output = _run_darktable(config, drive, report, tmp_path, 300)
    assert finished, output[-3000:]
    assert "LUA ERROR" not in output, output[-3000:]
    lines = [line.split("\t") for line in report.read_text().splitlines()]
    assert lines[-1][:2] == ["finished", "true"], lines
    polls = lines[0]
    # not blocked: this script ran while the job worked, and saw the first result land
    assert polls[0] == "polls" and int(polls[1]) > 3 and polls[2:] == ["true", "true"], polls
    assert lines[1] == ["ended", "true"]
    groups = {name: int(count) for _, name, count in lines[2:-1]}
    cleaned = sorted(p.name for p in photos.glob("*.declare.jpg"))
    assert cleaned == ["shot0.declare.jpg", "shot1.declare.jpg"]  # the one in hand finished; no third
    assert groups == {"shot0.jpg": 2, "shot1.jpg": 2, "shot2.jpg": 1}  # each imported as it landed
    for name in cleaned:
        assert pixels(photos / name).shape == pixels(photos / "shot0.jpg").shape  # whole files
    assert not [p for p in photos.iterdir() if p.name.startswith(".") or p.suffix == ".part"]
