"""Torch-free statistics of binned spike trains: numba/ndarray kernels under thin xarray
wrappers. One concept per module:

``sttc`` (all-pairs spike time tiling coefficient), ``nulls`` (exact circular, random-shift
null, calibration), ``connectivity`` (pair significance of layer pairs), ``groups`` (1FC
groups), ``response`` (co-firing and response functions), ``fits`` (ReLU, two lines, power
law), ``information`` (mutual information), ``semantic`` (class semantics), ``predict``
(target-spike prediction), ``detect`` (adversarial-input detector), ``structure``
(structural vs non-structural edges), ``activity`` (rates and silent neurons).
"""
