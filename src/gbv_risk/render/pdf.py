"""PDF of a case plan, drawn by WeasyPrint from the very page ``--format html`` gives, so the
paper signed in the mahalla and the page on screen cannot drift apart.

WeasyPrint needs the Pango library at run time, which a Windows laptop or a slim server may
lack; it is imported only when a PDF is asked for, and its absence is a clear message, never
a traceback. Fonts are embedded (subsets) in the PDF; DejaVu Sans is preferred because it has
every Cyrillic letter and every letter of Uzbek and Karakalpak Latin (ǵ, ń, ú, ı, oʻ). A
letter that no installed font has would print as an empty box, so the characters that fell
back to a box are reported instead of being found on paper.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .. import resources
from ..errors import InputFileError
from ..messages import N_, _
from .plans import CaseHeader, render_case_plan

INSTALL_HINT = N_("PDF output needs WeasyPrint and the Pango library: `pip install weasyprint` "
                  "in gbv-risk's environment, and on Debian/Ubuntu `apt-get install "
                  "libpango-1.0-0 libpangoft2-1.0-0` (Windows and macOS: see "
                  "https://doc.courtbouillon.org/weasyprint/stable/first_steps.html). "
                  "Meanwhile `--format html` gives the same page to print from a browser")

# Where DejaVu Sans is found on the systems the teams use; fontconfig finds it too when it is
# configured, these make the PDF the same where it is not.
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu",
             "/usr/share/fonts/TTF", "/usr/local/share/fonts", "/Library/Fonts",
             "~/.local/share/fonts", "~/Library/Fonts", "C:/Windows/Fonts")
_FACES = (("DejaVuSans.ttf", "normal", "normal"), ("DejaVuSans-Bold.ttf", "bold", "normal"),
          ("DejaVuSans-Oblique.ttf", "normal", "italic"),
          ("DejaVuSans-BoldOblique.ttf", "bold", "italic"))


class PdfUnavailable(InputFileError):
    """No PDF engine here (exit 3, like any other input the command cannot read): the remedy
    is an installation, told in the message; the HTML page still works."""


@dataclass
class Pdf:
    data: bytes
    pages: int
    missing: list[str] = field(default_factory=list)   # characters printed as empty boxes


def require_engine() -> None:
    """Checked before anything is saved, so that a missing engine never leaves a stored plan
    version without the paper that was asked for."""
    _weasyprint()


def _weasyprint():
    try:
        import weasyprint
    except (ImportError, OSError) as exc:     # OSError: the package is there, Pango is not
        raise PdfUnavailable(f"{_(INSTALL_HINT)} ({type(exc).__name__}: {exc})") from None
    return weasyprint


def _font_faces() -> str:
    for d in FONT_DIRS:
        folder = Path(os.path.expanduser(d))
        if (folder / _FACES[0][0]).is_file():
            return "\n".join(
                f'@font-face {{ font-family: "DejaVu Sans"; src: url("{(folder / name).as_uri()}");'
                f" font-weight: {weight}; font-style: {style}; }}"
                for name, weight, style in _FACES if (folder / name).is_file())
    return ""


def _fetcher(allowed: tuple[Path, ...]):
    """Only local template and font files and inline data are read. A plan is confidential:
    printing it must not call out to any server an adapted template might name."""
    from urllib.parse import unquote, urlparse

    from weasyprint.urls import URLFetcher

    class LocalOnly(URLFetcher):
        def fetch(self, url, headers=None):
            if not url.startswith("data:"):
                path = Path(unquote(urlparse(url).path)).resolve()
                if not (url.startswith("file:") and any(path.is_relative_to(a) for a in allowed)):
                    raise ValueError(_("gbv-risk does not fetch {url} for a plan").format(
                        url=repr(url)))
            return super().fetch(url, headers)

    return LocalOnly(allowed_protocols=("file", "data"))


def html_to_pdf(html: str) -> Pdf:
    wp = _weasyprint()
    from weasyprint.text.fonts import FontConfiguration

    base = resources.templates_dir() / "plans"
    faces = _font_faces()
    fonts = FontConfiguration()
    allowed = (base.resolve(), *(Path(os.path.expanduser(d)).resolve() for d in FONT_DIRS))
    fetcher = _fetcher(allowed)
    css = [wp.CSS(string=faces, font_config=fonts, url_fetcher=fetcher)] if faces else []
    doc = wp.HTML(string=html, base_url=str(base) + os.sep, url_fetcher=fetcher).render(
        stylesheets=css, font_config=fonts)
    data = doc.write_pdf()
    missing = sorted({chr(cp) for font in getattr(doc, "fonts", {}).values()
                      for cp in getattr(font, "missing", {})})
    return Pdf(data=data, pages=len(doc.pages), missing=missing)


def case_plan_pdf(cp, header: CaseHeader | None = None) -> Pdf:
    return html_to_pdf(render_case_plan(cp, "html", header))
