"""Write the chapter notebooks from the cell sources below (run after editing them).

Keeping the sources here makes diffs readable; ``notebooks/*.ipynb`` is what papermill runs.
"""
from pathlib import Path

import nbformat as nbf

ROOT = Path(__file__).resolve().parent.parent


def notebook(cells):
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    out = []
    for kind, src, *tags in cells:
        c = nbf.v4.new_markdown_cell(src.strip()) if kind == "md" else nbf.v4.new_code_cell(src.strip())
        if tags:
            c.metadata["tags"] = list(tags[0])
        out.append(c)
    nb.cells = out
    return nb


CH01 = [
    ("md", """
# The network and its activity

This chapter trains the book's spiking ResNet, records the spikes of every residual-branch
spiking layer over the held-out presentations, and looks at that activity: how well the network
classifies, how fast its neurons fire, how many are silent (the paper's Fig. A1), and what a
few spike trains look like across layers.
"""),
    ("code", """
# Parameters (papermill): the profile picks every value; the others override one each.
profile = "default"
data_dir = "data"
epochs = None
n_presentations = None
seed = None
overrides = {}
n_raster_images = 6
n_raster_neurons = 6
""", ["parameters"]),
    ("code", """
import numpy as np
from myst_nb import glue

import fclib.activity as activity
import fclib.plotting as fplot
from fclib.pipeline import run

r = run(profile, data_dir, epochs=epochs, n_presentations=n_presentations, seed=seed,
        progress=False, **overrides)
rec = r.recording()
summary = activity.layer_summary(rec)
cfg = r.cfg
rec
""", ["hide-output"]),
    ("md", """
## Model and data

The model is a SEW-ResNet with PLIF neurons (learnable time constant, sigmoid surrogate
gradient), ADD connections, `Conv → BN → PLIF` layers and logits averaged over $T = 4$ steps,
built from SpikingJelly's neurons and layers (`fclib.snn.models`). The paper's network is
SEW-ResNet18 on CIFAR-100; this run uses the profile below.
"""),
    ("code", """
arch = r.summary["arch"]
glue("profile", profile, display=False)
glue("dataset", cfg["dataset"], display=False)
glue("n_train", r.summary["n_train"], display=False)
glue("n_test", r.summary["n_test"], display=False)
glue("n_layers", len(rec.layers), display=False)
glue("n_frames", rec.n_frames, display=False)
glue("n_presentations", rec.n_frames // rec.T, display=False)
glue("widths", ", ".join(map(str, arch["widths"])), display=False)
glue("accuracy", 100 * r.summary["test_accuracy"], display=False)
glue("epochs", len(r.history), display=False)
summary[["channels", "height", "width", "neurons"]].T
"""),
    ("md", """
Profile **{glue:text}`profile`**: dataset {glue:text}`dataset` with {glue:text}`n_train`
training and {glue:text}`n_test` held-out images; stage widths {glue:text}`widths`, giving
{glue:text}`n_layers` residual-branch spiking layers (the paper: 16). The held-out images were
presented {glue:text}`n_presentations` times, each presentation a distinct seeded random
translation, rotation and scaling, so every neuron's spike train has {glue:text}`n_frames`
frames (the paper: 40,000 frames from the 10,000 CIFAR-100 test images).

## Training

| | paper (SEW-ResNet18, CIFAR-100) | this run |
|---|---|---|
| held-out accuracy | 72.18 % after 320 epochs | {glue:text}`accuracy:.1f` % after {glue:text}`epochs` epochs |
"""),
    ("code", """
fig = fplot.training_curve(r.history)
glue("fig_training", fig, display=False)
"""),
    ("md", """
```{glue:figure} fig_training
:name: fig-training

Training curve: cross-entropy and accuracy per epoch on the (augmented) training images and on
the held-out images.
```

## Firing rates and silent neurons (paper Fig. A1)

The paper calls a neuron *silent* when it fires fewer than 0.01 spikes per image and excludes it
from every analysis. Rates below are spikes per image (at most $T = 4$).
"""),
    ("code", """
fig = fplot.firing_rates(summary, rec.rates())
glue("fig_rates", fig, display=False)
glue("mean_rate", float(summary.mean_rate.mean()), display=False)
glue("silent_min", 100 * float(summary.silent_fraction.min()), display=False)
glue("silent_max", 100 * float(summary.silent_fraction.max()), display=False)
glue("active_total", int((summary.neurons * (1 - summary.silent_fraction)).sum()), display=False)
summary.round(4)
"""),
    ("md", """
```{glue:figure} fig_rates
:name: fig-rates

Per-neuron firing rate of every recorded layer (violins, log scale, neurons that never fired
drawn at $10^{-3}$; black dots are layer means) and the fraction of silent neurons (below the
dashed threshold).
```

Across layers the mean rate is {glue:text}`mean_rate:.3f` spikes per image and between
{glue:text}`silent_min:.1f` % and {glue:text}`silent_max:.1f` % of the sampled neurons are
silent; {glue:text}`active_total` active neurons remain for the analyses of later chapters. The
paper reports sparse activity for SEW-ResNet18 on CIFAR-100 (its exact mean rate and silent
fractions were lost in the text we have; Fig. A1 shows them per layer).

## Spike trains across layers

A raster of a few randomly chosen active neurons of an early, a middle and the last layer, for
the first presentations; vertical lines separate presentations, and the digit above each block
is the presented class.
"""),
    ("code", """
layers = [rec.layers[0], rec.layers[len(rec.layers) // 2], rec.layers[-1]]
pres = list(range(n_raster_images))
sample = activity.raster_sample(rec, layers, n_raster_neurons, pres, rng=cfg["seed"])
labels = rec.frames()["label"].values[::rec.T][pres]
names = [rec.attrs["class_names"][k] for k in labels]
fig = fplot.raster(sample, rec.T, labels=names)
glue("fig_raster", fig, display=False)
glue("n_raster_neurons", n_raster_neurons, display=False)
"""),
    ("md", """
```{glue:figure} fig_raster
:name: fig-raster

Spikes (ticks) of {glue:text}`n_raster_neurons` active neurons in each of three layers across
the first presentations.
```
"""),
]

if __name__ == "__main__":
    (ROOT / "notebooks").mkdir(exist_ok=True)
    nbf.write(notebook(CH01), ROOT / "notebooks" / "01_network_activity.ipynb")
