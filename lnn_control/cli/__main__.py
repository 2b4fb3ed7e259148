"""`python -m lnn_control.cli ...` is `lnn-control ...`."""

import sys

from lnn_control.cli import main

sys.exit(main())
