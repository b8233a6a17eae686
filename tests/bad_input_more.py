"""Bad input to the rest of fclib.stats and fclib.io: the tables' helpers (compare, mei,
response tables, emergence, ...), the simulated recording, the bit kernels' wrappers and the
readers and writers of fclib.io. ``CASES`` rows as in ``bad_input_kernels.py``: ``(id, call,
exception, message regex)``; each passes one bad argument and the regex names it."""
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from fclib.io import datasets as fdata, populations, recordings, spikes as fspikes
from fclib.stats import (_checks, activity, compare, connectivity, detect, distributed, edges,
                         emergence, ensembles, fits, groups as fg, halves, information as fi,
                         mei, nulls, predict, response, response_tables, sampling, semantic,
                         simulate, structure, sttc as fs)

T, P = 4, 30
L = T * P
_rng = np.random.default_rng(3)


def layer(values, name, T, P, attrs=None):
    """A recorded layer ``(neuron, frame)`` of ``P`` presentations of ``T`` frames (six images,
    three labels, neurons on a grid four wide); ``attrs`` beside ``layer``. Also the layers
    of ``test_bad_input.py``."""
    n = values.shape[0]
    img = np.repeat(np.arange(P) % 6, T)
    return xr.DataArray(values.astype(bool), dims=("neuron", "frame"), name=name,
                        coords={"neuron": np.arange(n), "image": ("frame", img),
                                "presentation": ("frame", np.repeat(np.arange(P), T)),
                                "step": ("frame", np.tile(np.arange(T), P)),
                                "label": ("frame", img % 3),
                                "y": ("neuron", np.arange(n) // 4),
                                "x": ("neuron", np.arange(n) % 4)},
                        attrs={"layer": name, **(attrs or {})})


def _layer(values, name):
    return layer(values, name, T, P, {"T": T, "layer_shape": [1, 4, 4]})


_a = _rng.random((8, L)) < 0.3
SRC = _layer(_a, "L1")
TGT = _layer((_rng.random((6, L)) < 0.2) | _a[:6], "L2")
OTHER = _layer(_rng.random((8, L)) < 0.3, "L3")
PAIRS = connectivity.pair_significance(SRC, TGT, "exact")
GROUPS = fg.one_fc_groups(PAIRS, 2.0)
COUNTS = response.response_counts(response.cofiring(SRC, GROUPS), TGT)
WRONG = pd.DataFrame({"wrong": [1.0]})          # a table without the expected columns
EMPTY_DS = xr.Dataset()                         # a Dataset without the expected variables
MISSING = "/nonexistent/fclib-bad-input/file.nc"


def _file(content: bytes, suffix: str = ".idx") -> str:
    f = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)
    f.write(content)
    f.close()
    return f.name


