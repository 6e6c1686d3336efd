"""Helpers of the security suite: read a CSP header, and list what an HTML page would execute."""

import re
from dataclasses import dataclass
from html.parser import HTMLParser

# Attributes whose value a browser follows as a URL (where a javascript: URL would run).
# SVG animation attributes (values, to, from) can set an href to one as well.
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"}
URL_ATTRIBUTES |= {"values", "to", "from", "srcdoc"}
# Elements our pages never contain, whatever the user typed (the admin draws its icons with inline SVG,
# so <svg> itself is allowed; what could run inside it is caught by the attribute checks).
FORBIDDEN_TAGS = {"iframe", "object", "embed", "base", "frame", "frameset", "applet", "animate", "set", "xss"}
_SCHEME_NOISE = re.compile(r"[\x00-\x20\x7f]+")


def parse_csp(header: str) -> dict[str, list[str]]:
    """{"script-src": ["'self'", "'nonce-…'"], …} of a Content-Security-Policy header."""
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    text: str = ""


class PageScan(HTMLParser):
    """Every element of a page with its attributes, and the text of <script> and <style> elements."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._raw: Element | None = None

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs))
        self.elements.append(element)
        if tag in ("script", "style"):
            self._raw = element

    def handle_startendtag(self, tag, attrs):
        self.elements.append(Element(tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._raw = None

    def handle_data(self, data):
        if self._raw is not None:
            self._raw.text += data

    def tags(self, name: str) -> list[Element]:
        return [e for e in self.elements if e.tag == name]


def scan(html: str) -> PageScan:
    page = PageScan()
    page.feed(html)
    page.close()
    return page


def is_script_url(value: str | None) -> bool:
    """True for javascript:, vbscript: and data: URLs, however a browser would still read them."""
    cleaned = _SCHEME_NOISE.sub("", value or "").lower()
    return cleaned.startswith(("javascript:", "vbscript:", "data:text/html", "data:image/svg"))


def executable_problems(html: str, *, nonce: str | None) -> list[str]:
    """What in the page could run script that is not ours: an empty list for an inert page.

    Ours means: <script src="/…"> from our own origin, or a JSON data block (json_script); an inline
    script must carry the response's CSP nonce.
    """
    problems = []
    page = scan(html)
    for element in page.elements:
        if element.tag in FORBIDDEN_TAGS:
            problems.append(f"<{element.tag}> element")
        for name, value in element.attrs.items():
            if name.startswith("on"):
                problems.append(f"<{element.tag} {name}=…> event handler attribute")
            if name in URL_ATTRIBUTES and is_script_url(value):
                problems.append(f"<{element.tag} {name}={value!r}>")
            if name == "http-equiv" and (value or "").lower() == "refresh":
                problems.append("<meta http-equiv=refresh>")
        if element.tag == "script":
            kind = (element.attrs.get("type") or "").lower()
            src = element.attrs.get("src")
            if kind == "application/json":
                if src or element.text.count("<"):
                    problems.append(f"data block with markup: {element.text[:80]!r}")
            elif src is not None:
                if not src.startswith("/") or src.startswith("//"):
                    problems.append(f"script from another origin: {src}")
            elif nonce is None or element.attrs.get("nonce") != nonce:
                problems.append(f"inline script without the nonce: {element.text[:80]!r}")
    return problems
