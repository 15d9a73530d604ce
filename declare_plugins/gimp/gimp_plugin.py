#!/usr/bin/env python3
# GIMP 3 plug-in: Filters > Enhance > Remove Reflection...
#
# Saves the active layer to a temporary PNG, runs declare on it and adds the
# result as a new layer above it (one undo step). Installed by
# `declare plugins install gimp`, which writes the DECLARE line below so that
# GIMP runs the declare of the Python it was installed from.

import os
import shutil
import subprocess
import sys
import tempfile

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp, GLib, Gio  # noqa: E402

DECLARE = ["declare"]
PROCEDURE = "declare-remove-reflection"


def _fail(procedure, message):
    return procedure.new_return_values(Gimp.PDBStatusType.EXECUTION_ERROR,
                                       GLib.Error.new_literal(Gimp.PlugIn.error_quark(), message, 0))


class RemoveReflection(Gimp.PlugIn):
    def do_query_procedures(self):
        return [PROCEDURE]

    def do_set_i18n(self, name):
        return False

    def do_create_procedure(self, name):
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, self.run, None)
        procedure.set_image_types("RGB*, GRAY*")
        procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
        procedure.set_menu_label("Remove Reflection...")
        procedure.add_menu_path("<Image>/Filters/Enhance")
        procedure.set_documentation("Remove reflections from a photo taken through glass",
                                    "Runs declare on the active layer and adds the cleaned "
                                    "photo as a new layer above it.", name)
        procedure.set_attribution("declare", "declare", "2026")
        return procedure

    def run(self, procedure, run_mode, image, drawables, config, data):
        if len(drawables) != 1:
            return _fail(procedure, "Select one layer to clean.")
        folder = tempfile.mkdtemp(prefix="declare-gimp-")
        try:
            cleaned = _clean(drawables[0], image, folder)
        except RuntimeError as exc:
            return _fail(procedure, str(exc))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        layer = drawables[0]
        _, x, y = layer.get_offsets()
        cleaned.set_offsets(x, y)
        image.undo_group_start()
        image.insert_layer(cleaned, layer.get_parent(), image.get_item_position(layer))
        image.undo_group_end()
        Gimp.displays_flush()
        return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, GLib.Error())


def _clean(layer, image, folder):
    """declare's result for the layer's pixels, as a new layer of ``image`` (not yet inserted)."""
    source, result = os.path.join(folder, "layer.png"), os.path.join(folder, "clean.png")
    single = Gimp.Image.new(layer.get_width(), layer.get_height(), Gimp.ImageBaseType.RGB)
    single.insert_layer(Gimp.Layer.new_from_drawable(layer, single), None, 0)
    Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, single, Gio.File.new_for_path(source), None)
    single.delete()
    Gimp.progress_init("Removing reflection...")
    done = subprocess.run(DECLARE + [source, "-o", result, "-q", "--overwrite"],
                          capture_output=True, text=True)
    if done.returncode != 0 or not os.path.exists(result):
        message = (done.stderr or done.stdout).strip().splitlines()
        raise RuntimeError(message[-1] if message else "declare failed")
    cleaned = Gimp.file_load_layer(Gimp.RunMode.NONINTERACTIVE, image, Gio.File.new_for_path(result))
    cleaned.set_name("declare: reflection removed")
    return cleaned


Gimp.main(RemoveReflection.__gtype__, sys.argv)
