"""Plans people print and sign: ``gbv-risk plan CASE --format html`` is an A4 page, and
``--format pdf`` is the same page as PDF. The team's copy carries the level, reasons and flags;
the subject's copy is handed to the perpetrator and carries none of them, nor anything the
victim said or any step for her safety. Every language prints without an empty box where a
letter should be, and a long plan breaks across pages without losing the table's header or
cutting a row in two."""

from __future__ import annotations

import datetime as dt
import html
import re
import sys

import pytest
from conftest import EXAMPLES, invoke
from sqlalchemy import func, select
from test_plan_privacy import forbidden

from gbv_risk import load_assessment, load_ruleset, resources, score
from gbv_risk.render.pdf import case_plan_pdf, html_to_pdf
from gbv_risk.render.plans import CaseHeader, css_string, render_case_plan, strings
from gbv_risk.store import records as R
from gbv_risk.store.caseplan import DatedStep, build_case_plan
from gbv_risk.store.migrate import upgrade
from gbv_risk.store.models import PlanRecord
from gbv_risk.store.uow import unit_of_work
from gbv_risk.yamlio import load_data

DAY = dt.timedelta(days=1)
EXAMPLE = EXAMPLES / "high_risk.yaml"
A_DATE = load_assessment(EXAMPLE).date
AS_OF = A_DATE + 10 * DAY
CODE = "KG-DOC-1"
MAHALLA = "Ǵárezsizlik"          # a Karakalpak letter from the record itself, in every language
OFFICER = "insp-kegeyli-3"
LANGS = ("en", "ru", "uz", "kaa")
NO_GLYPH = "Qaraqum \u0378"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    return filled(f"sqlite:///{tmp_path_factory.mktemp('documents') / 'store.sqlite'}")


def filled(url: str) -> str:
    """One case assessed with the high-risk example, under a protection order, on the
    individual correction plan with a failed session: a plan with victim-safety steps,
    compliance steps and referrals."""
    upgrade(url)
    a = load_assessment(EXAMPLE)
    responses = dict(load_data(EXAMPLE)[0]["responses"])
    with unit_of_work(url) as s:
        R.add_case(s, CODE, "S-KG-DOC-1", "Kegeyli", MAHALLA, OFFICER, a.date - 30 * DAY)
        R.add_assessment(s, CODE, a, score(a), responses)
        R.add_order(s, CODE, a.date, OFFICER)
        eid = R.enroll(s, CODE, "individual_correction_plan", "Kegeyli rehabilitation centre",
                       a.date + 2 * DAY).id
        # a mahalla with a character no font can have (U+0378 is unassigned), to see the
        # warning whatever fonts the machine has
        R.add_case(s, "KG-DOC-2", "S-KG-DOC-2", "Kegeyli", NO_GLYPH, OFFICER, a.date - 30 * DAY)
        R.add_assessment(s, "KG-DOC-2", a, score(a), responses)
    with unit_of_work(url) as s:
        R.record_session(s, eid, a.date + 2 * DAY, "attended_failed_to_comply")
    return url


def ok(out) -> str:
    assert out.returncode == 0, f"exit {out.returncode}: {out.stderr}"
    return out.stdout


def case_plan(url: str, audience: str, lang: str = "en"):
    with unit_of_work(url) as s:
        return build_case_plan(s, CODE, AS_OF, audience, lang)


def text_of(page: str) -> str:
    """What a reader sees: tags gone, entities decoded, whitespace collapsed."""
    body = page.split("<body>", 1)[1]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def pdf_pages(path) -> list[str]:
    """The text of each page, as a reader of the PDF gets it (through the fonts' own
    character maps: a letter drawn without one would not come out)."""
    from pypdf import PdfReader

    pages = [page.extract_text() for page in PdfReader(path).pages]
    return [" ".join(p.split()) for p in pages if p.strip()]


def subject_markers(url: str, lang: str) -> list[str]:
    """Nothing of these may be in his copy: the privacy markers of test_plan_privacy, every
    rationale (his copy gives no reasons at all), the level, compliance reasons, why a team
    step is there, and the headings that would introduce any of them."""
    rs = load_ruleset("ipv_core")
    a = load_assessment(EXAMPLE)
    result = score(a, rs)
    team = case_plan(url, "team", lang)
    t = strings(lang)
    words = forbidden(rs, result, a)
    words += [f.rationale for f in result.fired]
    words += [team.plan.level_label, *team.compliance_reasons]
    words += [x.what for x in team.steps if x.team_only]
    words += [x.because for x in team.steps if x.because.startswith("rule ")]
    words += [t[k] for k in ("safety", "team_only", "team_copy_short", "reassess_on")]
    words.append(f"{t['compliance']}:")
    return [w for w in words if w]


def team_headings(lang: str) -> list[str]:
    t = strings(lang)
    return [str(html.escape(t[k], quote=False)) for k in ("reasons", "flags", "because", "level")]


# --- the page to print ------------------------------------------------------------------------

