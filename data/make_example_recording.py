"""Write data/example_recording.npz, the spike times the own-data pages load (book chapter 19's
companion and the workshop's "bring your own spikes"): a seeded simulated population, see
fclib.pipeline.example for its contents and parameters.

    python data/make_example_recording.py [-o data/example_recording.npz]
"""
import argparse
from pathlib import Path

from fclib.pipeline.example import EXAMPLE_FILE, make_example_recording

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default=str(Path(__file__).resolve().parent / EXAMPLE_FILE))
    out = make_example_recording(ap.parse_args().output)
    print(f"{out}: {out.stat().st_size / 1e6:.2f} MB")
