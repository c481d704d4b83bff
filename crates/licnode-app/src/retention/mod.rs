//! Keeping and destroying (Art. 37, 38): which records have come due, the request to the
//! superior, its signed decision, destruction on a valid approval only, tombstones and
//! destruction certificates.
//!
//! ## The flow
//!
//! 1. [`Archive::due_records`] lists what has come due as of the node's clock (the rule per
//!    collection is `licnode_model::retention`).
//! 2. [`Archive::request_destruction`] writes a `destructions` record (jurisdiction: this node)
//!    naming the due records; replication carries it up to the superior.
//! 3. At the superior — the node the request reached straight from the requesting node, its
//!    parent — [`Archive::decide_destruction`] checks every named record against its own copy
//!    and clock, and writes the decision into the same record with a signature over the exact
//!    decision (request, nodes, record ids, approved/expiry times, approver) by its node key;
//!    replication carries it back down.
//! 4. [`Archive::destroy_approved`] verifies that signature against the node PKI (a node
//!    certificate of a strict ancestor of this node, and of the parent it replicates with once
//!    it has synced), the request, the records, the times and due-ness, then in one transaction
//!    removes each record's document, projection, name index, change-log and quarantine rows,
//!    leaves a tombstone per record and a destruction certificate, and appends one audit entry
//!    per record to the hash-chained audit log.
//!
//! The store carries out the destruction (`Store::destroy_records`) with this service's due-ness
//! judgement passed in, so the judgement runs inside the destruction's transaction. A destroyed
//! record cannot come back: the store's apply path drops every received change to a
//! tombstoned id, whether it comes from a sync session, an offline bundle or a peer that was
//! offline during the destruction.
//!
//! ## Clocks
//!
//! Two clocks meet here: this node's and the superior's (its signed `approved_at`). Neither is
//! trusted alone where trusting it could destroy early:
//!
//! - due-ness is judged on the *earlier* of the two dates. A clock running fast at either end
//!   cannot make a record due early: the superior checked due-ness at `approved_at` with its own
//!   copy, and this node checks again at its own today, and both must agree;
//! - expiry is judged on the *later* of the two instants, which can only refuse more;
//! - an approval signed more than [`MAX_CLOCK_SKEW_MS`] ahead of this node's clock is refused
//!   (`approval_from_the_future`): one of the clocks is wrong, and a validity window pushed into
//!   the future is what a superior with a fast clock would produce.
//!
//! What remains: a node whose clock runs slow may carry out a valid approval after it expired
//! by the real calendar. It still destroys only records that both clocks hold due, named by a
//! genuine approval of its superior; the worst it does is destroy late.

use std::collections::{BTreeSet, HashSet};

use chrono::{Datelike, NaiveDate, TimeZone};
use licnode_model::DestructionDecision;
use licnode_model::date::CalendarDate;
use licnode_model::retention::{DEFAULT_YEARS, rule_of};
use licnode_store::retention::{
    DESTRUCTIONS, DestroyError, DestructionCertificate, DestructionOrder, HeldRecord, NodeKey,
};
use licnode_store::{StoreError, StoredRecord};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::clock::{Clock, china};

mod decision;
use crate::records::{Approval, Archive, ArchiveError, Author};

mod national;
mod superior;

use superior::{is_superior, request_jurisdiction_of};

/// How long an approval is valid by default, in days.
pub const DEFAULT_APPROVAL_DAYS: u32 = 30;

/// How far ahead of this node's clock an approval's signing time may be.
pub const MAX_CLOCK_SKEW_MS: i64 = 24 * 3600 * 1000;

/// What the signature of a decision is over: a version tag and this payload's JSON text.
const SIGNED_CONTEXT: &str = "licnode destruction decision v1\n";

/// Most records one destruction request may name.
pub const MAX_RECORDS_PER_REQUEST: usize = 10_000;

/// A record whose retention period is over.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct DueRecord {
    pub id: String,
    pub collection: String,
    pub jurisdiction: String,
    /// The first day it may be destroyed (`YYYY-MM-DD`).
    pub due_on: String,
}

