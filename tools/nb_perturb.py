"""Chapter sources: noise and adversarial inputs (paper Figs. 4, 5, A11, A12)."""
from nb_ensembles import ENS_PARAMS, SETUP

CH10 = [
    ("md", """
# Noise and adversarial inputs

The paper's Figs. 4, 5, A11 and A12: the test images are presented again with additive uniform
noise and as fast-gradient-sign (FGSM) adversarial examples, the 1FC groups are **kept** as
found on the original images, and the responses of the neurons to their groups are measured
under each condition. The paper reports that noise lowers every layer's firing rate, that the
adversarial images look unchanged yet lower the accuracy, and that both disrupt the response
functions — most in early and intermediate layers — while strong co-firing events become rarer
under noise.

Conditions (`fclib.snn.perturb`, recorded by the pipeline on the same presentation schedule,
neurons and frames as the original; a recording that differs is refused):

- `noise`: $x + U(-a, a)$ per pixel, clipped to [0, 1], $a$ = `noise_amplitude`;
- `fgsm`: $x + \\epsilon \\, \\mathrm{sign}(\\nabla_x \\mathcal{L})$ with the true label, the gradient
  taken through the surrogate spike function, clipped to [0, 1]; $\\epsilon$ = `fgsm_eps` (the
  paper's 4 on the 0–255 scale). On the digits every class is attacked; the paper used 30
  CIFAR-100 classes for cost.
"""),
    ("code", ENS_PARAMS + """conditions = ["noise", "fgsm"]
n_examples = 6           # example images per condition
""", ["parameters"]),
    ("code", SETUP + """
import fclib.activity as activity
from fclib.snn.perturb import make_perturb
import torch

r = run(profile, data_dir, epochs=epochs, n_presentations=n_presentations, seed=seed,
        conditions=conditions, progress=False, **overrides)
conds = ["original", *conditions]
""", ["hide-output"]),
    ("md", """
## Accuracy and example images (Fig. A11)
"""),
    ("code", """
acc = pd.Series({c: r.accuracy(c) for c in conds}, name="held-out accuracy")
split = r.split()
model = r.model()
x = torch.from_numpy(split.test_images[:n_examples])
y = torch.from_numpy(split.test_labels[:n_examples])
shown_imgs = [make_perturb(c, model, r.cfg)[1] for c in conds]
imgs = np.concatenate([x.numpy() if p is None else p(x, y).numpy() for p in shown_imgs])
titles = [f"{c}" for c in conds for _ in range(n_examples)]
fig = fplot.presentations(imgs, titles, ncols=n_examples)
glue("fig_examples", fig, display=False)
plt.close(fig)
for c in conds:
    glue(f"acc_{c}", 100 * float(acc[c]), display=False)
glue("noise_amplitude", float(r.cfg["noise_amplitude"]), display=False)
glue("fgsm_eps255", float(255 * r.cfg["fgsm_eps"]), display=False)
acc.to_frame().round(4)
"""),
    ("md", """
```{glue:figure} fig_examples
:name: fig-examples

The first held-out images, original (top), with uniform noise, and as FGSM adversarial examples.
```

Held-out accuracy: original {glue:text}`acc_original:.1f` %, with noise of amplitude
{glue:text}`noise_amplitude` {glue:text}`acc_noise:.1f` %, FGSM at $\\epsilon$ =
{glue:text}`fgsm_eps255:.0f`/255 {glue:text}`acc_fgsm:.1f` %.

## Firing rates (Fig. A12)
"""),
    ("code", """
rates = pd.DataFrame({c: activity.layer_summary(r.recording(c))["mean_rate"] for c in conds})
ax = rates.plot(marker="o", figsize=(7, 3.2))
ax.set(ylabel="mean spikes per image", xlabel="layer")
glue("fig_rates", ax.figure, display=False)
plt.close(ax.figure)
glue("n_lower_noise", int((rates["noise"] < rates["original"]).sum()), display=False)
glue("n_lower_fgsm", int((rates["fgsm"] < rates["original"]).sum()), display=False)
glue("n_layers", len(rates), display=False)
rates.round(4)
"""),
    ("md", """
```{glue:figure} fig_rates
:name: fig-rates-conditions

Mean firing rate per layer under each condition.
```

Noise lowers the mean rate in {glue:text}`n_lower_noise` of {glue:text}`n_layers` layers, FGSM
in {glue:text}`n_lower_fgsm`.

## Response functions under distortion (Figs. 4 and 5)

For an early, a middle and the last layer pair, with the groups of the original images: the
ReLU $R^2$, the slope change against the original, and how often the strong regime is reached —
the share of frames whose co-firing exceeds the neuron's *original* two-line intersection.
"""),
    ("code", """
rows = []
for k in shown:
    s, t = k.split("→")
    ref = res[k]
    for c in conds:
        ds = ref if c == "original" else r.response(s, t, c, threshold=threshold, min_frames=min_frames,
                                                      saturation=saturation, n_batches=n_batches, r2_min=r2_min)
        rows.append(pd.DataFrame({
            "layer pair": k, "condition": c, "relu_r2": ds["relu_r2"].values,
            "slope change": (ds["relu_slope"].values - ref["relu_slope"].values) / ref["relu_slope"].values,
            "strong regime reached": fr.fraction_above(ds[["n_frames", "n_fire"]], ref["intersection"].values).values,
            "selected": ref["selected"].values}))
cmp = pd.concat(rows, ignore_index=True)
cmp = cmp[cmp["selected"]]
import seaborn as sns
fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
for ax, col in zip(axes, ["relu_r2", "slope change", "strong regime reached"]):
    sns.boxplot(data=cmp, x="layer pair", y=col, hue="condition", showfliers=False, ax=ax)
    ax.legend_.remove() if ax is not axes[-1] else ax.legend(frameon=False, fontsize=7)
axes[0].set_ylim(-0.5, 1.02)
axes[1].set_ylim(-1.5, 1.5)
fig.tight_layout()
glue("fig_conditions", fig, display=False)
plt.close(fig)
summ = cmp.groupby(["layer pair", "condition"], observed=True, sort=False).agg(
    median_r2=("relu_r2", "median"), selected_r2=("relu_r2", lambda v: float((v > r2_min).mean())),
    median_abs_slope_change=("slope change", lambda v: float(np.nanmedian(np.abs(v)))),
    strong=("strong regime reached", "median"))
for c in conds:
    glue(f"strong_{c}", 100 * float(summ.xs(c, level="condition")["strong"].median()), display=False)
    glue(f"keep_{c}", 100 * float(summ.xs(c, level="condition")["selected_r2"].median()), display=False)
for c in conditions:
    glue(f"dslope_{c}", 100 * float(summ.xs(c, level="condition")["median_abs_slope_change"].median()), display=False)
summ.round(3)
"""),
    ("md", """
```{glue:figure} fig_conditions
:name: fig-conditions

For the neurons selected on the original images: ReLU $R^2$ (left), relative slope change against
the original (middle) and the share of frames beyond the original intersection (right), per
layer pair and condition.
```

Of the neurons selected on the original images, the median share (over the three layer pairs)
that keeps $R^2 > 0.8$ is {glue:text}`keep_original:.0f` % on the original,
{glue:text}`keep_noise:.0f` % under noise and {glue:text}`keep_fgsm:.0f` % under FGSM; the
median absolute slope change is {glue:text}`dslope_noise:.0f` % (noise) and
{glue:text}`dslope_fgsm:.0f` % (FGSM). The strong regime is reached in a median
{glue:text}`strong_original:.1f` % of frames on the original images,
{glue:text}`strong_noise:.1f` % under noise and {glue:text}`strong_fgsm:.1f` % under FGSM.

| | paper (SEW-ResNet18, CIFAR-100) | this run |
|---|---|---|
| accuracy | drops under noise and FGSM | {glue:text}`acc_original:.1f` % → {glue:text}`acc_noise:.1f` % (noise), {glue:text}`acc_fgsm:.1f` % (FGSM) |
| firing rates under noise | lower in every layer | lower in {glue:text}`n_lower_noise` of {glue:text}`n_layers` layers |
| response functions | disrupted, most in early and intermediate layers | $R^2 > 0.8$ kept by {glue:text}`keep_noise:.0f` % (noise), {glue:text}`keep_fgsm:.0f` % (FGSM) of selected neurons |
| strong events under noise | rarer | {glue:text}`strong_original:.1f` % → {glue:text}`strong_noise:.1f` % of frames |

Not yet in this book (work in progress): the permuted-weights network (Fig. A17; the pipeline
records it with `conditions=["permuted"]` and redoes its pairs and groups), slope change against
MI and last-layer information under distortion (Figs. A13–A16), and the adversarial-frame
detector. The structural and non-structural edges (Figs. A7–A8) are at the end of chapter 2.
"""),
]
