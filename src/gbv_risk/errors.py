"""Domain errors. The CLI turns these into one clear message and an exit code; anything else
escaping to the CLI is a bug in gbv-risk, not a user mistake.

Exit codes (documented in the README):
  1  unexpected internal error
  2  command-line usage (click's own)
  3  input file could not be read or parsed (YAML/JSON syntax, unsafe tags)
  4  assessment invalid against its instrument (unknown item, wrong type, out of range,
     missing required item, unknown instrument or version)
  5  rule set or instrument definition invalid
  6  rule set embedded tests failed
  7  rule engine failure (an action raised, the engine refused a fact)
  8  not found (rule set, instrument, example)
  9  a record was refused (unknown case or enrolment, duplicate, date out of order,
     database not initialised); the database is left exactly as it was
  10 key material missing or wrong (no key file, unreadable or damaged key file, a ciphertext
     under a key the file does not hold, a stored identity that fails authentication)
  11 a backup could not be made or restored (pg_dump missing, not a gbv-risk backup, unknown
     schema revision, target already holds records without --force); the target is unchanged
  12 the audit chain is broken (an entry was changed, deleted, reordered or cut off), or an
     action is outside the acting user's role or scope
  13 the disk is full or would not take a write; nothing was written
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LINE = re.compile(r"\bline (\d+)\b")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input: where it is and why. Loading collects all of them."""

    file: str
    location: str
    reason: str

    def __str__(self) -> str:
        """The location is kept in English ("rules[3].when (line 42)": code reads it back);
        its line number is said in the reader's language only here, where it is shown."""
        from .messages import _

        location = _LINE.sub(lambda m: _("line {number}").format(number=m.group(1)),
                             self.location)
        where = f"{self.file}" + (f": {location}" if location else "")
        return f"{where}: {self.reason}"


class GbvRiskError(Exception):
    exit_code = 1

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.message = message
        self.problems = list(problems or [])

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        lines = [self.message] + [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class InputFileError(GbvRiskError):
    """A file is unreadable or not well-formed YAML/JSON, or uses tags that could run code."""

    exit_code = 3


class AssessmentError(GbvRiskError):
    exit_code = 4


class DefinitionError(GbvRiskError):
    """An instrument or rule set is not valid; carries every problem found, not just the first."""

    exit_code = 5


class RuleTestFailure(GbvRiskError):
    exit_code = 6


class EngineError(GbvRiskError):
    exit_code = 7


class NotFoundError(GbvRiskError):
    exit_code = 8


class RecordError(GbvRiskError):
    """A change to the case store was refused; nothing of it was written."""

    exit_code = 9


class KeyMaterialError(GbvRiskError):
    """Identities cannot be encrypted or read with the keys at hand. Kept apart from record
    refusals because the remedy is different: find or restore the key file, not fix the input."""

    exit_code = 10


class AuditBroken(GbvRiskError):
    """The audit trail does not verify: someone changed the record of what was done."""

    exit_code = 12


class AccessDenied(GbvRiskError):
    """The acting user's role or scope does not allow this; nothing was read or written."""

    exit_code = 12


class BackupError(GbvRiskError):
    """A backup or restore did not happen; the backup file and the database are as they were.
    Apart from record refusals because the remedy is operational (tools, files, --force)."""

    exit_code = 11


class DiskError(GbvRiskError):
    """The disk (the database server's, or where a file goes) was full or would not take what a
    command wrote; nothing of it was kept. Apart from record refusals because nothing is wrong
    with the input: free some space and run the same command again."""

    exit_code = 13
