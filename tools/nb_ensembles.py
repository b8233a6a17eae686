"""Chapter sources: 1FC ensembles and response functions (paper Fig. 2, A3-A5)."""
from nb_common import RUN_PARAMS

ENS_PARAMS = RUN_PARAMS + """threshold = 4.0          # z threshold of 1FC membership, the paper's
min_frames = 10          # co-firing values seen in fewer frames are left out of fits and plots
saturation = 0.95        # fits stop where the response first reaches this firing probability
r2_min = 0.8             # ReLU fits with R2 above this are selected, the paper's
n_batches = 4            # disjoint batches of held-out images for the robustness test
"""

SETUP = """
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from myst_nb import glue

import fclib.plotting as fplot
import fclib.response as fr
from fclib.fits import fit_power_law
from fclib.pipeline import run

r = run(profile, data_dir, epochs=epochs, n_presentations=n_presentations, seed=seed,
        progress=False, **overrides)
res = r.responses(threshold=threshold, min_frames=min_frames, saturation=saturation,
                  n_batches=n_batches, r2_min=r2_min, progress=False)
table = fr.property_table(res)
rec = r.recording()
names = list(res)
shown = [names[0], names[len(names) // 2], names[-1]]
sel = table[table["selected"]]
"""

CH03 = [
    ("md", """
# Response functions: a ReLU of group co-firing

The paper's central result (its Fig. 2 A-L): the firing probability of a neuron, as a function of
how many members of its first-order functionally connected (1FC) group in the previous layer
fire in the same frame, is well described by a rectified linear unit (ReLU); some neurons reach
firing probabilities close to one. The paper then focuses on the neurons whose ReLU fit has
$R^2 > 0.8$.

Here every active target neuron of every consecutive layer pair gets its 1FC group (sources with
$z > 4$ and positive STTC, `fclib.groups`), the group's co-firing in every frame
(`fclib.response.cofiring`), and its response function $p(k)$: the fraction of frames with
co-firing $k$ in which the target fires. The ReLU $p = s \\cdot \\max(0, k - \\theta)$ is fitted
by weighted least squares, each point weighted by the frames behind it, which equals a
least-squares fit on the individual frames; the threshold is optimised exactly
(`fclib.fits.fit_relu`). Co-firing values seen in fewer than `min_frames` frames are left out.
A ReLU has no ceiling, while a firing probability cannot exceed one: a response that reaches
`saturation` is fitted up to the first co-firing value where it does
(`fclib.response.fit_response`), and the ceiling beyond is drawn but not fitted.
"""),
    ("code", ENS_PARAMS, ["parameters"]),
    ("code", SETUP, ["hide-output"]),
    ("md", """
## Example neurons (Fig. 2 A-C)

For an early, a middle and the last layer pair, the selected neuron whose fitted ReLU reaches
the highest firing probability within the co-firing it was observed at
(`fclib.response.example_neuron`). Point area grows with the number of frames.
"""),
    ("code", """
examples = {k: (res[k], fr.example_neuron(res[k])) for k in shown}
fig = fplot.response_functions(examples, model="relu", min_frames=min_frames)
glue("fig_relu_examples", fig, display=False)
plt.close(fig)
"""),
    ("md", """
```{glue:figure} fig_relu_examples
:name: fig-relu-examples

Firing probability of three target neurons against the co-firing of their 1FC groups, with the
weighted ReLU fit.
```

## Goodness of fit across the population (Fig. 2 D-L)
"""),
    ("code", """
peak = {k: fr.response_curve(ds, min_frames).max("cofiring").values for k, ds in res.items()}
table["peak_p"] = np.concatenate([peak[k] for k in names])
per_pair = table.groupby("layer pair", observed=True).agg(
    neurons=("neuron", "size"), selected=("selected", "mean"),
    median_r2=("relu_r2", "median"), median_nrmse=("relu_nrmse", "median"),
    median_slope=("relu_slope", "median"), peak_p_max=("peak_p", "max"),
    above_09=("peak_p", lambda v: int((v > 0.9).sum())))
fig = fplot.by_layer_pair(table, "relu_r2", "ReLU fit R²", hline=r2_min, clip=(-0.5, 1))
glue("fig_r2", fig, display=False)
plt.close(fig)
fig = fplot.by_layer_pair(table, "relu_nrmse", "ReLU fit NRMSE")
glue("fig_nrmse", fig, display=False)
plt.close(fig)
glue("n_neurons", f"{len(table):,}", display=False)
glue("sel_all", 100 * float(table["selected"].mean()), display=False)
glue("sel_min", 100 * float(per_pair.selected.min()), display=False)
glue("sel_max", 100 * float(per_pair.selected.max()), display=False)
glue("sel_min_pair", str(per_pair.selected.idxmin()), display=False)
glue("r2_med_min", float(per_pair.median_r2.min()), display=False)
glue("r2_med_max", float(per_pair.median_r2.max()), display=False)
glue("nrmse_med_max", float(per_pair.median_nrmse.max()), display=False)
glue("n_above_09", int(per_pair.above_09.sum()), display=False)
glue("peak_max", float(per_pair.peak_p_max.max()), display=False)
glue("r2_min", float(r2_min), display=False)
glue("sat_frac", 100 * float(table["saturation_cofiring"].notna().mean()), display=False)
glue("saturation", float(saturation), display=False)
per_pair.round(4)
"""),
    ("md", """
```{glue:figure} fig_r2
:name: fig-r2

$R^2$ of the ReLU fit of every analysed target neuron, per layer pair (boxes: quartiles,
whiskers: 1.5 IQR, values below −0.5 drawn at −0.5); dashed: the selection threshold.
```

```{glue:figure} fig_nrmse
:name: fig-nrmse

NRMSE of the same fits: root weighted mean squared error over the range of the response.
```

Of {glue:text}`n_neurons` analysed target neurons, {glue:text}`sel_all:.1f` % have a ReLU fit
with $R^2 > $ {glue:text}`r2_min`; per layer pair between {glue:text}`sel_min:.1f` %
({glue:text}`sel_min_pair`) and {glue:text}`sel_max:.1f` %. The median $R^2$ per layer pair
lies between {glue:text}`r2_med_min:.3f` and {glue:text}`r2_med_max:.3f`, the median NRMSE is
at most {glue:text}`nrmse_med_max:.3f`. {glue:text}`n_above_09` neurons reach a firing
probability above 0.9 at some co-firing value seen in at least `min_frames` frames (highest:
{glue:text}`peak_max:.3f`); {glue:text}`sat_frac:.1f` % of all analysed neurons reach
{glue:text}`saturation` and were fitted up to that point.

| | paper (SEW-ResNet18, CIFAR-100) | this run |
|---|---|---|
| response function | ReLU-like in every layer pair | ReLU fits with median $R^2$ {glue:text}`r2_med_min:.2f` – {glue:text}`r2_med_max:.2f` per layer pair |
| neurons selected ($R^2 > 0.8$) | the paper analyses these (its share was lost from the text we have) | {glue:text}`sel_all:.1f` % overall, {glue:text}`sel_min:.1f` – {glue:text}`sel_max:.1f` % per layer pair |
| firing probability near one | some neurons | {glue:text}`n_above_09` neurons above 0.9 |

**What this does and does not show.** The response of a neuron to its own 1FC group is well
described by a ReLU at this scale too. Part of that is built in: the group *is* the set of
neurons that fire with the target more often than chance, so the target's firing probability
must rise with their co-firing. What the fit adds is the shape — flat, then linear above a
threshold — and the later chapters its parameters: the slope's dependence on group size, where
the rise starts, and whether it holds on held-out images.
"""),
]

