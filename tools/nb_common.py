"""Shared pieces of the chapter notebook sources."""
import nbformat as nbf


def notebook(cells):
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    out = []
    for i, (kind, src, *tags) in enumerate(cells):
        c = nbf.v4.new_markdown_cell(src.strip()) if kind == "md" else nbf.v4.new_code_cell(src.strip())
        c.id = f"cell-{i}"  # stable ids: regenerating an unchanged notebook changes no byte
        if tags:
            c.metadata["tags"] = list(tags[0])
        out.append(c)
    nb.cells = out
    return nb


# The parameters every chapter shares (papermill's parameters cell starts with them).
RUN_PARAMS = """# Parameters (papermill): the profile picks every value; the others override one each.
profile = "default"
data_dir = "data"
epochs = None
n_presentations = None
seed = None
overrides = {}
"""
