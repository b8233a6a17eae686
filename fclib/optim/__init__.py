"""Gradient-free optimisers over index grids for activation maximisation (the MANGO paper:
Pospelov et al., "Fast gradient-free activation maximization for neurons in spiking neural
networks"): our own PROTES (tensor-train sampling) and Nevergrad baselines.

Torch and Nevergrad are imported inside the functions; ``fclib`` itself never imports this
package.
"""
from fclib.optim.baselines import METHODS, maximise, nevergrad_search  # noqa: F401
from fclib.optim.protes import GRAY_PRESETS, PRESETS, protes, qtt_decode, qtt_encode, run_preset  # noqa: F401

__all__ = ["protes", "PRESETS", "GRAY_PRESETS", "run_preset", "qtt_encode", "qtt_decode", "nevergrad_search",
           "maximise", "METHODS"]
