"""An image from mail, shown in the terminal where it stands in the text, or as a `[image: name WxH]` line.

textual-image draws it: Kitty's graphics protocol, Sixel, or Unicode half blocks (coloured ▀ cells, which
any terminal over SSH shows). `auto` takes what the terminal answered to terminal_probe.py before the app
started (the terminal cannot be asked once Textual owns it); textual-image is imported with this module,
without the probe its package would run. Bytes are decoded in a thread worker of the caller through
engine/images.preview (Pillow under the engine's pixel and frame budget, first frame, upright, at most MAX_BOX
pixels): a hostile or broken image becomes its placeholder line, never a crash. Names came from mail: through
safe_text, markup off.
"""
from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass

from PIL import Image as PILImage
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static
from textual.widget import Widget

from .. import terminal_probe
from ..engine import images
from .safe_text import clean

MODES = ("auto", "kitty", "sixel", "halfcell", "off")
MAX_BOX = (1024, 1024)  # pixels kept per image: a pane's width in Kitty/Sixel cells, 4 MB of RGBA at most


def _import_textual_image(terminal: terminal_probe.Terminal) -> dict[str, type[Widget]]:
    """textual-image's widgets by mode, told the terminal's answers. Its `renderable` package asks the terminal
    on import (0.1 s per unanswered question, answers read from stdin, which Textual owns by now): the package
    module is made here without running its __init__, its submodules (which ask nothing) import as usual, and
    the cell size goes into get_cell_size's cache. Leans on textual-image 0.12's layout (pinned in pyproject;
    tests/test_terminal_probe.py fails on a layout that no longer fits)."""
    import textual_image
    from textual_image import _terminal

    _terminal.get_cell_size._result = _terminal.CellSize(*terminal.cell)  # type: ignore[attr-defined]
    if "textual_image.renderable" not in sys.modules:
        spec = importlib.util.find_spec("textual_image.renderable")
        assert spec is not None and spec.loader is not None
        package = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = package
        textual_image.renderable = package  # type: ignore[attr-defined]
        from textual_image.renderable import halfcell, sixel, tgp, unicode

        package.Image = {"sixel": sixel.Image, "kitty": tgp.Image, "halfcell": halfcell.Image,  # type: ignore
                         "unicode": unicode.Image}[terminal.drawing]
    from textual_image import widget

    return {"auto": widget.Image, "kitty": widget.TGPImage, "sixel": widget.SixelImage,
            "halfcell": widget.HalfcellImage}


_WIDGETS = _import_textual_image(terminal_probe.answers())


@dataclass(frozen=True)
class ShownImage:
    """What a viewer needs of one image: its safe name, original size, and the decoded copy (None: unreadable)."""

    name: str
    width: int = 0
    height: int = 0
    picture: PILImage.Image | None = None


def load_image(name: str, data: bytes, box: tuple[int, int] = MAX_BOX) -> ShownImage:
    """Decode for display; call it in a thread worker (Pillow work can take a while on big images)."""
    found = images.preview(data, box)
    if found is None:
        return ShownImage(name)
    info, picture = found
    return ShownImage(name, info.width, info.height, picture)


def placeholder(shown: ShownImage) -> Text:
    """`[image: name WxH]`, or `[image: name (not readable)]`."""
    size = f"{shown.width}x{shown.height}" if shown.width else "(not readable)"
    return Text(f"[image: {clean(shown.name, limit=120)} {size}]", style="dim italic")


class InlineImage(Vertical):
    """One image and its caption. The picture is never wider than the pane nor taller than `max_rows` (None:
    the screen's height), and never drawn bigger than its own pixels on the terminal's cells."""

    DEFAULT_CSS = """
    InlineImage { height: auto; margin: 0 0 1 0; }
    InlineImage > .inline-picture { width: auto; height: auto; max-width: 100%; max-height: 20; }
    InlineImage > .inline-caption { height: 1; }
    """

    def __init__(self, shown: ShownImage, mode: str = "auto", max_rows: int | None = 20, **kwargs) -> None:
        super().__init__(**kwargs)
        self.shown = shown
        self.mode = mode if mode in MODES else "auto"
        self.max_rows = max_rows
        self._fitted: tuple[int, int] | None = None

    def on_resize(self) -> None:
        self._fit()

    def on_mount(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """Width in cells: natural size, capped by the pane's width and by the rows allowed (aspect kept)."""
        pictures = self.query(".inline-picture")
        picture = self.shown.picture
        if not pictures or picture is None or not self.size.width:
            return
        cell_width, cell_height = terminal_probe.answers().cell
        rows = self.max_rows or max(self.screen.size.height - 4, 4)
        natural = -(-picture.width // cell_width)
        by_rows = int(rows * cell_height * picture.width / max(picture.height, 1) / cell_width)
        width = max(1, min(natural, self.size.width, by_rows))
        height = max(1, min(rows, round(width * cell_width * picture.height / max(picture.width, 1) / cell_height)))
        if self._fitted != (width, height):  # explicit cells: no guess by the image widget, no layout loop
            self._fitted = (width, height)
            styles = pictures.first().styles
            styles.max_height, styles.max_width = None, None
            styles.width, styles.height = width, height

    def compose(self) -> ComposeResult:
        if self.mode == "off" or self.shown.picture is None:
            yield Static(placeholder(self.shown), classes="inline-caption", markup=False)
            return
        yield _WIDGETS[self.mode](self.shown.picture, classes="inline-picture")
        yield Static(placeholder(self.shown), classes="inline-caption", markup=False)
