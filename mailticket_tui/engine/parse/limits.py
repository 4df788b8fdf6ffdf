"""Hard limits that keep one hostile message from stalling or exhausting the engine.

Each limit, when hit, turns into a defect string on the ParsedMail (never an exception); the part of the
message read so far is still used. Figures follow Dovecot's (depth 100, 10 000 parts) but are tighter where
the Python cost is super-linear (encoded words, nested HTML lists).
"""
from __future__ import annotations

MAX_DEPTH = 50  # nested multipart / message/rfc822 levels
MAX_PARTS = 5000  # leaf + container parts per message
MAX_HEADER_BLOCK = 1_000_000  # bytes of one header block; the rest is dropped
MAX_HEADER_VALUE = 65_536  # characters of one header's value
MAX_HEADER_LINES = 5_000  # header fields per block
MAX_ENCODED_WORDS = 500  # RFC 2047 words decoded per header; the rest stays literal
MAX_ADDRESSES = 1_000  # addresses read from one address header
MAX_HTML_INPUT = 5_000_000  # characters of HTML converted to text
# Tags plus character references an HTML body may hold for the full pipeline (element tree, html2text, nh3):
# each costs ~10-30 us of Python per pass, so a body above it is read by the linear tag stripper instead
# (html.plain_text_of) and kept as escaped text. The corpus' richest HTML body has 734; a 20-message Outlook
# thread a few thousand.
MAX_HTML_MARKUP = 20_000
MAX_HTML_RICH = 2_000_000  # characters of HTML the full pipeline reads (html2text's passes cost ~0.3 us/char)
MAX_HTML_NESTING = 200  # list/blockquote nesting kept by html_to_text
MAX_REPLY_INPUT = 1_000_000  # characters scanned by the reply extractor
MAX_INLINE_QUOTES = 200  # quote containers of one HTML body answered inline; the next one ends the new part
MAX_LINE_SCAN = 10_000  # lines the text reply extractor classifies (a cut further down keeps the whole text)
REGEX_TIMEOUT = 0.25  # seconds per user-configured pattern per message; the only one (safe_regex.search)
MAX_FILENAME = 180  # characters kept of an attachment name (extension preserved)
