"""Latency-coded (time-to-first-spike) Dale's-law networks (paper 002).

``first_spike_times`` is the exact single-layer solution (:mod:`fclib.ttfs.neuron`);
:mod:`fclib.ttfs.network` encodes, builds, trains and runs E/I networks;
:mod:`fclib.ttfs.analysis` measures pulse-packet synchrony, information gain and
class-specific pathways. Importing this package needs numpy/scipy only; torch is imported
when a torch tensor is passed or a network is trained. ``fclib`` itself never imports it.
"""
from fclib.ttfs.neuron import check_layer_inputs, first_spike_times, membrane_potential  # noqa: F401

__all__ = ["first_spike_times", "membrane_potential", "check_layer_inputs"]