CH04 = [
    ("md", """
# Two regimes: rare strong events

The paper's Fig. 2 M-T: plotted against the cumulative distribution of its group's co-firing,
a neuron's firing probability rises only deep in the tail — most co-firing events leave it
silent (a *weak* regime) and only rare, large events drive it (a *strong* regime). The paper
puts the start of the strong regime at 5–16 % of the 1FC group co-firing, and says the rise
happens within roughly the largest 8 % of co-firing events.

Each response function is fitted with two lines that meet at a point
(`fclib.fits.fit_two_lines`: continuous, weighted least squares, the meeting point searched
over the observed co-firing values and between them). The *intersection* marks the change of
regime; it is expressed three ways per neuron (`fclib.response.neuron_properties`):

- as a fraction of the group size $N$ (`intersection_fraction`, the paper's 5–16 %);
- as a quantile of the co-firing distribution, $P(k \\le$ intersection$)$ (`rise_quantile`:
  the paper's "largest 8 %" reads as a rise quantile near 0.92);
- as the fraction of frames in the strong regime, $1 -$ `rise_quantile`.
"""),
    ("code", ENS_PARAMS, ["parameters"]),
    ("code", SETUP, ["hide-output"]),
    ("md", """
## Example neurons with the co-firing CDF (Fig. 2 M-P)
"""),
    ("code", """
examples = {k: (res[k], fr.example_neuron(res[k])) for k in shown}
fig = fplot.response_functions(examples, model="lines", cdf=True, min_frames=min_frames)
glue("fig_lines_examples", fig, display=False)
plt.close(fig)
"""),
    ("md", """
```{glue:figure} fig_lines_examples
:name: fig-lines-examples

The example neurons of the previous chapter: firing probability (green) with the two-line fit
(black) and its intersection (dashed), and the CDF of their group's co-firing (blue).
```

## Where the strong regime starts (Fig. 2 Q-T)

Over the neurons whose ReLU fit has $R^2 > 0.8$ (the paper's selection):
"""),
    ("code", """
fig = fplot.by_layer_pair(sel, "intersection_fraction",
                          "intersection / group size N", band=(0.05, 0.16))
glue("fig_inter_frac", fig, display=False)
plt.close(fig)
fig = fplot.by_layer_pair(sel, "rise_quantile", "co-firing CDF at the intersection", hline=0.92)
glue("fig_rise_q", fig, display=False)
plt.close(fig)
regimes = sel.groupby("layer pair", observed=True).agg(
    neurons=("neuron", "size"),
    intersection_fraction=("intersection_fraction", "median"),
    rise_quantile=("rise_quantile", "median"),
    strong_fraction=("strong_fraction", "median"),
    intersection_of_max=("intersection_of_max", "median"),
    lines_r2=("lines_r2", "median"),
    two_regimes=("intersection", lambda v: float(v.notna().mean())))
glue("if_min", 100 * float(regimes.intersection_fraction.min()), display=False)
glue("if_max", 100 * float(regimes.intersection_fraction.max()), display=False)
glue("if_in_band", 100 * float(sel.intersection_fraction.between(0.05, 0.16).mean()), display=False)
glue("rq_min", float(regimes.rise_quantile.min()), display=False)
glue("rq_max", float(regimes.rise_quantile.max()), display=False)
glue("sf_min", 100 * float(regimes.strong_fraction.min()), display=False)
glue("sf_max", 100 * float(regimes.strong_fraction.max()), display=False)
glue("convex_all", 100 * float(sel.intersection.notna().mean()), display=False)
glue("strong_over_weak", float((sel.slope_strong / sel.slope_weak.abs().clip(lower=1e-6)).median()), display=False)
glue("lines_r2_min", float(regimes.lines_r2.min()), display=False)
regimes.round(3)
"""),
    ("md", """
```{glue:figure} fig_inter_frac
:name: fig-inter-frac

The two-line intersection as a fraction of the group size, per layer pair (selected neurons);
shaded: the paper's 5–16 %.
```

```{glue:figure} fig_rise_q
:name: fig-rise-q

The co-firing CDF at the intersection: the share of frames in the weak regime; dashed: 0.92,
the paper's "largest 8 % of events".
```

The second line is constrained to be the steeper one (a rise, not a ceiling); such a fit
exists for {glue:text}`convex_all:.1f` % of the selected neurons, and the two-line fits have
median $R^2$ of at least {glue:text}`lines_r2_min:.3f` per layer pair.

| | paper (SEW-ResNet18, CIFAR-100) | this run (median per layer pair) |
|---|---|---|
| strong regime starts at | 5–16 % of the 1FC group co-firing | {glue:text}`if_min:.1f` – {glue:text}`if_max:.1f` % ({glue:text}`if_in_band:.0f` % of neurons inside 5–16 %) |
| rise within the largest events | about the largest 8 % (rise quantile ≈ 0.92) | rise quantile {glue:text}`rq_min:.2f` – {glue:text}`rq_max:.2f` |
| frames in the strong regime | rare | {glue:text}`sf_min:.1f` – {glue:text}`sf_max:.1f` % |

How rare the strong regime is depends on the stimulus set. Here a few hundred distinct digits
are shown thousands of times, so the images that drive a group strongly recur often; with
10,000 distinct CIFAR images each shown once, large co-firing events are rarer. Where this run's
share of frames in the strong regime exceeds the paper's 8 %, that is the likeliest reason; it
is a conjecture the `paper` profile can test, not something this run measured.
"""),
]

