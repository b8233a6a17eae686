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
