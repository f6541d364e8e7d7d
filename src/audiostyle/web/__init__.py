"""``audiostyle serve``: a small web page for musicians, backed by FastAPI and uvicorn.

A person uploads a clip (or picks the bundled example), chooses the model and the target
instrument, optionally gives a reference clip for one-shot style, and gets the input and the
output side by side with their spectrograms and a download link.

Modules (imported on use; the CLI imports them only when ``serve`` runs):

- :mod:`~audiostyle.web.limits`: the server's limits and the messages shown when one is hit.
- :mod:`~audiostyle.web.results`: per-request folders under one temporary directory, random
  ids, expiry.
- :mod:`~audiostyle.web.worker`: the bounded queue and the single transfer thread.
- :mod:`~audiostyle.web.uploads`: streaming multipart parsing into a request's own folder.
- :mod:`~audiostyle.web.examples`: the bundled example clip, rendered at startup.
- :mod:`~audiostyle.web.service`: models, examples, store and worker tied together.
- :mod:`~audiostyle.web.app`: the FastAPI routes; ``static/index.html`` is the page.
"""

from __future__ import annotations

__all__ = ["create_app"]


def create_app(*args, **kwargs):
    """See :func:`audiostyle.web.app.create_app`."""
    from audiostyle.web.app import create_app as _create_app

    return _create_app(*args, **kwargs)
