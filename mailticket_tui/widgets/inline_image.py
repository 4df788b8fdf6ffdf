"""An image from mail, shown in the terminal where it stands in the text, or as a `[image: name WxH]` line.

textual-image draws it: Kitty's graphics protocol, Sixel, or Unicode half blocks (coloured ▀ cells, which
any terminal over SSH shows). `auto` takes what the terminal answered when textual-image was imported,
which happens with this module, before the app starts (the terminal cannot be queried once Textual owns
it). Bytes are decoded in a thread worker of the caller through engine/images.preview (Pillow under the
engine's pixel and frame budget, first frame, upright, at most MAX_BOX pixels): a hostile or broken image
becomes its placeholder line, never a crash. Names came from mail: through safe_text, markup off.
"""
from __future__ import annotations

from dataclasses import dataclass

from PIL import Image as PILImage
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static
from textual_image.widget import HalfcellImage, SixelImage, TGPImage, get_cell_size
from textual_image.widget import Image as AutoImage

from ..engine import images
from .safe_text import clean

MODES = ("auto", "kitty", "sixel", "halfcell", "off")
MAX_BOX = (1024, 1024)  # pixels kept per image: a pane's width in Kitty/Sixel cells, 4 MB of RGBA at most
_WIDGETS = {"auto": AutoImage, "kitty": TGPImage, "sixel": SixelImage, "halfcell": HalfcellImage}


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
        cell = get_cell_size()
        rows = self.max_rows or max(self.screen.size.height - 4, 4)
        natural = -(-picture.width // cell.width)
        by_rows = int(rows * cell.height * picture.width / max(picture.height, 1) / cell.width)
        width = max(1, min(natural, self.size.width, by_rows))
        height = max(1, min(rows, round(width * cell.width * picture.height / max(picture.width, 1) / cell.height)))
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
