"""The demo data set (``leadscore demo``) and the starter model templates."""

from __future__ import annotations

import collections
import time
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from ruamel.yaml import YAML

import leadscore
from leadscore.demo import DEFAULT_AS_OF, DemoFiles, generate_demo

LEAD_COLUMNS = [
    "lead_id", "email", "first_name", "last_name", "job_title", "company", "company_domain",
    "account_id", "industry", "company_size", "annual_revenue", "country", "postal_code", "city",
    "phone", "source", "created_at",
]  # fmt: skip
EVENT_TYPES = {
    "page_view", "email_open", "email_click", "video_play", "download", "form_submit", "webinar",
    "demo_request", "unsubscribe",
}  # fmt: skip
TEMPLATES = ("b2b-saas", "industrial", "b2c")


def read_leads(path: Path) -> list[dict[str, str]]:
    """The leads as a CLI reads a CSV: every cell text, empty for missing."""
    with path.open(encoding="utf-8") as handle:
        names = handle.readline().strip().replace('"', "").split(",")
    options = pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))
    rows: list[dict[str, str]] = pacsv.read_csv(path, convert_options=options).to_pylist()
    return rows


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return generate_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def leads(demo: DemoFiles) -> list[dict[str, str]]:
    return read_leads(demo.leads)


@pytest.fixture(scope="module")
def events(demo: DemoFiles) -> pa.Table:
    return pq.read_table(demo.events)


def emails(leads: list[dict[str, str]]) -> list[str]:
    return [lead["email"] for lead in leads if lead["email"]]


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path) -> None:
    first = generate_demo(tmp_path / "a", leads=800, seed=3)
    again = generate_demo(tmp_path / "b", leads=800, seed=3)
    other = generate_demo(tmp_path / "c", leads=800, seed=4)
    assert first.leads.read_bytes() == again.leads.read_bytes()
    assert pq.read_table(first.events).equals(pq.read_table(again.events))
    assert first.leads.read_bytes() != other.leads.read_bytes()
    assert not pq.read_table(first.events).equals(pq.read_table(other.events))


def test_files_and_default_instant(demo: DemoFiles) -> None:
    assert (demo.leads.name, demo.events.name) == ("leads.csv", "events.parquet")
    assert demo.as_of == DEFAULT_AS_OF == datetime(2026, 6, 1, tzinfo=UTC)


def test_leads_have_the_promised_columns_and_size(leads: list[dict[str, str]]) -> None:
    assert list(leads[0]) == LEAD_COLUMNS
    assert len(leads) == 5000
    assert len({lead["lead_id"] for lead in leads}) == 5000
    assert leads[0]["lead_id"] == "L00001"
    created = [lead["created_at"] for lead in leads if lead["created_at"]]
    assert all(stamp.endswith("Z") and "T" in stamp for stamp in created)


def test_events_have_the_promised_schema_and_size(events: pa.Table) -> None:
    assert events.schema.field("event_id").type == pa.int64()
    assert events.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    assert events.schema.field("percent").type == pa.float64()
    assert set(events.column_names) == {
        "event_id", "lead_id", "type", "timestamp", "url", "percent", "session_id", "campaign",
        "product",
    }  # fmt: skip
    assert 40_000 <= events.num_rows <= 90_000
    counts = collections.Counter(events.column("type").to_pylist())
    assert set(counts) == EVENT_TYPES
    assert counts.most_common(1)[0][0] == "page_view"
    assert 0 < counts["unsubscribe"] < counts["demo_request"] * 2 < counts["email_open"]


def test_several_languages(leads: list[dict[str, str]]) -> None:
    titles = {lead["job_title"].strip() for lead in leads}
    by_language = {
        "en": {"CEO", "Head of Marketing", "VP Sales", "Student", "Intern"},
        "es": {"Director general", "Directora de marketing", "Jefe de compras", "Estudiante"},
        "ca": {"Conseller delegat", "Cap de compres", "Estudiant", "Director de sistemes"},
        "it": {"Amministratore delegato", "Responsabile acquisti", "Studente"},
        "fr": {"Directeur général", "Directrice marketing", "Étudiant"},
        "de": {"Geschäftsführer", "Leiter Marketing", "Praktikant", "Werkstudent"},
        "pt": {"Diretor geral", "Diretora de marketing", "Estudante"},
    }
    assert {lang for lang, known in by_language.items() if known & titles} == set(by_language)
    countries = {lead["country"] for lead in leads}
    assert {"España", "Espanya", "ES", "Deutschland", "Italia", "France", "Portugal"} <= countries
    assert {"United Kingdom", "USA"} <= countries
    assert any(not lead["last_name"].isascii() for lead in leads)


