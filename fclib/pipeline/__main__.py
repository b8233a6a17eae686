import sys

from fclib.pipeline.cli import main

sys.exit(main())
