"""declare as a library: declare.clean and declare.Cleaner on PIL images and NumPy arrays."""

import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import declare
from declare.cli import main
from photos import real_array, synthetic_burst


@pytest.fixture
def student(checkpoints):
    return str(checkpoints["student"])


def test_clean_gives_back_the_same_kind_of_image(student):
    rgb = real_array(size=(160, 120))
    cleaner = declare.Cleaner(student)
    pil = cleaner.clean(Image.fromarray(rgb))
    assert isinstance(pil, Image.Image) and pil.mode == "RGB" and pil.size == (160, 120)
    out = cleaner.clean(rgb)
    assert out.dtype == np.uint8 and out.shape == rgb.shape
    assert 0 < np.abs(out.astype(int) - rgb).mean() < 20  # changed, the same picture
    assert np.array_equal(np.asarray(pil), out)
    deep = cleaner.clean(rgb.astype(np.uint16) * 257)
    assert deep.dtype == np.uint16 and np.any(deep % 257)  # 16-bit results, not 8-bit ones scaled
    unit = cleaner.clean(rgb.astype(np.float32) / 255)
    assert unit.dtype == np.float32 and np.abs(unit * 255 - out).max() <= 1
    grey = cleaner.clean(rgb[..., 0])
    assert grey.shape == (120, 160) and grey.dtype == np.uint8
    alpha = np.dstack([rgb, np.arange(rgb.shape[0] * rgb.shape[1]).reshape(rgb.shape[:2]) % 256]).astype(np.uint8)
    rgba = cleaner.clean(Image.fromarray(alpha))
    assert rgba.mode == "RGBA" and np.array_equal(np.asarray(rgba)[..., 3], alpha[..., 3])


def test_the_library_and_the_command_line_give_the_same_pixels(student, tmp_path):
    rgb = real_array(size=(200, 150))
    Image.fromarray(rgb).save(tmp_path / "a.png")
    for strength in ("1", "0.5"):
        result = CliRunner().invoke(main, [str(tmp_path / "a.png"), "-o", str(tmp_path / f"{strength}.png"),
                                           "--model", student, "--strength", strength])
        assert result.exit_code == 0, result.output
        cli = np.asarray(Image.open(tmp_path / f"{strength}.png"))
        assert np.array_equal(declare.clean(rgb, model=student, strength=float(strength)), cli)


def test_a_cleaner_loads_its_model_once(student, monkeypatch):
    import declare.session as session_module

    loads = []
    real = session_module.Session.load.__func__
    monkeypatch.setattr(session_module.Session, "load",
                        classmethod(lambda cls, *a, **k: loads.append(a) or real(cls, *a, **k)))
    cleaner = declare.Cleaner(student)
    for _ in range(3):
        cleaner.clean(real_array(size=(64, 48)))
    assert len(loads) == 1


def test_bad_images_and_models_say_what_is_wrong(student):
    cleaner = declare.Cleaner(student)
    with pytest.raises(TypeError, match="PIL image or a NumPy array"):
        cleaner.clean([[0, 0, 0]])
    with pytest.raises(ValueError, match="shape"):
        cleaner.clean(np.zeros((4, 4, 5), np.uint8))
    with pytest.raises(TypeError, match="uint8, uint16 or float"):
        cleaner.clean(np.zeros((4, 4, 3), np.int64))
    with pytest.raises(declare.SessionError):
        declare.Cleaner("no-such-model")


def test_a_burst_reference_that_is_not_a_view_is_refused():
    view = real_array(size=(64, 48))
    with pytest.raises(ValueError, match="not one of the 3 views"):
        declare.Cleaner(load=False).clean_burst([view, view, view], reference=3)


def test_a_burst_of_one_photo_three_times_comes_back_unchanged_with_a_warning():
    view = real_array(size=(240, 180))
    with pytest.warns(declare.BurstWarning, match="barely move"):
        out = declare.Cleaner(load=False).clean_burst([view, view, view])
    assert np.array_equal(out, view)


def test_a_burst_through_the_library_moves_its_reflection_away():
    """Real photos as scene and reflection, each moving its own way: the library's
    classical burst takes the reflection away, as the command line does."""
    from declare.metrics import psnr

    views, truths = synthetic_burst([(-6, 3), (0, 0), (5, -4)], [(-22, 12), (0, 0), (20, -15)])
    out = declare.Cleaner(load=False).clean_burst(views)
    assert out.dtype == views[1].dtype and out.shape == views[1].shape
    assert psnr(out, truths[1]) >= psnr(views[1], truths[1]) + 3


def test_importing_declare_and_cleaning_imports_neither_click_nor_torch(tmp_path):
    code = ("import sys; sys.modules['torch'] = None; import numpy as np; import declare; "
            "out = declare.clean(np.full((64, 64, 3), 128, np.uint8)); "
            "assert out.shape == (64, 64, 3); assert 'click' not in sys.modules, 'click'; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
