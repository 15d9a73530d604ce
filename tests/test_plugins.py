"""Exporter plugins through entry points, the GIMP and darktable exporters, the man page."""

import py_compile
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

import declare.plugins as plugins_module
from declare_plugins import declare_command
from declare.cli import main
from declare.plugins import GROUP, discover
from photos import copy_real

RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"


def test_bundled_exporters_are_found_through_entry_points():
    found = discover()
    assert {"gimp", "darktable"} <= set(found.exporters)
    assert found.sources["gimp"] == "declare"


class NoExport:
    description = "has no export method"


def _with_extra_entry_points(monkeypatch, *extra):
    real = plugins_module.entry_points

    def fake(group):
        return list(real(group=group)) + list(extra)
    monkeypatch.setattr(plugins_module, "entry_points", fake)


def test_broken_plugins_are_reported_and_skipped(monkeypatch, tmp_path, checkpoints):
    _with_extra_entry_points(
        monkeypatch,
        EntryPoint(name="missing", value="no_such_module_anywhere:Exporter", group=GROUP),
        EntryPoint(name="hollow", value="test_plugins:NoExport", group=GROUP))
    listed = CliRunner().invoke(main, ["plugins", "list"])
    assert listed.exit_code == 0, listed.output
    assert "missing" in listed.output and "BROKEN: cannot load" in listed.output
    assert "hollow" in listed.output and "no export(item) method" in listed.output
    assert "gimp" in listed.output  # the good ones still listed
    photo = copy_real(tmp_path, "glass-5.png")
    result = CliRunner().invoke(main, [str(photo), "--model", str(checkpoints["student"]), "--export", "missing"])
    assert result.exit_code == 2 and "--export missing: cannot load" in result.stderr
    assert "Traceback" not in result.output


def _clean(tmp_path, checkpoints, *export):
    photo = copy_real(tmp_path, "glass-5.png")
    out = tmp_path / "out" / "clean.jpg"
    args = [str(photo), "-o", str(out), "--model", str(checkpoints["student"])]
    for name in export:
        args += ["--export", name]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return photo, out


def test_gimp_exporter_writes_a_layered_openraster(tmp_path, checkpoints):
    photo, out = _clean(tmp_path, checkpoints, "gimp")
    ora = out.with_suffix(".ora")
    with zipfile.ZipFile(ora) as z:
        first = z.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert z.read("mimetype") == b"image/openraster"
        stack = ET.fromstring(z.read("stack.xml"))
        layers = stack.findall("./stack/layer")
        assert [layer.get("name") for layer in layers] == [
            "declare: reflection", "declare: reflection removed", "original"]  # top first
        assert [layer.get("visibility") for layer in layers] == ["hidden", "visible", "visible"]
        with Image.open(photo) as im:
            size = im.size
        assert (int(stack.get("w")), int(stack.get("h"))) == size
        for layer in layers:
            with Image.open(z.open(layer.get("src"))) as im:
                assert im.size == size
        with Image.open(z.open("Thumbnails/thumbnail.png")) as thumb:
            assert max(thumb.size) <= 256
        assert "mergedimage.png" in z.namelist()


def test_darktable_exporter_writes_a_sidecar(tmp_path, checkpoints):
    photo, out = _clean(tmp_path, checkpoints, "darktable")
    sidecar = out.with_name(out.name + ".xmp")
    text = sidecar.read_text(encoding="utf-8")
    root = ET.fromstring(text[text.index("<x:xmpmeta"):text.index("</x:xmpmeta>") + len("</x:xmpmeta>")])
    desc = root.find(f"./{RDF}RDF/{RDF}Description")
    tags = [li.text for li in desc.iter(f"{RDF}li")]
    assert "declare|reflection removed" in tags and "reflection removed" in tags
    source = desc.find(".//{http://ns.adobe.com/xap/1.0/sType/ResourceRef#}filePath").text
    assert source == str(photo.resolve())


def test_install_gimp_plugin(tmp_path):
    result = CliRunner().invoke(main, ["plugins", "install", "gimp", "--dest", str(tmp_path)])
    assert result.exit_code == 0, result.output
    script = tmp_path / "declare-remove-reflection" / "declare-remove-reflection.py"
    assert script.stat().st_mode & 0o111  # GIMP runs only executable plug-ins
    text = script.read_text()
    assert repr(declare_command()) in text and '<Image>/Filters/Enhance' in text
    py_compile.compile(str(script), doraise=True)


def test_install_darktable_script_adds_require_once(tmp_path):
    for _ in range(2):
        result = CliRunner().invoke(main, ["plugins", "install", "darktable", "--dest", str(tmp_path)])
        assert result.exit_code == 0, result.output
    luarc = (tmp_path / "luarc").read_text().splitlines()
    assert luarc.count('require "contrib/declare"') == 1
    script = tmp_path / "lua" / "contrib" / "declare.lua"
    assert declare_command()[0] in script.read_text()
    luac = shutil.which("luac5.4") or shutil.which("luac")
    if luac is None:
        pytest.skip("luac not installed (Debian: apt-get install lua5.4); syntax not checked")
    check = subprocess.run([luac, "-p", str(script)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_unknown_plugin_install_is_one_line():
    result = CliRunner().invoke(main, ["plugins", "install", "photoshop"])
    assert result.exit_code == 1 and "no plugin named 'photoshop'" in result.output


def test_man_page_is_generated_from_the_commands():
    from declare.manpage import render

    committed = Path(__file__).resolve().parents[1] / "man" / "declare.1"
    assert committed.read_text() == render(), "run: python -m declare.manpage > man/declare.1"
    for command in ("declare\\-photo clean", "declare\\-photo train teacher", "declare\\-photo bench speed",
                    "declare\\-photo plugins install"):
        assert f".SS {command}\n" in committed.read_text()


def test_man_page_renders(tmp_path):
    man = shutil.which("man")
    if man is None:
        pytest.skip("man not installed")
    page = Path(__file__).resolve().parents[1] / "man" / "declare.1"
    shown = subprocess.run([man, "-l", str(page)], capture_output=True, text=True,
                           env={"MANWIDTH": "80", "PATH": "/usr/bin:/bin", "MANPAGER": "cat"})
    assert shown.returncode == 0 and "remove reflections from photos" in shown.stdout


def test_darktable_accepts_the_sidecar(tmp_path, checkpoints):
    """darktable-cli imports our XMP (creating the tag) and exports with it."""
    cli = shutil.which("darktable-cli")
    if cli is None:
        pytest.skip("darktable-cli not installed (Debian: apt-get install darktable)")
    photo, out = _clean(tmp_path, checkpoints, "darktable")
    sidecar = out.with_name(out.name + ".xmp")
    exported = tmp_path / "darktable.jpg"
    run = subprocess.run([cli, str(out), str(sidecar), str(exported), "--core",
                          "--configdir", str(tmp_path / "darktable-config")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert exported.is_file()
    data = exported.read_bytes()  # darktable writes the tag's path as dc:subject entries
    assert b"<rdf:li>declare</rdf:li>" in data and b"<rdf:li>reflection removed</rdf:li>" in data
