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
  paper's 4 on the 0–255 scale). On the digits every class is attacked; the paper attacked 30
  CIFAR-100 classes, which `fgsm_classes = 30` does (the paper profile's value): the other
  classes are then presented clean and only the attacked images' frames are analysed.

Noise draws are seeded per presentation and a recording that stops midway resumes from what is
on disk, so an interrupted attack run picks up where it was.
"""),
    ("code", ENS_PARAMS + """conditions = ["noise", "fgsm"]
n_examples = 6           # example images per condition
""", ["parameters"]),
    ("code", SETUP + """
import fclib.activity as activity
from fclib.snn.perturb import make_perturb
import seaborn as sns
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

The structural and non-structural edges (Figs. A7–A8) are at the end of chapter 2, the
permuted network (Fig. A17) in chapter 11 and the adversarial-frame detector in chapter 12.

## Slope change and information (Fig. A13)

The paper finds that neurons with high mutual information (MI) about the class keep their
response slope under FGSM, while low-MI neurons scatter widely, less so in deeper layers. Here
each selected neuron's relative slope change (as above) is set against its shuffle-corrected MI
on the original images (chapter 7).
"""),
    ("code", """
from scipy.stats import spearmanr
from fclib.information import information

info = {c: {} for c in conds}
for c in conds:
    rc = r.recording(c)
    frames = r.analysed_frames(c)
    for k in shown:
        t = k.split("→")[1]
        da = rc[t] if frames is None else rc[t].isel(frame=frames)
        info[c][t] = information(da, rc.T, n_shuffles=10, rng=seed or 0, n_classes=len(split.class_names))
rows = []
for k in shown:
    t = k.split("→")[1]
    part = cmp[cmp["layer pair"] == k].copy()
    mi0 = info["original"][t]["mi_corrected"].values
    neurons = res[k]["neuron"].values[res[k]["selected"].values]
    part["MI"] = np.tile(mi0[neurons], len(conds))
    rows.append(part)
mi_cmp = pd.concat(rows, ignore_index=True)
fig, axes = plt.subplots(1, len(shown), figsize=(4.2 * len(shown), 3.3), sharey=True)
stats = []
for ax, k in zip(np.atleast_1d(axes), shown):
    for c, col in zip(conditions, ["C1", "C2"]):
        d = mi_cmp[(mi_cmp["layer pair"] == k) & (mi_cmp["condition"] == c)].dropna(subset=["slope change"])
        ax.scatter(d["MI"], d["slope change"], s=4, alpha=0.35, color=col, label=c, rasterized=True)
        lo, hi = np.quantile(d["MI"], [1 / 3, 2 / 3])
        spread = lambda v: float(np.subtract(*np.nanquantile(v, [0.75, 0.25])))
        stats.append(dict(pair=k, condition=c, rho=spearmanr(d["MI"], d["slope change"].abs()).statistic,
                          iqr_low_mi=spread(d.loc[d["MI"] <= lo, "slope change"]),
                          iqr_high_mi=spread(d.loc[d["MI"] >= hi, "slope change"])))
    ax.axhline(0, color="k", lw=0.6)
    ax.set(title=k, xlabel="MI (bits, corrected)", ylim=(-1.5, 1.5))
np.atleast_1d(axes)[0].set_ylabel("relative slope change")
np.atleast_1d(axes)[0].legend(frameon=False, markerscale=3)
fig.tight_layout()
glue("fig_slope_mi", fig, display=False)
plt.close(fig)
mi_stats = pd.DataFrame(stats).set_index(["pair", "condition"])
fg = mi_stats.xs("fgsm", level="condition")
glue("n_spread_fgsm", int((fg["iqr_low_mi"] > fg["iqr_high_mi"]).sum()), display=False)
glue("n_rho_neg_fgsm", int((fg["rho"] < 0).sum()), display=False)
glue("n_shown", len(shown), display=False)
mi_stats.round(3)
"""),
    ("md", """
```{glue:figure} fig_slope_mi
:name: fig-slope-mi

Relative slope change under noise and FGSM against each selected neuron's MI on the original
images, for an early, a middle and the last layer pair.
```

The interquartile range of the FGSM slope change is larger for the low-MI third of neurons than
for the high-MI third in {glue:text}`n_spread_fgsm` of {glue:text}`n_shown` layer pairs, and
the absolute change falls with MI (Spearman $\rho < 0$) in {glue:text}`n_rho_neg_fgsm` of them.

## The last layer under distortion (Figs. A14–A16)

For the last layer the paper reports that, under noise, strong co-firing events of the groups
still happen but less often and mostly on images *not* of the neuron's preferred class; the
neurons' spike counts have lower entropy and carry less class information (Fig. A16); FGSM
degrades the class-specific encoding as well (Figs. A14, A15). Here, with the groups and the
preferred classes (highest mean count) of the original images: the share of frames in the
strong regime (co-firing beyond the neuron's original two-line intersection), how often the
presented class is the preferred one in those frames, and each neuron's count entropy and MI
under each condition.
"""),
    ("code", """
from fclib.semantic import similarity_by_regime

k = shown[-1]
s_, t_ = k.split("→")
g = r.groups(s_, t_, threshold)
ref = res[k]
pref = info["original"][t_]["preferred"].values[ref["neuron"].values]
eye = np.eye(len(split.class_names))
last = []
for c in conds:
    rc = r.recording(c)
    frames = r.analysed_frames(c)
    src = rc[s_] if frames is None else rc[s_].isel(frame=frames)
    cof = fr.cofiring(src, g)
    assert np.array_equal(cof["neuron"].values, ref["neuron"].values)
    reg = similarity_by_regime(cof, src["label"].values, pref, eye, ref["intersection"].values)
    strong = reg.sel(regime="strong")
    nf = reg["n_frames"].sum("regime").values
    ic = info[c][t_].sel(neuron=ref["neuron"].values)
    last.append(pd.DataFrame({"condition": c, "strong share": strong["n_frames"].values / np.maximum(nf, 1),
                              "preferred class when strong": strong["match"].values,
                              "entropy": ic["entropy"].values, "MI": ic["mi_corrected"].values,
                              "selected": ref["selected"].values}))
last = pd.concat(last, ignore_index=True)
last = last[last["selected"]]
fig, axes = plt.subplots(1, 4, figsize=(14, 3.2))
for ax, col in zip(axes, ["strong share", "preferred class when strong", "entropy", "MI"]):
    sns.boxplot(data=last, x="condition", y=col, showfliers=False, ax=ax)
    ax.set(xlabel="", title=col)
axes[1].axhline(1 / len(split.class_names), color="k", ls=":", lw=0.8)
fig.suptitle(f"{k}: selected neurons, groups and preferred classes of the original images", fontsize=9)
fig.tight_layout()
glue("fig_last_layer", fig, display=False)
plt.close(fig)
lsum = last.groupby("condition", sort=False).median(numeric_only=True)
for c in conds:
    for col, key in [("strong share", "ls_strong"), ("preferred class when strong", "ls_match"),
                     ("entropy", "ls_entropy"), ("MI", "ls_mi")]:
        glue(f"{key}_{c}", float(lsum.loc[c, col]) * (100 if key in ("ls_strong", "ls_match") else 1), display=False)
glue("last_pair", k, display=False)
lsum.round(3)
"""),
    ("md", """
```{glue:figure} fig_last_layer
:name: fig-last-layer

The last layer pair's selected neurons under each condition: share of frames in the strong
regime, share of those frames showing the neuron's preferred class (dotted: chance), entropy
of the spike count per image, and corrected MI with the class.
```

In {glue:text}`last_pair` (medians over selected neurons):

| | original | noise | FGSM |
|---|---|---|---|
| frames in the strong regime | {glue:text}`ls_strong_original:.1f` % | {glue:text}`ls_strong_noise:.1f` % | {glue:text}`ls_strong_fgsm:.1f` % |
| preferred class in strong frames | {glue:text}`ls_match_original:.0f` % | {glue:text}`ls_match_noise:.0f` % | {glue:text}`ls_match_fgsm:.0f` % |
| count entropy (bits) | {glue:text}`ls_entropy_original:.2f` | {glue:text}`ls_entropy_noise:.2f` | {glue:text}`ls_entropy_fgsm:.2f` |
| MI with the class (bits) | {glue:text}`ls_mi_original:.2f` | {glue:text}`ls_mi_noise:.2f` | {glue:text}`ls_mi_fgsm:.2f` |

The paper's claims, for comparison: under noise, strong events rarer and mostly of other classes,
lower entropy, lower MI (Fig. A16); under FGSM, lower class-specific information (Figs. A14,
A15); high-MI neurons keep their slopes under FGSM, low-MI ones scatter (Fig. A13).
"""),
]
