"""What chapters 7 onward show, on the smoke profile (the session's `smoke_book`)."""
import json

import pytest

# chapter: (figures, a phrase of the page, glued names the executed notebook must show)
CHAPTERS = {
    "07_information": (2, "hubs", {"fig_mi_layers", "fig_mi_degree", "rho_depth", "rho_last",
                                   "n_hubs", "hub_top"}),
    "08_semantics": (2, "preferred class", {"fig_class_sim", "fig_sim_curves", "cos_mean",
                                            "n_rising", "match_strong_last", "min_frames"}),
    "09_identity": (1, "balanced accuracy", {"fig_identity", "diff_min", "n_sig_id", "r2_min"}),
    "10_perturbations": (6, "FGSM", {"fig_examples", "fig_sweeps", "fig_rates", "fig_conditions",
                                     "fig_slope_mi", "fig_last_layer", "acc_fgsm", "keep_noise",
                                     "r2_min", "n_rho_neg_fgsm", "ls_mi_noise", "eps_bite_text",
                                     "bite_text", "bite_row"}),
    "11_permuted": (3, "permuted", {"fig_perm_activity", "fig_perm_sttc", "fig_perm_props",
                                    "ks_early", "sig_ratio_late", "threshold", "r2_min"}),
    "12_detection": (1, "AUC", {"fig_detector", "auc_cof", "gain", "jaccard_min", "holdout_pct"}),
    "14_when_ensembles_form": (3, "rate-matched", {"fig_matched_rates", "fig_emergence_curves",
                                                   "fig_emergence_accuracy", "sig_last",
                                                   "sig_matched", "acc_rm", "n_matched"}),
    "17_mango": (10, "PROTES", {"fig_mango_convergence", "fig_mango_entropy", "fig_mango_selective",
                                "fig_mango_labelled", "fig_generators", "sec_per_eval",
                                "calls_tt", "calls_ng", "coverage_min", "labile_last",
                                "ref_ours_TT_s", "ref_pkg_TT_s", "ref_ours_TT_s_gray",
                                "ref_min_p"}),
    "18_synchrony_semantization": (5, "Dale", {"fig_ttfs_training", "fig_ttfs_raster",
                                                "fig_ttfs_spread", "fig_ttfs_ig",
                                                "fig_ttfs_pathways", "ig_e_last", "ig_i_last",
                                                "spread_last", "concept_last"}),
    "19_own_recording": (3, "planted", {"fig_own_raster", "fig_planted_recovery",
                                        "fig_own_response_functions", "n_planted",
                                        "drivers_found", "stimulus_tuned", "relu_r2_median"}),
    "16_scale": (1, "depend on the data", {"fig_verdicts", "scale_summary", "n_built", "scale_values"}),
}
# chapters whose figures reproduce none of the paper's (no "Paper Fig." caption)
NO_PAPER_FIGURE = {"12_detection", "14_when_ensembles_form", "17_mango", "18_synchrony_semantization",
                   "19_own_recording", "16_scale"}


def _outputs(nb):
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            yield cell, cell.get("outputs", [])


@pytest.mark.parametrize("name", list(CHAPTERS))
def test_chapter_page_shows_its_figures_and_numbers(smoke_book, name):
    root, _, _ = smoke_book
    n_img, phrase, glued = CHAPTERS[name]
    html = (root / "_build" / "html" / "book" / "chapters" / f"{name}.html").read_text()
    assert html.count('src="../../_images/') == n_img, name  # figures (not the launch-button logos)
    assert phrase in html
    assert "{glue" not in html
    assert "Paper Fig." in html or name in NO_PAPER_FIGURE
    assert "/tmp/" not in html  # no printed data paths


@pytest.mark.parametrize("name", list(CHAPTERS))
def test_executed_chapter_shows_its_figures_and_glued_numbers(smoke_book, name):
    root, _, _ = smoke_book
    n_img, _, glued = CHAPTERS[name]
    nb = json.loads((root / "_build" / "chapters" / f"{name}.ipynb").read_text())
    pngs, names = 0, set()
    for cell, outs in _outputs(nb):
        for o in outs:
            assert o["output_type"] != "error", (name, o.get("evalue"))
            pngs += "image/png" in o.get("data", {})
            if "scrapbook" in o.get("metadata", {}):
                names.add(o["metadata"]["scrapbook"]["name"])
                # shown when the chapter runs: glued with display=True, not hidden by glue
                assert o["output_type"] == "display_data"
    assert pngs == n_img
    missing = glued - names
    assert not missing, (name, missing)