/// The decision a superior signs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct DecisionPayload {
    pub request_id: String,
    pub requesting_node: String,
    pub approving_node: String,
    /// `approved` or `refused` ([`DestructionDecision::as_str`]). Kept as the signed text, so
    /// that a signed payload with any other value reads and is refused as not an approval.
    pub decision: String,
    /// Sorted, unique.
    pub record_ids: Vec<String>,
    pub approved_at_ms: i64,
    pub expires_at_ms: i64,
    pub approver: String,
}

/// A signed decision as stored in the request's `approval` field.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SignedDecision {
    /// The JSON text of a [`DecisionPayload`], exactly as signed.
    pub payload: String,
    /// The TLS signature scheme's code point.
    pub scheme: u16,
    /// Hex.
    pub signature: String,
    /// The signer's certificate chain, leaf first, DER in hex.
    pub chain: Vec<String>,
}

/// Why a retention step is refused; each with a stable machine code ([`RetentionError::code`]).
/// A refusal changes nothing.
#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error("no destruction request {0:?}")]
    RequestNotFound(String),
    #[error("record {0:?} is not a destruction request")]
    NotARequest(String),
    #[error("nothing has come due")]
    NothingDue,
    #[error(
        "the national node has no superior to approve a destruction (Art. 38): designate second approvers in [retention] national_approvers"
    )]
    NoSuperior,
    #[error("{user} is not a designated second approver of the national node's destructions")]
    NotADesignatedApprover { user: String },
    #[error("{user} made the request; a second, designated approver decides it (Art. 38)")]
    ApproverIsRequester { user: String },
    #[error("a request names at most {MAX_RECORDS_PER_REQUEST} records")]
    TooManyRecords,
    #[error("record {id} is not due until {due_on}")]
    RecordNotDue { id: String, due_on: String },
    #[error("record {0} is open or kept for good: it never comes due")]
    RecordNeverDue(String),
    #[error("record {0} is not held by this node")]
    RecordUnknown(String),
    #[error("only a superior of {requesting_node} may decide its request")]
    NotASuperior { requesting_node: String },
    #[error("request {0} was already decided")]
    AlreadyDecided(String),
    #[error("request {0} has no approval")]
    NotApproved(String),
    #[error("request {0} was refused by the superior")]
    ApprovalRefused(String),
    #[error("the approval is unreadable: {0}")]
    ApprovalMalformed(String),
    #[error("the approval's signature is not valid ({code}): {message}")]
    BadSignature { code: String, message: String },
    #[error("the approval is signed by {signer}, which is not a superior of this node")]
    NotFromASuperior { signer: String },
    #[error("the approval is for other records or another request")]
    ApprovalForOtherRecords,
    #[error("the approval expired")]
    ApprovalExpired,
    #[error("the approval is signed more than a day ahead of this node's clock")]
    ApprovalFromTheFuture,
    #[error("request {0} was already carried out")]
    AlreadyDestroyed(String),
    #[error("cannot sign: {0}")]
    Signing(String),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RetentionError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            RetentionError::RequestNotFound(_) => "not_found",
            RetentionError::NotARequest(_) => "not_a_destruction_request",
            RetentionError::NothingDue => "nothing_due",
            RetentionError::NoSuperior => "no_superior",
            RetentionError::NotADesignatedApprover { .. } => "not_a_designated_approver",
            RetentionError::ApproverIsRequester { .. } => "approver_is_requester",
            RetentionError::TooManyRecords => "too_many_records",
            RetentionError::RecordNotDue { .. } => "record_not_due",
            RetentionError::RecordNeverDue(_) => "record_never_due",
            RetentionError::RecordUnknown(_) => "record_unknown",
            RetentionError::NotASuperior { .. } => "not_a_superior",
            RetentionError::AlreadyDecided(_) => "already_decided",
            RetentionError::NotApproved(_) => "not_approved",
            RetentionError::ApprovalRefused(_) => "approval_refused",
            RetentionError::ApprovalMalformed(_) => "approval_malformed",
            RetentionError::BadSignature { .. } => "approval_signature_invalid",
            RetentionError::NotFromASuperior { .. } => "approval_not_from_a_superior",
            RetentionError::ApprovalForOtherRecords => "approval_for_other_records",
            RetentionError::ApprovalExpired => "approval_expired",
            RetentionError::ApprovalFromTheFuture => "approval_from_the_future",
            RetentionError::AlreadyDestroyed(_) => "already_destroyed",
            RetentionError::Signing(_) => "internal",
            RetentionError::Archive(error) => error.code(),
            RetentionError::Store(_) => "internal",
        }
    }
}

