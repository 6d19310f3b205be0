"""备份与恢复 Backup and restore: the database, the documents and the uploads in one archive.

``backup.make_backup`` writes a consistent copy while the portal and flows keep running: the
database first, as one snapshot (SQLite's online backup API; ``pg_dump`` in an exported
snapshot), then the files — which are always written before the rows that name them commit, so
every file a row of the snapshot names is in the archive. ``restore.restore_backup`` refuses a
damaged, truncated or foreign archive, another database kind or a newer schema before it changes
anything, and a target holding data unless forced; then it replaces the database in one step and
the two folders by renaming. ``archive`` is the format (a tar.gz closed by its manifest: format
version, database kind, schema revision, row counts, sha256 of every member); ``database`` the
two database kinds.

Uses only the kernel (``db``, ``errors``); nothing imports it but the CLI.
"""

# what other rooms may import from this one (tests/test_import_rules.py)
__public__ = ("backup", "restore")
