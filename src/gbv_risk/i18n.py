"""Text in several languages. Every user-facing string in data files is a mapping of language
code to text; English is the fallback because every file must carry it."""

from __future__ import annotations

from pydantic import RootModel, model_validator

from .languages import LANGUAGES, REQUIRED_LANGUAGES
from .messages import _

__all__ = ["LANGUAGES", "REQUIRED_LANGUAGES", "Text"]


class Text(RootModel[dict[str, str]]):
    @model_validator(mode="after")
    def _languages(self):
        unknown = sorted(set(self.root) - set(LANGUAGES))
        if unknown:
            raise ValueError(_("unknown language code(s) {codes}; use {languages}").format(
                codes=unknown, languages=list(LANGUAGES)))
        missing = [lang for lang in REQUIRED_LANGUAGES if not (self.root.get(lang) or "").strip()]
        if missing:
            raise ValueError(_("text is missing in {missing} (required: {required})").format(
                missing=missing, required=list(REQUIRED_LANGUAGES)))
        return self

    def get(self, lang: str = "en") -> str:
        return self.root.get(lang) or self.root["en"]