fn calendar(date: NaiveDate) -> Option<CalendarDate> {
    CalendarDate::new(
        u16::try_from(date.year()).ok()?,
        u8::try_from(date.month()).ok()?,
        u8::try_from(date.day()).ok()?,
    )
}

fn china_date_of_ms(ms: i64) -> Option<CalendarDate> {
    let instant = chrono::Utc.timestamp_millis_opt(ms).single()?;
    calendar(instant.with_timezone(&china()).date_naive())
}

fn date_text(date: CalendarDate) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

fn rfc3339(ms: i64) -> String {
    chrono::Utc
        .timestamp_millis_opt(ms)
        .single()
        .map(|instant| {
            instant
                .with_timezone(&china())
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
        })
        .unwrap_or_default()
}

/// When a record held with `data`, last changed at `updated_at_ms`, comes due: `None` while it
/// is open or kept for good.
pub fn due_on(
    collection: &str,
    data: &Map<String, Value>,
    updated_at_ms: i64,
    years: u32,
) -> Option<CalendarDate> {
    let rule = rule_of(collection)?;
    let last_change = china_date_of_ms(updated_at_ms)?;
    rule.due_on(data, last_change, years)
}

/// The record ids a request names: its `record_ids` field, one id per line (spaces and commas
/// also separate), sorted and unique.
pub fn parse_record_ids(text: &str) -> Vec<String> {
    let ids: BTreeSet<String> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    ids.into_iter().collect()
}

/// The retention period of a config value: `None` or 0 means the regulation's five years.
pub fn years_or_default(years: Option<u32>) -> u32 {
    years.filter(|years| *years > 0).unwrap_or(DEFAULT_YEARS)
}

/// What [`Archive::destroy_approved`] has checked and will carry out.
struct Verified {
    payload: DecisionPayload,
    approval_text: String,
    /// The date due-ness is judged on: the earlier of this node's and the approval's.
    judged_on: CalendarDate,
}

impl Archive {
    /// Every record held whose retention period of `years` is over on `today` (China date),
    /// oldest due first. Destruction requests are kept for good and never listed.
    pub async fn due_records(
        &self,
        today: NaiveDate,
        years: u32,
    ) -> Result<Vec<DueRecord>, StoreError> {
        // A record's period starts no earlier than its last change: only records last changed
        // `years` ago or earlier can be due (two days' margin for the calendar's edges).
        let changed_before_ms = today
            .checked_sub_months(chrono::Months::new(12 * years))
            .and_then(|date| date.checked_add_days(chrono::Days::new(2)))
            .map_or(i64::MAX, crate::clock::start_of_day_ms);
        let Some(today) = calendar(today) else {
            return Ok(Vec::new());
        };
        let mut due = Vec::new();
        self.store
            .for_each_retained_record(changed_before_ms, |record| {
                if let Some(date) = due_on(
                    &record.collection,
                    &record.data,
                    record.updated_at_ms,
                    years,
                ) && date <= today
                {
                    due.push((date, record.id, record.collection, record.jurisdiction));
                }
            })
            .await?;
        due.sort();
        Ok(due
            .into_iter()
            .map(|(date, id, collection, jurisdiction)| DueRecord {
                id,
                collection,
                jurisdiction,
                due_on: date_text(date),
            })
            .collect())
    }

    /// Every destruction certificate this node holds, oldest first.
    pub async fn destruction_certificates(
        &self,
    ) -> Result<Vec<DestructionCertificate>, StoreError> {
        self.store.destruction_certificates().await
    }

