"""Model-server URLs: joining endpoint paths, and keeping credentials out of messages.

A base URL may carry credentials: userinfo (`http://user:pw@host/v1`) or query values
(`?key=…`, `?api-key=…`, a signed `sig=…`). Every message that names the URL shows
`redacted_url(url)`, and `url_secrets(url)` lists the values to scrub from any other text
(an httpx error that echoes the URL). Every query value counts as a secret: it is the
simplest rule that cannot miss a provider's own parameter name.
"""

from __future__ import annotations

from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlsplit, urlunsplit

REDACTED = "[redacted]"
_MIN_SCRUB = 4  # shorter values are redacted inside the URL but not hunted for elsewhere


def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:
        return None


def endpoint(base: str, path: str) -> str:
    """`base` + `/path`, the path placed before any query (`…/v1?key=k` + `models` gives
    `…/v1/models?key=k`)."""
    parts = _split(base)
    if parts is None or not (parts.query or parts.fragment):
        return f"{base.rstrip('/')}/{path}"
    joined = f"{parts.path.rstrip('/')}/{path}"
    return urlunsplit((parts.scheme, parts.netloc, joined, parts.query, ""))


def without_v1(base: str) -> str:
    """The server's root: `base` without a trailing `/v1` path (the query kept)."""
    parts = _split(base)
    if parts is None:
        return base
    path = parts.path.rstrip("/")
    path = path[:-3] if path.endswith("/v1") else path
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def redacted_url(url: str) -> str:
    """The URL with its userinfo and every query value replaced by `[redacted]`."""
    parts = _split(url)
    if parts is None:
        return REDACTED if "@" in url or "?" in url else url
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pieces = [p.split("=", 1)[0] + "=" + REDACTED if "=" in p else p for p in query.split("&")]
        query = "&".join(pieces)
    fragment = REDACTED if parts.fragment else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def url_secrets(url: str) -> list[str]:
    """The credential values a URL carries (userinfo, query values), each also as sent
    (percent-encoded) and decoded, longest first."""
    parts = _split(url)
    if parts is None:
        return []
    raw: list[str] = []
    if "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        raw += [userinfo, *userinfo.split(":", 1)]
    if parts.query:
        raw += [p.split("=", 1)[1] for p in parts.query.split("&") if "=" in p]
        raw += [v for _k, v in parse_qsl(parts.query, keep_blank_values=True)]
    if parts.fragment:
        raw.append(parts.fragment)
    forms = {f for v in raw for f in (v, unquote(v), quote(unquote(v), safe=""))}
    return sorted((f for f in forms if len(f) >= _MIN_SCRUB), key=lambda s: (-len(s), s))


def scrub_url(text: str, url: str) -> str:
    """`text` with `url` shown redacted and its credential values removed wherever else
    they appear."""
    safe = redacted_url(url)
    if safe == url:
        return text
    for form in sorted({url, url.rstrip("/")}, key=len, reverse=True):
        text = text.replace(form, safe)
    for secret in url_secrets(url):
        text = text.replace(secret, REDACTED)
    return text
