"""The words of a chat or SMS message, taken from a delivery's rendered template.

Chat and SMS use the template's ``short_body`` and fall back to its
``text_body`` (then to its subject); the subject becomes a title where the
service has one, and ``action_url`` a link or button. HTML for services that
show it (Matrix) is the template's ``html_body`` or, failing that, the text
read as Markdown — sanitised either way with nh3 to the tags chat clients
render, so a template can never smuggle a script or a tracking pixel into a room.
"""

from __future__ import annotations

from dataclasses import dataclass

import markdown
import nh3

from notifications.providers.base import PermanentError

# What Matrix clients render (the spec's recommended subset, minus images, which would
# make every client fetch an arbitrary URL).
_HTML_TAGS = {"a", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
              "h6", "hr", "i", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup",
              "table", "tbody", "td", "th", "thead", "tr", "u", "ul"}
_HTML_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}, "code": {"class"}}
_URL_SCHEMES = {"http", "https", "mailto"}


@dataclass(frozen=True)
class ChatMessage:
    """One message's parts: ``text`` is always there; the others may be empty."""

    text: str
    title: str = ""
    html: str = ""
    action_url: str = ""


def chat_message(rendered: dict[str, str], *, channel: str) -> ChatMessage:
    """Build the message from a delivery's ``rendered`` fields; raise ``PermanentError``
    when the template gives nothing to say."""
    title = " ".join((rendered.get("subject") or "").split())
    text = (rendered.get("short_body") or rendered.get("text_body") or "").strip()
    if not text:
        text, title = title, ""
    if not text:
        raise PermanentError(f"The {channel} template has no short body, text body or subject.")
    action_url = (rendered.get("action_url") or "").strip()
    if not action_url.lower().startswith(("http://", "https://")):
        action_url = ""  # a relative or javascript: link would be broken or worse in a chat
    html = sanitise_html(rendered.get("html_body") or markdown_to_html(text))
    return ChatMessage(text=text, title=title, html=html, action_url=action_url)


def sanitise_html(html: str) -> str:
    """Keep only the tags and attributes chat clients render; links get rel=noopener."""
    return nh3.clean(html, tags=_HTML_TAGS, attributes=_HTML_ATTRIBUTES,
                     url_schemes=_URL_SCHEMES, link_rel="noopener noreferrer").strip()


def markdown_to_html(text: str) -> str:
    # Raw HTML in the text is escaped rather than passed through; nh3 cleans the rest.
    converter = markdown.Markdown(extensions=["fenced_code", "nl2br", "sane_lists"])
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    return converter.convert(text)


def plain_with_title(message: ChatMessage) -> str:
    """Title and text as one plain block (for services without a title of their own)."""
    return f"{message.title}\n\n{message.text}" if message.title else message.text


def truncate(text: str, limit: int, *, marker: str = "…") -> str:
    """Cut ``text`` to at most ``limit`` characters, marking the cut."""
    return text if len(text) <= limit else text[:limit - len(marker)].rstrip() + marker