    fn request_of(record: &StoredRecord) -> Result<(), RetentionError> {
        if record.collection == DESTRUCTIONS {
            Ok(())
        } else {
            Err(RetentionError::NotARequest(record.id.clone()))
        }
    }

    async fn load_request(&self, request_id: &str) -> Result<StoredRecord, RetentionError> {
        let record = self
            .store
            .get(request_id)
            .await?
            .ok_or_else(|| RetentionError::RequestNotFound(request_id.to_owned()))?;
        Self::request_of(&record)?;
        Ok(record)
    }

    /// Asks this node's superior to approve destroying `ids` (or, when `None`, everything due
    /// today, up to [`MAX_RECORDS_PER_REQUEST`]): writes a `destructions` record for this node's own jurisdiction. Every id must
    /// be held and due by this node's clock.
    pub async fn request_destruction(
        &self,
        ids: Option<&[String]>,
        clock: &dyn Clock,
        years: u32,
        reason: Option<&str>,
        author: &Author,
    ) -> Result<StoredRecord, RetentionError> {
        // Art. 38: the national node has no superior; a second, designated approver decides
        // its requests (`national`), so it asks only when one is designated.
        if self.scope.level == licnode_model::Level::National
            && self.scope.destruction_approvers.is_empty()
        {
            return Err(RetentionError::NoSuperior);
        }
        let today = clock.today();
        let due = self.due_records(today, years).await?;
        let record_ids: Vec<String> = match ids {
            // The oldest due first, as many as one request may name; the rest wait for the
            // next request.
            None => due
                .iter()
                .take(MAX_RECORDS_PER_REQUEST)
                .map(|record| record.id.clone())
                .collect(),
            Some(ids) => {
                let due_ids: HashSet<&str> = due.iter().map(|record| record.id.as_str()).collect();
                for id in ids {
                    if !due_ids.contains(id.as_str()) {
                        return Err(self.why_not_due(id, years).await);
                    }
                }
                ids.to_vec()
            }
        };
        let record_ids = parse_record_ids(&record_ids.join("\n"));
        if record_ids.is_empty() {
            return Err(RetentionError::NothingDue);
        }
        if record_ids.len() > MAX_RECORDS_PER_REQUEST {
            return Err(RetentionError::TooManyRecords);
        }
        let mut input = Map::new();
        input.insert("record_ids".into(), json!(record_ids.join("\n")));
        input.insert("requesting_node".into(), json!(self.scope.node_code));
        input.insert("requested_date".into(), json!(today.to_string()));
        input.insert(
            "decision".into(),
            json!(DestructionDecision::Pending.as_str()),
        );
        if let Some(reason) = reason.filter(|reason| !reason.trim().is_empty()) {
            input.insert("reason".into(), json!(reason));
        }
        let jurisdiction = self.own_request_jurisdiction();
        let created = self
            .create(DESTRUCTIONS, Some(&jurisdiction), &input, author)
            .await?;
        Ok(created.record)
    }

    /// Why `id` may not be destroyed now.
    async fn why_not_due(&self, id: &str, years: u32) -> RetentionError {
        match self.store.get(id).await {
            Ok(Some(record)) => {
                match due_on(
                    &record.collection,
                    &record.data,
                    record.updated_at_ms,
                    years,
                ) {
                    Some(date) => RetentionError::RecordNotDue {
                        id: id.to_owned(),
                        due_on: date_text(date),
                    },
                    None => RetentionError::RecordNeverDue(id.to_owned()),
                }
            }
            Ok(None) => RetentionError::RecordUnknown(id.to_owned()),
            Err(error) => error.into(),
        }
    }

