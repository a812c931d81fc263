"""Device names from users (``--device``, the sidebar) checked once, with one clear sentence when unusable."""
from __future__ import annotations

__all__ = ["resolve_device", "available_devices"]


def available_devices() -> list[str]:
    """``["cpu"]`` plus ``"cuda"`` (and ``"mps"``) when torch can use them on this machine."""
    import torch

    out = ["cpu"]
    if torch.cuda.is_available():
        out.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.append("mps")
    return out


def resolve_device(device: object) -> str:
    """Check a device name such as ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"mps"`` before any work uses it.

    Parameters
    ----------
    device : str or torch.device

    Returns
    -------
    str
        The canonical name (``str(torch.device(device))``).

    Raises
    ------
    ValueError
        One sentence when the name is not a device, or the device is not usable here (no CUDA GPU, an index
        beyond the GPUs present, no MPS).
    """
    import torch

    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str) or not device.strip() or len(device) > 32:
        raise ValueError(f"device must be a name such as 'cpu' or 'cuda', got {device!r}.")
    try:
        dev = torch.device(device.strip())
    except (RuntimeError, ValueError):
        raise ValueError(f"{device!r} is not a device name; use 'cpu' or 'cuda' (or 'cuda:N').") from None
    if dev.type == "cpu":
        return "cpu"
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} is not available: torch sees no CUDA GPU on this machine; "
                             "use 'cpu'.")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device {device!r} is not available: this machine has "
                             f"{torch.cuda.device_count()} CUDA GPU(s).")
        return str(dev)
    if dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(f"device {device!r} is not available on this machine; use 'cpu'.")
        return "mps"
    raise ValueError(f"device {device!r} is not supported; use 'cpu' or 'cuda'.")