CH05 = [
    ("md", """
# Gain scales with ensemble size

The paper's Fig. A3: the slope of a neuron's ReLU response falls with the size $N$ of its 1FC
group — smaller groups, steeper responses — and when co-firing is rescaled by a power of $N$
(depending on depth), the response functions of different neurons collapse onto one curve.
The exponent itself was lost from the text we have.

For the neurons with $R^2 > 0.8$ of each layer pair this chapter fits $s = a N^{-\\beta}$ by
least squares in log-log (`fclib.fits.fit_power_law`) and measures the collapse with
`fclib.response.collapse_r2`: the share of the variance of all response functions explained by
one common curve of the rescaled co-firing $k / N^{e}$ ($e = 0$: raw counts; $e = 1$: the
fraction of the group co-firing; $e = \\beta$: the fitted exponent), and the exponent that
collapses best.
"""),
    ("code", ENS_PARAMS + """exponent_grid = 31       # exponents tried between 0 and 1.5 for the best collapse
""", ["parameters"]),
    ("code", SETUP, ["hide-output"]),
    ("md", """
## Slope against group size
"""),
    ("code", """
laws = pd.DataFrame({k: fit_power_law(sel.loc[sel["layer pair"] == k, "degree"],
                                      sel.loc[sel["layer pair"] == k, "relu_slope"])
                     for k in names}).T
fig = fplot.slope_scaling(table, laws)
glue("fig_scaling", fig, display=False)
plt.close(fig)
glue("beta_min", float(laws.beta.min()), display=False)
glue("beta_max", float(laws.beta.max()), display=False)
glue("r_max", float(laws.r.max()), display=False)
glue("n_fall", int((laws.beta - 2 * laws.beta_se > 0).sum()), display=False)
glue("n_rise", int((laws.beta + 2 * laws.beta_se < 0).sum()), display=False)
glue("n_laws", int(laws.beta.notna().sum()), display=False)
span = sel.groupby("layer pair", observed=True)["degree"].agg(lambda d: d.quantile(0.95) / max(d.quantile(0.05), 1))
glue("span_min", float(span.min()), display=False)
glue("span_max", float(span.max()), display=False)
laws.astype(float).round(3)
"""),
    ("md", """
```{glue:figure} fig_scaling
:name: fig-scaling

ReLU slope against 1FC group size of the selected neurons, per layer pair (log-log), with the
fitted power law $a N^{-\\beta}$ (red).
```

The slope falls significantly with group size ($\\beta$ more than two standard errors above
zero) in {glue:text}`n_fall` of {glue:text}`n_laws` layer pairs and rises significantly in
{glue:text}`n_rise`; the fitted exponents $\\beta$ range from {glue:text}`beta_min:.2f` to
{glue:text}`beta_max:.2f` (log-log correlation at most {glue:text}`r_max:.2f`). The group
sizes of the selected neurons span a factor of only {glue:text}`span_min:.1f` –
{glue:text}`span_max:.1f` between their 5th and 95th percentiles per layer pair (the groups
are large at this scale; chapter 2), so a power of $N$ can explain little of the neuron-to-neuron
scatter of slopes where the range is narrow: read the exponents together with their standard
errors and correlations in the table.

## Collapse
"""),
    ("code", """
grid = np.linspace(0, 1.5, exponent_grid)
rows = {}
scan = {}
for k in names:
    ids = res[k]["neuron"].values[res[k]["selected"].values]
    scan[k] = [fr.collapse_r2(res[k], e, ids, min_frames) for e in grid]
    b = float(laws.loc[k, "beta"])
    rows[k] = {"raw co-firing": scan[k][0],
               "fraction of group": fr.collapse_r2(res[k], 1.0, ids, min_frames),
               "k / N^beta": fr.collapse_r2(res[k], b, ids, min_frames) if np.isfinite(b) else np.nan,
               "beta": b, "best exponent": grid[int(np.nanargmax(scan[k]))] if np.isfinite(scan[k]).any() else np.nan,
               "best collapse": np.nanmax(scan[k]) if np.isfinite(scan[k]).any() else np.nan}
coll = pd.DataFrame(rows).T
ax = pd.DataFrame(scan, index=grid).plot(figsize=(6, 3.4), colormap="viridis", legend=False)
ax.set(xlabel="exponent e of the rescaling k / N^e", ylabel="collapse R²")
ax.legend(fontsize=7, ncol=2, frameon=False)
glue("fig_collapse_scan", ax.figure, display=False)
plt.close(ax.figure)
mid = shown[1]
fig = fplot.collapse(res[mid], {"raw co-firing": 0.0, "fraction of the group": 1.0,
                                f"fitted: N^{laws.loc[mid, 'beta']:.2f}": float(laws.loc[mid, "beta"])},
                     min_frames=min_frames, rng=r.cfg["seed"])
glue("fig_collapse", fig, display=False)
plt.close(fig)
glue("mid_pair", mid, display=False)
glue("gain_min", float((coll["k / N^beta"] - coll["raw co-firing"]).min()), display=False)
glue("gain_max", float((coll["k / N^beta"] - coll["raw co-firing"]).max()), display=False)
glue("best_e_min", float(coll["best exponent"].min()), display=False)
glue("best_e_max", float(coll["best exponent"].max()), display=False)
coll.astype(float).round(3)
"""),
    ("md", """
```{glue:figure} fig_collapse
:name: fig-collapse

Response functions of selected neurons of {glue:text}`mid_pair` (at most 60, drawn at random),
coloured by group size: against raw co-firing, against the fraction of the group co-firing,
and against co-firing rescaled by the fitted power of $N$.
```

```{glue:figure} fig_collapse_scan
:name: fig-collapse-scan

Collapse $R^2$ (variance of all selected response functions explained by one curve of
$k / N^e$) against the exponent $e$, one line per layer pair.
```

| | paper (SEW-ResNet18, CIFAR-100) | this run |
|---|---|---|
| slope vs group size | falls with $N$ | falls in {glue:text}`n_fall` of {glue:text}`n_laws` layer pairs, rises in {glue:text}`n_rise`; $\\beta$ = {glue:text}`beta_min:.2f` – {glue:text}`beta_max:.2f` |
| collapse | curves collapse when co-firing is rescaled by a depth-dependent power of $N$ | rescaling by $N^{\\beta}$ changes collapse $R^2$ by {glue:text}`gain_min:+.3f` to {glue:text}`gain_max:+.3f` against raw counts; best exponent {glue:text}`best_e_min:.2f` – {glue:text}`best_e_max:.2f` |
"""),
]

