"""One function per figure the book shows, each taking computed results and returning a
matplotlib Figure drawn in the book's style (:func:`book_style`, applied inside each call:
importing or calling fclib changes no global matplotlib state)."""
from fclib.figures._common import *  # noqa: F401,F403
from fclib.figures.connectivity import *  # noqa: F401,F403
from fclib.figures.ensembles import *  # noqa: F401,F403
from fclib.figures.information import *  # noqa: F401,F403
from fclib.figures.network import *  # noqa: F401,F403
from fclib.figures.perturbations import *  # noqa: F401,F403
from fclib.figures.stimulus import *  # noqa: F401,F403
from fclib.figures.emergence import *  # noqa: F401,F403
from fclib.figures.mango import *  # noqa: F401,F403
from fclib.figures.own_data import *  # noqa: F401,F403
from fclib.figures.sampling import *  # noqa: F401,F403
from fclib.figures.ttfs import *  # noqa: F401,F403
from fclib.figures.scale import *  # noqa: F401,F403
