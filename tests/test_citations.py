"""Every citation a clone of this repository prints or ships resolves inside it.

- Each `source` in regimens/ (every TOML file, walked as parsed data, so nested
  inline tables and lists count) that names a document (`*.md`) names a file in
  the repository, and each `§N` it gives is a heading `## N.` of that file.
- Each value a source ties to a section (`docs/reference.md §6`) is stated in that
  section: "1.5 mg/m2" must be written there (as "1.5 mg/m²", "**1.5 mg/m²**" ...),
  not only somewhere in the document. A source naming a document without a
  section (`docs/safety.md, Warnings: ...`) must state the value somewhere in it.
- Each `docs/...md` the README names exists, and the README no longer sends a
  reader outside the repository (`../shared/...`).
- A citation in a string the program prints (a warning on a sheet, a message) names
  a file that exists: `docs/reference.md §10`, not `reference.md §10`.

The check on values is the real one: a dose changed in the data but not in the
reference (or the reverse) fails here with the file, the field and the section.
"""

import ast
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REGIMENS = ROOT / "regimens"

# A document named in a source, and the "§N" that follow it up to the next document.
DOCUMENT = re.compile(r"(?<![\w./-])((?:[\w-]+/)*[\w-]+\.md)\b")
SECTION = re.compile(r"§\s*(\d+)")
HEADING = re.compile(r"^## (\d+)\.", re.MULTILINE)
# A value that is a number and a unit ("1.5 mg/m2", "0.1 %", "672"), or a fraction ("2/3").
AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-zµ%²][A-Za-z0-9µ%²/ ]*)?\s*$")
FRACTION = re.compile(r"^\s*(\d+)/(\d+)\s*$")
# Units written differently in the data and in prose, read as one.
UNIT_WORDS = {"h": "hours", "hour": "hours", "day": "days", "week": "weeks", "minute": "minutes",
              "month": "months", "year": "years"}

# Values a source ties to a section that the section rightly does not write out, each
# with the reason. (Empty: every value is stated where its source points.)
NOT_STATED = {}

# Printed strings that cite a document by a name that does not resolve in a clone, and
# why they may, for now. Keyed by a fragment of the string.
PRINTED_EXCEPTIONS = {}


# -- reading -----------------------------------------------------------------------

def regimen_files():
    return sorted(REGIMENS.rglob("*.toml"))


def sourced_entries(node, where):
    """Every table holding a `source`, anywhere in the parsed file, with its path."""
    if isinstance(node, dict):
        if isinstance(node.get("source"), str):
            yield where, node
        for key, value in node.items():
            yield from sourced_entries(value, f"{where}.{key}" if where else key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from sourced_entries(value, f"{where}[{i}]")


def all_sources():
    for path in regimen_files():
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for where, entry in sourced_entries(data, ""):
            yield path.relative_to(ROOT).as_posix(), where, entry


def citations(text):
    """(document, [section numbers]) for each document a text names."""
    found = list(DOCUMENT.finditer(text))
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        yield match.group(1), [int(n) for n in SECTION.findall(text[match.end():end])]


def sections(document: Path) -> dict[int, str]:
    """The text of each `## N.` section of a document."""
    text = document.read_text(encoding="utf-8")
    heads = list(HEADING.finditer(text))
    return {int(h.group(1)): text[h.start():heads[i + 1].start() if i + 1 < len(heads) else len(text)]
            for i, h in enumerate(heads)}


def normalised(text: str) -> str:
    """Prose as the data writes values: m2 not m², no emphasis, no thousands commas, one space."""
    text = text.replace("m²", "m2").replace("**", "").replace("`", "").replace("\u202f", " ").replace("\u00a0", " ")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"\s*/\s*", "/", text)
    text = re.sub(r"(?<=\d)\s*(?=[A-Za-zµ%])", " ", text)
    return re.sub(r"\s+", " ", text)


def unit_pattern(unit: str) -> str:
    words = [UNIT_WORDS.get(w, w) for w in unit.replace("m²", "m2").split()]
    pattern = r"\s*".join(re.escape(w) for w in words)
    for short, long in UNIT_WORDS.items():  # "hours" in the data matches "hour", "h" in prose
        pattern = pattern.replace(re.escape(long), f"(?:{re.escape(long)}|{re.escape(short)})")
    return pattern.replace("/", r"\s*/\s*")


def value_patterns(node):
    """A regular expression for each number-and-unit value in an entry (value, and its sibling fields)."""
    if isinstance(node, bool) or node is None:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in ("tag", "source", "form", "note", "what", "drug", "route", "days", "diluent"):
                yield from value_patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from value_patterns(value)
    elif isinstance(node, (int, float)):
        yield str(node), rf"(?<![\d.]){re.escape(str(node))}(?![\d])"
    elif isinstance(node, str):
        fraction = FRACTION.match(node)
        amount = AMOUNT.match(node)
        if fraction:
            yield node, rf"(?<![\d./]){fraction.group(1)}/{fraction.group(2)}(?![\d/])"
        elif amount:
            number, unit = amount.group(1), (amount.group(2) or "").strip()
            pattern = rf"(?<![\d.,]){re.escape(number)}(?![\d])"
            if unit:
                pattern += r"\s*" + unit_pattern(unit) + r"(?![\w/])"
            yield node, pattern


# -- the sources in regimens/ ------------------------------------------------------

SOURCES = list(all_sources())


