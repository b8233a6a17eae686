"""Torch-free statistics of binned spike trains: numba/ndarray kernels under thin xarray
wrappers. One concept per module:

``sttc`` (all-pairs spike time tiling coefficient), ``nulls`` (exact circular and random-shift
nulls, calibration), ``stimulus`` (the stimulus-preserving null: presentations permuted among
presentations of the same stimulus), ``connectivity`` (pair significance of layer pairs and
its per-layer-pair summaries), ``groups`` (1FC groups), ``controls`` (rate- and
tuning-matched control groups, image halves for cross-validation), ``response`` (co-firing
and response functions), ``fits`` (ReLU, two lines, power law), ``ensembles`` (the central
results for any groups on any frames), ``information`` (mutual information), ``semantic``
(class semantics), ``predict`` (target-spike prediction), ``detect`` (adversarial-input
detector), ``structure`` (structural vs non-structural edges), ``compare`` (comparisons
across conditions and networks), ``activity`` (rates and silent neurons), ``edges``
(streamed significant-edge lists of whole layers), ``distributed`` (their tiles on a dask
cluster), ``sampling`` (what a sample of a layer misses), ``simulate`` (a
simulated recording with planted couplings and shared tuning, and how many of each a null
calls significant).
"""
