"""Write the example application files of the 江头街道 2025 competition, deterministically.

    .venv/bin/python examples/jiangtou-2025/make_examples.py [OUTPUT_FOLDER]

The data is ``applications.yaml`` beside this script; the writer is ``cli.demo.example.files``
(which ``grantflow example write DIR --start-on today`` runs too, with every date moved).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from cli.demo.example.files import main  # noqa: E402

if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
