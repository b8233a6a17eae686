"""fclib: functional connectivity of deep spiking networks.

The analysis modules need numpy, scipy, xarray and numba only; torch and SpikingJelly
are imported under :mod:`fclib.snn` alone.
"""
__version__ = "0.1.0"
