"""extract_new_part(): pick the HTML or text path, attach signature facts, never raise, never return empty.

HTML goes first when given (its structure is the stronger signal); when the HTML path finds nothing and a
text alternative exists, the text path gets a chance. Unconfident results keep the full text, and the
HTML form folds the quoted history under a <details> marker instead of dropping it.
"""
from __future__ import annotations

import html as html_lib

from .html import html_to_text, sanitize_html, text_to_html
from .html_reply import split_html
from .model import NewPart
from .options import ParseOptions
from .signature import find_closing, find_signature, is_standard_signature, strip_signature_text
from .text_reply import split_text


def _fold(new_html: str, quoted: str) -> str:
    if not quoted.strip():
        return new_html
    return (new_html + "<details><summary>Quoted text</summary><pre>"
            + html_lib.escape(quoted) + "</pre></details>")


def _finish(text: str, html: str | None, method: str, confident: bool, quoted: str, forwarded: bool,
            options: ParseOptions, html_signature: str = "") -> NewPart:
    text = text.strip("\n")
    signature = find_signature(text) or ""
    remove = options.strip_signature or (options.strip_standard_signature and is_standard_signature(signature))
    if remove and signature:
        stripped = strip_signature_text(text, signature)
        if stripped.strip():
            text = stripped
            html = None  # rebuilt from the stripped text below
    if not signature and html_signature:
        signature = html_signature
    if not signature:
        signature = find_closing(text)  # reported, never removed: a closing belongs to the message
    if html is None or not html.strip():
        html = text_to_html(text)
    else:
        html = sanitize_html(html)
    if not confident:
        html = _fold(html, quoted)
    return NewPart(text=text, html=html, method=method, confident=confident, quoted_text=quoted,
                   signature=signature, forwarded=forwarded)


def extract_new_part(text: str | None, html: str | None, options: ParseOptions | None = None,
                     defects: list[str] | None = None) -> NewPart:
    """The new part of a reply (text and HTML). Never raises; falls back to the full body."""
    options = options or ParseOptions()
    sink: list[str] = defects if defects is not None else []
    try:
        if html and html.strip():
            hsplit = split_html(html, options, sink)
            if (hsplit.method == "none" or not hsplit.confident) and text and text.strip():
                tsplit = split_text(text, options, sink)
                if tsplit.confident and tsplit.method != "none":
                    return _finish(tsplit.new, None, tsplit.method, True, tsplit.quoted, tsplit.forwarded,
                                   options)
            return _finish(hsplit.text, hsplit.html, hsplit.method, hsplit.confident, hsplit.quoted,
                           hsplit.forwarded, options, hsplit.signature)
        if text and text.strip():
            tsplit = split_text(text, options, sink)
            return _finish(tsplit.new, None, tsplit.method, tsplit.confident, tsplit.quoted,
                           tsplit.forwarded, options)
        return NewPart(text="", html=None, method="none", confident=True)
    except Exception as exc:  # noqa: BLE001 - the extractor must never lose a mail
        sink.append(f"new-part extraction failed ({type(exc).__name__}): full body kept")
        body = text if text and text.strip() else html_to_text(html or "")
        return NewPart(text=body.strip(), html=text_to_html(body), method="error", confident=False)