def test_the_regimen_data_has_sources_to_check():
    # The walk reaches nested tables: the blinatumomab bags, the age tables, the mesna
    # timing inside an order, the drug provenance.
    where = {(f, w) for f, w, _ in SOURCES}
    assert ("regimens/products/blinatumomab.toml", "bags.24.rate") in where
    assert ("regimens/all-baby-2021/protocol.toml", "age_tables.intrathecal_methotrexate.dose") in where
    assert ("regimens/all-baby-2021/HR1.toml", "order[5].after") in where
    assert len(SOURCES) > 250


@pytest.mark.parametrize("file,where,entry", SOURCES, ids=[f"{f}:{w}" for f, w, _ in SOURCES])
def test_each_document_a_source_names_is_in_the_repository(file, where, entry):
    for document, numbers in citations(entry["source"]):
        path = ROOT / document
        assert path.is_file(), f"{file}: {where}: source names {document}, which is not in the repository: {entry['source']!r}"
        if numbers:
            have = sections(path)
            missing = [n for n in numbers if n not in have]
            assert not missing, f"{file}: {where}: {document} has no section {missing} (headings '## N.'): {entry['source']!r}"


CITED_VALUES = [
    (file, where, entry, document, numbers)
    for file, where, entry in SOURCES
    if not entry["source"].lower().startswith("not in ")  # "not in docs/reference.md" claims nothing is there
    for document, numbers in citations(entry["source"])
    if (ROOT / document).is_file() and document.startswith("docs/")
]


@pytest.mark.parametrize("file,where,entry,document,numbers", CITED_VALUES,
                         ids=[f"{f}:{w}:{d}" for f, w, _, d, _ in CITED_VALUES])
def test_each_value_is_stated_where_its_source_points(file, where, entry, document, numbers):
    path = ROOT / document
    texts = {n: normalised(t) for n, t in sections(path).items() if n in numbers} if numbers else \
            {None: normalised(path.read_text(encoding="utf-8"))}
    for shown, pattern in value_patterns(entry):
        if (file, where, shown) in NOT_STATED:
            continue
        for number, text in texts.items():
            place = f"{document} §{number}" if number is not None else document
            assert re.search(pattern, text), (
                f"{file}: {where} = {shown!r} cites {place}, which does not state {shown!r}; "
                f"write it there (or correct the data): {entry['source']!r}")


def test_the_value_check_is_not_a_tautology():
    # A dose that the section does not state fails; the same dose in its own section passes.
    six = normalised(sections(ROOT / "docs/reference.md")[6])
    patterns = dict(value_patterns({"value": "5000 mg/m2"}))
    assert re.search(patterns["5000 mg/m2"], six)
    wrong = dict(value_patterns({"value": "500 mg/m2", "after": {"hours": [43]}}))
    assert not re.search(wrong["500 mg/m2"], six)
    assert not re.search(wrong["43"], six)
    # m² and m2, thousands commas and emphasis read alike; mg/m2 is not mg/m2/day.
    assert re.search(dict(value_patterns("1000 units/m2"))["1000 units/m2"], normalised("**1,000 units/m²**"))
    assert not re.search(dict(value_patterns("6 mg/m2"))["6 mg/m2"], normalised("6 mg/m²/day"))
    assert re.search(dict(value_patterns("672"))["672"], normalised("(**672 hours** of infusion)"))
    assert re.search(dict(value_patterns("4 hours"))["4 hours"], normalised("after **4 h** or more"))


# -- README ------------------------------------------------------------------------

def test_the_readme_cites_documents_inside_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"(?<![\w./-])(docs/[\w./-]+\.md)", readme))
    assert {"docs/reference.md", "docs/safety.md", "docs/interfaces.md"} <= named
    for document in named:
        assert (ROOT / document).is_file(), f"README.md names {document}, which is not in the repository"
    assert "../shared/" not in readme, "README.md sends the reader outside the repository (../shared/)"


def test_the_documents_link_to_each_other_inside_the_repository():
    for document in ("reference.md", "safety.md", "interfaces.md"):
        text = (ROOT / "docs" / document).read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", text):
            assert (ROOT / "docs" / target).is_file(), f"docs/{document} links to {target}, which is not in docs/"
        assert "../shared/" not in text


def test_the_reference_keeps_the_section_numbers_the_data_cites():
    have = sections(ROOT / "docs/reference.md")
    assert sorted(have) == list(range(1, 13))
    assert have[1].startswith("## 1. Patient size and age")
    assert have[12].startswith("## 12. Results that drive orders")


# -- strings the program prints ----------------------------------------------------

def docstrings(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                yield id(body[0].value)


def printed_strings():
    """Every string literal in dosing/ that is not a docstring (f-string parts included)."""
    for path in sorted((ROOT / "dosing").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = set(docstrings(tree))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                yield path.relative_to(ROOT).as_posix(), node.lineno, node.value
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = re.sub(r"\{#.*?#\}|<!--.*?-->", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
        yield path.relative_to(ROOT).as_posix(), 0, text


def test_each_citation_the_program_prints_resolves():
    wrong = []
    for file, line, text in printed_strings():
        if ".md" not in text or any(fragment in text for fragment in PRINTED_EXCEPTIONS):
            continue
        for document, numbers in citations(text):
            path = ROOT / document
            if not path.is_file():
                wrong.append(f"{file}:{line}: names {document}, not in the repository (write docs/{document}?): {text!r}")
            elif numbers and (missing := [n for n in numbers if n not in sections(path)]):
                wrong.append(f"{file}:{line}: {document} has no section {missing}: {text!r}")
    assert not wrong, "\n".join(wrong)
