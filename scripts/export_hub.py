"""Publish VGGSounder on the Hugging Face Hub: the same command as ``vggsounder-hub``.

Example:
    $ python scripts/export_hub.py export ./vggsounder-hub
    $ python scripts/export_hub.py export ./vggsounder-hub --push-to-hub my-org/vggsounder
    $ python scripts/export_hub.py push-metric my-org/vggsounder --dry-run
    $ python scripts/export_hub.py push-results my-org/my-model results.json --dry-run
"""

import sys

from vggsounder_hf.cli.hub import main

if __name__ == "__main__":
    sys.exit(main())
