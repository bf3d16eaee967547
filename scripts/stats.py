"""Print the statistics of the VGGSounder label releases (same as ``vggsounder-stats``).

Usage:
    python scripts/stats.py [--version 1.0] [--cache-dir DIR] [--data-path PATH] [--json]
"""

import sys

from vggsounder_hf.cli.stats import main

if __name__ == "__main__":
    sys.exit(main())
