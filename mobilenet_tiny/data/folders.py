"""Image folders (one sub-folder per class) → uint8 arrays at the model's input size.

How an image becomes H×W×C (what a camera pipeline on the device would also do):
  1. EXIF orientation is applied (phone photos stand upright).
  2. Colour: transparent pixels are composited over black; 16-bit gray is scaled to 8 bits (Pillow's own
     conversion would clip it); palette, CMYK, YCbCr, 1-bit… go through Pillow to RGB or L. Gray (C=1)
     uses Pillow's ITU-R 601 luma, L = 0.299 R + 0.587 G + 0.114 B.
  3. Geometry: the largest centred crop with the target's aspect ratio, resized to H×W with Pillow's
     bilinear filter. Cropping keeps objects in proportion (a stretched circle is an ellipse); Pillow widens
     the filter when shrinking, so downscaling averages like area resampling instead of aliasing.

Sub-folders and files whose names start with '.' are ignored, and so are files that are not images by
extension. Images may sit in nested folders below a class folder.
"""
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ..errors import UserError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp"})
_SIXTEEN_BIT_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})


def _visible(path: Path) -> bool:
    return not path.name.startswith(".")


def _image_files(class_dir: Path) -> list[Path]:
    """Image files under class_dir (recursively), skipping hidden files and folders; sorted for determinism."""
    found = []
    for root, dirs, files in os.walk(class_dir, followlinks=True):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(Path(root) / f for f in files
                     if not f.startswith(".") and Path(f).suffix.lower() in IMAGE_EXTENSIONS)
    return sorted(found)


def list_classes(data_dir, role: str = "data") -> dict[str, list[Path]]:
    """{class name: image files}, classes sorted by name. Raises UserError for anything unusable."""
    data_dir = Path(data_dir)
    if not data_dir.exists():
        raise UserError(f"{role} directory not found: {data_dir}")
    if not data_dir.is_dir():
        raise UserError(f"{role} path is not a directory: {data_dir}")
    class_dirs = sorted((p for p in data_dir.iterdir() if p.is_dir() and _visible(p)), key=lambda p: p.name)
    if len(class_dirs) < 2:
        found = ", ".join(p.name for p in class_dirs) or "none"
        raise UserError(f"{role} directory {data_dir} needs at least 2 class sub-folders, found {len(class_dirs)} "
                        f"({found})")
    classes = {}
    for class_dir in class_dirs:
        files = _image_files(class_dir)
        if not files:
            raise UserError(f"class {class_dir.name!r} has no images ({'/'.join(sorted(IMAGE_EXTENSIONS))}) "
                            f"in {class_dir}")
        classes[class_dir.name] = files
    return classes


def _to_mode(image: Image.Image, channels: int) -> Image.Image:
    """Convert any Pillow mode to L (channels 1) or RGB (channels 3)."""
    if image.mode in _SIXTEEN_BIT_MODES:
        wide = np.asarray(image, dtype=np.int64)  # I;16* arrive as uint16, I as int32
        image = Image.fromarray(((np.clip(wide, 0, 65535) * 255 + 32767) // 65535).astype(np.uint8), mode="L")
    elif image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba)
    target = "L" if channels == 1 else "RGB"
    if image.mode == target:
        return image
    if target == "L" and image.mode not in ("RGB", "1", "F"):
        image = image.convert("RGB")  # CMYK, YCbCr, HSV, LAB… reach luma through RGB
    return image.convert(target)


def _centre_crop_box(width: int, height: int, out_w: int, out_h: int) -> tuple[float, float, float, float]:
    """The largest box with aspect out_w:out_h centred in a width×height image."""
    if width * out_h > height * out_w:  # too wide: trim the sides
        crop_w = height * out_w / out_h
        return ((width - crop_w) / 2, 0.0, (width + crop_w) / 2, float(height))
    crop_h = width * out_h / out_w
    return (0.0, (height - crop_h) / 2, float(width), (height + crop_h) / 2)


def fit_image(image: Image.Image, input_shape: tuple[int, int, int]) -> np.ndarray:
    """An opened image → uint8 H×W×C: EXIF orientation, mode conversion, centre crop to the aspect, resize."""
    h, w, c = input_shape
    # JPEG can decode at 1/2, 1/4, 1/8 scale; ask for at least twice the output size on the shorter side,
    # enough for any centre crop to still be downscaled by the bilinear filter.
    image.draft(None, (2 * max(h, w), 2 * max(h, w)))
    image = ImageOps.exif_transpose(image)
    image = _to_mode(image, c)
    box = _centre_crop_box(image.width, image.height, w, h)
    image = image.resize((w, h), Image.Resampling.BILINEAR, box=box)
    return np.asarray(image, dtype=np.uint8).reshape(h, w, c)


def decode_image(path: Path, input_shape: tuple[int, int, int]) -> np.ndarray:
    """One file → uint8 H×W×C. Raises UserError naming the file if Pillow cannot read it."""
    try:
        with Image.open(path) as image:
            return fit_image(image, input_shape)
    except UserError:
        raise
    except Exception as error:  # Pillow raises many types for bad files: OSError, SyntaxError, ValueError…
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UserError(f"cannot read image {path}: {reason}") from None


def decode_images(paths: list[Path], input_shape: tuple[int, int, int]) -> np.ndarray:
    """Decode in threads (Pillow releases the GIL while decoding and resizing); result in `paths` order.
    The first unreadable file in that order is the one reported."""
    out = np.empty((len(paths), *input_shape), dtype=np.uint8)
    workers = min(8, os.cpu_count() or 1, max(1, len(paths)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for i, pixels in enumerate(pool.map(lambda p: decode_image(p, input_shape), paths)):
            out[i] = pixels
    return out


def decode_classes(classes: dict[str, list[Path]], input_shape: tuple[int, int, int]
                   ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(labels, uint8 images N×H×W×C, int32 label ids) for the files `list_classes` found."""
    paths = [p for files in classes.values() for p in files]
    y = np.concatenate([np.full(len(files), i, dtype=np.int32) for i, files in enumerate(classes.values())])
    return list(classes), decode_images(paths, input_shape), y
