"""Files and folders readable by their owner only: the instance, the database, uploads, backups."""
from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """Create a folder (and its parents) readable by its owner only, or tighten an existing one."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    _chmod(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Create an empty file readable by its owner only, or tighten an existing one."""
    path = Path(path)
    if path.exists():
        _chmod(path, PRIVATE_FILE)
    else:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE))
    return path


def write_private(path: Path, text: str) -> None:
    """Write a text file that no one but its owner can read, even for an instant."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    _chmod(Path(path), PRIVATE_FILE)


def private_tree(root: Path) -> None:
    """Make a folder and everything in it readable by its owner only (0700 folders, 0600 files)."""
    root = Path(root)
    _chmod(root, PRIVATE_DIR)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            _chmod(Path(folder) / name, PRIVATE_DIR)
        for name in files:
            _chmod(Path(folder) / name, PRIVATE_FILE)


def sqlite_database(path: Path) -> None:
    """Create the SQLite file before SQLite does, so that it and its -wal and -shm companions (which
    SQLite gives the database file's mode) are private from the start; the write gate's too."""
    path = Path(path)
    if not path.parent.exists():
        private_dir(path.parent)
    private_file(path)
    for suffix in ("-wal", "-shm", "-gate"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            _chmod(companion, PRIVATE_FILE)


def _chmod(path: Path, mode: int) -> None:
    # A file owned by someone else (a shared mount, a root-made folder) is left as it is.
    try:
        if path.stat().st_mode & 0o777 != mode:
            os.chmod(path, mode)
    except PermissionError:
        pass
