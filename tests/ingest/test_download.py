"""Robust downloads against a local server: resume, servers ignoring Range, retries, checksums."""

from __future__ import annotations

import hashlib
import os

import pytest

from ingest.sources.base import Checksum
from ingest.sources.download import download, partial_path
from ingest.sources.errors import AuthenticationFailed, ChecksumMismatch, DownloadFailed, SizeMismatch
from tests.replay.files import FileServer

DATA = os.urandom(3 * 1024 * 1024 + 123)
MD5 = Checksum("MD5", hashlib.md5(DATA).hexdigest())


def test_resumes_with_range_after_a_dropped_connection(tmp_path):
    with FileServer({"/p.zip": DATA}, drop_after=1024 * 1024) as srv:
        out = download(f"{srv.url}/p.zip", tmp_path / "p.zip", size=len(DATA), checksum=MD5, backoff=0)
    assert out.read_bytes() == DATA
    gets = [r for m, p, r in srv.log if m == "GET"]
    assert gets[0] is None and gets[1] is not None and gets[1].startswith("bytes=") and int(gets[1][6:-1]) >= 1024 * 1024
    assert not partial_path(out).exists()


def test_resumes_from_an_existing_part(tmp_path):
    part = partial_path(tmp_path / "p.zip")
    part.parent.mkdir(parents=True)
    part.write_bytes(DATA[:1000])
    with FileServer({"/p.zip": DATA}) as srv:
        download(f"{srv.url}/p.zip", tmp_path / "p.zip", size=len(DATA), checksum=MD5)
    assert srv.log[0][2] == "bytes=1000-"
    assert (tmp_path / "p.zip").read_bytes() == DATA


def test_server_ignoring_range_restarts_from_zero(tmp_path):
    part = partial_path(tmp_path / "p.zip")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"x" * 5000)  # garbage: would corrupt the file if appended to
    with FileServer({"/p.zip": DATA}, honour_range=False) as srv:
        download(f"{srv.url}/p.zip", tmp_path / "p.zip", checksum=Checksum("SHA-256", hashlib.sha256(DATA).hexdigest()))
    assert srv.log[0][2] == "bytes=5000-"
    assert (tmp_path / "p.zip").read_bytes() == DATA


def test_retries_5xx_honouring_retry_after(tmp_path):
    slept: list[float] = []
    with FileServer({"/p.zip": DATA}, fail_first=2, retry_after="7") as srv:
        download(f"{srv.url}/p.zip", tmp_path / "p.zip", size=len(DATA), checksum=MD5, sleep=slept.append)
    assert slept == [7.0, 7.0]
    assert len([m for m, *_ in srv.log]) == 3


def test_backoff_doubles(tmp_path):
    slept: list[float] = []
    with FileServer({"/p.zip": DATA}, fail_first=10) as srv:
        with pytest.raises(DownloadFailed, match="gave up after 3 retries"):
            download(f"{srv.url}/p.zip", tmp_path / "p.zip", retries=3, backoff=0.5, sleep=slept.append)
    assert slept == [0.5, 1.0, 2.0]
    assert not (tmp_path / "p.zip").exists()


def test_checksum_mismatch_is_rejected_and_nothing_is_kept(tmp_path):
    with FileServer({"/p.zip": DATA}) as srv:
        with pytest.raises(ChecksumMismatch, match="md5"):
            download(f"{srv.url}/p.zip", tmp_path / "p.zip", checksum=Checksum("md5", "0" * 32))
    assert not (tmp_path / "p.zip").exists()
    assert not partial_path(tmp_path / "p.zip").exists()


def test_size_mismatch_is_rejected(tmp_path):
    with FileServer({"/p.zip": DATA}) as srv:
        with pytest.raises(SizeMismatch):
            download(f"{srv.url}/p.zip", tmp_path / "p.zip", size=len(DATA) - 1)
    assert not (tmp_path / "p.zip").exists()


def test_existing_verified_file_is_not_downloaded_again(tmp_path):
    (tmp_path / "p.zip").write_bytes(DATA)
    with FileServer({"/p.zip": DATA}) as srv:
        download(f"{srv.url}/p.zip", tmp_path / "p.zip", size=len(DATA), checksum=MD5)
    assert srv.log == []


def test_bearer_token_and_refusal(tmp_path):
    with FileServer({"/p.zip": DATA}, token="t0k") as srv:
        with pytest.raises(AuthenticationFailed):
            download(f"{srv.url}/p.zip", tmp_path / "p.zip", headers={"Authorization": "Bearer wrong"})
        download(f"{srv.url}/p.zip", tmp_path / "p.zip", headers={"Authorization": "Bearer t0k"}, checksum=MD5)
    assert (tmp_path / "p.zip").read_bytes() == DATA
