"""Data in and out: image datasets (:mod:`fclib.io.datasets`), spike recordings on disk
(:mod:`fclib.io.recordings`) and your own spike times binned into trains
(:mod:`fclib.io.spikes`: :func:`bin_spikes`, and :func:`from_neo`, :func:`from_pynapple`,
:func:`from_nwb`, which import their package only when called), and binned populations
saved as one recording file and read back (:mod:`fclib.io.populations`:
:func:`save_recording`, :func:`load_recording`, and :class:`LayerPair`, a source and
target population named as ``"L1→L2"``). Torch-free."""
from fclib.io.populations import LayerPair, load_recording, save_recording
from fclib.io.spikes import SpikeBinningWarning, bin_spikes, from_neo, from_nwb, from_pynapple

__all__ = ["bin_spikes", "from_neo", "from_pynapple", "from_nwb", "SpikeBinningWarning",
           "save_recording", "load_recording", "LayerPair"]
