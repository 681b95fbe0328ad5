"""CMS's National Correct Coding Initiative tables as CMS publishes them: PTP pairs and MUEs.

CMS publishes two practitioner tables every quarter, free to download (see
:data:`CURRENT_FILES_HELP`):

* **PTP edits** (procedure to procedure): code pairs that are not paid together for one patient,
  provider and day. The practitioner table is split by code range into several files (``f1`` to
  ``f4``, each served as a zip holding a tab-delimited ``.txt``; over a million rows in all). A
  ``.txt`` opens with a copyright line and a title line, then a header whose cell texts are
  wrapped over four lines (Column 1, Column 2, the in-existence-before-1996 flag, Effective Date,
  Deletion Date, Modifier with its legend 0/1/9, PTP Edit Rationale). Dates are ``YYYYMMDD``; a
  deletion date of ``*`` means the edit has not been deleted. Modifier indicator ``0``: no
  modifier bypasses the edit; ``1``: a distinct-service modifier may; ``9``: the edit was deleted
  back to its first day and never applies.
* **MUEs** (medically unlikely edits): the most units of a code per line or per day. The
  practitioner services table is a ``.csv`` (or ``.xlsx``) whose first record is a long quoted
  copyright notice, then HCPCS/CPT Code, Practitioner Services MUE Values, MUE Adjudication
  Indicator (a digit and its meaning: ``1`` line edit, ``2`` date-of-service edit set by policy,
  ``3`` date-of-service edit set on clinical grounds) and MUE Rationale.

:func:`read_ptp` and :func:`read_mue` take the files as downloaded (the zips, or the ``.txt``,
``.csv`` or ``.xlsx`` inside, or a folder holding them), find the header row by its names, read
the body with pyarrow, keep only the codes an export bills (``codes``) and cache each parsed
file by its SHA-256 as Parquet, so the next run only hashes the file and reads the cache.
Each result records its :class:`NcciSource` list (file, hash, rows, CMS version and quarter) for
the About sheet and the JSON.

:func:`default_ptp` loads the packaged pain-procedure subset of PTP edits, a stand-in
for when the user has not downloaded CMS's files. It is built from the project's own facts, not
from a CMS file (its quarter is :data:`DEFAULT_QUARTER`):

* ``ncci_ptp_default.csv``: column1, column2, effective and deletion (``YYYY-MM-DD``, blank for
  none), modifier_indicator, rationale (own words), source, confidence. Imaging guidance billed
  with a procedure that includes it (from ``imaging_bundles.csv``), the pairs of
  the former ``code_pair_edits.csv`` and one pair quoted from a CMS table (64633 with 64484). Where the
  effective date is not known, 1996-01-01 stands in so that the edit applies to any date.
Without an MUE file the packaged ``unit_limits.csv`` stands in for the MUEs.

``confidence`` grades the edit itself (that CMS pairs the two codes this way round; the unit
limit): ``C`` confirmed, ``S`` backed by a CMS billing article or a secondary source, ``V``
unverified. The parts a row's ``source`` calls assumed (a modifier indicator, an adjudication
indicator, a stand-in date) are unverified whatever the grade.

Everything above is imported from this package, which re-exports the public names; the modules
behind it are internal (their names may change without notice):

* :mod:`~auditkit.reference.ncci.layouts` - the two layouts, their schemas and header search;
* :mod:`~auditkit.reference.ncci.files` - folders, zips and file hashes;
* :mod:`~auditkit.reference.ncci.parse` - one delimited text or workbook file into batches;
* :mod:`~auditkit.reference.ncci.values` - text cells typed, and the filter to an export's codes;
* :mod:`~auditkit.reference.ncci.cache` - the Parquet cache by file hash;
* :mod:`~auditkit.reference.ncci.tables` - :class:`NcciSource` and the table classes;
* :mod:`~auditkit.reference.ncci.readers` - :func:`read_ptp` and :func:`read_mue`;
* :mod:`~auditkit.reference.ncci.defaults` - :func:`default_ptp`.
"""

from __future__ import annotations

from auditkit.reference.ncci.cache import CACHE_ENV, CACHE_FORMAT, default_cache_dir
from auditkit.reference.ncci.defaults import DEFAULT_QUARTER, HERE, default_ptp
from auditkit.reference.ncci.files import ARCHIVE_SUFFIX, TEXT_SUFFIXES, WORKBOOK_SUFFIXES, PathLike
from auditkit.reference.ncci.layouts import (
    HEADER_SCAN_ROWS,
    MUE_LAYOUT,
    MUE_SCHEMA,
    PTP_LAYOUT,
    PTP_SCHEMA,
)
from auditkit.reference.ncci.readers import read_mue, read_ptp
from auditkit.reference.ncci.tables import (
    CURRENT_FILES_HELP,
    EditTable,
    MueTable,
    NcciSource,
    PtpTable,
    version_and_quarter,
)
from auditkit.reference.ncci.values import normalise_codes

__all__ = [
    "ARCHIVE_SUFFIX",
    "CACHE_ENV",
    "CACHE_FORMAT",
    "CURRENT_FILES_HELP",
    "DEFAULT_QUARTER",
    "HEADER_SCAN_ROWS",
    "HERE",
    "MUE_LAYOUT",
    "MUE_SCHEMA",
    "PTP_LAYOUT",
    "PTP_SCHEMA",
    "TEXT_SUFFIXES",
    "WORKBOOK_SUFFIXES",
    "EditTable",
    "MueTable",
    "NcciSource",
    "PathLike",
    "PtpTable",
    "default_cache_dir",
    "default_ptp",
    "normalise_codes",
    "read_mue",
    "read_ptp",
    "version_and_quarter",
]
