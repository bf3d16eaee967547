"""Score prediction files on VGGSounder and print the paper's tables (same as ``vggsounder-score``).

Usage:
    python scripts/score.py FILE [FILE ...] [--format markdown] [--clip-set full] ...
    python scripts/score.py --baseline class-prior
    python scripts/score.py --help
"""

import sys
from pathlib import Path

try:
    from vggsounder_hf.cli.score import main
except ImportError:  # running from a checkout without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from vggsounder_hf.cli.score import main

if __name__ == "__main__":
    sys.exit(main())