@pytest.mark.parametrize("audience", ["team", "subject"])
def test_print_page_has_the_case_header_every_step_and_signature_lines(store, audience):
    page = ok(invoke(store, "plan", CODE, "--as-of", AS_OF.isoformat(), "--format", "html",
                     "--audience", audience))
    want = case_plan(store, audience)
    t = strings("en")
    seen = text_of(page)

    # A4, page numbers "X of Y" and the case code on every page
    assert re.search(r"@page\s*{[^}]*size:\s*A4", page)
    assert "counter(page)" in page and "counter(pages)" in page
    assert str(css_string(f"{t['case']} {CODE}")) in page
    assert "DejaVu Sans" in page

    # the case header: code, district / mahalla, officer, dates, version
    for label, value in ((t["case"], CODE), (t["district_mahalla"], f"Kegeyli / {MAHALLA}"),
                         (t["officer"], OFFICER), (t["plan_date"], AS_OF.isoformat()),
                         (t["date"], A_DATE.isoformat()),
                         (t["plan_version"], t["version_draft"])):
        assert f"{label} {value}" in seen, (label, value)

    # every step in one row of a table whose header repeats on each printed page
    assert re.search(r"<table class=\"steps\">\s*<colgroup>.*?</colgroup>\s*<thead>", page, re.S)
    assert "break-inside: avoid" in page
    rows = re.findall(r"<tr><td>(\d{4}-\d{2}-\d{2})</td><td>(.*?)</td><td>(.*?)</td>", page)
    assert [(d, html.unescape(w), html.unescape(a)) for d, w, a in rows] == [
        (x.due.isoformat(), x.what, x.agency) for x in want.steps]
    assert len(want.steps) >= 5
    # who is responsible: the officer where the step is his, a line to fill in elsewhere
    blanks = page.count('<span class="blank"></span>')
    assert blanks == sum(x.agency != OFFICER for x in want.steps) > 0

    # signature lines at the end: officer (named), psychologist, and on his copy himself
    closing = seen.split(t["signatures"])[-1]
    assert f"{t['signature_officer']} {OFFICER}" in closing
    assert t["signature_psychologist"] in closing
    assert closing.count(t["sig_signature"]) == (2 if audience == "team" else 3)
    assert closing.count(t["sig_date"]) == closing.count(t["sig_signature"])
    # he signs only the copy handed to him; the team's copy never reaches him
    assert (t["subject_ack"] in closing) == (audience == "subject")
    assert (t["signature_person"] in closing) == (audience == "subject")

    if audience == "team":
        assert f"{t['level']}: {want.plan.level_label}" in seen
        for r in want.plan.reasons:
            assert r.label in seen
        for f in want.plan.flags:
            assert f.label in seen
        assert t["because"] in seen and str(css_string(t["team_copy_short"])) in page


def test_a_saved_plan_prints_its_version(tmp_path):
    url = filled(f"sqlite:///{tmp_path / 'store.sqlite'}")
    t = strings("en")
    out = invoke(url, "plan", CODE, "--as-of", AS_OF.isoformat(), "--format", "html",
                 "--audience", "subject", "--save")
    assert "saved plan version 1 (initial)" in out.stderr
    assert f"{t['plan_version']} 1 ({t['kind_initial']})" in text_of(ok(out))
    later = ok(invoke(url, "plan", CODE, "--as-of", AS_OF.isoformat(), "--format", "html"))
    assert t["version_draft_after"].replace("{version}", "1") in text_of(later)


@pytest.mark.parametrize("lang", LANGS)
def test_subject_copy_shows_no_reasons_flags_safety_steps_or_victim_text(store, lang):
    page = ok(invoke(store, "plan", CODE, "--as-of", AS_OF.isoformat(), "--format", "html",
                     "--audience", "subject", "--lang", lang))
    seen = html.unescape(page)
    for word in subject_markers(store, lang):
        assert word not in seen, f"{word!r} is in his copy ({lang})"
    for heading in team_headings(lang):
        assert not re.search(rf"<(h2|th)>{re.escape(heading)}", page), heading
    assert strings(lang)["subject_ack"] in text_of(page)


def test_an_injected_case_code_cannot_leave_the_page_header(store):
    cp = case_plan(store, "team").model_copy(update={"case": '"}</style><script>x()</script>'})
    page = render_case_plan(cp, "html", CaseHeader())
    assert "<script>" not in page
    style = page.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "<" not in style and "@top-left" in style
    assert str(css_string(f"Case {cp.case}")) in style


# --- the PDF ------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_pdf_is_a_valid_pdf_with_every_letter_of_the_language(store, tmp_path, lang):
    target = tmp_path / f"plan-{lang}.pdf"
    out = invoke(store, "plan", CODE, "--as-of", AS_OF.isoformat(), "--format", "pdf",
                 "--lang", lang, "--audience", "subject", "-o", str(target))
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and "warning" not in out.stderr
    data = target.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    text = " ".join(pdf_pages(target))
    t = strings(lang)
    assert CODE in text and MAHALLA in text
    assert t["subject_ack"] in text and t["who_what_when"] in text
    if lang == "ru":
        assert "Подпись" in text and re.search(r"[А-Яа-яЁё]{4,}", text)
    if lang == "kaa":
        assert "ǵ" in text and "ń" in text and "Qolı" in text
    if lang == "uz":
        assert "oʻ" in text
    # no letter fell back to an empty box: the command warns when one does (see below)


