"""X12 835 (005010X221A1) remittance reader: parsed structure, canonical claim lines, join.

Public API
----------
* :func:`iter_835` (path) -> iterator of :class:`Transaction`, one per ST..SE, streaming;
  :func:`read_835` (path) -> :class:`Remittance` (the whole file, with its warnings).
* :func:`read_claim_lines` (path) -> ``(DataFrame, FileReport)``: canonical claim lines for the
  ingest dispatcher (files starting with ``ISA`` or ``ST``).
* :func:`count_remittances_once` (lines, reports) -> lines: for lines of several files read
  together (what :func:`auditkit.ingest.load` does): a file or a remittance given twice counts
  once, then reversals are netted across the files, with warnings on the files' reports.
* :func:`net_reversals` (lines) -> ``(lines, netted, unmatched)``: drop reversed payments with
  their reversals; :func:`net_reversals_in_detail` says which (:class:`Netting`).
* Every reader takes ``strict_x12`` (the CLI's ``--strict-x12``): see Errors and warnings.
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

Errors and warnings
-------------------
Refused with :class:`~auditkit.errors.InputError` naming the file, with ``row`` = the segment
number and the message starting ``segment N (ID):``: a file that is not an 835 (an 837, random
text), a bad ISA, a segment id unknown to the 835, and a transaction whose data is incomplete
(cut off: a new ST, an envelope segment or the end of the file before its SE; a file that ends
before GE/IEA).

Read with a warning (``segment N (ID): ...; the data was read anyway``), because payers' files
often get them wrong while the data is whole: a trailer count or control number that does not
match, checked alike in every trailer: SE01 = the transaction's segments (ST to SE), SE02 =
ST02, GE01 = the group's transactions (ST), GE02 = GS06, IEA01 = the interchange's groups (GS),
IEA02 = ISA13 (zero-padding ignored). With ``strict_x12=True`` (``--strict-x12``) each of them is
an InputError as above.

Also warnings (none names a patient or a claim id; a claim is named by its CLP segment and
payer):

* a claim that does not balance: CLP04 must equal its lines' SVC03 less its claim-level CAS
  amounts ("claim at segment 57 (payer X): lines pay 120.00, CLP04 says 100.00"); the lines'
  amounts are what the table holds;
* a second payee (N1*PE) or payer (N1*PR) inside one transaction: the claims after it are
  credited to it;
* a transaction that repeats an earlier one of the file (same payer, TRN check/EFT number, BPR
  payment and the same claims with the same amounts, e.g. an interchange sent twice): counted
  once (a transaction without a TRN02 is never taken for a repeat);
* a bad value inside one element (an impossible date, an amount that is not a number, or not
  finite or beyond a trillion either way like the exports' amounts: ``NaN``, ``1E400``,
  ``1e308``): the value is left empty.

Warnings go to :attr:`Remittance.warnings` and :attr:`FileReport.warnings`; one kind repeated
many times is one line ending "(and N more like it)" after the first few.

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
billing_provider            N1*PE (the payee) in force for the claim
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
  ``denied`` when the line paid 0 on a non-zero charge and has a refusal code; ``partially_paid``
  when it paid something and has a refusal code (a unit cut by CO-151); ``paid`` otherwise,
  including a line paid 0 because the deductible (PR-1) took it all and a line only reduced
  (CO-59 multiple procedure rule, CO-253 sequestration: see Denial codes).
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
duplicates, leaving out PR-1, PR-2, PR-3 (deductible, coinsurance, copay: their money goes to
``patient_responsibility``) and, in any group, the contractual or coordination reasons 45, 42,
A2, 131, 23 and 94 (their money goes to ``adjustment``). Other PR reasons (PR-96, PR-204: the
patient owes because the service is not covered) are denials.

A listed code is a *refusal* unless ``auditkit/reference/carcs.csv`` groups it as contractual or
patient responsibility (column ``root_cause``; the file gives each code's source). CO-253
(sequestration: Medicare's 2% cut by law) and CO-59 (processed under the multiple or concurrent
procedure rules: a second procedure of a session paid at a reduced rate) are such reductions:
they stay in ``denial_codes`` (the underpayment audit reads 253 there) and their money in
``adjustment``, but they do not make a line ``denied`` or ``partially_paid``.
A line without any CAS of its own takes the claim-level CAS codes (so a claim without SVC lines
has its claim CAS). Claim-level CAS money on a claim that has lines stays off the lines (the
file report says how much); provider-level adjustments (PLB) are kept in the parsed structure
and totalled in the file report.

Reversals
---------
A reversal (CLP02 22, negative amounts) cancels the latest earlier adjudication (CLP02 1, 2, 3,
4, 19, 20, 21) of the same claim id, payer and payer claim number (CLP07) whose lines' charge
and paid totals it mirrors to the cent (the same amounts, negated); "earlier" means an earlier
paid date, or the same date and an earlier position. Both the reversed original and the
reversal leave the lines; the corrected claim that follows (usually CLP09 7) stays, so money is
counted once. Since only mirrored amounts are netted, netting never changes the paid total: the
lines' total after netting is their total before. A reversal that mirrors no claim among the
lines (its original came in an earlier file, or the payer reversed another amount) stays as
``voided`` lines with negative amounts and is reported as unmatched (a warning naming its CLP
segment and payer). :func:`read_claim_lines` nets within the file; :func:`auditkit.ingest.load`
reads each file without netting and nets once across all its files; :func:`join_remits` nets
again (nothing is left to net when the lines come from ``load``).

The same remittance twice
-------------------------
A transaction that repeats an earlier one of the same file is left out by the readers (see
Errors and warnings). Across files, :func:`count_remittances_once` leaves out the later copy of
a file given twice (same path) and of a remittance an earlier file holds: the same payer and
TRN02 check/EFT number with the same number of lines, the same charge and paid totals and the
same claim ids, codes, dates and amounts. The warning goes on the later file's report and its
``rows`` drop by the lines left out.

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
    Netting,
    count_remittances_once,
    line_status,
    net_reversals,
    net_reversals_in_detail,
    read_claim_lines,
    reductions,
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
    "Netting",
    "Party",
    "Payment",
    "ProviderAdjustment",
    "Remittance",
    "ServiceLine",
    "Transaction",
    "count_remittances_once",
    "iter_835",
    "iter_events",
    "join_remits",
    "line_status",
    "net_reversals",
    "net_reversals_in_detail",
    "read_835",
    "read_claim_lines",
    "reductions",
]
