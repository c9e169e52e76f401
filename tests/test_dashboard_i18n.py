"""The dashboards' one translation table: every entry in French and English, the same
placeholders in both, and no string that is one language's shown as the other's."""

import re

import pytest

from terra_lab.dashboards._i18n import LABELS, OPTION_LABELS, PARAM_LABELS, option_label, tr

TABLES = {"LABELS": LABELS, "PARAM_LABELS": PARAM_LABELS,
          **{f"OPTION_LABELS[{k!r}]": v for k, v in OPTION_LABELS.items()}}


@pytest.mark.parametrize("table", list(TABLES))
def test_every_entry_has_french_and_english_with_the_same_placeholders(table):
    for key, entry in TABLES[table].items():
        assert set(entry) == {"fr", "en"}, (table, key)
        assert entry["fr"].strip() and entry["en"].strip(), (table, key)
        assert sorted(re.findall(r"\{\w+\}", entry["fr"])) == sorted(re.findall(r"\{\w+\}", entry["en"])), (table, key)


def test_no_string_of_one_language_is_used_as_the_other():
    values = [entry for table in TABLES.values() for entry in table.values()]
    only = {lang: {e[lang] for e in values if e["fr"] != e["en"]} for lang in ("fr", "en")}
    for lang, other in (("fr", "en"), ("en", "fr")):
        misplaced = sorted({e[lang] for e in values} & only[other] - only[lang])
        assert not misplaced, f"{misplaced} are {other} strings in the {lang} column"


def test_lookups():
    assert tr("done", "en") == "Done" and tr("done", "fr") == "Calcul terminé"
    assert option_label("mode", "preset", "fr") == "Préréglage" and option_label("mode", "preset", "en") == "Preset"
    assert option_label("index", "MNDWI", "fr") == "MNDWI"          # an unlisted value shows as it is
    assert option_label("language", "en", "fr") == "English"        # languages are named in themselves


def test_workflow_notes_are_said_in_the_page_language():
    """A workflow's note (English text carrying its key) reaches a French page in French."""
    import string

    from terra_lab.dashboards._i18n import note_text
    from terra_lab.workflows._notes import NOTES, Note

    for key in NOTES:
        fields = {name for _, name, _, _ in string.Formatter().parse(NOTES[key]) if name}
        note = Note(key, **dict.fromkeys(fields, "demo<b>"))
        assert note_text(note, "en") == str(note) and "demo<b>" in note
        fr = note_text(note, "fr")
        assert "demo<b>" in fr and fr != str(note) and ("OSO" in fr) == ("OSO" in note)
        assert ("« demo<b> »" in fr) == ("'demo<b>'" in note)  # a quoted name keeps French quotes
    assert note_text("a plain note", "fr") == "a plain note"
