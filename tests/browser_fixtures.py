"""Headless Chromium for the viewer tests: availability gate, one browser per module, helpers.

The tests drive Debian's ``/usr/bin/chromium`` (or ``$PROOFGRAPH_CHROMIUM``) with the Python
``playwright`` client; ``playwright install`` is never run. Without Chromium or playwright the
browser tests skip, except in CI (``CI`` set), where ``.ci/run`` installs both and a missing
one must fail. Screenshots go to ``$PROOFGRAPH_ARTIFACTS`` or ``test-artifacts/viewer`` (git
ignores ``test-artifacts/``).
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import policy_fixtures as pf
import pytest

CHROMIUM = os.environ.get("PROOFGRAPH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
ARTIFACTS = Path(os.environ.get("PROOFGRAPH_ARTIFACTS")
                 or Path(__file__).resolve().parent.parent / "test-artifacts" / "viewer")


def require_browser() -> None:
    """Skip (fail under CI) unless playwright imports and the Chromium binary exists."""
    pf.require("playwright.sync_api", "the browser tests need: pip install playwright")
    if not Path(CHROMIUM).is_file():
        pf.unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module (closed at the end)."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS,
                                     timeout=60_000)
        try:
            yield instance
        finally:
            instance.close()


@dataclass
class OpenedPage:
    """A page opened on a local file, with every request and console error it produced."""

    page: Any
    url: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def external_requests(self) -> list[str]:
        """Requests other than the document itself (the page must make none)."""
        return [u for u in self.requests if u != self.url]


def open_file(browser: Any, path: Path, *, width: int = 1280, height: int = 800) -> OpenedPage:
    """Open ``path`` in a fresh page of the given viewport, recording requests and errors."""
    page = browser.new_page(viewport={"width": width, "height": height})
    opened = OpenedPage(page, path.resolve().as_uri())
    page.on("request", lambda req: opened.requests.append(req.url))
    page.on("pageerror", lambda exc: opened.errors.append(str(exc)))
    page.on("console", lambda msg: opened.errors.append(msg.text) if msg.type == "error" else None)
    page.goto(opened.url, wait_until="load")
    return opened


def save_screenshot(page: Any, name: str) -> bytes:
    """Screenshot the viewport into the artifacts folder; returns the PNG bytes."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return bytes(page.screenshot(path=str(ARTIFACTS / f"{name}.png")))


def png_levels(png: bytes) -> tuple[int, float]:
    """(distinct levels, variance) of a PNG: grey levels via Pillow when installed, else the
    byte values of the zlib-decompressed (still filtered) scanlines; a blank page gives a
    handful of distinct values and ~0 variance either way."""
    try:
        from PIL import Image, ImageStat
    except ImportError:
        return _png_levels_zlib(png)
    import io

    grey = Image.open(io.BytesIO(png)).convert("L")
    return len([c for c in grey.histogram() if c]), float(ImageStat.Stat(grey).var[0])


def _png_levels_zlib(png: bytes) -> tuple[int, float]:
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat = 8, b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"IDAT":
            idat += png[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    sample = raw[::97]
    mean = sum(sample) / len(sample)
    return len(set(raw)), sum((v - mean) ** 2 for v in sample) / len(sample)