def test_long_plan_breaks_across_pages_with_the_header_repeated_and_rows_whole(store, tmp_path):
    """Text comes out of a PDF line by line across the columns, so each added row carries
    marks in two columns (its own due date, and the start and end of its longest cell): a
    row cut in two would leave them on different pages."""
    cp = case_plan(store, "team", "ru")
    extra = [DatedStep(what=f"Контрольный визит №{i:02d} к инспектору профилактики махалли "
                            f"с отметкой в журнале посещений (визит {i:02d})",
                       agency="Инспектор профилактики", due=dt.date(2030, 1, i),
                       because=f"rule follow_up_visit_{i:02d}") for i in range(1, 31)]
    cp = cp.model_copy(update={"steps": [*cp.steps, *extra]})
    pdf = case_plan_pdf(cp, CaseHeader(district="Kegeyli", mahalla=MAHALLA, officer=OFFICER))
    assert pdf.missing == [] and pdf.pages >= 3
    target = tmp_path / "long.pdf"
    target.write_bytes(pdf.data)
    pages = pdf_pages(target)
    assert len(pages) == pdf.pages
    t = strings("ru")
    starts = [f"№{i:02d}" for i in range(1, 31)]
    ends = [f"(визит {i:02d})" for i in range(1, 31)]
    dues = [dt.date(2030, 1, i).isoformat() for i in range(1, 31)]
    for first, last, due in zip(starts, ends, dues, strict=True):   # every row on one page
        on = [i for i, p in enumerate(pages) if first in p]
        assert len(on) == 1 and last in pages[on[0]] and due in pages[on[0]], (first, on)
    with_rows = sorted({i for i, p in enumerate(pages) for m in starts if m in p})
    assert len(with_rows) >= 2, "the step table spans two pages or more"
    for i in with_rows:     # the table's header opens every page it is on
        first_row = min(pages[i].index(m) for m in starts if m in pages[i])
        for label in (t["due"], t["step"], t["agency"], t["because"]):
            assert label in pages[i][:first_row], f"page {i + 1}: no {label!r} above the rows"
    for i, p in enumerate(pages, 1):
        assert f"{t['case']} {CODE}" in p
        assert t["page_of"].replace("{page}", str(i)).replace("{pages}", str(len(pages))) in p
    assert t["signature_psychologist"] in pages[-1]


def test_pdf_names_letters_that_would_print_as_boxes(store, tmp_path):
    assert html_to_pdf(f'<html lang="en"><body><p>{NO_GLYPH}</p></body></html>').missing == [
        "\u0378"]
    target = tmp_path / "boxes.pdf"
    out = invoke(store, "plan", "KG-DOC-2", "--as-of", AS_OF.isoformat(), "--format", "pdf",
                 "-o", str(target))
    assert out.returncode == 0, out.stderr
    assert "warning" in out.stderr and "U+0378" in out.stderr and target.is_file()


# --- refusals -----------------------------------------------------------------------------------

def test_pdf_goes_only_to_a_file(store, tmp_path):
    no_file = invoke(store, "plan", CODE, "--as-of", AS_OF.isoformat(), "--format", "pdf")
    assert no_file.returncode == 2 and "--output" in no_file.stderr
    assert no_file.stdout == ""
    folder = invoke(store, "plan", CODE, "--as-of", AS_OF.isoformat(), "--format", "pdf",
                    "-o", str(tmp_path))
    assert folder.returncode == 3 and "not a regular file" in folder.stderr
    assessment = invoke(store, "plan", "--assessment", str(EXAMPLE), "--format", "pdf",
                        "-o", str(tmp_path / "a.pdf"))
    assert assessment.returncode == 2 and "--format html" in assessment.stderr
    assert list(tmp_path.iterdir()) == []


def test_without_weasyprint_the_command_says_how_to_install_it(store, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "weasyprint", None)     # import weasyprint fails
    target = tmp_path / "plan.pdf"
    out = invoke(store, "plan", CODE, "--as-of", AS_OF.isoformat(), "--format", "pdf",
                 "-o", str(target), "--save")
    assert out.returncode == 3, out.stderr
    assert "pip install weasyprint" in out.stderr and "--format html" in out.stderr
    assert "Traceback" not in out.stderr and not target.exists()
    with unit_of_work(store) as s:      # no stored version without the paper asked for
        assert s.scalar(select(func.count()).select_from(PlanRecord)) == 0


def test_printing_fetches_nothing_from_the_network():
    from gbv_risk.render.pdf import _fetcher

    fetch = _fetcher((resources.templates_dir().resolve(),))
    for url in ("https://example.org/logo.png", "file:///etc/passwd", "ftp://example.org/x"):
        with pytest.raises(ValueError):
            fetch.fetch(url)
    page = '<html><body><img src="https://example.org/p.png"><p>NK</p></body></html>'
    assert html_to_pdf(page).data.startswith(b"%PDF-")
