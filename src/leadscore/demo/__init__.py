"""The demo data set of ``leadscore demo`` (SPEC §4).

Leads and events of Nimbusline, a fictional B2B company that sells an IoT platform
(software) and edge gateways (hardware) in Europe and the Americas, in the shapes of
SPEC §2. The data is realistic on purpose: names, titles and countries in seven
languages; buying committees sharing a company domain; free-mail, role and
disposable addresses; a competitor, test leads, malformed e-mails and duplicates;
missing values; heavy-tailed activity fading into the past; a few hot leads; events
after the as-of instant and resent events. One seeded generator draws everything
with numpy, so a seed and an instant always give the same files.

The ``b2b-saas`` starter model (``leadscore init b2b-saas``) is written to score it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from leadscore.demo.events import event_table
from leadscore.demo.leads import created_at, lead_columns, lead_kinds, lead_table

DEFAULT_AS_OF = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
"""The instant the demo data leads up to by default (score it as of this instant)."""

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


@dataclass(frozen=True)
class DemoFiles:
    """The files written by :func:`generate_demo` and the instant to score them as of."""

    leads: Path
    events: Path
    as_of: datetime.datetime


def generate_demo(
    out_dir: Path, *, leads: int = 5000, seed: int = 7, as_of: datetime.datetime | None = None
) -> DemoFiles:
    """Write a realistic, reproducible demo data set: ``leads.csv`` and ``events.parquet``.

    Parameters
    ----------
    out_dir
        Folder to write into (created if missing); existing files are replaced.
    leads
        Number of leads (at least 1); there are about 12 events per lead.
    seed
        Seed of the random generator: the same seed and ``as_of`` give the same data.
    as_of
        The instant the data leads up to: events span the six months before it and a
        few come after it. A naive datetime is UTC. Default: :data:`DEFAULT_AS_OF`.

    Returns
    -------
    DemoFiles
        The paths of the two files and the instant to score them as of (UTC).

    Raises
    ------
    ValueError
        If ``leads`` is less than 1.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     files = generate_demo(Path(tmp), leads=200)
    ...     print(files.leads.name, files.events.name, files.as_of.isoformat())
    leads.csv events.parquet 2026-06-01T00:00:00+00:00
    """
    if leads < 1:
        raise ValueError(f"leads must be at least 1, not {leads}")
    instant = as_of or DEFAULT_AS_OF
    if instant.tzinfo is None:  # SPEC §2: a timestamp without offset is UTC
        instant = instant.replace(tzinfo=datetime.UTC)
    instant = instant.astimezone(datetime.UTC)
    as_of_us = (instant - _EPOCH) // datetime.timedelta(microseconds=1)
    rng = np.random.default_rng(seed)
    kinds = lead_kinds(rng, leads)
    columns, original = lead_columns(rng, kinds)
    events, oldest = event_table(rng, kinds, columns["lead_id"], as_of_us)
    columns["created_at"] = created_at(rng, kinds, original, oldest, as_of_us)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = DemoFiles(out_dir / "leads.csv", out_dir / "events.parquet", instant)
    pa_csv.write_csv(lead_table(columns), files.leads)
    pq.write_table(events, files.events)
    return files


__all__ = ["DEFAULT_AS_OF", "DemoFiles", "generate_demo"]
