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

info = {c: {k.split("→")[1]: r.information(k.split("→")[1], c) for k in shown} for c in conds}
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
    src = r.spikes(s_, c)
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
lsum.round(3)
"""),
    ("md", """
```{glue:figure} fig_last_layer
:name: fig-last-layer

The last layer pair's selected neurons under each condition: share of frames in the strong
regime, share of those frames showing the neuron's preferred class (dotted: chance), entropy
of the spike count per image, and corrected MI with the class.
```

In the last layer pair (medians over selected neurons):

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

CH11 = [
    ("md", """
# A network with permuted weights

The paper's Fig. A17 asks whether the functional connectivity reflects what the network has
learned. Every convolution's and the classifier's weights are permuted across their entries
(seeded; `fclib.snn.perturb.permute_weights` — each layer keeps its weight multiset, biases,
normalisation statistics and neuron time constants), the same test presentations are recorded,
and the whole analysis is redone on the permuted network: STTC and exact-null z of every layer
pair, its **own** 1FC groups, co-firing and response fits. The paper reports that the STTC
distributions and the share of significant pairs stay much the same in early and intermediate
layers, that the characteristic response properties are lost, and that deeper layers fail to
form coherent 1FC groups.
"""),
    ("code", ENS_PARAMS + """n_hist = 3               # layer pairs whose STTC distributions are drawn
""", ["parameters"]),
    ("code", SETUP + """
import seaborn as sns
import fclib.activity as activity

r = run(profile, data_dir, epochs=epochs, n_presentations=n_presentations, seed=seed,
        conditions=["permuted"], progress=False, **overrides)
nets = {"trained": "original", "permuted": "permuted"}
kw = dict(threshold=threshold, min_frames=min_frames, saturation=saturation, n_batches=n_batches, r2_min=r2_min)
resp = {"trained": res, "permuted": r.responses("permuted", progress=False, **kw)}
pairs = {n: {k: r.pairs(*k.split("→"), c) for k in names} for n, c in nets.items()}
""", ["hide-output"]),
    ("md", """
## Accuracy and activity
"""),
    ("code", """
acc = {n: r.accuracy(c) for n, c in nets.items()}
act = pd.DataFrame({n: activity.layer_summary(r.recording(c))["mean_rate"] for n, c in nets.items()})
silent = pd.DataFrame({n: activity.layer_summary(r.recording(c))["silent_fraction"] for n, c in nets.items()})
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
act.plot(marker="o", ax=axes[0]); axes[0].set(ylabel="mean spikes per image", xlabel="layer")
silent.plot(marker="o", ax=axes[1], legend=False); axes[1].set(ylabel="silent fraction", xlabel="layer")
fig.tight_layout()
glue("fig_perm_activity", fig, display=False)
plt.close(fig)
for n in nets:
    glue(f"acc_{n}", 100 * acc[n], display=False)
glue("chance", 100 / len(r.split().class_names), display=False)
pd.concat({"mean rate": act, "silent fraction": silent}, axis=1).round(3)
"""),
    ("md", """
```{glue:figure} fig_perm_activity
:name: fig-perm-activity

Mean firing rate and share of silent neurons per layer, trained against permuted network.
```

Held-out accuracy: trained {glue:text}`acc_trained:.1f` %, permuted {glue:text}`acc_permuted:.1f` %
(chance {glue:text}`chance:.0f` %).

## STTC and significance
"""),
    ("code", """
hist_pairs = [names[i] for i in np.unique(np.linspace(0, len(names) - 1, n_hist).round().astype(int))]
fig, axes = plt.subplots(1, len(hist_pairs), figsize=(4.2 * len(hist_pairs), 3.0), sharey=True)
for ax, k in zip(np.atleast_1d(axes), hist_pairs):
    for n, col in zip(nets, ["C0", "C3"]):
        v = pairs[n][k]["sttc"].values.ravel()
        ax.hist(v[np.isfinite(v)], bins=np.linspace(-0.3, 1, 131), histtype="step", density=True, color=col, label=n)
    ax.set(yscale="log", title=k, xlabel="STTC")
np.atleast_1d(axes)[0].set_ylabel("density")
np.atleast_1d(axes)[0].legend(frameon=False)
fig.tight_layout()
glue("fig_perm_sttc", fig, display=False)
plt.close(fig)

rows = []
for n in nets:
    for k in names:
        ds, rs = pairs[n][k], resp[n][k]
        sig = (ds["z"].values > threshold) & (ds["sttc"].values > 0)
        deg = rs["degree"].values
        mi = r.information(k.split("→")[1], nets[n])
        has = deg > 0
        rows.append({"network": n, "layer pair": k, "active targets": ds.sizes["target"],
                     "median STTC": float(np.nanmedian(ds["sttc"].values)),
                     "significant": float(sig.mean()),
                     "with a group": float(has.mean()),
                     "median group size": float(np.median(deg[has])) if has.any() else 0.0,
                     "R2 > 0.8 (of grouped)": float(rs["selected"].values[has].mean()) if has.any() else np.nan,
                     "median slope x N": float(np.nanmedian((rs["relu_slope"] * rs["degree"]).values[rs["selected"].values])),
                     "median max p": float(np.nanmedian((rs["n_fire"] / rs["n_frames"].where(rs["n_frames"] >= min_frames)).max("cofiring").values[has])) if has.any() else np.nan,
                     "median MI (bits)": float(np.median(mi["mi_corrected"].values[rs["neuron"].values]))})
comp = pd.DataFrame(rows)
comp["layer pair"] = pd.Categorical(comp["layer pair"], categories=names, ordered=True)
cols = ["significant", "with a group", "median group size", "R2 > 0.8 (of grouped)", "median max p", "median MI (bits)"]
fig, axes = plt.subplots(2, 3, figsize=(13, 5.6), sharex=True)
for ax, col in zip(axes.ravel(), cols):
    for n, c in zip(nets, ["C0", "C3"]):
        d = comp[comp["network"] == n]
        ax.plot(range(len(names)), d[col], marker="o", color=c, label=n)
    ax.set(title=col)
    if col == "median group size":
        ax.set_yscale("log")
for ax in axes[-1]:
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
axes[0, 0].legend(frameon=False)
fig.tight_layout()
glue("fig_perm_props", fig, display=False)
plt.close(fig)
wide = comp.pivot(index="layer pair", columns="network", values=cols + ["median STTC", "median slope x N"])
half = names[: len(names) // 2 + 1]
late = names[len(names) // 2 + 1:]
ratio = lambda col, ks: float(np.median(wide.loc[ks, (col, "permuted")] / wide.loc[ks, (col, "trained")]))
glue("sig_ratio_early", ratio("significant", half), display=False)
glue("sig_ratio_late", ratio("significant", late), display=False)
glue("grp_ratio_early", ratio("median group size", half), display=False)
glue("grp_ratio_late", ratio("median group size", late), display=False)
glue("mi_trained_last", float(wide.loc[names[-1], ("median MI (bits)", "trained")]), display=False)
glue("mi_permuted_last", float(wide.loc[names[-1], ("median MI (bits)", "permuted")]), display=False)
glue("sel_trained", float(comp[comp["network"] == "trained"]["R2 > 0.8 (of grouped)"].median() * 100), display=False)
glue("sel_permuted", float(comp[comp["network"] == "permuted"]["R2 > 0.8 (of grouped)"].median() * 100), display=False)
glue("maxp_trained", float(comp[comp["network"] == "trained"]["median max p"].median()), display=False)
glue("maxp_permuted", float(comp[comp["network"] == "permuted"]["median max p"].median()), display=False)
from scipy.stats import ks_2samp
gen = np.random.default_rng(seed or 0)
def _sample(ds, n=200_000):
    v = ds["sttc"].values.ravel()
    v = v[np.isfinite(v)]
    return gen.choice(v, min(n, v.size), replace=False)
ks = pd.Series({k: ks_2samp(_sample(pairs["trained"][k]), _sample(pairs["permuted"][k])).statistic for k in names},
               name="KS distance of the STTC distributions")
glue("ks_first", float(ks.iloc[0]), display=False)
glue("ks_early", float(ks[half].median()), display=False)
glue("ks_late", float(ks[late].median()), display=False)
display(ks.round(3).to_frame())
comp.set_index(["layer pair", "network"]).sort_index().round(4)
"""),
    ("md", """
```{glue:figure} fig_perm_sttc
:name: fig-perm-sttc

STTC of all active pairs of an early, a middle and the last layer pair, trained against
permuted network.
```

```{glue:figure} fig_perm_props
:name: fig-perm-props

Per layer pair: share of significant pairs ($z$ > 4, positive STTC), share of active targets with
a non-empty 1FC group, median group size, share of grouped targets whose ReLU fit has
$R^2 > 0.8$, median highest firing probability a target reaches, and median corrected MI of the
targets with the class.
```

| | paper (Fig. A17) | this run (permuted / trained, median over layer pairs) |
|---|---|---|
| accuracy | (not given) | {glue:text}`acc_permuted:.1f` % against {glue:text}`acc_trained:.1f` % |
| STTC distribution, early and intermediate layers | largely unchanged | Kolmogorov–Smirnov distance {glue:text}`ks_early:.2f` (median over the first half of the layer pairs; {glue:text}`ks_first:.2f` in the first), {glue:text}`ks_late:.2f` in the second half |
| significant pairs, early and intermediate layers | largely unchanged | ratio {glue:text}`sig_ratio_early:.2f` (first half of the layer pairs) |
| 1FC groups in deeper layers | fail to form | median group size ratio {glue:text}`grp_ratio_late:.2f` (second half; first half {glue:text}`grp_ratio_early:.2f`); significant-pair ratio {glue:text}`sig_ratio_late:.2f` |
| response properties | lost | $R^2 > 0.8$ for {glue:text}`sel_permuted:.0f` % of grouped targets (trained {glue:text}`sel_trained:.0f` %); median highest firing probability {glue:text}`maxp_permuted:.2f` (trained {glue:text}`maxp_trained:.2f`) |
| class information of the last layer | — | median MI {glue:text}`mi_permuted_last:.3f` bits (trained {glue:text}`mi_trained_last:.3f`) |

A ReLU-shaped response to one's own group is not by itself a sign of learning: the group is
*defined* by co-firing with the target (chapter 3), so a good fit can arise in any network with
correlated activity. What learning adds shows in the columns the permuted network loses — read
the table above for which of them this run bears out.
"""),
]

