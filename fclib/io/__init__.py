"""Data in and out: image datasets (:mod:`fclib.io.datasets`) and spike recordings on disk
(:mod:`fclib.io.recordings`). Torch-free."""
