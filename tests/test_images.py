"""Photo I/O: metadata, bit depth, colour modes, bad files, atomic writes."""

import io
import os

import numpy as np
import piexif
import png
import pytest
import tifffile
from PIL import Image, ImageCms, ImageOps

from declare import images, results
from declare.images import ImageError, read_photo, write_photo
from photos import real_array


def _srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _exif(orientation: int) -> bytes:
    return piexif.dump({"0th": {piexif.ImageIFD.Make: b"DeclareTest", piexif.ImageIFD.Orientation: orientation},
                        "Exif": {piexif.ExifIFD.DateTimeOriginal: b"2026:11:24 10:00:00"},
                        "1st": {}, "GPS": {}, "thumbnail": None})


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pillow(tmp_path, orientation):
    arr = real_array(size=(40, 24))
    path = tmp_path / "o.png"
    Image.fromarray(arr).save(path, exif=_exif(orientation))
    photo = read_photo(path)
    with Image.open(path) as im:
        expected = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    assert np.array_equal((photo.pixels * 255 + 0.5).astype(np.uint8), expected)
    assert piexif.load(photo.exif)["0th"][piexif.ImageIFD.Orientation] == 1


def test_jpeg_round_trip_keeps_exif_and_icc(tmp_path):
    src = tmp_path / "in.jpg"
    icc = _srgb_icc()  # once: a profile made a second later carries another creation time
    Image.fromarray(real_array()).save(src, quality=95, exif=_exif(6), icc_profile=icc)
    photo = read_photo(src)
    out = tmp_path / "out.jpg"
    write_photo(out, photo)
    with Image.open(out) as im:
        exif = piexif.load(im.info["exif"])
        assert im.info["icc_profile"] == icc
        assert exif["0th"][piexif.ImageIFD.Make] == b"DeclareTest"
        assert exif["0th"][piexif.ImageIFD.Orientation] == 1
        assert exif["Exif"][piexif.ExifIFD.DateTimeOriginal] == b"2026:11:24 10:00:00"
        assert im.size == (photo.size[1], photo.size[0])
        # quality 95 and 4:4:4 chroma: close to the source
        assert np.abs(np.asarray(im) / 255.0 - photo.pixels).mean() < 0.02
        assert im.layers == 3 and _jpeg_subsampling(im) == 0


def _jpeg_subsampling(im):
    from PIL import JpegImagePlugin
    return JpegImagePlugin.get_sampling(im)


def test_16bit_png_stays_16bit_with_full_precision(tmp_path):
    rng = np.random.default_rng(0)
    data = (real_array(size=(48, 32)).astype(np.uint16) * 257 + rng.integers(0, 200, (32, 48, 3))).astype(np.uint16)
    src = tmp_path / "deep.png"
    with open(src, "wb") as f:
        png.Writer(48, 32, greyscale=False, bitdepth=16).write_array(f, data.reshape(-1))
    photo = read_photo(src)
    assert photo.bit_depth == 16
    assert np.array_equal(np.round(photo.pixels * 65535).astype(np.uint16), data)
    out = tmp_path / "out.png"
    write_photo(out, photo)
    w, h, rows, info = png.Reader(filename=str(out)).asDirect()
    assert info["bitdepth"] == 16 and (w, h) == (48, 32)
    back = np.vstack([np.asarray(r, dtype=np.uint16) for r in rows]).reshape(32, 48, 3)
    assert np.array_equal(back, data)


def test_16bit_png_keeps_icc_and_exif(tmp_path):
    icc = _srgb_icc()
    photo = images.Photo(np.full((8, 8, 3), 0.5, np.float32), None, 16, False, "PNG",
                         exif=_exif(1), icc=icc)
    out = tmp_path / "meta16.png"
    write_photo(out, photo)
    with Image.open(out) as im:
        assert im.info["icc_profile"] == icc
        assert im.getexif()[piexif.ImageIFD.Make] == "DeclareTest"
    assert read_photo(out).bit_depth == 16


def test_16bit_tiff_stays_16bit(tmp_path):
    data = (np.arange(16 * 20 * 3, dtype=np.uint16).reshape(16, 20, 3) * 97).astype(np.uint16)
    src = tmp_path / "deep.tif"
    tifffile.imwrite(src, data, photometric="rgb")
    photo = read_photo(src)
    assert photo.bit_depth == 16
    out = tmp_path / "out.tiff"
    write_photo(out, photo)
    assert np.array_equal(tifffile.imread(out), data)


