"""What one request may send, how many may wait, and how long results live.

Every limit a person can hit has a one-line message fit to show in the page.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Server-side limits of ``audiostyle serve``.

    Attributes:
        max_upload_mb: most megabytes one request may upload (clip and reference together).
        max_seconds: longest clip (and reference) accepted, in seconds.
        queue_size: transfers that may wait behind the running one; more get a "busy" answer.
        max_uploads: uploads being received at once; more get a "busy" answer.
        result_ttl: seconds a finished result stays available before it is deleted.
    """

    max_upload_mb: float = 40.0
    max_seconds: float = 60.0
    queue_size: int = 4
    max_uploads: int = 8
    result_ttl: float = 600.0

    def __post_init__(self):
        from audiostyle.errors import AudioStyleError

        if self.max_upload_mb <= 0 or self.max_seconds <= 0 or self.result_ttl <= 0:
            raise AudioStyleError("upload size, duration and result lifetime limits must be positive")
        if self.queue_size < 1 or self.max_uploads < 1:
            raise AudioStyleError("the queue and the number of uploads at once must be at least 1")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * MB)

    def as_json(self) -> dict:
        return asdict(self)

    def too_big(self, size: int | None = None) -> str:
        got = f"{size / MB:.1f} MB" if size else f"over {self.max_upload_mb:g} MB"
        return f"The upload is {got}; the limit is {self.max_upload_mb:g} MB per request (clip and reference together)."

    def busy(self) -> str:
        return (f"The server is busy: {self.queue_size} transfer(s) are already waiting. "
                "Please try again in a minute.")
