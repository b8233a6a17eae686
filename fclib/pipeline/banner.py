"""The one line at the top of every chapter that says which run built the page.

Everything in it is read from the run's own parameters, its training summary and its
recording, never typed, so a reader cannot mistake a page of the digits for a page of real
images at the paper's protocol.
"""
from __future__ import annotations

__all__ = ["DATASET_NAMES", "run_description", "banner"]

DATASET_NAMES = {"digits": "scikit-learn's 8×8 digits", "fashion_mnist": "Fashion-MNIST",
                 "cifar10": "CIFAR-10", "cifar100": "CIFAR-100"}


def run_description(r) -> dict:
    """What built a run's pages: profile, data set, network, presentations and frames, as a
    dict of strings and numbers (from ``r.cfg``, ``r.summary`` and the recording)."""
    cfg, summary = r.cfg, r.summary
    rec = r.recording()
    n_pres = rec.n_frames // rec.T
    images = rec[rec.layers[0]]["image"].values[:: rec.T]
    n_distinct = len(set(images.tolist()))
    size = cfg["image_size"]
    if cfg["dataset"] == "digits":
        size_text = f"8×8 upsampled to {size}×{size}"
    else:
        size_text = f"{size}×{size}"
    arch = summary["arch"]
    return {
        "profile": cfg["profile"],
        "dataset": DATASET_NAMES.get(cfg["dataset"], cfg["dataset"]),
        "image_size": size_text,
        "n_train": int(summary["n_train"]),
        "n_test": int(summary["n_test"]),
        "n_layers": len(rec.layers),
        "widths": "-".join(str(w) for w in arch["widths"]),
        "blocks": "-".join(str(b) for b in arch["blocks"]),
        "accuracy": 100 * float(summary["test_accuracy"]),
        "n_presentations": int(n_pres),
        "n_distinct": int(n_distinct),
        "per_image": n_pres / max(n_distinct, 1),
        "jitter": bool(cfg["jitter"]),
        "n_frames": int(rec.n_frames),
        "T": int(rec.T),
    }


def banner(r):
    """The chapter's first line as Markdown (``IPython.display.Markdown``): the run's profile,
    data set, network and presentations (:func:`run_description`)."""
    from IPython.display import Markdown

    d = run_description(r)
    if d["per_image"] == 1:
        shown = f"each of the {d['n_distinct']:,} test images shown once"
    else:
        shown = (f"{d['n_distinct']:,} test images shown {d['per_image']:.0f} times each on "
                 "average")
    shown += ", with random jitter" if d["jitter"] else ", unchanged"
    text = (f"**This page was computed on:** profile `{d['profile']}` · {d['dataset']} "
            f"({d['image_size']} px; {d['n_train']:,} training, {d['n_test']:,} test images) · "
            f"SEW-ResNet with {d['n_layers']} recorded layers (widths {d['widths']}, "
            f"blocks {d['blocks']}), held-out accuracy {d['accuracy']:.1f} % · "
            f"{d['n_presentations']:,} presentations ({shown}; {d['n_frames']:,} frames of "
            f"T = {d['T']}).")
    return Markdown(text)
