# Helpers for code the tests run inside GIMP 3 (gimp-console-3.0, python-fu-eval); the
# test's own code is appended to this file. Records go to stdout as one JSON line each.
import json

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp, Gio  # noqa: E402

PDB = Gimp.get_pdb()


def report(**record):
    print("DECLARE-TEST " + json.dumps(record), flush=True)


def load(path):
    return Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path))


def save_layer(layer, path):
    """One layer alone, as a PNG file, the way a user would export it."""
    single = Gimp.Image.new(layer.get_width(), layer.get_height(), Gimp.ImageBaseType.RGB)
    single.insert_layer(Gimp.Layer.new_from_drawable(layer, single), None, 0)
    Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, single, Gio.File.new_for_path(path), None)
    single.delete()


def run_procedure(name, image, drawables):
    """Call a plug-in procedure as a script would, non-interactively; its PDB status name."""
    procedure = PDB.lookup_procedure(name)
    config = procedure.create_config()
    config.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
    config.set_property("image", image)
    config.set_core_object_array("drawables", drawables)
    result = procedure.run(config)
    return result.index(0).value_nick
