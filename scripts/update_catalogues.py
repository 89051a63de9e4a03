"""Regenerate the message catalogues: every message id the program can show (command and
option help, ``_()`` strings in the package, click's own words) into
``src/gbv_risk/locale/messages.pot``, and each ``<lang>.po`` updated from it (translations
kept, new ids added empty, vanished ids marked obsolete).

    python scripts/update_catalogues.py
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from gbv_risk.cli.catalogue import message_ids
from gbv_risk.messages import CATALOGUES

TRANSLATED = ("ru", "uz", "kaa")


def main() -> None:
    template = Catalog(project="gbv-risk", charset="utf-8")
    for msgid, where in message_ids().items():
        template.add(msgid, locations=[(where, 0)])
    CATALOGUES.mkdir(exist_ok=True)
    with (CATALOGUES / "messages.pot").open("wb") as fh:
        write_po(fh, template, width=100, omit_header=False)
    for lang in TRANSLATED:
        path = CATALOGUES / f"{lang}.po"
        if path.is_file():
            with path.open("rb") as fh:
                cat = read_po(fh, locale=lang if lang != "kaa" else None)
        else:
            cat = Catalog(locale=lang if lang != "kaa" else None, project="gbv-risk")
        cat.update(template, no_fuzzy_matching=True)
        with path.open("wb") as fh:
            write_po(fh, cat, width=100, ignore_obsolete=True)
        missing = sum(1 for m in cat if m.id and not m.string)
        print(f"{path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}: "
              f"{len(cat) - 1} messages, {missing} untranslated")


if __name__ == "__main__":
    main()