    /// Checks the request's signed approval; see the module's notes on clocks.
    async fn verify_approval(
        &self,
        request: &StoredRecord,
        key: &dyn NodeKey,
        clock: &dyn Clock,
    ) -> Result<Verified, RetentionError> {
        let field = |name: &str| request.data.get(name).and_then(Value::as_str);
        let Some(approval_text) = field("approval") else {
            return Err(
                if field("decision") == Some(DestructionDecision::Refused.as_str()) {
                    RetentionError::ApprovalRefused(request.id.clone())
                } else {
                    RetentionError::NotApproved(request.id.clone())
                },
            );
        };
        let (signer, payload) = verified_decision(approval_text, key)?;
        let own = &self.scope.node_code;
        let own_national_request = self.is_own_national_request(request);
        if own_national_request && signer == *own && payload.approving_node == *own {
            // Art. 38 at the national node: signed by itself, approved by a designated second
            // approver who did not make the request.
            let requester = self.store.record_changes(&request.id).await?;
            let requester = requester.first().map(|change| change.author_user.as_str());
            self.require_second_approver(&payload.approver, requester)?;
        } else if signer != payload.approving_node || !is_superior(&signer, own) {
            return Err(RetentionError::NotFromASuperior { signer });
        }
        // The superior is the parent this node replicates with, once it has one.
        if let Some(parent) = self.store.pulled_from().await?
            && parent != signer
        {
            return Err(RetentionError::NotFromASuperior { signer });
        }
        if payload.decision != DestructionDecision::Approved.as_str() {
            return Err(RetentionError::ApprovalRefused(request.id.clone()));
        }
        let requested = parse_record_ids(field("record_ids").unwrap_or_default());
        if payload.request_id != request.id
            || payload.requesting_node != *own
            || request.jurisdiction != self.own_request_jurisdiction()
            || payload.record_ids != requested
            || payload.record_ids != parse_record_ids(&payload.record_ids.join("\n"))
        {
            return Err(RetentionError::ApprovalForOtherRecords);
        }
        let now = clock.now_ms();
        if payload.approved_at_ms > now + MAX_CLOCK_SKEW_MS {
            return Err(RetentionError::ApprovalFromTheFuture);
        }
        if now.max(payload.approved_at_ms) > payload.expires_at_ms {
            return Err(RetentionError::ApprovalExpired);
        }
        let local_today = calendar(clock.today()).ok_or(RetentionError::ApprovalExpired)?;
        let approval_day = china_date_of_ms(payload.approved_at_ms)
            .ok_or_else(|| RetentionError::ApprovalMalformed("approved_at".into()))?;
        Ok(Verified {
            payload,
            approval_text: approval_text.to_owned(),
            judged_on: local_today.min(approval_day),
        })
    }

    /// Destroys the records a request's valid approval names, in one transaction: each record's
    /// document, projection, name index, change-log and quarantine rows go; a tombstone per
    /// record and a destruction certificate stay. Refused (changing nothing) without a valid
    /// approval by a superior for exactly these records, or when a record is not due.
    pub async fn destroy_approved(
        &self,
        request_id: &str,
        key: &dyn NodeKey,
        clock: &dyn Clock,
        years: u32,
        author: &Author,
    ) -> Result<DestructionCertificate, RetentionError> {
        require_approver(author, Approval::Destruction)?;
        let user = author.user();
        let request = self.load_request(request_id).await?;
        let verified = self.verify_approval(&request, key, clock).await?;
        let now = clock.now_ms();
        let certificate_id = uuid::Uuid::now_v7().to_string();
        let order = DestructionOrder {
            request_id: &verified.payload.request_id,
            record_ids: &verified.payload.record_ids,
            certificate_id: &certificate_id,
            node: &self.scope.node_code,
            destroyed_by: user,
            destroyed_at_ms: now,
            approving_node: &verified.payload.approving_node,
            approver: &verified.payload.approver,
            approved_at_ms: verified.payload.approved_at_ms,
            approval: &verified.approval_text,
        };
        let judged = self
            .store
            .destroy_records(&order, |record| check_due(record, &verified, years))
            .await;
        let certificate = match judged {
            Ok(certificate) => certificate,
            Err(DestroyError::AlreadyDestroyed) => {
                return Err(RetentionError::AlreadyDestroyed(request_id.to_owned()));
            }
            Err(DestroyError::Refused(refusal)) => return Err(refusal),
            Err(DestroyError::Store(error)) => return Err(error.into()),
        };
        // The request record tells the superior the destruction was carried out. Best effort:
        // the certificate is the proof, and a failure here must not hide that the records are
        // gone.
        let mut patch = Map::new();
        patch.insert("destroyed_at".into(), json!(rfc3339(now)));
        if let Err(error) = self.update(request_id, &patch, author).await {
            tracing::warn!(%error, request_id, "cannot note the destruction in its request");
        }
        Ok(certificate)
    }
}

