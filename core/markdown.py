import markdown as markdown_lib
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "span", "strong", "sub", "sup", "table", "tbody", "td", "th",
    "thead", "tr", "ul",
}  # fmt: skip


def render_markdown(text: str) -> SafeString:
    """Markdown to HTML, then sanitised with nh3: no script, no event handlers, no raw HTML injection."""
    html = markdown_lib.markdown(text, extensions=["fenced_code", "tables"], output_format="html")
    cleaned = nh3.clean(
        html, tags=ALLOWED_TAGS, url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer"
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitised by nh3 just above  # nosec B308 B703
