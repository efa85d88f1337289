"""The command line as users run it: real files, exit codes, messages, no partial output."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from leadscore.cli import app

MODEL = """\
version: 1
name: cli
fit:
  rules:
    - {id: ceo, when: {job_title: ceo}, points: 30}
    - {id: big, when: {company_size: {gte: 100}}, points: 10}
  grades: [{grade: A, min: 30}, {grade: B}]
engagement:
  rules:
    - {id: pv, event: page_view, points: 2}
    - {id: pricing, event: page_view, when: {url: {contains: /pricing}}, points: 5}
  levels: [{level: 1, min: 5}, {level: 2}]
stages: [{stage: SQL, min_score: 40}, {stage: lead}]
"""


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    model = tmp_path / "model.yaml"
    model.write_text(MODEL)
    # Spanish spreadsheet export: ';' separated, UTF-8 with BOM.
    leads = tmp_path / "leads.csv"
    leads.write_bytes(
        "\ufefflead_id;job_title;company_size;first_name\n"
        "1; CEO ;250;Núria\n2;Ingeniera;12;Jordi\n3;ceo;;Marta\n".encode()
    )
    events = tmp_path / "events.jsonl"
    events.write_text(
        "\n".join(
            json.dumps(e)
            for e in [
                {
                    "lead_id": "1",
                    "type": "page_view",
                    "timestamp": "2025-05-31T10:00:00Z",
                    "properties": {"url": "/pricing"},
                },
                {
                    "lead_id": "2",
                    "type": "page_view",
                    "timestamp": "2025-05-31",
                    "properties": {"url": "/blog"},
                },
                {
                    "lead_id": "3",
                    "type": "page_view",
                    "timestamp": "2025-06-02T00:00:00+02:00",
                    "properties": {"url": "/pricing"},
                },
            ]
        )
        + "\n"
    )
    return {"model": model, "leads": leads, "events": events, "dir": tmp_path}


def input_args(files: dict[str, Path]) -> list[str]:
    """The model, leads and events options every scoring command takes."""
    return [
        "-m",
        str(files["model"]),
        "-l",
        str(files["leads"]),
        "-e",
        str(files["events"]),
        "--as-of",
        "2025-06-01",
    ]


def score_args(files: dict[str, Path], out: Path) -> list[str]:
    return [
        "score",
        "-m",
        str(files["model"]),
        "-l",
        str(files["leads"]),
        "-e",
        str(files["events"]),
        "--as-of",
        "2025-06-01T00:00:00Z",
        "-o",
        str(out),
    ]


def test_score_reads_semicolon_csv_with_bom_and_jsonl_properties(files):
    out = files["dir"] / "scores.parquet"
    result = invoke(*score_args(files, out))
    assert result.exit_code == 0, result.output
    rows = {r["lead_id"]: r for r in pq.read_table(out).to_pylist()}
    # Lead 1: CEO 30 + size 250 → 10; page view 2 + pricing 5 (no decay) → 47 → SQL.
    assert (rows["1"]["fit"], rows["1"]["engagement"], rows["1"]["stage"]) == (40, 7, "SQL")
    assert rows["2"]["score"] == 2 and rows["2"]["matrix"] == "B2"
    # Lead 3's event is at 2025-06-01T22:00Z, after the as-of instant: ignored.
    assert rows["3"]["engagement"] == 0


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet"])
def test_outputs_are_written_by_extension(files, suffix):
    out = files["dir"] / f"scores{suffix}"
    assert invoke(*score_args(files, out)).exit_code == 0
    if suffix == ".json":
        assert {r["lead_id"] for r in json.loads(out.read_text())} == {"1", "2", "3"}
    elif suffix == ".csv":
        assert out.read_text().splitlines()[0].startswith("lead_id,fit,grade,engagement")


def test_explain_prints_rules_and_json(files):
    args = [
        "explain",
        *input_args(files),
        "--lead",
        "1",
    ]
    human = invoke(*args)
    assert human.exit_code == 0 and "pricing" in human.output and "ceo" in human.output
    data = json.loads(invoke(*args, "--json").output)
    assert [(x["rule"], x["points"]) for x in data["explanation"]] == [
        ("ceo", 30),
        ("big", 10),
        ("pv", 2),
        ("pricing", 5),
    ]


def test_top_marks_what_changed_since_the_previous_list(files):
    before = files["dir"] / "before.csv"
    before.write_text("lead_id,score,stage\n1,30,lead\n2,2,lead\n")
    result = invoke(
        "top",
        *input_args(files),
        "--since",
        before,
        "--json",
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["rank"], r["lead_id"], r["change"]) for r in rows] == [
        (1, "1", "+17.0"),
        (2, "3", "new"),
        (3, "2", ""),
    ]
    assert rows[0]["previous_stage"] == "lead" and rows[0]["stage"] == "SQL"


def test_validate_lists_every_error_with_line_and_path(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(MODEL.replace("{gte: 100}", "{gte_: 100}").replace("points: 2}", "pointz: 2}"))
    result = invoke("validate", bad)
    assert result.exit_code == 2
    assert (
        f"{bad}:6 fit.rules[1].when.company_size: unknown test 'gte_' (did you mean 'gte'?)"
        in result.output
    )
    assert "engagement.rules[0]: unknown key 'pointz' (did you mean 'points'?)" in result.output
    assert "missing required key 'points'" in result.output


def test_schema_is_json_schema_with_every_section():
    schema = json.loads(invoke("schema").output)
    assert set(schema["properties"]) >= {
        "fit",
        "engagement",
        "interests",
        "disqualify",
        "score",
        "stages",
        "accounts",
    }


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f["leads"].write_text("id;job_title\n1;ceo\n"), "has no column 'lead_id'"),
        (
            lambda f: f["events"].write_text(
                '{"lead_id": "1", "type": "page_view", '
                '"timestamp": "yesterday", "properties": {}}\n'
            ),
            "row 1: timestamp 'yesterday' is not a timestamp",
        ),
        (
            lambda f: f["leads"].write_text("lead_id;job_title\n1;ceo\n1;cto\n"),
            "lead_id '1' appears 2 times",
        ),
        (lambda f: f["events"].unlink(), "does not exist"),
        (lambda f: f["leads"].write_bytes(b"PAR1garbage"), "Cannot read the leads file"),
        (lambda f: f["model"].write_text("name: x\nfit: [1, 2]\n"), "is not a valid model"),
    ],
    ids=["missing-column", "bad-timestamp", "repeated-id", "no-file", "corrupt", "bad-model"],
)
def test_bad_input_exits_2_with_a_message_and_writes_nothing(files, mutate, message):
    mutate(files)
    if message == "Cannot read the leads file":
        files["leads"] = files["leads"].rename(files["leads"].with_suffix(".parquet"))
    out = files["dir"] / "scores.csv"
    result = invoke(*score_args(files, out))
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not list(files["dir"].glob(".scores*"))


def test_running_out_of_memory_is_a_message_and_writes_nothing(files):
    out = files["dir"] / "scores.parquet"
    result = invoke(*score_args(files, out), "--memory-limit", "1MB")
    assert result.exit_code == 2, result.output
    assert "The engine ran out of memory" in result.output
    assert "--memory-limit" in result.output and "Traceback" not in result.output
    assert not out.exists() and not list(files["dir"].glob(".scores*"))


def test_a_failing_write_leaves_no_partial_file(files):
    out = files["dir"] / "missing-dir" / "scores.csv"
    result = invoke(*score_args(files, out))
    assert result.exit_code == 2 and "does not exist" in result.output


def test_init_templates_validate(tmp_path):
    from leadscore.model import TEMPLATES

    for name in TEMPLATES:
        path = tmp_path / f"{name}.yaml"
        assert invoke("init", name, "--out", path).exit_code == 0
        assert invoke("validate", path).exit_code == 0, invoke("validate", path).output
    assert invoke("init", "b2b-saas", "--out", tmp_path / "b2b-saas.yaml").exit_code == 2


def test_parquet_lead_ids_are_joined_as_text_with_csv_events(tmp_path):
    leads = tmp_path / "leads.parquet"
    pq.write_table(pa.table({"lead_id": [7, 70]}), leads)
    events = tmp_path / "events.csv"
    events.write_text(
        "lead_id,type,timestamp,url\n 7 ,page_view,2025-05-01,/\n007,page_view,2025-05-01,/\n"
    )
    model = tmp_path / "m.yaml"
    model.write_text(MODEL)
    out = tmp_path / "s.csv"
    result = invoke(
        "score", "-m", model, "-l", leads, "-e", events, "--as-of", "2025-06-01", "-o", out
    )
    assert result.exit_code == 0, result.output
    rows = {r["lead_id"]: r["engagement"] for r in pacsv.read_csv(out).to_pylist()}
    assert rows == {7: 2.0, 70: 0.0}  # "007" is another lead (unknown here)


def test_accounts_roll_up_top_leads_without_duplicates_or_disqualified(tmp_path):
    model = tmp_path / "m.yaml"
    model.write_text(
        "name: a\n"
        "fit:\n  rules: [{id: ceo, when: {job_title: ceo}, points: 40}, {id: base, points: 10}]\n"
        "  grades: [{grade: A, min: 40}, {grade: B}]\n"
        "disqualify: [{id: rival, when: {email: {ends_with: '@rival.com'}}}]\n"
        "accounts: {top: 2}\n"
    )
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "lead_id,email,job_title,account_id,created_at\n"
        "1,a@acme.com,ceo,,2025-01-01\n2,b@acme.com,x,,2025-01-02\n3,c@acme.com,y,,2025-01-03\n"
        "4, A@Acme.com,ceo,,2025-01-04\n5,x@gmail.com,ceo,,\n6,z@rival.com,ceo,ACC1,\n"
    )
    out = tmp_path / "accounts.json"
    result = invoke("accounts", "-m", model, "-l", leads, "--as-of", "2025-06-01", "-o", out)
    assert result.exit_code == 0, result.output
    rows = {r["account"]: r for r in json.loads(out.read_text())}
    # acme.com: lead 4 duplicates lead 1 (same e-mail) and does not count; the top 2 of
    # the rest are lead 1 (50) and lead 2 or 3 (10). gmail.com is free mail: no account.
    assert rows["acme.com"]["score"] == 60 and rows["acme.com"]["leads"] == 4
    assert rows["acme.com"]["best_grade"] == "A"
    assert rows["ACC1"]["score"] == 0  # its only lead is disqualified
    assert set(rows) == {"acme.com", "ACC1"}


def test_clean_writes_derived_fields_and_summarises(tmp_path):
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "lead_id,email,job_title,country\n"
        "1,ana@acme.es,Directora general,España\n"
        "2, ANA@acme.es ,CEO,Spain\n"
        "3,info@mailinator.com,Becario,Deutschland\n"
    )
    out = tmp_path / "clean.parquet"
    result = invoke("clean", "-l", leads, "-o", out, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows"] == 3 and summary["duplicates"]["exact"] == 1
    rows = {r["lead_id"]: r for r in pq.read_table(out).to_pylist()}
    assert rows["1"]["seniority"] == rows["2"]["seniority"] == "c_level"
    assert rows["2"]["duplicate_of"] == "1"
    assert (rows["3"]["email_is_disposable"], rows["3"]["seniority"]) == (True, "student")
    assert rows["3"]["country_code"] == "DE"


def test_clean_without_lead_id_exits_2(tmp_path):
    leads = tmp_path / "leads.csv"
    leads.write_text("id,email\n1,a@b.com\n")
    result = invoke("clean", "-l", leads, "-o", tmp_path / "x.csv")
    assert result.exit_code == 2 and "has no column 'lead_id'" in result.output
    assert not (tmp_path / "x.csv").exists()
