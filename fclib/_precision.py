"""IEEE float32 arithmetic for a block of torch code, whatever the process has enabled.

cuDNN convolutions use TF32 by default on CUDA (``torch.backends.cudnn.conv``), and any code
that calls ``torch.set_float32_matmul_precision("high")`` (or sets the TF32 flags) makes
every float32 matrix product round its inputs to 10 mantissa bits. Spike rasters and the
null's variances must not change with such a setting, so the code that computes them runs
under :func:`ieee_fp32`, which turns TF32 (and oneDNN's bf16 float32 path on the CPU) off
and restores the previous flags on exit. Products of 0/1 trains that are exact counts need
no such care: TF32 holds 0 and 1 exactly and accumulates in float32.

Torch is imported when the context is entered, not when this module is, so the statistics
stay torch-free on import.
"""
from __future__ import annotations

import contextlib

__all__ = ["ieee_fp32"]


def _flags(torch) -> list[tuple[object, str, object]]:
    """``(object, attribute, IEEE value)`` of every switch of float32 precision."""
    b = torch.backends
    conv = getattr(b.cudnn, "conv", None)
    if conv is not None and hasattr(conv, "fp32_precision"):  # torch >= 2.9: per-op flags
        mods = [b.cuda.matmul, b.cudnn.conv, getattr(b.cudnn, "rnn", None)]
        mkl = getattr(b, "mkldnn", None)
        if mkl is not None:
            mods += [getattr(mkl, k, None) for k in ("matmul", "conv", "rnn")]
        return [(m, "fp32_precision", "ieee") for m in mods
                if m is not None and hasattr(m, "fp32_precision")]
    return [(b.cuda.matmul, "allow_tf32", False), (b.cudnn, "allow_tf32", False)]


@contextlib.contextmanager
def ieee_fp32():
    """Run the block with TF32 (and reduced-precision float32 products) off; the flags
    are restored on exit, also after an error. Not for concurrent use from threads that
    expect other settings: the flags are process-wide."""
    import torch

    flags = _flags(torch)
    old = [getattr(obj, name) for obj, name, _ in flags]
    legacy = not flags or flags[0][1] == "allow_tf32"
    old_mm = torch.get_float32_matmul_precision() if legacy else None
    try:
        for obj, name, value in flags:
            setattr(obj, name, value)
        if legacy:
            torch.set_float32_matmul_precision("highest")
        yield
    finally:
        for (obj, name, _), value in zip(flags, old):
            setattr(obj, name, value)
        if legacy:
            torch.set_float32_matmul_precision(old_mm)