def test_accounts_group_several_leads(leads: list[dict[str, str]]) -> None:
    per_domain = collections.Counter(lead["company_domain"] for lead in leads)
    per_domain.pop("", None)
    assert sum(1 for count in per_domain.values() if count >= 3) >= 100
    per_account = collections.Counter(lead["account_id"] for lead in leads if lead["account_id"])
    assert max(per_account.values()) >= 5


def test_free_mail_share(leads: list[dict[str, str]]) -> None:
    free = ("@gmail.com", "@yahoo.", "@hotmail.", "@outlook.", "@gmx.", "@web.de", "@libero.it",
            "@orange.fr", "@free.fr", "@sapo.pt", "@icloud.com")  # fmt: skip
    addresses = emails(leads)
    share = sum(any(f in e.lower() for f in free) for e in addresses) / len(addresses)
    assert 0.2 <= share <= 0.35


def test_disqualifiable_leads(leads: list[dict[str, str]]) -> None:
    addresses = [e.strip().lower() for e in emails(leads)]
    assert sum(e.endswith("@rival-corp.com") for e in addresses) >= 2
    assert sum(e.endswith(("@mailinator.com", "@yopmail.com")) for e in addresses) >= 2
    assert sum(e.endswith("@example.com") for e in addresses) >= 1
    malformed = [e for e in addresses if e.count("@") != 1 or " " in e or e.startswith("@")]
    malformed += [e for e in addresses if e.endswith("@")]
    assert len(malformed) >= 5
    students = {"student", "estudiante", "studente", "intern", "praktikant", "stagiaire"}
    assert sum(lead["job_title"].strip().lower() in students for lead in leads) >= 20


def test_duplicates_differ_only_in_case_or_spaces(leads: list[dict[str, str]]) -> None:
    by_address = collections.defaultdict(set)
    for address in emails(leads):
        by_address[address.strip().lower()].add(address)
    variants = [spellings for spellings in by_address.values() if len(spellings) > 1]
    assert len(variants) >= 10
    assert any(any(s != s.strip() for s in spellings) for spellings in variants)
    assert any(any(s != s.lower() for s in spellings) for spellings in variants)


def test_some_values_are_missing(leads: list[dict[str, str]]) -> None:
    for column in ("email", "job_title", "industry", "company_size", "country", "phone"):
        missing = sum(not lead[column].strip() for lead in leads) / len(leads)
        assert 0 < missing < 0.5, column


def test_events_span_six_months_skewed_recent(demo: DemoFiles, events: pa.Table) -> None:
    stamps = events.column("timestamp").to_pylist()
    assert min(stamps) >= demo.as_of - timedelta(days=184)
    last_month = sum(demo.as_of - timedelta(days=30) <= s <= demo.as_of for s in stamps)
    sixth_month = sum(s < demo.as_of - timedelta(days=150) for s in stamps)
    assert last_month > 2 * sixth_month > 0


def test_events_after_as_of_and_resent_copies(demo: DemoFiles, events: pa.Table) -> None:
    stamps = events.column("timestamp").to_pylist()
    assert 0 < sum(s > demo.as_of for s in stamps) < 0.01 * len(stamps)
    ids = collections.Counter(events.column("event_id").to_pylist())
    resent = {event_id for event_id, count in ids.items() if count > 1}
    assert 0 < len(resent) < 0.01 * len(ids)
    copies = events.filter(pc.is_in(events.column("event_id"), pa.array(sorted(resent))))
    rows = {tuple(row.values()) for row in copies.to_pylist()}
    assert len(rows) == len(resent)  # the copies of an event are identical


def test_event_properties(events: pa.Table, leads: list[dict[str, str]]) -> None:
    assert set(events.column("lead_id").to_pylist()) <= {lead["lead_id"] for lead in leads}
    videos = pc.equal(events.column("type"), "video_play")
    assert events.filter(pc.invert(videos)).column("percent").null_count == len(
        events.filter(pc.invert(videos))
    )
    percent = events.filter(videos).column("percent")
    assert pc.min(percent).as_py() >= 0
    assert pc.max(percent).as_py() <= 100
    mail = events.filter(pc.is_in(events.column("type"), pa.array(["email_open", "unsubscribe"])))
    assert mail.column("session_id").null_count == len(mail)
    assert mail.column("url").null_count == len(mail)
    views = events.filter(pc.equal(events.column("type"), "page_view"))
    assert views.column("session_id").null_count < 0.05 * len(views)
    urls = set(views.column("url").to_pylist())
    for path in ("/pricing", "/contact", "/demo", "/product/", "/blog/", "/careers", "/docs/"):
        assert any(path in url for url in urls), path
    downloads = set(events.filter(pc.equal(events.column("type"), "download"))["url"].to_pylist())
    assert any(url.endswith(".pdf") for url in downloads)
    assert {"platform", "gateway", "analytics"} <= set(events.column("product").to_pylist())