CASES = [
    # --- fclib.io.datasets ---------------------------------------------------------------
    ("fashion_mnist_dirs-root", lambda: fdata.fashion_mnist_dirs(3), TypeError, r"root must be"),
    ("load_cifar-name", lambda: fdata.load_cifar("/nonexistent", "cifar7"), ValueError,
     r"unknown CIFAR dataset 'cifar7'"),
    ("load_digits-size", lambda: fdata.load_digits(3), ValueError, r"size must be an int >= 8"),
    ("load_fashion_mnist-root", lambda: fdata.load_fashion_mnist("/nonexistent/fclib"),
     FileNotFoundError, r"/nonexistent/fclib"),
    ("load_mnist-size", lambda: fdata.load_mnist(2), ValueError, r"size must be an int in \[4, 28\]"),
    ("present-params", lambda: fdata.present(np.zeros((2, 1, 8, 8)), {"image": [0]}), ValueError,
     r"params must be"),
    ("presentation_params-n", lambda: fdata.presentation_params(0, 5, 0), ValueError,
     r"n_presentations and n_images must be positive"),
    ("read_idx-magic", lambda: fdata.read_idx(_file(b"not an idx file")), ValueError,
     r"is not an IDX file"),
    ("split_dataset-fraction", lambda: fdata.split_dataset(np.zeros((4, 1)), np.arange(4), "ab", 1.5, 0),
     ValueError, r"test_fraction must be in \(0, 1\)"),
    ("write_cifar_archive-name", lambda: fdata.write_cifar_archive("/nonexistent", "cifar7"),
     ValueError, r"unknown CIFAR dataset 'cifar7'"),
    ("write_idx-dtype", lambda: fdata.write_idx(MISSING, np.zeros(3)), ValueError,
     r"write_idx writes uint8 arrays, got float64"),
    # --- fclib.io.populations / recordings / spikes ----------------------------------------
    ("load_recording-missing", lambda: populations.load_recording(MISSING), FileNotFoundError,
     r"no population file at"),
    ("save_recording-empty", lambda: populations.save_recording({}, MISSING), TypeError,
     r"populations must be a non-empty dict"),
    ("load_dataset-missing", lambda: recordings.load_dataset(MISSING), FileNotFoundError,
     r"fclib-bad-input"),
    ("open_recording-missing", lambda: recordings.open_recording(MISSING), FileNotFoundError,
     r"no recording at"),
    ("presentation_stimuli-by", lambda: recordings.presentation_stimuli(SRC, T, by="colour"),
     ValueError, r"by must be 'image' or 'class'"),
    ("sample_neurons-shape", lambda: recordings.sample_neurons((0, 4, 4)), ValueError,
     r"layer shape must be positive"),
    ("save_dataset-type", lambda: recordings.save_dataset(SRC, MISSING), TypeError,
     r"ds must be an xarray Dataset"),
    ("write_netcdf-type", lambda: recordings.write_netcdf({"a": 1}, MISSING), TypeError,
     r"ds must be an xarray Dataset"),
    ("bin_spikes-bin_size", lambda: fspikes.bin_spikes([np.array([0.1])], 0), ValueError,
     r"bin_size"),
    ("from_neo-trains", lambda: fspikes.from_neo([[0.1, 0.2]], 0.01), TypeError, r"spiketrains"),
    ("from_nwb-missing", lambda: fspikes.from_nwb(MISSING, 0.01), FileNotFoundError,
     r"no NWB file at"),
    ("from_pynapple-type", lambda: fspikes.from_pynapple({"a": [0.1]}, 0.01), TypeError,
     r"tsgroup"),
    # --- fclib.stats argument checks (re-exported by response) ------------------------------
    ("as_layer-dataset", lambda: _checks.as_layer(PAIRS), TypeError, r"spikes must be a DataArray"),
    ("check_groups-type", lambda: _checks.check_groups([1]), TypeError, r"groups must be the edge"),
    ("check_layer-other", lambda: _checks.check_layer(OTHER, GROUPS.attrs, "source"), ValueError,
     r"source spikes are layer L3"),
    ("check_presentations-T", lambda: _checks.check_presentations(SRC, 7), ValueError, r"T=7"),
    ("check_same_frames-frames", lambda: _checks.check_same_frames(SRC, TGT.isel(frame=slice(0, 8)),
                                                                   "f"), ValueError,
     r"f: 120 frames against 8"),
    ("check_spike_values-2", lambda: _checks.check_spike_values(np.array([0, 2]), "x"), ValueError,
     r"x must be 0/1 spike trains"),
    ("layer_name-mixed", lambda: _checks.layer_name(SRC.drop_attrs().assign_coords(
        layer=("neuron", ["L1"] * 4 + ["L2"] * 4))), ValueError, r"spikes mix neurons of layers"),
    ("neuron_rows-missing", lambda: _checks.neuron_rows(SRC, np.array([99]), "source"), ValueError,
     r"source spikes lack neurons \[99\]"),
    # --- activity / compare ---------------------------------------------------------------
    ("layer_summary-type", lambda: activity.layer_summary({"L1": SRC}), TypeError, r"recording must"),
    ("condition_responses-reference", lambda: compare.condition_responses(EMPTY_DS, {}), ValueError,
     r"reference lacks"),
    ("condition_summary-table", lambda: compare.condition_summary(WRONG, 0.8), ValueError,
     r"table lacks the columns"),
    ("first_biting-lengths", lambda: compare.first_biting([1, 2], [0.5], 0.9), ValueError,
     r"strengths and accuracies"),
    ("first_to_last-column", lambda: compare.first_to_last(WRONG, "mi", "layer pair"), ValueError,
     r"table lacks the columns"),
    ("information_by_layer-type", lambda: compare.information_by_layer([1]), TypeError,
     r"info must be a dict"),
    ("information_vs_degree-empty", lambda: compare.information_vs_degree({}, {}), ValueError,
     r"no layer pairs given"),
    ("median_ratio-table", lambda: compare.median_ratio(WRONG, "mi", "a", "b"), ValueError,
     r"table lacks the columns"),
    ("network_properties-pairs", lambda: compare.network_properties(EMPTY_DS, EMPTY_DS, EMPTY_DS, 4.0),
     ValueError, r"pairs lacks"),
    ("spearman_by-table", lambda: compare.spearman_by(WRONG, "a", "b", "c"), ValueError,
     r"table lacks the columns"),
    ("spread_by_information-table", lambda: compare.spread_by_information(WRONG), ValueError,
     r"table lacks the columns"),
    ("trend-values", lambda: compare.trend(["a", "b"]), TypeError, r"values must be numbers"),
    # --- connectivity ---------------------------------------------------------------------
    ("consecutive_pairs-type", lambda: connectivity.consecutive_pairs("L1"), TypeError,
     r"layers must be"),
    ("degree-type", lambda: connectivity.degree(PAIRS), TypeError, r"z must be"),
    ("null_stimulus-by", lambda: connectivity.null_stimulus(SRC, T, by="colour"), ValueError,
     r"by must be 'image' or 'class'"),
    ("pair_summary-ds", lambda: connectivity.pair_summary(EMPTY_DS), ValueError, r"ds lacks"),
    ("summaries-type", lambda: connectivity.summaries([PAIRS]), TypeError, r"results must be a dict"),
    ("tail_quantiles-keys", lambda: connectivity.tail_quantiles({"a": [0.1]}, {}), ValueError,
     r"null"),
    # --- detect / distributed / edges ------------------------------------------------------
    ("auc_table-type", lambda: detect.auc_table([1]), TypeError, r"results must be a dict"),
    ("detect-columns", lambda: detect.detect(pd.DataFrame({"a": [0.0, 1.0]}),
                                             pd.DataFrame({"b": [0.0, 1.0]}), [0, 1]),
     ValueError, r"clean and adversarial features must have the same rows and columns"),
    ("feature_sets-empty", lambda: detect.feature_sets({"L1": SRC}, {}, T), ValueError,
     r"no layer pairs given"),
    ("group_overlap-type", lambda: detect.group_overlap(PAIRS["z"], GROUPS), TypeError,
     r"a must be the edge table"),
    ("connect-both", lambda: distributed.connect("tcp://x:1", 2), ValueError,
     r"pass scheduler= .* or workers="),
    ("run_tiles-client", lambda: distributed.run_tiles(None, len, [1], lambda t: (t,),
                                                       lambda t, r: None, "k"), TypeError,
     r"client must be"),
    ("edge_summary-edges", lambda: edges.edge_summary(EMPTY_DS), ValueError, r"edges lacks"),
    ("groups_from_edges-edges", lambda: edges.groups_from_edges(EMPTY_DS), ValueError,
     r"edges lacks"),
    ("significant_edges-method", lambda: edges.significant_edges(SRC, TGT, method="magic"),
     ValueError, r"method must be 'exact' or 'shifts'"),
    # --- emergence ------------------------------------------------------------------------
    ("emergence_summary-table", lambda: emergence.emergence_summary(WRONG), ValueError,
     r"table lacks column"),
    ("emergence_table-accuracy", lambda: emergence.emergence_table({("trained", 1): WRONG}, {}),
     ValueError, r"no accuracy for"),
    ("layer_quantities-T", lambda: emergence.layer_quantities(SRC, 7), ValueError, r"T=7"),
    ("pair_quantities-T", lambda: emergence.pair_quantities(SRC, TGT, 7), ValueError, r"T=7"),
    ("recording_quantities-type", lambda: emergence.recording_quantities({"L1": SRC}),
     TypeError, r"recording must be a Recording or a mapping with a T attribute"),
    # --- ensembles / fits / groups / halves -------------------------------------------------
    ("edge_survival-pairs", lambda: ensembles.edge_survival(EMPTY_DS, PAIRS), ValueError,
     r"circular pairs must hold"),
    ("evaluate_variant-variant", lambda: ensembles.evaluate_variant(SRC, TGT, GROUPS, T, "magic"),
     ValueError, r"variant must be"),
    ("significant_fraction-pairs", lambda: ensembles.significant_fraction(EMPTY_DS), ValueError,
     r"pairs lacks"),
    ("summarise_groups-ds", lambda: ensembles.summarise_groups(EMPTY_DS), ValueError, r"ds lacks"),
    ("fit_power_law-lengths", lambda: fits.fit_power_law([1, 2, 3], [1, 2]), ValueError,
     r"n and value must"),
    ("relu-x", lambda: fits.relu("a", 1.0, 0.0), TypeError, r"x must be numbers"),
    ("two_lines-x", lambda: fits.two_lines("a", 0.0, 1.0, 2.0, 1.0), TypeError, r"x must be numbers"),
    ("group_csr-type", lambda: fg.group_csr(PAIRS["z"]), TypeError, r"groups must be the edge table"),
    ("load_groups-missing", lambda: fg.load_groups(MISSING), FileNotFoundError, r"fclib-bad-input"),
    ("save_groups-type", lambda: fg.save_groups([1], MISSING), TypeError,
     r"groups must be the edge table"),
    ("half_frame_indices-half", lambda: halves.half_frame_indices(np.arange(8), 2), ValueError,
     r"half must be 0 or 1, got 2"),
    ("half_images-half", lambda: halves.half_images(np.arange(8), 3), ValueError,
     r"half must be 0 or 1, got 3"),
    # --- information ----------------------------------------------------------------------
    ("class_profile-labels", lambda: fi.class_profile(np.ones((2, 4), int), [0, 1, 2, 3], 3),
     ValueError, r"labels must be class indices 0\.\.2"),
    ("frames_of_classes-labels", lambda: fi.frames_of_classes([0.5, 1.0], [1]), ValueError,
     r"labels must be"),
    ("hubs-lengths", lambda: fi.hubs([0.1, 0.2], [1, 2, 3]), ValueError, r"mi and degree"),
    ("preferred_class-T", lambda: fi.preferred_class(SRC, 7), ValueError, r"T=7"),
    ("presentation_labels-label", lambda: fi.presentation_labels(SRC.drop_vars("label"), T),
     ValueError, r"spikes need a 'label' coordinate"),
    ("shuffled_mutual_information-rng", lambda: fi.shuffled_mutual_information(
        np.ones((2, 4), int), [0, 1, 0, 1], rng="abc"), TypeError, r"rng must be"),
    # --- mei (torch-free tables of the MANGO chapter) ---------------------------------------
    ("class_entropy-p", lambda: mei.class_entropy([[0.5, -0.5]]), ValueError,
     r"p must be >= 0"),
    ("compare_labelled-picked", lambda: mei.compare_labelled(WRONG, WRONG, np.zeros((1, 2))),
     ValueError, r"picked lacks the columns"),
    ("complexity-images", lambda: mei.complexity(np.zeros((2, 4))), ValueError,
     r"images must be \(n, H, W\)"),
    ("first_strong_epoch-sel", lambda: mei.first_strong_epoch(WRONG), ValueError,
     r"sel lacks the columns"),
    ("hub_table-coords", lambda: mei.hub_table("L2", WRONG, pd.Series([1]), pd.Series([0.1])),
     ValueError, r"coords lacks the columns"),
    ("latent_distances-table", lambda: mei.latent_distances(WRONG, np.zeros((1, 2))), ValueError,
     r"table lacks the columns"),
    ("member_table-coords", lambda: mei.member_table("L1", WRONG, [0], [0]), ValueError,
     r"coords lacks the columns"),
    ("method_table-table", lambda: mei.method_table(WRONG, np.zeros((1, 2)), np.zeros((1, 2))),
     ValueError, r"table lacks the columns"),
    ("neuron_coords-spikes", lambda: mei.neuron_coords(SRC.drop_vars(["y", "x"])), ValueError,
     r"spikes lack"),
    ("pick_labelled-table", lambda: mei.pick_labelled(WRONG, 2), ValueError,
     r"table lacks the columns"),
    ("selectivity-table", lambda: mei.selectivity(WRONG), ValueError, r"table lacks the columns"),
    ("specialisation-sel", lambda: mei.specialisation(WRONG), ValueError, r"sel lacks the columns"),
    # --- nulls / predict --------------------------------------------------------------------
    ("calibrated_threshold-alpha", lambda: nulls.calibrated_threshold([0.1, 0.2], 1.5), ValueError,
     r"alpha must be in \(0, 1\)"),
    ("call_agreement-sizes", lambda: nulls.call_agreement([1.0, 2.0], [1.0], 4.0), ValueError,
     r"z_a and z_b must hold the same pairs"),
    ("false_positive_summary-type", lambda: nulls.false_positive_summary([1.0], 4.0, 0.01),
     TypeError, r"null_z must be a dict"),
    ("false_positive_table-empty", lambda: nulls.false_positive_table({}, {}, 4.0), ValueError,
     r"null_z holds no layer pair"),
    ("paired_difference-table", lambda: predict.paired_difference(WRONG), ValueError,
     r"table lacks the columns"),
    # --- response ---------------------------------------------------------------------------
    ("batch_counts-response", lambda: response.batch_counts(EMPTY_DS), ValueError,
     r"response lacks"),
    ("batch_response_counts-n_batches", lambda: response.batch_response_counts(
        SRC, TGT, GROUPS, n_batches=0), ValueError, r"n_batches must be between 1"),
    ("batch_slopes-fits", lambda: response.batch_slopes(EMPTY_DS), ValueError,
     r"batch_fits lacks"),
    ("collapse_r2-counts", lambda: response.collapse_r2(EMPTY_DS, 1.0), ValueError, r"counts lacks"),
    ("cross_validated_counts-folds", lambda: response.cross_validated_counts(
        SRC, TGT, [GROUPS], [np.arange(3)]), ValueError, r"cross-validation takes two folds, got 1 group tables and 1 image sets"),
    ("example_neuron-ds", lambda: response.example_neuron(EMPTY_DS), ValueError, r"ds lacks"),
    ("fit_response-counts", lambda: response.fit_response(EMPTY_DS), ValueError, r"counts lacks"),
    ("fraction_above-counts", lambda: response.fraction_above(EMPTY_DS, [1.0]), ValueError,
     r"counts lacks"),
    ("property_table-type", lambda: response.property_table([COUNTS]), TypeError,
     r"responses must be a dict"),
    ("response_curve-counts", lambda: response.response_curve(EMPTY_DS), ValueError,
     r"counts lacks"),
    ("response_dataset-batch_counts", lambda: response.response_dataset(EMPTY_DS, TGT, T),
     ValueError, r"batch_counts lacks"),
    ("select_fits-response", lambda: response.select_fits(EMPTY_DS), ValueError,
     r"response lacks"),
    # --- response_tables ----------------------------------------------------------------------
    ("collapse_scan-type", lambda: response_tables.collapse_scan([COUNTS], [0, 1]), TypeError,
     r"responses must be a dict"),
    ("collapse_summary-scan", lambda: response_tables.collapse_summary(
        {}, WRONG, pd.DataFrame(index=pd.Index([1.0], name="exponent"))), ValueError,
     r"scan must include exponent 0"),
    ("power_laws-selected", lambda: response_tables.power_laws(WRONG), ValueError,
     r"selected lacks the columns"),
    ("regime_summary-selected", lambda: response_tables.regime_summary(WRONG), ValueError,
     r"selected lacks the columns"),
    ("relu_fit_summary-table", lambda: response_tables.relu_fit_summary(WRONG, {}), ValueError,
     r"table has 1 rows but the responses 0 neurons"),
    # --- sampling / semantic ------------------------------------------------------------------
    ("recorded_share-shape", lambda: sampling.recorded_share(PAIRS["z"]), ValueError,
     r"spikes need the 'layer_shape' attribute"),
    ("sampling_effects-fractions", lambda: sampling.sampling_effects(SRC, TGT, T, fractions=[0.0]),
     ValueError, r"fraction must be in \(0, 1\]"),
    ("sampling_ratios-table", lambda: sampling.sampling_ratios(WRONG), ValueError,
     r"table lacks the columns"),
    ("subsample-fraction", lambda: sampling.subsample(SRC, 1.5), ValueError,
     r"fraction must be in \(0, 1\]"),
    ("cosine_similarity-embedding", lambda: semantic.cosine_similarity(np.zeros(3)), ValueError,
     r"embedding must be"),
    ("embed_class_names-backend", lambda: semantic.embed_class_names(["cat"], backend="bert"),
     ValueError, r"backend must be 'minilm' or 'clip'"),
    ("mean_curve-by_cofiring", lambda: semantic.mean_curve(EMPTY_DS), ValueError,
     r"by_cofiring lacks"),
    ("rank_similarity-square", lambda: semantic.rank_similarity(np.zeros((2, 3))), ValueError,
     r"similarity must be square"),
    ("regime_contrast-by_regime", lambda: semantic.regime_contrast(EMPTY_DS), ValueError,
     r"by_regime lacks"),
    # --- simulate -----------------------------------------------------------------------------
    ("group_recovery-planted", lambda: simulate.group_recovery(GROUPS, np.zeros(3)), ValueError,
     r"planted must be"),
    ("pair_truth-planted", lambda: simulate.pair_truth(np.zeros(4, int), np.zeros(3)), ValueError,
     r"planted must be"),
    ("planted_recovery-type", lambda: simulate.planted_recovery([PAIRS], PAIRS["z"]), TypeError,
     r"pairs must be a dict"),
    ("simulate_recording-coupling", lambda: simulate.simulate_recording(coupling=1.5), ValueError,
     r"coupling must be in \[0, 1\]"),
    # --- structure ------------------------------------------------------------------------------
    ("conv_geometry-arch", lambda: structure.conv_geometry({"blocks": 3}), ValueError, r"arch"),
    ("structural_edge_table-type", lambda: structure.structural_edge_table([GROUPS]), TypeError,
     r"labelled must be a dict"),
    ("structural_mask-yx", lambda: structure.structural_mask(np.zeros(3), np.zeros((2, 2)), 3, 1, 1),
     ValueError, r"target_yx must be"),
    ("structural_summary-type", lambda: structure.structural_summary([GROUPS]), TypeError,
     r"labelled must be a dict"),
    # --- sttc helpers -------------------------------------------------------------------------
    ("as_trains-values", lambda: fs.as_trains(np.array([[0, 2]]), "source"), ValueError,
     r"source must be 0/1 spike trains"),
    ("check_dt-long", lambda: fs.check_dt(5, 5), ValueError,
     r"dt = 5 frames must be smaller than n_frames = 5"),
    ("check_int-float", lambda: fs.check_int(2.5, "n_shifts"), ValueError,
     r"n_shifts must be an int"),
    ("pack_trains-1d", lambda: fs.pack_trains(np.zeros(5)), ValueError, r"trains must be 2-D"),
    ("pair_coords-dims", lambda: fs.pair_coords(SRC, PAIRS["z"]), ValueError,
     r"target must have a 'neuron' dim"),
    ("resolve_backend-name", lambda: fs.resolve_backend("gpu"), ValueError,
     r"backend must be 'auto', 'numba' or 'torch'"),
    ("sttc_from_counts-shapes", lambda: fs.sttc_from_counts(np.zeros((2, 3)), np.zeros((3, 2)),
                                                            np.zeros(2), np.zeros(3), np.zeros(2),
                                                            np.zeros(3)), ValueError,
     r"c_ab and c_ba"),
    ("transpose_bits-dtype", lambda: fs.transpose_bits(np.zeros((2, 3))), ValueError,
     r"bits must be"),
]
