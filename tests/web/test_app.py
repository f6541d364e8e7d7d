"""The web API on a real loopback server: round trip, limits, isolation, expiry, cleanup."""

from __future__ import annotations

import io
import re
import tempfile
import time

import httpx
import numpy as np
import pytest
import soundfile as sf

from audiostyle.web.app import create_app
from audiostyle.web.limits import Limits
from tests.web.conftest import HOP_SECONDS, running, write_clip


def post(client, clip=None, **fields):
    files = {"clip": clip} if clip is not None else {"none": ("", b"", "application/octet-stream")}
    return client.post("/api/transfer", files=files, data={"to": "violin", **fields})


def wav_seconds(data: bytes) -> float:
    info = sf.info(io.BytesIO(data))
    return info.frames / info.samplerate


@pytest.fixture(scope="module")
def server(web_models):
    app = create_app(web_models, Limits(max_seconds=3.0, max_upload_mb=0.2))
    with running(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield app, client


def test_info_lists_models_instruments_example_and_limits(server):
    _, client = server
    info = client.get("/api/info").json()
    assert info["models"] == [{"name": "tiny", "instruments": ["piano", "violin"]}]
    assert info["limits"]["max_seconds"] == 3.0 and info["limits"]["max_upload_mb"] == 0.2
    assert [e["id"] for e in info["examples"]] == ["ode-to-joy-piano"] and info["notice"] is None
    page = client.get("/")
    assert page.status_code == 200 and 'id="go"' in page.text


def test_round_trip_returns_playable_files_of_the_input_duration(server, tmp_path):
    _, client = server
    clip = write_clip(tmp_path / "my take.wav", 2.0)
    r = post(client, ("my take.wav", clip.read_bytes(), "audio/wav"), model="tiny")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["to"] == "violin" and body["model"] == "tiny" and abs(body["seconds"] - 2.0) <= HOP_SECONDS
    for key in ("input_url", "output_url"):
        audio = client.get(body[key])
        assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
        assert abs(wav_seconds(audio.content) - 2.0) <= HOP_SECONDS
    png = client.get(body["spectrogram_url"])
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    download = client.get(body["download_url"])
    assert download.headers["content-disposition"].startswith("attachment")
    assert "my%20take-to-violin.wav" in download.headers["content-disposition"]


def test_example_and_reference_clip(server, tmp_path):
    _, client = server
    ref = write_clip(tmp_path / "ref.wav", 1.5, freq=440)
    r = client.post("/api/transfer", files={"reference": ("ref.wav", ref.read_bytes(), "audio/wav")},
                    data={"example": "ode-to-joy-piano", "to": "violin"})
    assert r.status_code == 200, r.text  # the example is longer than max_seconds: it is ours, not limited
    assert r.json()["seconds"] > 3.0


@pytest.mark.parametrize("case", ["not_audio", "too_long", "too_big", "too_big_chunked", "not_a_form",
                                  "unknown_instrument", "unknown_model", "no_clip", "bad_reference"])
def test_bad_requests_get_one_clear_message_and_leave_nothing(case, server, tmp_path):
    app, client = server
    good = write_clip(tmp_path / "ok.wav", 1.0).read_bytes()
    if case == "not_audio":
        r = post(client, ("notes.wav", b"these are my notes, not audio\n" * 10, "audio/wav"))
        expect = (400, r"^notes\.wav: not a readable audio file")
    elif case == "too_long":
        r = post(client, ("long.wav", write_clip(tmp_path / "long.wav", 4.0).read_bytes(), "audio/wav"))
        expect = (400, r"^long\.wav: is 4\.0 s long; the limit is 3\.0 s$")
    elif case == "too_big":
        r = post(client, ("big.wav", b"\0" * 300_000, "audio/wav"))
        expect = (413, r"^The upload is 0\.3 MB; the limit is 0\.2 MB per request")
    elif case == "too_big_chunked":  # no Content-Length: the server counts while it reads
        chunks = iter([b"--b\r\nContent-Disposition: form-data; name=\"clip\"; filename=\"x.wav\"\r\n\r\n"]
                      + [b"\0" * 50_000] * 6)
        r = client.post("/api/transfer", content=chunks, headers={"content-type": "multipart/form-data; boundary=b"})
        expect = (413, r"the limit is 0\.2 MB per request")
    elif case == "not_a_form":
        r = client.post("/api/transfer", json={"to": "violin"})
        expect = (415, r"multipart/form-data")
    elif case == "unknown_instrument":
        r = post(client, ("ok.wav", good, "audio/wav"), to="kazoo")
        expect = (400, r"^Model 'tiny' cannot play 'kazoo'; it plays: piano, violin\.$")
    elif case == "unknown_model":
        r = post(client, ("ok.wav", good, "audio/wav"), model="nope")
        expect = (400, r"unknown model 'nope'; this server has: tiny")
    elif case == "no_clip":
        r = post(client)
        expect = (400, r"^Choose a clip to upload or the bundled example\.$")
    else:
        r = client.post("/api/transfer", data={"to": "violin"}, files={
            "clip": ("ok.wav", good, "audio/wav"), "reference": ("ref.mp3", b"ID3 not really", "audio/mpeg")})
        expect = (400, r"^ref\.mp3: not a readable audio file")
    assert r.status_code == expect[0], r.text
    body = r.json()
    assert set(body) == {"error", "message"} and re.search(expect[1], body["message"]), body
    assert "/tmp" not in body["message"] and "audiostyle-serve" not in body["message"]  # no server paths
    service = app.state.service
    assert service.store.counts()["pending"] == 0 and service.uploads == 0
    assert client.get("/api/info").status_code == 200  # still serving


def test_requests_are_isolated_by_unguessable_ids(server, tmp_path):
    app, client = server
    a = post(client, ("a.wav", write_clip(tmp_path / "a.wav", 1.0).read_bytes(), "audio/wav")).json()
    b = post(client, ("b.wav", write_clip(tmp_path / "b.wav", 1.5).read_bytes(), "audio/wav")).json()
    assert a["id"] != b["id"] and all(re.fullmatch(r"[A-Za-z0-9_-]{24}", x["id"]) for x in (a, b))
    assert abs(wav_seconds(client.get(a["input_url"]).content) - 1.0) <= HOP_SECONDS
    assert abs(wav_seconds(client.get(b["input_url"]).content) - 1.5) <= HOP_SECONDS
    jobs = app.state.service.store.jobs
    assert sorted(p.name for p in (jobs / a["id"]).iterdir()) == ["input.wav", "output.wav", "spectrograms.png"]
    for url in (f"/api/results/{'A' * 24}/output.wav", f"/api/results/{a['id']}/upload-clip.wav",
                f"/api/results/{a['id']}/..%2F{b['id']}%2Foutput.wav", f"/api/results/{a['id'][:-1]}/output.wav"):
        assert client.get(url).status_code == 404, url
    assert client.delete(f"/api/results/{a['id']}").status_code == 204
    assert client.get(a["output_url"]).status_code == 404 and not (jobs / a["id"]).exists()
    assert client.delete(f"/api/results/{a['id']}").status_code == 404
    assert client.get(b["output_url"]).status_code == 200  # the other person's result is untouched


def test_results_expire_after_their_ttl(web_models, tmp_path):
    app = create_app(web_models, Limits(result_ttl=2.0), examples=False)
    with running(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        body = post(client, ("a.wav", write_clip(tmp_path / "a.wav", 0.5).read_bytes(), "audio/wav")).json()
        assert client.get(body["output_url"]).status_code == 200
        folder = app.state.service.store.jobs / body["id"]
        deadline = time.monotonic() + 10
        while folder.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not folder.exists() and client.get(body["output_url"]).status_code == 404


def test_nothing_is_written_outside_one_temporary_directory_which_is_removed(web_models, tmp_path, monkeypatch):
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))  # where mkdtemp and spooling would write
    app = create_app(web_models, Limits())
    big = tmp_path / "big.wav"  # > 1 MB: FastAPI's UploadFile would spool this to the system temp dir
    t = np.arange(3 * 48000) / 48000
    sf.write(big, np.stack([0.1 * np.sin(2 * np.pi * 220 * t)] * 2, 1).astype(np.float32), 48000, subtype="FLOAT")
    assert big.stat().st_size > 1024 * 1024
    with running(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        root = app.state.service.root
        assert root.parent == system_tmp and root.name.startswith("audiostyle-serve-")
        r = post(client, ("big.wav", big.read_bytes(), "audio/wav"))
        assert r.status_code == 200, r.text
        assert [p.name for p in system_tmp.iterdir()] == [root.name]
    assert not root.exists() and list(system_tmp.iterdir()) == []


def test_no_model_is_said_clearly(monkeypatch):
    from audiostyle.web import service

    monkeypatch.setattr("audiostyle.hub.shipped_models", lambda: {})
    models, notice = service.load_models(None)
    assert models == {} and "no transfer model is available" in notice and "--model PATH" in notice
    app = create_app(models, notice=notice, examples=False)
    with running(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        assert client.get("/api/info").json()["notice"] == notice
        r = client.post("/api/transfer", files={"clip": ("a.wav", b"RIFF", "audio/wav")}, data={"to": "violin"})
        assert r.status_code == 503 and r.json() == {"error": "no_model", "message": notice}
