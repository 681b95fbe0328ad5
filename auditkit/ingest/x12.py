"""X12 835 (005010X221A1) remittance reader: parsed structure, canonical claim lines, join.

Public API
----------
* :func:`iter_835` (path) -> iterator of :class:`Transaction`, one per ST..SE, streaming;
  :func:`read_835` (path) -> :class:`Remittance` (the whole file, with its warnings).
* :func:`read_claim_lines` (path) -> ``(DataFrame, FileReport)``: canonical claim lines for the
  ingest dispatcher (files starting with ``ISA`` or ``ST``).
* :func:`net_reversals` (lines) -> ``(lines, netted, unmatched)``: drop reversed payments with
  their reversals; run again on lines of several files read separately.
* :func:`join_remits` (claims, remit_lines) -> ``(DataFrame, JoinReport)``.
* Data classes: :class:`Remittance`, :class:`Transaction`, :class:`Payment`, :class:`Party`,
  :class:`Claim`, :class:`ServiceLine`, :class:`Adjustment`, :class:`ProviderAdjustment` (PLB),
  :class:`Delimiters`.

Reading the file
----------------
Separators come from each ISA header (element = 4th character, repetition = ISA11, component =
ISA16, terminator = the character after ISA16); segments may end with the terminator, the
terminator plus a newline, or a newline alone, and blank lines are skipped. Several interchanges,
groups, transactions and payer loops may share a file; a file of bare ST..SE (no ISA/GS) is read
with separators inferred from the text. See :mod:`auditkit.ingest.x12_tokens`.

Two sender mistakes seen in real files are mended, each with a warning: an SVC01 composite that
uses another separator than ISA16 declares (``HC>99213`` with ISA16 ``:``), and an SVC01 holding
only its qualifier with the code in the next element (``SVC*HC*24599*1766.5*...``).

Errors: a file that is not an 835 (an 837, random text), a bad ISA, a segment id unknown to the
835, an SE segment count (or GE/IEA count, or control number) that does not match, a file that
ends before SE/GE/IEA: :class:`~auditkit.errors.InputError` naming the file, with ``row`` = the
segment number and the message starting ``segment N (ID):``. A bad value inside one element (an
impossible date, an amount that is not a number) leaves that value empty and adds a warning.

Canonical claim lines
---------------------
One line per SVC; a claim without SVC lines gives one claim-level line (``cpt`` empty, charge
and paid from CLP03/CLP04). For 835 files **a "row" is a segment number**: ``source_row`` is the
position of the SVC (or of the CLP) counting ISA as segment 1.

==========================  ==================================================================
column                      from
==========================  ==================================================================
claim_id                    CLP01 (patient control number: the practice's claim id)
date_of_service             DTM*472 of the line, else DTM*150 of the line, else DTM*232
rendering_provider          NM1*82 of the claim ("LAST, FIRST" or the organisation), else N1*PE
billing_provider            N1*PE (the payee)
payer                       N1*PR in force for the claim
payer_plan                  CLP06 in words (MB Medicare Part B, MC Medicaid, 12 PPO, ...)
cpt, modifiers              SVC06 (the code as billed) when the payer changed it, else SVC01
units                       SVC07 (units billed) when given, else SVC05, else 1
charge, paid                SVC02, SVC03 (CLP03, CLP04 on claim-level lines)
allowed                     AMT*B6 of the line (AMT*AU on claim-level lines); empty otherwise
adjustment                  sum of the line's CAS amounts in groups CO, OA, PI, CR
patient_responsibility      sum of the line's CAS amounts in group PR (CLP05 on claim-level
                            lines)
denial_codes                the line's CAS as GROUP-REASON, minus non-denials (below)
remark_codes                LQ*HE of the line, then the claim's MOA/MIA remark codes
paid_date                   BPR16, else DTM*405
claim_frequency             CLP09
line_number                 REF*6R when it is a number from 1 to 999, else the SVC's sequence
                            in the claim (larger REF*6R values are control ids, not numbers)
patient_id, patient_name    NM1*QC (identifying: redacted on request)
==========================  ==================================================================

Extra columns (not canonical, kept after the canonical ones): ``line_control_number`` (REF*6R
as sent), ``paid_cpt`` (SVC01 code when SVC06 shows the payer changed it), ``payer_claim_number``
(CLP07), ``claim_status_code`` (CLP02), ``check_number`` (TRN02), ``clp_segment`` (position of
the claim's CLP, which tells two adjudications of one claim id apart).

Status
------
From CLP02, then the line's own paid amount and denial codes:

* 1, 2, 3 (processed as primary, secondary, tertiary) and 19, 20, 21 (the same, forwarded):
  ``denied`` when the line paid 0 on a non-zero charge and has a denial code; ``partially_paid``
  when it paid something and has a denial code (a unit cut by CO-151, a reduction by CO-59);
  ``paid`` otherwise, including a line paid 0 because the deductible (PR-1) took it all.
* 4 (denied): ``denied`` for every line.
* 22 (reversal of a previous payment): ``voided`` (see Reversals).
* 23 (not our claim, forwarded to another payer): ``rejected``. The payer did not adjudicate
  the claim at all; it is not a denial of the service and not a void by the practice, the
  practice must bill the right payer.
* 25 (predetermination pricing only, no payment): ``pending``.
* any other value: empty, with the CLP02 kept in ``claim_status_code``.

Denial codes
------------
``denial_codes`` lists the line's CAS adjustments as ``GROUP-REASON`` in file order, without
duplicates, leaving out what is not a denial: PR-1, PR-2, PR-3 (deductible, coinsurance, copay:
their money goes to ``patient_responsibility``) and, in any group, the contractual or
coordination reasons 45, 42, A2, 131, 253, 23 and 94 (their money goes to ``adjustment``). Other
PR reasons (PR-96, PR-204: the patient owes because the service is not covered) are denials.
A line without any CAS of its own takes the claim-level CAS codes (so a claim without SVC lines
has its claim CAS). Claim-level CAS money on a claim that has lines stays off the lines (the
file report says how much); provider-level adjustments (PLB) are kept in the parsed structure
and totalled in the file report.

Reversals
---------
A reversal (CLP02 22, negative amounts) cancels the latest earlier adjudication (CLP02 1, 2, 3,
4, 19, 20, 21) of the same claim id, payer and payer claim number (CLP07); "earlier" means an
earlier paid date, or the same date and an earlier position. Both the reversed original and the
reversal leave the lines; the corrected claim that follows (usually CLP09 7) stays, so money is
counted once. A reversal whose original is not among the lines (it came in an earlier file)
stays as ``voided`` lines with negative amounts. :func:`read_claim_lines` nets within the file
and reports the counts in ``FileReport.warnings``; :func:`join_remits` nets again across all
remittance files.

Joining to an export
--------------------
:func:`join_remits` matches each remittance line to export lines by

1. claim id + line control number (REF*6R against the export's ``line_number``);
2. else claim id + date of service + code; when one claim has the same code twice on a day,
   the k-th of the remittance claim meets the k-th of the export claim, ordered by modifiers;
3. a claim-level remittance line (CLP without SVC) meets every still-unmatched line of its claim
   and fills status, denial codes, remark codes and paid date (and paid = 0 when the claim paid
   nothing).

Claim ids compare upper-case and trimmed, and all-digit ids without leading zeros (spreadsheets
drop them). It then fills ``paid``, ``allowed``, ``adjustment``, ``patient_responsibility``,
``status``, ``denial_codes``, ``remark_codes`` and ``paid_date`` where the export lacks them
(column absent, value missing, or a list column left blank); what the export has is kept. When
several remittance lines meet one export line (primary and secondary payers, a denial then a
payment on appeal), ``paid`` is their sum and the other columns come from the latest (by paid
date, then file order). :class:`JoinReport` counts matches, unmatched remittance lines and
export claims no remittance reached, with example claim ids (never patient data).
"""

from __future__ import annotations

from auditkit.ingest.x12_join import FILL_COLUMNS, JoinReport, join_remits
from auditkit.ingest.x12_lines import (
    EXTRA_COLUMNS,
    MAPPING,
    NOT_DENIALS,
    PATIENT_SHARE,
    line_status,
    net_reversals,
    read_claim_lines,
)
from auditkit.ingest.x12_model import (
    Adjustment,
    Claim,
    Delimiters,
    Party,
    Payment,
    ProviderAdjustment,
    Remittance,
    ServiceLine,
    Transaction,
)
from auditkit.ingest.x12_parse import VALID_SEGMENTS, iter_835, iter_events, read_835

__all__ = [
    "EXTRA_COLUMNS",
    "FILL_COLUMNS",
    "MAPPING",
    "NOT_DENIALS",
    "PATIENT_SHARE",
    "VALID_SEGMENTS",
    "Adjustment",
    "Claim",
    "Delimiters",
    "JoinReport",
    "Party",
    "Payment",
    "ProviderAdjustment",
    "Remittance",
    "ServiceLine",
    "Transaction",
    "iter_835",
    "iter_events",
    "join_remits",
    "line_status",
    "net_reversals",
    "read_835",
    "read_claim_lines",
]
