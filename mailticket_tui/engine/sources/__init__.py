"""Mail sources: IMAP, POP3 and Maildir behind one MailSource protocol (see base.py)."""

from .base import FolderState, MailSource, RemoteMessage, SourceConfig, SourceError

__all__ = ["FolderState", "MailSource", "RemoteMessage", "SourceConfig", "SourceError", "open_source"]


def open_source(config: SourceConfig) -> MailSource:
    """Build the source for a protocol; the caller enters it as a context manager to connect."""
    if config.protocol == "imap":
        from .imap import ImapSource

        return ImapSource(config)
    if config.protocol == "pop3":
        from .pop3 import Pop3Source

        return Pop3Source(config)
    if config.protocol == "maildir":
        from .maildir import MaildirSource

        return MaildirSource(config)
    raise SourceError("protocol", f"unknown protocol {config.protocol!r}: use imap, pop3 or maildir")