@pytest.mark.parametrize("name", list(CHAPTERS))
def test_chapter_cells_follow_the_conventions(smoke_book, name):
    root, _, _ = smoke_book
    nb = json.loads((root / "_build" / "chapters" / f"{name}.ipynb").read_text())
    for cell, outs in _outputs(nb):
        src = "".join(cell["source"])
        tags = set(cell.get("metadata", {}).get("tags", []))
        assert "plt.subplots" not in src and "sns." not in src and "ax." not in src, src[:80]
        assert "display=False" not in src
        assert "def " not in src
        if "glue(\"fig_" in src:
            assert {"hide-input", "remove-output"} <= tags, src[:80]
        elif "glue(" in src:   # the machinery stays in the notebook, off the page
            assert tags & {"remove-output", "remove-cell"}, src[:80]
        if tags == {"hide-input"} and cell.get("outputs"):   # a table cell: formatted
            assert "show_table(" in src or "Markdown(" in src or "show_" in src, src[:80]
    params = next(c for c, _ in _outputs(nb) if "parameters" in c.get("metadata", {}).get("tags", []))
    assert 'data_dir = None' in "".join(params["source"])


def test_detection_names_its_holdout_apart_from_the_training_split(smoke_book):
    root, _, _ = smoke_book
    src = (root / "book" / "chapters" / "12_detection.md").read_text()
    assert "detector_holdout = " in src and "test_fraction =" not in src
    assert "holdout=detector_holdout" in src


def test_perturbations_chapter_writes_rho():
    # the old chapter lost "\r" of "\rho" to a carriage return ("Spearman ho")
    from pathlib import Path

    src = (Path(__file__).resolve().parent.parent / "book" / "chapters" / "10_perturbations.md").read_text()
    assert "Spearman $\\rho" in src and "\r" not in src and "Spearman ho" not in src


def test_the_scale_page_measures_what_each_chapter_measures(smoke_book):
    """Chapter 16's numbers of this build are its chapters' glued numbers, key by key, so its
    verdicts cannot contradict theirs."""
    from fclib.pipeline.claims import notebook_values
    from fclib.pipeline.scale import CHAPTERS

    root, _, _ = smoke_book
    chapters = root / "_build" / "chapters"
    scale = json.loads(notebook_values(chapters / "16_scale.ipynb")["scale_values"])
    compared = 0
    for name in CHAPTERS:
        glued = notebook_values(chapters / f"{name}.ipynb")
        for key, value in scale.items():
            if key in glued and isinstance(glued[key], (int, float)):
                assert float(glued[key]) == pytest.approx(float(value), rel=1e-6, abs=1e-9,
                                                          nan_ok=True), (name, key)
                compared += 1
    assert compared >= 30, compared


def test_glued_sentences_carry_no_markdown_that_would_show_literally(smoke_book):
    """``{glue:text}`` pastes a string as plain text: a ``*`` or a backtick in it would show
    on the page as typed."""
    from fclib.pipeline.claims import notebook_values

    root, _, _ = smoke_book
    for nb in sorted((root / "_build" / "chapters").glob("*.ipynb")):
        source = nb.read_text()
        for key, value in notebook_values(nb).items():
            if isinstance(value, str) and f"{{glue:text}}`{key}" in source.replace("\\n", ""):
                assert "*" not in value and "`" not in value, (nb.name, key, value[:80])


def test_workshop_pages_show_their_results_not_the_glue(smoke_book):
    from fclib.pipeline.notebooks import WORKSHOP

    root, _, _ = smoke_book
    for name in WORKSHOP:
        html = (root / "_build" / "html" / "book" / "workshop" / f"{name}.html").read_text()
        assert "glue(" not in html, name
        assert 'class="cell_output' in html, name   # the result cells' printed output
