"""`python -m app.cli` runs the fleetlink command."""

import sys

from app.cli import main

sys.exit(main())