impl Archive {
    /// Checks a destruction certificate again: its signed approval verifies against the node
    /// PKI (as when it was carried out, expiry aside), was signed by the approving node it
    /// names for this node's request, and names exactly the records the certificate lists.
    /// The certificates page shows the result next to each certificate.
    pub fn verify_destruction_certificate(
        &self,
        certificate: &DestructionCertificate,
        key: &dyn NodeKey,
    ) -> Result<(), RetentionError> {
        let (signer, payload) = verified_decision(&certificate.approval, key)?;
        if signer != payload.approving_node || signer != certificate.approving_node {
            return Err(RetentionError::NotFromASuperior { signer });
        }
        if payload.decision != DestructionDecision::Approved.as_str() {
            return Err(RetentionError::ApprovalRefused(
                certificate.request_id.clone(),
            ));
        }
        let mut listed: Vec<String> = certificate
            .records
            .iter()
            .map(|record| record.id.clone())
            .collect();
        listed.sort();
        listed.dedup();
        if payload.request_id != certificate.request_id
            || payload.requesting_node != certificate.node
            || payload.record_ids != listed
        {
            return Err(RetentionError::ApprovalForOtherRecords);
        }
        Ok(())
    }
}

/// Refuses unless `author` holds an approver's role: a destruction decision and the
/// destruction itself are an approver's acts (Art. 38), whichever door they come through.
fn require_approver(author: &Author, approval: Approval) -> Result<(), RetentionError> {
    if author.role().may_approve() {
        return Ok(());
    }
    Err(RetentionError::Archive(ArchiveError::ApprovalRequired {
        user: author.user().to_owned(),
        role: author.role(),
        approval,
    }))
}

fn signed_message(payload: &str) -> Vec<u8> {
    let mut message = SIGNED_CONTEXT.as_bytes().to_vec();
    message.extend_from_slice(payload.as_bytes());
    message
}

/// Judges one held record against the approval and returns the due date its certificate lists.
fn check_due(
    record: &HeldRecord,
    verified: &Verified,
    years: u32,
) -> Result<String, RetentionError> {
    // Destruction requests are kept for good (Art. 38: the proof of what was destroyed).
    if record.collection == DESTRUCTIONS {
        return Err(RetentionError::RecordNeverDue(record.id.clone()));
    }
    match due_on(
        &record.collection,
        &record.data,
        record.updated_at_ms,
        years,
    ) {
        Some(date) if date <= verified.judged_on => Ok(date_text(date)),
        Some(date) => Err(RetentionError::RecordNotDue {
            id: record.id.clone(),
            due_on: date_text(date),
        }),
        None => Err(RetentionError::RecordNeverDue(record.id.clone())),
    }
}

/// The signer and payload of a signed destruction decision, once its signature and the
/// signer's chain are verified with `key`; malformed text or a bad signature is refused.
fn verified_decision(
    text: &str,
    key: &dyn NodeKey,
) -> Result<(String, DecisionPayload), RetentionError> {
    let malformed = |error: String| RetentionError::ApprovalMalformed(error);
    let signed: SignedDecision =
        serde_json::from_str(text).map_err(|e| malformed(e.to_string()))?;
    let signature = hex::decode(&signed.signature).map_err(|e| malformed(e.to_string()))?;
    let chain = signed
        .chain
        .iter()
        .map(hex::decode)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| malformed(e.to_string()))?;
    let signer = key
        .verify(
            &chain,
            &signed_message(&signed.payload),
            signed.scheme,
            &signature,
        )
        .map_err(|(code, message)| RetentionError::BadSignature { code, message })?;
    let payload: DecisionPayload =
        serde_json::from_str(&signed.payload).map_err(|e| malformed(e.to_string()))?;
    Ok((signer, payload))
}
