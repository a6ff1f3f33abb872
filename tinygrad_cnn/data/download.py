"""Download a file with urllib, verify its SHA-256 and write it atomically; extract tar archives safely."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

__all__ = ["DownloadError", "download_and_verify", "extract_tar", "file_digest"]

_CHUNK = 1 << 20


class DownloadError(OSError):
    """A download failed for a network reason (no connection, HTTP error, timeout)."""


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of a file's bytes (``"sha256"`` or ``"md5"``), read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_hex(value: str, length: int, name: str) -> str:
    v = value.lower()
    if len(v) != length or any(c not in "0123456789abcdef" for c in v):
        raise ValueError(f"download_and_verify(): {name}: expected {length} hex digits, got {value!r}")
    return v


def download_and_verify(
    url: str | Sequence[str],
    path: str | os.PathLike,
    sha256: str,
    *,
    md5: str | None = None,
    manual_files: Sequence[str] | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``path`` unless a file with the right SHA-256 is already there.

    The bytes go to a temporary file next to ``path`` that is renamed over ``path`` (``os.replace``)
    only once its SHA-256 (and MD5, if ``md5`` is given) matches, so ``path`` never holds a partial or
    wrong file.

    Args:
        url: one URL, or several mirrors tried in order while they fail for network reasons.
        path: where the file goes; its folder is created.
        sha256: the expected SHA-256, hex.
        md5: optionally also the expected MD5, hex.
        manual_files: the file names to list in the "put them there by hand" message (default: this one).
        timeout: seconds per network operation.

    Raises:
        ValueError: the downloaded bytes have the wrong digest (nothing is left on disk).
        DownloadError: every URL failed (no network, HTTP error, timeout); the message says which files
            to put in the folder by hand.
    """
    urls = [url] if isinstance(url, str) else list(url)
    if not urls:
        raise ValueError("download_and_verify(): url: expected at least one URL")
    sha256 = _check_hex(sha256, 64, "sha256")
    md5 = None if md5 is None else _check_hex(md5, 32, "md5")
    path = Path(path)
    if path.is_file() and file_digest(path) == sha256:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for u in urls:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        try:
            h_sha, h_md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
            with os.fdopen(fd, "wb") as out:
                try:
                    with urllib.request.urlopen(u, timeout=timeout) as response:
                        while chunk := response.read(_CHUNK):
                            out.write(chunk)
                            h_sha.update(chunk)
                            h_md5.update(chunk)
                except (urllib.error.URLError, OSError, ValueError) as e:
                    errors.append(f"{u}: {e}")
                    continue
            got = h_sha.hexdigest()
            if got != sha256:
                raise ValueError(f"SHA-256 mismatch for {u}: expected {sha256}, got {got}; the download was discarded")
            if md5 is not None and h_md5.hexdigest() != md5:
                raise ValueError(f"MD5 mismatch for {u}: expected {md5}, got {h_md5.hexdigest()}; download discarded")
            os.replace(tmp, path)
            return path
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp)
    names = ", ".join(manual_files) if manual_files else path.name
    raise DownloadError(
        f"could not download {path.name} ({'; '.join(errors)}). Without network access, put these files in "
        f"{path.parent} by hand: {names}"
    )


def extract_tar(archive: str | os.PathLike, dest: str | os.PathLike) -> None:
    """Extract a tar archive into ``dest`` refusing absolute paths, ``..``, links and special files.

    Uses tarfile's ``filter="data"`` where Python has it (3.12, and 3.8.17+/3.9.17+/3.10.12+/3.11.4+),
    and an equivalent check of every member otherwise.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:*") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
            return
        root = dest.resolve()
        members = tar.getmembers()
        for m in members:
            target = (root / m.name).resolve()
            if os.path.isabs(m.name) or (target != root and root not in target.parents):
                raise ValueError(f"{archive}: member {m.name!r} would be extracted outside {dest}")
            if not (m.isfile() or m.isdir()):
                raise ValueError(f"{archive}: member {m.name!r} is a link or special file; refusing to extract it")
        tar.extractall(dest, members=members)  # noqa: S202 - members checked above