def test_activity_is_heavy_tailed(events: pa.Table) -> None:
    per_lead = sorted(collections.Counter(events.column("lead_id").to_pylist()).values())
    assert len(per_lead) < 5000  # some leads never did anything
    assert per_lead[-1] > 10 * per_lead[len(per_lead) // 2]


def test_some_leads_are_clearly_hot(demo: DemoFiles, events: pa.Table) -> None:
    recent = events.filter(pc.greater(events.column("timestamp"), demo.as_of - timedelta(days=7)))
    demo_requests = set(
        recent.filter(pc.equal(recent["type"], "demo_request"))["lead_id"].to_pylist()
    )
    pricing = set(
        recent.filter(pc.match_substring(pc.fill_null(recent["url"], ""), "/pricing"))[
            "lead_id"
        ].to_pylist()
    )
    assert len(demo_requests & pricing) >= 50


def test_as_of_moves_the_data_and_naive_is_utc(tmp_path: Path) -> None:
    files = generate_demo(tmp_path, leads=300, as_of=datetime(2030, 1, 1, 12))
    assert files.as_of == datetime(2030, 1, 1, 12, tzinfo=UTC)
    stamps = pq.read_table(files.events).column("timestamp").to_pylist()
    assert (
        datetime(2029, 6, 1, tzinfo=UTC)
        < min(stamps)
        < max(stamps)
        < datetime(2030, 2, 1, tzinfo=UTC)
    )


def test_tiny_and_invalid_sizes(tmp_path: Path) -> None:
    assert len(read_leads(generate_demo(tmp_path / "one", leads=1).leads)) == 1
    assert len(read_leads(generate_demo(tmp_path / "ten", leads=10).leads)) == 10
    with pytest.raises(ValueError, match="at least 1"):
        generate_demo(tmp_path / "none", leads=0)


def test_generation_is_fast(tmp_path: Path, demo: DemoFiles) -> None:
    # `demo` has paid for the imports; this measures the generation itself.
    start = time.perf_counter()
    generate_demo(tmp_path)
    assert time.perf_counter() - start < 3.0


def template_path(name: str) -> Any:
    return resources.files("leadscore.model").joinpath("templates", f"{name}.yaml")


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_is_yaml_1_2_with_the_model_sections(name: str) -> None:
    model = YAML(typ="safe", pure=True).load(template_path(name).read_text(encoding="utf-8"))
    assert model["version"] == 1
    assert model["name"] == name
    assert set(model) <= {
        "version", "name", "description", "fit", "engagement", "interests", "disqualify", "score",
        "stages", "accounts", "merge_duplicates",
    }  # fmt: skip
    assert {"fit", "engagement", "disqualify", "stages"} <= set(model)
    assert "min" not in model["fit"]["grades"][-1]
    assert "min" not in model["engagement"]["levels"][-1]
    assert set(model["stages"][-1]) <= {"stage", "description"}
    ids = [rule["id"] for rule in model["fit"]["rules"] + model["engagement"]["rules"]]
    ids += [rule["id"] for rule in model["engagement"].get("inactivity", [])]
    ids += [entry["id"] for entry in model["disqualify"]]
    for interest in model.get("interests", []):
        ids += [interest["id"], *(rule["id"] for rule in interest["rules"])]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_loads_as_a_model(name: str) -> None:
    assert leadscore.load_model(Path(str(template_path(name)))).name == name


def test_b2b_saas_template_scores_the_demo_sensibly(
    demo: DemoFiles, leads: list[dict[str, str]]
) -> None:
    model = Path(str(template_path("b2b-saas")))
    scores = leadscore.score(model, demo.leads, demo.events, as_of=demo.as_of).to_pylist()
    by_id = {row["lead_id"]: row for row in scores}
    stages = collections.Counter(row["stage"] for row in scores)
    assert 50 <= stages["SQL"] <= 400
    assert stages["MQL"] > 0 and stages["disqualified"] > 0
    assert stages["lead"] > len(scores) / 2
    qualified = [row for row in scores if row["stage"] != "disqualified"]
    top = sorted(qualified, key=lambda row: (-row["score"], -row["engagement"]))[:20]
    assert all(row["matrix"] == "A1" and row["stage"] == "SQL" for row in top)
    for lead in leads:
        row = by_id[lead["lead_id"]]
        address = lead["email"].strip().lower()
        if address.endswith(("@rival-corp.com", "@example.com", "@mailinator.com")):
            assert row["stage"] == "disqualified", lead
        if lead["job_title"].strip().lower() in {"student", "estudiante", "studente", "intern"}:
            assert row["grade"] == "D" and row["stage"] != "SQL", lead