def test_16bit_greyscale_png(tmp_path):
    gray = (np.arange(30 * 20).reshape(20, 30) * 100).astype(np.uint16)
    src = tmp_path / "g16.png"
    Image.fromarray(gray).save(src)
    photo = read_photo(src)
    assert photo.grayscale and photo.bit_depth == 16
    out = tmp_path / "g16-out.png"
    write_photo(out, photo)
    with Image.open(out) as im:
        assert im.mode.startswith("I") and np.array_equal(np.asarray(im).astype(np.uint16), gray)


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "1"])
def test_colour_modes(tmp_path, mode):
    im = Image.fromarray(real_array(size=(30, 20))).convert(mode)
    src = tmp_path / ("m.jpg" if mode == "CMYK" else "m.png")
    im.save(src)
    photo = read_photo(src)
    assert photo.pixels.shape == (20, 30, 3) and photo.pixels.dtype == np.float32
    assert photo.grayscale == (mode in ("L", "1"))
    out = tmp_path / "out.png"
    write_photo(out, photo)
    with Image.open(out) as back:
        assert back.mode == ("L" if mode in ("L", "1") else "RGB")


def test_alpha_is_passed_through_untouched(tmp_path):
    rgba = np.dstack((real_array(size=(30, 20)), np.arange(600, dtype=np.uint8).reshape(20, 30)))
    src = tmp_path / "a.png"
    Image.fromarray(rgba, "RGBA").save(src)
    photo = read_photo(src)
    photo = photo.with_pixels(1 - photo.pixels)
    write_photo(tmp_path / "out.png", photo)
    with Image.open(tmp_path / "out.png") as im:
        assert im.mode == "RGBA"
        assert np.array_equal(np.asarray(im)[..., 3], rgba[..., 3])
    notes = write_photo(tmp_path / "out.jpg", photo)
    assert any("alpha" in n for n in notes)


def test_bad_files_give_one_line_errors(tmp_path, monkeypatch):
    (tmp_path / "text.jpg").write_text("not a photo")
    good = io.BytesIO()
    Image.fromarray(real_array()).save(good, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(good.getvalue()[: len(good.getvalue()) // 2])
    Image.fromarray(real_array()).save(tmp_path / "pic.bmp")
    cases = {"text.jpg": "not an image", "cut.jpg": "truncated", "pic.bmp": "not supported",
             "missing.png": "no such file"}
    for name, words in cases.items():
        with pytest.raises(ImageError, match=words) as info:
            read_photo(tmp_path / name)
        assert "\n" not in str(info.value)
    Image.fromarray(real_array(size=(64, 64))).save(tmp_path / "big.png")
    monkeypatch.setattr(images, "MAX_PIXELS", 1000)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(ImageError, match="decompression bomb"):
        read_photo(tmp_path / "big.png")


def test_writes_are_atomic(tmp_path, monkeypatch):
    photo = images.Photo(np.zeros((8, 8, 3), np.float32), None, 8, False, "PNG")
    target = tmp_path / "out.png"
    target.write_bytes(b"previous result")

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_photo(target, photo)
    assert target.read_bytes() == b"previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_unknown_output_extension_is_refused(tmp_path):
    photo = images.Photo(np.zeros((8, 8, 3), np.float32), None, 8, False, "PNG")
    with pytest.raises(ImageError, match="cannot write .bmp"):
        write_photo(tmp_path / "x.bmp", photo)


def test_keep_tone_undoes_an_even_change_and_keeps_the_local_one():
    """A result that dims each channel evenly and takes a reflection out of one corner:
    the tone step gives back the photo, less exactly what was taken out of the corner."""
    rng = np.random.default_rng(0)
    photo = rng.uniform(0.3, 0.7, (60, 80, 3)).astype(np.float32)
    reflection = np.zeros_like(photo)
    reflection[:20, :30] = 0.2  # an eighth of the photo
    result = photo - np.float32([0.06, 0.02, 0.0]) - reflection  # a colour cast and a dimming
    kept = results.keep_tone(photo, result.copy())
    assert np.allclose(kept, photo - reflection, atol=1e-6)
    assert np.allclose(results.keep_tone(photo, photo.copy()), photo)  # the photo itself is left alone


def test_keep_tone_on_a_large_photo_reads_a_grid_and_stays_in_range(monkeypatch):
    monkeypatch.setattr(results, "TONE_SAMPLES", 1000)  # a 300 x 400 photo is read every 10th pixel
    photo = np.random.default_rng(1).uniform(0.9, 1.0, (300, 400, 3)).astype(np.float32)
    kept = results.keep_tone(photo, photo - 0.1)
    assert np.allclose(kept, photo, atol=1e-6) and kept.max() <= 1
    lifted = results.keep_tone(photo, np.clip(photo + 0.3, 0, 1))  # a lift that clipped the highlights
    assert 0 <= lifted.min() and lifted.max() <= 1
