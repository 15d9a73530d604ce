"""Reading and writing photos without losing what photographers care about.

Pixels come in as float32 RGB in [0, 1] with EXIF orientation applied; EXIF
(orientation reset to 1), the ICC profile, bit depth, greyscale and alpha are
carried in a :class:`Photo` and written back. Pillow reads 8-bit images and all
metadata; 16-bit colour, which Pillow truncates to 8 bits, goes through pypng
(PNG) and tifffile (TIFF). Writes are atomic: a temporary file in the target
folder, then a rename.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile

from declare.atomic import atomic_path

# Formats by output extension; inputs are recognised by content, not name.
EXTENSIONS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".tif": "TIFF",
              ".tiff": "TIFF", ".webp": "WEBP"}
READABLE = {"JPEG", "MPO", "PNG", "TIFF", "WEBP"}
SIXTEEN_BIT_FORMATS = {"PNG", "TIFF"}
ALPHA_FORMATS = {"PNG", "TIFF", "WEBP"}
MAX_PIXELS = 200_000_000  # past this a file is treated as a decompression bomb

_TIFF_STRUCTURE = {256, 257, 258, 259, 262, 266, 273, 277, 278, 279, 282, 283, 284, 296,
                   317, 320, 322, 323, 324, 325, 338, 339, 340, 341, 530, 531, 532, 700,
                   33723, 34377, 34675}
_ORIENTATION = 0x0112


class ImageError(Exception):
    """A photo that cannot be read or written; the message is one line for the user."""


class OutputAppeared(ImageError):
    """An output that did not exist when the run was planned was made meanwhile (by
    another run): left alone; with --skip-existing, that photo is done."""


@dataclass
class Photo:
    pixels: np.ndarray            # H x W x 3 float32 in [0, 1], upright
    alpha: np.ndarray | None      # H x W in the source's integer type, upright
    bit_depth: int                # 8 or 16
    grayscale: bool
    format: str                   # Pillow's name of the source format
    exif: bytes | None = None     # orientation already reset to 1
    icc: bytes | None = None

    @property
    def size(self) -> tuple[int, int]:
        return self.pixels.shape[0], self.pixels.shape[1]

    def with_pixels(self, pixels: np.ndarray) -> "Photo":
        return replace(self, pixels=pixels)


def read_photo(path: str | Path) -> Photo:
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                return _read(path, im)
    except ImageError:
        raise
    except FileNotFoundError:
        raise ImageError("no such file") from None
    except IsADirectoryError:
        raise ImageError("is a folder") from None
    except PermissionError:
        raise ImageError("permission denied") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageError(f"over {MAX_PIXELS // 1_000_000} megapixels; refused as a possible "
                         "decompression bomb") from None
    except Image.UnidentifiedImageError:
        raise ImageError("not an image, or a format declare cannot read") from None
    except (OSError, SyntaxError, ValueError, struct.error, zlib.error, EOFError) as exc:
        raise ImageError(f"cannot decode ({_first_line(exc)}); the file may be truncated or corrupt") from None


def _read(path: Path, im: Image.Image) -> Photo:
    if im.format not in READABLE:
        raise ImageError(f"{im.format} images are not supported (JPEG, PNG, TIFF, WebP are)")
    if im.width * im.height > MAX_PIXELS:
        raise Image.DecompressionBombError(str(im.size))
    deep = im.mode in ("RGB", "RGBA") and _is_16bit_colour(im)  # before anything loads pixels
    orientation = _orientation(im)
    exif = _exif_bytes(path, im)
    icc = im.info.get("icc_profile") or None
    if deep:
        rgb, alpha = _read_16bit_colour(path, im.format)
        bit_depth, grayscale = 16, False
    else:
        im.load()
        rgb, alpha, bit_depth, grayscale = _to_arrays(im)
        if im.mode == "CMYK" and icc and icc[16:20] == b"CMYK":
            icc = None  # a CMYK profile does not describe the RGB result
    rgb = _orient(rgb, orientation)
    alpha = _orient(alpha, orientation) if alpha is not None else None
    scale = 65535.0 if bit_depth == 16 else 255.0
    pixels = np.ascontiguousarray(rgb, dtype=np.float32) / scale
    return Photo(pixels, alpha, bit_depth, grayscale, im.format, exif, icc)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _is_16bit_colour(im: Image.Image) -> bool:
    args = im.tile[0].args if im.tile else None
    rawmode = args if isinstance(args, str) else (args[0] if args else "")
    return ";16" in str(rawmode)


def _read_16bit_colour(path: Path, fmt: str) -> tuple[np.ndarray, np.ndarray | None]:
    if fmt == "PNG":
        import png

        width, height, rows, info = png.Reader(filename=str(path)).asDirect()
        planes = info["planes"]
        data = np.vstack([np.asarray(row, dtype=np.uint16) for row in rows])
        data = data.reshape(height, width, planes)
    else:
        import tifffile

        data = tifffile.imread(str(path))
        if data.ndim != 3 or data.shape[2] not in (3, 4) or data.dtype != np.uint16:
            raise ImageError(f"unsupported 16-bit TIFF layout {data.shape} {data.dtype}")
    return data[..., :3], (data[..., 3] if data.shape[2] == 4 else None)


def _to_arrays(im: Image.Image) -> tuple[np.ndarray, np.ndarray | None, int, bool]:
    """RGB (uint8/uint16 array), alpha, bit depth and greyscale-ness of a Pillow image."""
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        gray = np.asarray(im)
        if mode == "I" and (gray.min() < 0 or gray.max() > 65535):
            raise ImageError("32-bit integer images are not supported")
        gray = gray.astype(np.uint16)
        return np.repeat(gray[..., None], 3, axis=2), None, 16, True
    if mode == "F":
        raise ImageError("floating-point images are not supported")
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif mode == "PA":
        im = im.convert("RGBA")
    elif mode == "1":
        im = im.convert("L")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        im = im.convert("RGB")  # CMYK, YCbCr, LAB, HSV
    arr = np.asarray(im)
    if im.mode in ("L", "LA"):
        gray = arr if im.mode == "L" else arr[..., 0]
        alpha = arr[..., 1] if im.mode == "LA" else None
        return np.repeat(gray[..., None], 3, axis=2), alpha, 8, True
    alpha = arr[..., 3] if im.mode == "RGBA" else None
    return arr[..., :3], alpha, 8, False


def _orientation(im: Image.Image) -> int:
    try:
        value = int(im.getexif().get(_ORIENTATION, 1))
    except Exception:  # malformed EXIF must not lose the photo
        return 1
    return value if 1 <= value <= 8 else 1


def _orient(a: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation to an H x W (x C) array, as Pillow's exif_transpose does."""
    swap = (1, 0, *range(2, a.ndim))
    ops = {
        1: lambda x: x,
        2: lambda x: x[:, ::-1],
        3: lambda x: x[::-1, ::-1],
        4: lambda x: x[::-1],
        5: lambda x: x.transpose(swap),
        6: lambda x: np.rot90(x, -1),
        7: lambda x: x[::-1, ::-1].transpose(swap),
        8: lambda x: np.rot90(x, 1),
    }
    return np.ascontiguousarray(ops[orientation](a))


