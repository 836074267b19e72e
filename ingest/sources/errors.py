"""Errors of the scene sources and the downloader: one class per condition, under hpgeo's categories."""

from __future__ import annotations

from base.errors import InvalidRequest, NotFound, UpstreamUnavailable

__all__ = [
    "SourceUnavailable",
    "AuthenticationFailed",
    "DownloadFailed",
    "ChecksumMismatch",
    "SizeMismatch",
    "InvalidSourceQuery",
    "UnsupportedFile",
    "SceneNotFound",
    "InvalidWatchConfig",
    "IngestRefused",
]


class SourceUnavailable(UpstreamUnavailable):
    """A hub did not answer, or answered with a server error, after the retries."""


class AuthenticationFailed(UpstreamUnavailable):
    """The hub refused the credentials (the message never contains them)."""


class DownloadFailed(UpstreamUnavailable):
    """A download could not be completed after the retries."""


class ChecksumMismatch(UpstreamUnavailable):
    """A downloaded or local file does not match the checksum its source published."""


class SizeMismatch(ChecksumMismatch):
    """A downloaded file does not have the size its source published."""


class InvalidSourceQuery(InvalidRequest):
    """A search parameter (area, interval, cloud cover, platform, URL) is malformed."""


class UnsupportedFile(InvalidRequest):
    """A local file or archive is of a kind no reader handles."""


class SceneNotFound(NotFound):
    """A scene record or its files do not exist at the source."""


class InvalidWatchConfig(InvalidRequest):
    """The watch configuration (jobs of source + AOI + collection) is malformed."""


class IngestRefused(InvalidRequest):
    """One or more scenes of an ingest run were refused for their content (unsafe, unreadable, unsupported)."""
