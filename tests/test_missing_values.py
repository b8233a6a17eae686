"""A glued NaN reads "—" on the page (book/_ext/missing_values.py)."""
from docutils import nodes

from conftest import book_extension


def _ext():
    return book_extension("missing_values")


def _para(*parts):
    p = nodes.paragraph()
    for part in parts:
        p += (nodes.inline(part[1], part[1], classes=["pasted-text"]) if isinstance(part, tuple)
              else nodes.Text(part))
    return p


def test_pasted_nan_becomes_a_dash_and_its_unit_goes_with_it():
    tree = nodes.section()
    tree += _para("goes from ", ("g", "nan"), " % to ", ("g", "12.5"), " % and MI ",
                  ("g", "NaN"), " bits, size ", ("g", "-nan"), ".")
    assert _ext().dash_missing(tree) == 2 + 1
    assert tree.astext() == "goes from — to 12.5 % and MI —, size —."


def test_numbers_and_words_that_contain_nan_are_left_alone():
    tree = nodes.section()
    tree += _para("the ", ("g", "nanoscale"), " and ", ("g", "0.25"), " nan")
    assert _ext().dash_missing(tree) == 0
    assert tree.astext() == "the nanoscale and 0.25 nan"
