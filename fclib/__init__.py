"""fclib: functional connectivity of deep spiking networks.

The analysis modules need numpy, scipy, xarray and numba only; torch and SpikingJelly
are imported under :mod:`fclib.snn` alone.

Public entry points: :func:`sttc` and :func:`sttc_zscore` (all-pairs STTC and its
significance), :func:`open_recording` (spike recordings written by ``fclib.snn.record``).
"""
from fclib.stats.nulls import sttc_zscore
from fclib.io.recordings import open_recording
from fclib.stats.sttc import sttc

__version__ = "0.1.0"
__all__ = ["sttc", "sttc_zscore", "open_recording", "__version__"]