def _exif_bytes(path: Path, im: Image.Image) -> bytes | None:
    """The photo's EXIF with orientation 1 and no thumbnail (it would show the reflection)."""
    import piexif

    source = str(path) if im.format == "TIFF" else im.info.get("exif")
    if not source:
        return None
    try:
        data = piexif.load(source)
        if im.format == "TIFF":  # IFD0 of a TIFF is the image's own structure
            data["0th"] = {k: v for k, v in data["0th"].items() if k not in _TIFF_STRUCTURE}
            if not any(data[k] for k in ("0th", "Exif", "GPS")):
                return None
        data["0th"][_ORIENTATION] = 1
        data["thumbnail"], data["1st"] = None, {}
        return piexif.dump(data)
    except Exception:
        try:  # piexif rejects some maker layouts Pillow can still round-trip
            exif = im.getexif()
            exif[_ORIENTATION] = 1
            return exif.tobytes() if im.format != "TIFF" else None
        except Exception:
            return None


def _fix_exif_size(exif: bytes | None, height: int, width: int) -> bytes | None:
    """Keep PixelX/YDimension true to the written pixels (rotation may have swapped them)."""
    if not exif:
        return exif
    import piexif

    try:
        data = piexif.load(exif)
        ifd = data.get("Exif", {})
        if piexif.ExifIFD.PixelXDimension in ifd or piexif.ExifIFD.PixelYDimension in ifd:
            ifd[piexif.ExifIFD.PixelXDimension] = width
            ifd[piexif.ExifIFD.PixelYDimension] = height
            return piexif.dump(data)
    except Exception:
        pass
    return exif


def format_for(path: str | Path) -> str:
    fmt = EXTENSIONS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ImageError(f"cannot write {Path(path).suffix or 'files without an extension'}; "
                         f"use one of {', '.join(sorted(EXTENSIONS))}")
    return fmt


