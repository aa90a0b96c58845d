"""bench/ is scripts run from the repository root (`python -m bench.<name>`), not an installed
package: put the root on sys.path so these tests import it the same way."""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