CH06 = [
    ("md", """
# Temporal robustness of responses

The paper's Figs. A4-A5: with the 1FC groups held fixed, the response functions computed on
four disjoint batches of test images agree: slope differences between batches are tightly
concentrated around zero, with few outliers. That argues the groups reflect stable functional
structure, not co-activation specific to the images they were found on.

Here the held-out images are split into `n_batches` disjoint sets (`fclib.response.image_batches`,
seeded; all presentations of an image fall into one batch), each batch's response functions are
fitted with the groups of the full recording, and the slopes compared batch pair by batch pair.
Sampling noise alone makes slopes differ, so the same comparison is made on batches redrawn from
each neuron's pooled response (`fclib.response.resample_batches`): the spread that a perfectly
stable response would show.
"""),
    ("code", ENS_PARAMS, ["parameters"]),
    ("code", SETUP, ["hide-output"]),
    ("md", """
## Example neurons (Fig. A4)
"""),
    ("code", """
examples = {k: (res[k], fr.example_neuron(res[k])) for k in shown}
fig = fplot.batch_responses(examples, min_frames=min_frames)
glue("fig_batches", fig, display=False)
plt.close(fig)
"""),
    ("md", """
```{glue:figure} fig_batches
:name: fig-batches

The example neurons' response functions in each batch of held-out images, groups fixed.
```

## Slope differences between batches (Fig. A5)

Relative difference: $(s_i - s_j) / s$ for batches $i < j$, $s$ the slope on all frames;
selected neurons ($R^2 > 0.8$ on all frames). An *outlier* differs by more than half its slope.
"""),
    ("code", """
rng = np.random.default_rng(r.cfg["seed"])
rows, long = {}, []
for k in names:
    ds = res[k]
    keep = ds["selected"].values
    s = ds["relu_slope"].values[keep]
    obs = fr.batch_slopes(ds[["batch_relu_slope"]].rename(batch_relu_slope="relu_slope")).values[:, keep] / s
    resampled = fr.fit_response(fr.resample_batches(fr.batch_counts(ds), rng),
                                min_frames=min_frames, saturation=saturation)
    ref = fr.batch_slopes(resampled).values[:, keep] / s
    rows[k] = {"neurons": int(keep.sum()),
               "median |diff|": np.nanmedian(np.abs(obs)), "median |diff|, resampled": np.nanmedian(np.abs(ref)),
               "outliers": np.nanmean(np.abs(obs) > 0.5), "outliers, resampled": np.nanmean(np.abs(ref) > 0.5),
               "median diff": np.nanmedian(obs)}
    long.append(pd.DataFrame({"layer pair": k, "relative slope difference": obs.ravel()}))
rob = pd.DataFrame(rows).T
long = pd.concat(long)
long["layer pair"] = pd.Categorical(long["layer pair"], categories=names, ordered=True)
fig = fplot.by_layer_pair(long, "relative slope difference", "(s_i − s_j) / s", hline=0.0)
glue("fig_slope_diff", fig, display=False)
plt.close(fig)
glue("med_abs_min", 100 * float(rob["median |diff|"].min()), display=False)
glue("med_abs_max", 100 * float(rob["median |diff|"].max()), display=False)
glue("ref_abs_min", 100 * float(rob["median |diff|, resampled"].min()), display=False)
glue("ref_abs_max", 100 * float(rob["median |diff|, resampled"].max()), display=False)
glue("out_max", 100 * float(rob["outliers"].max()), display=False)
glue("ref_out_max", 100 * float(rob["outliers, resampled"].max()), display=False)
glue("bias_max", 100 * float(rob["median diff"].abs().max()), display=False)
glue("n_batches", int(n_batches), display=False)
ratio = rob["median |diff|"] / rob["median |diff|, resampled"]
glue("ratio_min", float(ratio.min()), display=False)
glue("ratio_max", float(ratio.max()), display=False)
rob.astype(float).round(4)
"""),
    ("md", """
```{glue:figure} fig_slope_diff
:name: fig-slope-diff

Relative slope differences between every two batches of held-out images, per layer pair
(boxes: quartiles, whiskers: 1.5 IQR).
```

| | paper (SEW-ResNet18, CIFAR-100) | this run ({glue:text}`n_batches` batches) |
|---|---|---|
| slope differences | tightly concentrated around zero | median within {glue:text}`bias_max:.1f` % of the slope from zero; median absolute difference {glue:text}`med_abs_min:.1f` – {glue:text}`med_abs_max:.1f` % of the slope per layer pair |
| outliers | a negligible proportion | at most {glue:text}`out_max:.2f` % of differences exceed half the slope |
| reference: the same response in every batch | — | median absolute difference {glue:text}`ref_abs_min:.1f` – {glue:text}`ref_abs_max:.1f` %, outliers at most {glue:text}`ref_out_max:.2f` % |

The observed median absolute difference is {glue:text}`ratio_min:.2f` – {glue:text}`ratio_max:.2f`
times the resampled one per layer pair. A ratio near one means batches differ by no more than
sampling noise: the response of a neuron to its group holds on images the other batches never
showed. A ratio above one is the part of the difference that depends on which images were
shown.
"""),
]
