import numpy as np
import pytest
import torch
import xarray as xr

from fclib.stats import structure as fs
from fclib.snn.models import build_model, small_sew_resnet_arch

ARCH = {**small_sew_resnet_arch(10, 1, widths=(4, 8), blocks=(2, 1), stem_channels=4), "T": 1}


def test_geometry_of_a_sew_resnet():
    g = fs.conv_geometry(ARCH)
    # blocks: stage 0 has 2 blocks (stride 1), stage 1 one block (stride 2)
    assert g == {("L1", "L2"): (3, 1, 1), ("L2", "L3"): (3, 1, 1), ("L3", "L4"): (3, 1, 1),
                 ("L4", "L5"): (3, 2, 1), ("L5", "L6"): (3, 1, 1)}


@pytest.mark.parametrize("t, stride, rows", [
    ((2, 2), 1, [1, 2, 3]),      # stride 1: the 3x3 neighbourhood
    ((0, 0), 1, [0, 1]),         # at the border the padding sees nothing
    ((1, 1), 2, [1, 2, 3]),      # stride 2: rows 2*1-1 .. 2*1+1
    ((3, 0), 2, [5, 6, 7]),
])
def test_receptive_field_by_hand(t, stride, rows):
    src = np.array([(y, x) for y in range(8) for x in range(8)])
    m = fs.structural_mask([t], src, 3, stride, 1)[0]
    seen = src[m]
    assert sorted(set(seen[:, 0])) == rows
    lo = stride * t[1] - 1
    assert sorted(set(seen[:, 1])) == [c for c in range(lo, lo + 3) if 0 <= c < 8]


def test_mask_equals_what_the_model_convolution_reaches():
    """Drive one source position through the real convolution between two layers (the next
    block's conv1 across the ADD, stride 2 at a stage boundary) and see which targets move."""
    torch.manual_seed(0)
    model = build_model(ARCH)
    blocks = list(model.blocks)
    convs = {("L1", "L2"): blocks[0].conv2, ("L2", "L3"): blocks[1].conv1,
             ("L4", "L5"): blocks[2].conv1}
    sizes = {("L1", "L2"): 16, ("L2", "L3"): 16, ("L4", "L5"): 16}
    for pair, conv in convs.items():
        k, s, p = fs.conv_geometry(ARCH)[pair]
        H = sizes[pair]
        with torch.no_grad():
            conv.weight.fill_(1.0)
            for ys, xs in [(0, 0), (5, 7), (15, 15), (8, 3)]:
                x = torch.zeros(1, 1, conv.in_channels, H, H)
                x[0, 0, 0, ys, xs] = 1.0
                out = conv(x)[0, 0, 0].numpy()
                Ho = out.shape[0]
                tgt = np.array([(y, x_) for y in range(Ho) for x_ in range(Ho)])
                m = fs.structural_mask(tgt, [(ys, xs)], k, s, p)[:, 0]
                np.testing.assert_array_equal(m.reshape(Ho, Ho), out != 0, err_msg=str(pair))


def test_label_edges():
    src = xr.DataArray(np.zeros((4, 10)), dims=("neuron", "frame"),
                       coords={"y": ("neuron", [0, 1, 5, 2]), "x": ("neuron", [0, 1, 5, 2]),
                               "silent": ("neuron", [False, False, False, True])})
    tgt = xr.DataArray(np.zeros((2, 10)), dims=("neuron", "frame"),
                       coords={"y": ("neuron", [1, 4]), "x": ("neuron", [1, 4])})
    groups = xr.Dataset({"target": ("edge", [0, 0, 1]), "source": ("edge", [1, 2, 2]),
                         "degree": ("neuron", [2, 1])}, coords={"neuron": [0, 1]})
    out = fs.label_edges(groups, src, tgt, (3, 1, 1))
    assert out["structural"].values.tolist() == [True, False, True]
    assert out["n_structural"].values.tolist() == [1, 1]
    assert out["n_receptive"].values.tolist() == [2, 1]  # the silent source is not counted


def _layer(name, y, x, silent=None):
    coords = {"y": ("neuron", y), "x": ("neuron", x)}
    if silent is not None:
        coords["silent"] = ("neuron", silent)
    da = xr.DataArray(np.zeros((len(y), 10)), dims=("neuron", "frame"), coords=coords, name=name)
    da.attrs["layer"] = name
    return da


def _groups(source_layer="L1", target_layer="L2"):
    return xr.Dataset({"target": ("edge", [0, 0, 1]), "source": ("edge", [1, 2, 2]),
                       "sttc": ("edge", [0.3, 0.1, 0.2]), "degree": ("neuron", [2, 1])},
                      coords={"neuron": [0, 1]},
                      attrs={"source_layer": source_layer, "target_layer": target_layer})


@pytest.mark.parametrize("src, tgt, match", [
    ("L2", "L2", "source spikes are layer L2 .* source layer L1"),   # same size, wrong layer
    ("L1", "L3", "target spikes are layer L3 .* target layer L2"),
])
def test_label_edges_refuses_a_layer_the_groups_were_not_computed_on(src, tgt, match):
    # regression: all layers of the default profile's first stage have 4,096 neurons, so a
    # wrong layer used to run silently
    s = _layer(src, [0, 1, 5, 2], [0, 1, 5, 2], [False, False, False, True])
    t = _layer(tgt, [1, 4], [1, 4])
    with pytest.raises(ValueError, match=match):
        fs.label_edges(_groups(), s, t, (3, 1, 1))


def test_label_edges_checks_the_name_of_an_unlabelled_layer():
    s = _layer("L1", [0, 1, 5, 2], [0, 1, 5, 2])
    s.attrs = {}  # only the DataArray's name says which layer it is
    t = _layer("L2", [1, 4], [1, 4])
    assert fs.label_edges(_groups(), s, t, (3, 1, 1))["structural"].values.tolist() == [True, False, True]
    with pytest.raises(ValueError, match="L1"):
        fs.label_edges(_groups(), s.rename("L4"), t, (3, 1, 1))


def test_structural_summary_and_edge_table():
    s = _layer("L1", [0, 1, 5, 2], [0, 1, 5, 2], [False, False, False, True])
    t = _layer("L2", [1, 4], [1, 4])
    g = fs.label_edges(_groups(), s, t, (3, 1, 1))
    assert g.attrs["n_active_source"] == 3
    table = fs.structural_summary({"L1→L2": g})
    row = table.loc["L1→L2"]
    assert row["edges"] == 3
    assert row["structural share of edges"] == pytest.approx(2 / 3)
    assert row["median STTC, structural"] == pytest.approx(0.25)    # edges 0 and 2
    assert row["median STTC, non-structural"] == pytest.approx(0.1)
    # target 0: 1 structural of 2 receptive, 1 other of 3 - 2 = 1 rest; target 1: 1 of 1, 0 of 2
    assert row["structural degree / receptive field"] == pytest.approx((1 / 2 + 1 / 1) / 2)
    assert row["non-structural degree / rest"] == pytest.approx((1 / 1 + 0 / 2) / 2)
    assert row["ratio"] == pytest.approx(0.75 / 0.5)
    edges = fs.structural_edge_table({"L1→L2": g})
    assert edges["kind"].tolist() == ["structural", "non-structural", "structural"]
    assert edges["sttc"].tolist() == pytest.approx([0.3, 0.1, 0.2])
