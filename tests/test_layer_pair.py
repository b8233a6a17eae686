"""fclib.io.LayerPair: the one reader of the "source→target" labels."""
import pandas as pd
import pytest

from fclib.io import LayerPair


def test_label_round_trip_and_unpacking():
    p = LayerPair.parse("L14→L15")
    assert p == ("L14", "L15") and (p.source, p.target) == ("L14", "L15")
    assert str(p) == "L14→L15" and f"{p}" == "L14→L15"
    s, t = p
    assert (s, t) == ("L14", "L15")
    assert LayerPair.parse(p) is p or LayerPair.parse(p) == p
    assert LayerPair.parse(("A", "B")) == LayerPair("A", "B")


@pytest.mark.parametrize("bad", ["L1", "L1→L2→L3", "→L2", "L1→", "", 3, ("L1",), ("L1", 2)])
def test_a_label_that_is_no_pair_is_refused_and_named(bad):
    with pytest.raises(ValueError, match="pair must be a layer pair 'source→target'"):
        LayerPair.parse(bad)


def test_emergence_tables_sort_layers_before_pairs_in_depth_order():
    from fclib.stats.emergence import emergence_table

    tab = pd.DataFrame({"layer pair": ["L10→L11", "L2→L3", "L10", "L2"],
                        "quantity": ["q"] * 4, "value": [1.0, 2.0, 3.0, 4.0]})
    out = emergence_table({("trained", 1): tab}, {("trained", 1): 0.5})
    assert list(out["layer pair"].cat.categories) == ["L2", "L10", "L2→L3", "L10→L11"]
