"""Run a grantflow command with the documents folder on a nearly full disk, then again with room.

    unshare --mount [--user --map-root-user] python -m tests.support.disk_full \\
        --data DIR --database FILE --free BYTES --out OUT -- grantflow screening run …

Inside its own mount namespace (the mount dies with the process; nothing on the machine changes)
it mounts a small tmpfs over ``DIR/documents``, copies the documents already there onto it, fills
it up to ``BYTES`` of free space with a filler file, and runs the command: the documents it writes
meet a real ENOSPC from the kernel. It records what the database (the SQLite ``FILE``) and the
folder hold before and after, frees the space (the filler goes) and runs the command again. The
report is JSON on stdout; the final folder is copied to ``OUT`` for the test to open.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

FILLER = ".filler"
TABLES = ("generated_document", "eligibility_check", "outbox_letter", "audit_event")


def files(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != FILLER
    }


def rows(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as conn:
        return {name: conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in TABLES}


def run(command: list[str]) -> dict[str, Any]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    return {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--free", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("command", nargs="+")
    args = parser.parse_args()
    documents, database = args.data / "documents", args.database

    kept = args.out / "documents-before"
    shutil.copytree(documents, kept)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0755", "tmpfs", str(documents)], check=True)
    shutil.copytree(kept, documents, dirs_exist_ok=True)
    available = shutil.disk_usage(documents).free
    with open(documents / FILLER, "wb") as filler:
        filler.write(b"\0" * max(available - args.free, 0))
    report: dict[str, Any] = {"free": shutil.disk_usage(documents).free}
    report["before"] = {"rows": rows(database), "files": files(documents)}
    report["full"] = run(args.command)
    report["after_full"] = {
        "rows": rows(database),
        "files": files(documents),
        "temporary": [str(p.relative_to(documents)) for p in documents.rglob(".*.part")],
    }
    (documents / FILLER).unlink()  # room again
    report["again"] = run(args.command)
    report["after_again"] = {"rows": rows(database), "files": files(documents)}
    shutil.copytree(documents, args.out / "documents-final")
    json.dump(report, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
