"""A Gabor bank applied to a real image (grayscale, float in [0, 1])."""
from __future__ import annotations

import io

import numpy as np
import torch
import torch.nn.functional as F

from .validate import MAX_KERNEL_SIZE, check_array, check_choice, check_int

#: Largest image accepted, in pixels (about a 7000 x 7000 photo), and largest max_side.
MAX_IMAGE_PIXELS = 50_000_000
MAX_SIDE = 4096

__all__ = ["sample_image", "image_from_bytes", "to_gray", "apply_bank"]

SAMPLE_IMAGES = ("china.jpg", "flower.jpg")


def to_gray(img: np.ndarray, max_side: int = 192) -> np.ndarray:
    """RGB(A)/gray uint8 or float image -> (H, W) float64 in [0, 1], downsampled by block averaging
    so that the longer side is at most ``max_side`` pixels (1 to 4096); images over 50 megapixels are refused."""
    max_side = check_int("max_side", max_side, 1, MAX_SIDE)
    if isinstance(img, (str, bytes)):
        raise TypeError(f"img must be an image array, got {type(img).__name__}.")
    size = getattr(img, "size", None)
    if isinstance(size, int) and size > 4 * MAX_IMAGE_PIXELS:
        raise ValueError("the image is too large (over 50 megapixels).")
    a = np.asarray(img)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"img must hold real numbers, got dtype {a.dtype}.")
    if a.ndim == 3:
        a = a[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])  # ITU-R 601 luma
    elif a.ndim != 2:
        raise ValueError(f"expected an image of shape (H, W) or (H, W, 3), got {a.shape}.")
    a = a.astype(np.float64)
    if a.size == 0 or not np.all(np.isfinite(a)):
        raise ValueError("the image is empty or holds NaN values.")
    if a.max() > 1.0:
        a = a / 255.0
    f = int(np.ceil(max(a.shape) / max_side))
    if f > 1:
        h, w = (a.shape[0] // f) * f, (a.shape[1] // f) * f
        a = a[:h, :w].reshape(h // f, f, w // f, f).mean(axis=(1, 3))
    return a


def sample_image(name: str = "china.jpg", max_side: int = 192) -> np.ndarray:
    """One of scikit-learn's bundled sample images as (H, W) gray in [0, 1] (no network)."""
    check_choice("name", name, SAMPLE_IMAGES)
    max_side = check_int("max_side", max_side, 1, MAX_SIDE)
    from sklearn.datasets import load_sample_image

    return to_gray(load_sample_image(name), max_side)


def image_from_bytes(data: bytes, max_side: int = 192) -> np.ndarray:
    """Decode an uploaded file (PNG, JPEG, ...) to (H, W) gray in [0, 1]; ``ValueError`` if it is not an image."""
    from PIL import Image, UnidentifiedImageError

    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be the file's bytes, got {type(data).__name__}.")
    max_side = check_int("max_side", max_side, 1, MAX_SIDE)
    if not data:
        raise ValueError("the uploaded file is empty.")
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > MAX_IMAGE_PIXELS:
                raise ValueError("the image is too large (over 50 megapixels).")
            arr = np.asarray(im.convert("L"))
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError("the uploaded file could not be read as an image (try a PNG or JPEG).") from exc
    return to_gray(arr, max_side)


def apply_bank(image: np.ndarray, bank, remove_mean: bool = False) -> np.ndarray:
    """Responses of every kernel of ``bank`` (F, 1, k, k) or (F, k, k) to a gray image (H, W).

    Cross-correlation with zero 'same' padding, as the layer computes it; returns (F, H', W').
    ``remove_mean`` filters the image minus its mean gray level (for display: a kernel's DC gain
    times the mean would otherwise swamp the oriented structure).
    """
    a = check_array("image", image, max_size=MAX_IMAGE_PIXELS, ndim=(2,))
    if a.size == 0:
        raise ValueError("image is empty.")
    wb = check_array("bank", bank, max_size=10**7, ndim=(3, 4))
    if wb.ndim == 3:
        wb = wb[:, None]
    if wb.shape[1] != 1 or wb.shape[0] < 1 or min(wb.shape[-2:]) < 1 or max(wb.shape[-2:]) > MAX_KERNEL_SIZE:
        raise ValueError(f"bank must have shape (F, 1, k, k) with 1 <= k <= {MAX_KERNEL_SIZE}, got {wb.shape}.")
    if wb.shape[0] * a.size * wb.shape[-1] * wb.shape[-2] > 5 * 10**9:
        raise ValueError("filtering this image with this bank is too much work (over 5 * 10**9 multiply-adds); "
                         "use a smaller image or fewer kernels.")
    if remove_mean:
        a = a - a.mean()
    img = torch.as_tensor(a)[None, None]
    w = torch.as_tensor(wb)
    k = w.shape[-1]
    return F.conv2d(img, w, padding=(w.shape[-2] // 2, k // 2))[0].numpy()
