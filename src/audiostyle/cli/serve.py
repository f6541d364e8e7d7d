"""``audiostyle serve``: a web page for musicians on http://127.0.0.1:7860.

Upload a clip (or pick the bundled example), choose the model and the instrument, optionally
give a reference clip for one-shot style, press Transfer, then play the input and the output
side by side, compare their spectrograms and download the result. Transfers run one at a
time; requests beyond the queue get a "busy" answer. Uploads and results live in one
temporary directory, removed when the server stops (Ctrl-C).
"""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve a web page for transferring clips in the browser", description=__doc__)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    p.add_argument("--model", nargs="+", action="extend", metavar="NAME|PATH",
                   help="shipped model names or paths (.safetensors file or run folder); default: every shipped model")
    p.add_argument("--max-seconds", type=float, default=60.0, help="longest clip accepted (default: 60)")
    p.add_argument("--max-upload-mb", type=float, default=40.0, help="most MB one request may upload (default: 40)")
    p.add_argument("--queue", type=int, default=4, help="transfers that may wait behind the running one (default: 4)")
    p.add_argument("--ttl", type=float, default=600.0, help="seconds a result stays available (default: 600)")
    p.set_defaults(func=run)


def listen(host: str, port: int):
    """A bound, listening socket, or a one-line error (port in use, bad address)."""
    import socket

    from audiostyle.errors import AudioStyleError

    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        raise AudioStyleError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    return sock


def run(args: argparse.Namespace) -> int:
    from audiostyle.errors import AudioStyleError

    try:
        import uvicorn

        from audiostyle.web.app import create_app
    except ImportError as exc:
        raise AudioStyleError(f"the web page needs fastapi, uvicorn and python-multipart ({exc}); "
                              "install them with `make setup` or `pip install 'audiostyle[web]'`") from None
    from audiostyle.web.limits import Limits
    from audiostyle.web.service import load_models

    limits = Limits(max_upload_mb=args.max_upload_mb, max_seconds=args.max_seconds,
                    queue_size=args.queue, result_ttl=args.ttl)
    models, notice = load_models(args.model)
    if notice:
        print(f"audiostyle: warning: {notice}", file=sys.stderr)
    sock = listen(args.host, args.port)
    host = f"[{args.host}]" if ":" in args.host else args.host

    def ready(service) -> None:  # after the lifespan startup: the example exists, the worker runs
        print(f"models: {', '.join(models) or 'none'}; example: {', '.join(service.examples) or 'none'}")
        print(f"temporary files: {service.root} (removed on exit)")
        print(f"serving on http://{host}:{sock.getsockname()[1]}  (Ctrl-C to stop)", flush=True)
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            print("audiostyle: warning: the page has no login; anyone who can reach it can use it", file=sys.stderr)

    app = create_app(models, limits, notice=notice, on_ready=ready)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=10))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C after a graceful shutdown: the normal way to stop
        print("stopped")
    finally:
        app.state.service.stop()  # idempotent: lifespan already removed the temporary directory
        sock.close()
    return 0