CH12 = [
    ("md", """
# Detecting adversarial inputs from co-firing

The paper's diagnostic (§4, "Detection of Adversarial Frames"): 1FC groups are identified on
**training** images, the test images are presented clean and as FGSM adversarial examples, and a
logistic regression trained on the groups' co-firing statistics tells adversarial from clean
inputs. The question a reader should ask is whether the ensembles add anything over plain
firing rates, so the same detector is also trained on spike-count statistics of the same layers.

Here (`fclib.detect`):

- the trained network is recorded on `detector_presentations` jittered presentations of the
  training images (condition `train`), and the last `detector_pairs` layer pairs get their 1FC
  groups from that recording (STTC, exact null, $z > 4$, as in chapter 2);
- for every test presentation (4 frames) under the clean and the FGSM condition, each layer pair
  gives five co-firing statistics over its targets: the mean fraction $k/N$ of the group firing,
  its median and 90th percentile over targets, and the share of (target, step) with
  $k/N \\ge 0.25$ and $\\ge 0.5$;
- the baseline gives each layer of those pairs five spike-count statistics: the mean rate and
  the share of neurons with at least 1, 2, 3 and 4 spikes;
- a standardised logistic regression is trained on the presentations of half the test images
  and scored on the other half's (no image in both); ROC curves and the area under them (AUC),
  with a bootstrap interval over the held-out images.
"""),
    ("code", ENS_PARAMS + """detector_pairs = 3       # the last layer pairs whose groups feed the detector
test_fraction = 0.5      # share of test images held out to score the detector
n_boot = 200             # bootstrap resamples of held-out images for the AUC interval
""", ["parameters"]),
    ("code", SETUP + """
import fclib.detect as fd

r = run(profile, data_dir, epochs=epochs, n_presentations=n_presentations, seed=seed,
        conditions=["fgsm", "train"], progress=False, **overrides)
T = rec.T
groups = {k: r.groups(*k.split("→"), threshold, reference="train") for k in names[-detector_pairs:]}
used = [k for k, g in groups.items() if g.sizes["edge"]]  # a pair without any group gives no features
if not used:
    raise RuntimeError("no 1FC group was found on the training images; record more presentations "
                       "(detector_presentations)")
test_groups = {k: r.groups(*k.split("→"), threshold) for k in used}
layers = sorted({l for k in used for l in k.split("→")}, key=lambda l: int(l[1:]))
""", ["hide-output"]),
    ("md", """
## Groups from training images
"""),
    ("code", """
rows = []
for k in used:
    g, h = groups[k], test_groups[k]
    a = set(zip(g["target"].values.tolist(), g["source"].values.tolist()))
    b = set(zip(h["target"].values.tolist(), h["source"].values.tolist()))
    rows.append({"layer pair": k, "edges (training images)": len(a), "edges (test images)": len(b),
                 "shared": len(a & b), "Jaccard": len(a & b) / max(len(a | b), 1),
                 "median group size (training)": float(np.median(g["degree"].values))})
gtab = pd.DataFrame(rows).set_index("layer pair")
glue("jaccard_min", float(gtab["Jaccard"].min()), display=False)
glue("jaccard_max", float(gtab["Jaccard"].max()), display=False)
glue("n_train_pres", int(r.cfg["detector_presentations"]), display=False)
gtab.round(3)
"""),
    ("md", """
The groups found on {glue:text}`n_train_pres` presentations of training images share a Jaccard
index of {glue:text}`jaccard_min:.2f`–{glue:text}`jaccard_max:.2f` with those found on the test
images: the ensembles are a property of the network more than of the image set.

## The detector
"""),
    ("code", """
feats = {}
for c in ["original", "fgsm"]:
    rc = r.recording(c)
    frames = r.analysed_frames("fgsm")  # with FGSM on a class subset: only attacked images
    sub = (lambda da: da) if frames is None else (lambda da: da.isel(frame=frames))
    cof = pd.concat([fd.cofiring_features(sub(rc[k.split("→")[0]]), groups[k], T, prefix=f"{k} ")
                     for k in used], axis=1)
    rate = pd.concat([fd.rate_features(sub(rc[l]), T, prefix=f"{l} ") for l in layers], axis=1)
    feats[c] = {"co-firing": cof, "firing rates": rate, "both": pd.concat([cof, rate], axis=1)}
    images = sub(rc[layers[0]])["image"].values[::T]
results = {name: fd.detect(feats["original"][name], feats["fgsm"][name], images,
                           test_fraction=test_fraction, n_boot=n_boot, rng=seed or 0)
           for name in ["co-firing", "firing rates", "both"]}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
for (name, d), col in zip(results.items(), ["C0", "C1", "C2"]):
    axes[0].plot(d["fpr"], d["tpr"], color=col, label=f"{name}: AUC {d['auc']:.3f}")
axes[0].plot([0, 1], [0, 1], "k:", lw=0.8)
axes[0].set(xlabel="false-positive rate", ylabel="true-positive rate", title="held-out images")
axes[0].legend(frameon=False, fontsize=8)
k = used[-1]
for c, col in zip(["original", "fgsm"], ["C0", "C3"]):
    axes[1].hist(feats[c]["co-firing"][f"{k} mean"], bins=60, histtype="step", density=True, color=col,
                 label="clean" if c == "original" else "FGSM")
axes[1].set(xlabel=f"mean k/N of {k} groups in a presentation", ylabel="density")
axes[1].legend(frameon=False)
fig.tight_layout()
glue("fig_detector", fig, display=False)
plt.close(fig)
auc = pd.DataFrame({name: {"AUC": d["auc"], "CI low": d["auc_ci"][0], "CI high": d["auc_ci"][1],
                           "features": d["coef"].size, "train presentations": d["n_train"],
                           "test presentations": d["n_test"]} for name, d in results.items()}).T
for name, key in [("co-firing", "cof"), ("firing rates", "rate"), ("both", "both")]:
    glue(f"auc_{key}", float(results[name]["auc"]), display=False)
    glue(f"auc_{key}_lo", float(results[name]["auc_ci"][0]), display=False)
    glue(f"auc_{key}_hi", float(results[name]["auc_ci"][1]), display=False)
gain = fd.compare(results["co-firing"], results["firing rates"], n_boot=n_boot, rng=seed or 0)
add = fd.compare(results["both"], results["firing rates"], n_boot=n_boot, rng=seed or 0)
glue("gain", gain["diff"], display=False)
glue("gain_lo", float(gain["ci"][0]), display=False)
glue("gain_hi", float(gain["ci"][1]), display=False)
glue("add", add["diff"], display=False)
glue("add_lo", float(add["ci"][0]), display=False)
glue("add_hi", float(add["ci"][1]), display=False)
glue("acc_orig", 100 * r.accuracy("original"), display=False)
glue("acc_fgsm", 100 * r.accuracy("fgsm"), display=False)
auc.round(3)
"""),
    ("md", """
```{glue:figure} fig_detector
:name: fig-detector

Left: ROC curves of the detector on held-out test images, from co-firing statistics of the last
layer pairs' training-image groups, from firing-rate statistics of the same layers, and from
both. Right: one co-firing statistic, clean against FGSM presentations.
```

| | paper | this run |
|---|---|---|
| detector on co-firing statistics | "developed"; groups from 10,000 training images, clean vs FGSM test inputs | AUC {glue:text}`auc_cof:.3f` ({glue:text}`auc_cof_lo:.3f`–{glue:text}`auc_cof_hi:.3f`) |
| the same detector on firing rates | not reported | AUC {glue:text}`auc_rate:.3f` ({glue:text}`auc_rate_lo:.3f`–{glue:text}`auc_rate_hi:.3f`) |
| both together | — | AUC {glue:text}`auc_both:.3f` ({glue:text}`auc_both_lo:.3f`–{glue:text}`auc_both_hi:.3f`) |

The attack here is mild (accuracy {glue:text}`acc_orig:.1f` % → {glue:text}`acc_fgsm:.1f` %),
so the detector's task is hard. Do the ensembles add anything? On the same held-out images
(paired bootstrap over images), co-firing minus firing-rate AUC is {glue:text}`gain:+.3f`
({glue:text}`gain_lo:+.3f` to {glue:text}`gain_hi:+.3f`), and adding the co-firing statistics
to the rates changes the AUC by {glue:text}`add:+.3f` ({glue:text}`add_lo:+.3f` to
{glue:text}`add_hi:+.3f`). Co-firing statistics are computed from the same spikes, so they can
only help where the *pattern* of who fires together shifts more than how much fires; an
interval that contains zero means this run cannot tell them apart.
"""),
]