def write_photo(path: str | Path, photo: Photo, quality: int = 95, replace: bool = True) -> list[str]:
    """Write atomically in the format the extension names; returns notes for the user.
    ``replace=False``: a file that appeared at ``path`` meanwhile is kept, and this fails."""
    path = Path(path)
    fmt = format_for(path)
    notes: list[str] = []
    depth = photo.bit_depth if fmt in SIXTEEN_BIT_FORMATS else 8
    if photo.bit_depth == 16 and depth == 8:
        notes.append(f"{fmt} holds 8 bits per channel; the 16-bit source was reduced")
    alpha = photo.alpha
    if alpha is not None and fmt not in ALPHA_FORMATS:
        notes.append(f"{fmt} has no alpha channel; transparency was dropped")
        alpha = None
    data = _encode(photo, fmt, depth, alpha, quality)
    _atomic_write(path, data, replace)
    return notes


def quantise(pixels: np.ndarray, depth: int, grayscale: bool) -> np.ndarray:
    """Float pixels in [0, 1] as 8- or 16-bit integers (rounded half up), grey if asked."""
    values = pixels.mean(axis=2) if grayscale else pixels
    top = 65535 if depth == 16 else 255
    return (np.clip(values, 0, 1) * top + 0.5).astype(np.uint16 if depth == 16 else np.uint8)


def _alpha_as(alpha: np.ndarray, depth: int) -> np.ndarray:
    if depth == 16:
        return alpha.astype(np.uint16) * (257 if alpha.dtype == np.uint8 else 1)
    return (alpha // 257).astype(np.uint8) if alpha.dtype == np.uint16 else alpha


def _encode(photo: Photo, fmt: str, depth: int, alpha: np.ndarray | None, quality: int) -> bytes:
    h, w = photo.size
    exif = _fix_exif_size(photo.exif, h, w)
    values = quantise(photo.pixels, depth, photo.grayscale)
    if alpha is not None:
        alpha = _alpha_as(alpha, depth)
    if depth == 16 and not photo.grayscale:
        return _encode_16bit_colour(values, alpha, fmt, exif, photo.icc)
    if depth == 16:  # greyscale 16-bit: Pillow's I;16 (alpha is not representable there)
        im = Image.fromarray(values) if alpha is None else None  # uint16 -> I;16
        if im is None:
            return _encode_16bit_colour(np.repeat(values[..., None], 3, 2), alpha, fmt, exif, photo.icc)
    else:
        arr = values if alpha is None else np.dstack((values, alpha))
        im = Image.fromarray(arr)  # uint8: L, LA, RGB or RGBA by shape
    options: dict = {}
    if photo.icc:
        options["icc_profile"] = photo.icc
    if exif:
        options["exif"] = exif
    if fmt == "JPEG":
        options.update(quality=quality, subsampling=0, optimize=True)
    elif fmt == "WEBP":
        options.update(quality=quality, method=4)
    elif fmt == "TIFF":
        options.update(compression="tiff_deflate")
    buf = io.BytesIO()
    im.save(buf, format=fmt, **options)
    return buf.getvalue()


def _encode_16bit_colour(rgb: np.ndarray, alpha: np.ndarray | None, fmt: str,
                         exif: bytes | None, icc: bytes | None) -> bytes:
    data = rgb if alpha is None else np.dstack((rgb, alpha))
    h, w, planes = data.shape
    buf = io.BytesIO()
    if fmt == "TIFF":
        import tifffile

        tifffile.imwrite(buf, data, photometric="rgb", compression="zlib",
                         extrasamples=("unassalpha",) if alpha is not None else None,
                         iccprofile=icc)
        return buf.getvalue()
    import png

    writer = png.Writer(w, h, greyscale=False, alpha=alpha is not None, bitdepth=16)
    writer.write_array(buf, data.reshape(-1))
    return _png_insert_chunks(buf.getvalue(), icc, exif)


def _png_insert_chunks(data: bytes, icc: bytes | None, exif: bytes | None) -> bytes:
    """Add iCCP and eXIf chunks right after IHDR (pypng writes neither)."""
    extra = b""
    if icc:
        extra += _png_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc))
    if exif:
        extra += _png_chunk(b"eXIf", exif[6:] if exif.startswith(b"Exif\x00\x00") else exif)
    ihdr_end = 8 + 8 + 13 + 4
    return data[:ihdr_end] + extra + data[ihdr_end:]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _atomic_write(path: Path, data: bytes, replace: bool = True) -> None:
    """Temporary file in the target folder, then rename: no half-written photos."""
    if not path.parent.is_dir():
        raise ImageError(f"folder {path.parent} does not exist")
    try:
        with atomic_path(path, replace) as tmp:
            tmp.write_bytes(data)
    except FileExistsError:
        raise OutputAppeared(f"{path} appeared while running; not replaced (use --overwrite to replace it)") from None
    except PermissionError:
        raise ImageError(f"cannot write in {path.parent}: permission denied") from None
    except OSError as exc:
        raise ImageError(f"cannot write {path}: {exc.strerror or exc}") from None


ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file is an error, not a grey bottom
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
