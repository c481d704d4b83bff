//! The licence lifecycle as a work flow (Art. 13, 19, 28): a clerk prepares a change (变更),
//! withdrawal (撤回), revocation (撤销), revocation as a penalty (吊销) or cancellation (注销) of a
//! licence; an approver approves it — one write that stores the licence event and the licence's
//! new status together, authored by the approver — or refuses it with a reason.
//!
//! A prepared action is a node-local work item (migration 0011), never replicated; what it
//! leads to (the `licence_events` record, the licence's status) are records written through
//! the records service's rules: the event is validated and built by [`Archive::prepare`], the
//! licence's change is judged by the same checks as [`Archive::update`] (authority, read-only
//! copies, the approval rule on typed values, Art. 28's terminal status), inside the
//! transaction that stores both.

use licnode_doc::Authoring;
use licnode_model::{EventKind, LicenceStatus, Mode};
use licnode_store::licence_actions::{
    ActionDecision, LicenceAction, LicenceActionQuery, NewLicenceAction, states,
};
use licnode_store::{Attribution, ModifyError, StoreError, StoredRecord};
use serde_json::{Map, Value, json};

use crate::records::{
    Approval, Archive, ArchiveError, Author, approval_needed, guard_terminal_status,
    require_approval, require_write,
};

/// The licence fields a prepared event starts from: the event's field and the licence's.
const FIELDS_FROM_LICENCE: [(&str, &str); 10] = [
    ("licence_number", "licence_number"),
    ("enterprise_name", "enterprise_name"),
    ("credit_code", "credit_code"),
    ("residence_address", "residence_address"),
    ("production_address", "production_address"),
    ("product_category", "product_category"),
    ("product_name", "product_name"),
    ("application_units", "application_units"),
    ("licence_date", "issue_date"),
    ("valid_until", "valid_until"),
];

/// Most characters of a refusal's reason.
pub const MAX_REASON_CHARS: usize = 2_000;

/// Refusals of the licence work flow, each with a stable machine code ([`code`]); a refusal
/// changes nothing.
///
/// [`code`]: LicenceActionError::code
#[derive(Debug, thiserror::Error)]
pub enum LicenceActionError {
    /// Refused by the records service (validation, authority, approval, terminal status…).
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no licence action {0}")]
    NotFound(i64),
    #[error("record {0} is not a licence")]
    NotALicence(String),
    #[error(
        "{0:?} is not a licence event kind (change, withdrawal, revocation, penalty_revocation, cancellation)"
    )]
    UnknownEventKind(String),
    /// Art. 28: a licence withdrawn, revoked or cancelled stays so; nothing more is prepared
    /// or approved for it.
    #[error("licence {licence} is {status} and is no longer active")]
    LicenceNotActive { licence: String, status: String },
    /// The action was approved or refused already.
    #[error("licence action {id} is {state}, not pending")]
    NotPending { id: i64, state: String },
    /// A refusal says why.
    #[error("a refusal needs a reason (at most {MAX_REASON_CHARS} characters)")]
    ReasonRequired,
}

impl LicenceActionError {
    /// The stable machine code of this refusal.
    pub fn code(&self) -> &'static str {
        match self {
            LicenceActionError::Archive(error) => error.code(),
            LicenceActionError::Store(_) => "internal",
            LicenceActionError::NotFound(_) => "not_found",
            LicenceActionError::NotALicence(_) => "not_a_licence",
            LicenceActionError::UnknownEventKind(_) => "unknown_event_kind",
            LicenceActionError::LicenceNotActive { .. } => "licence_not_active",
            LicenceActionError::NotPending { .. } => "action_not_pending",
            LicenceActionError::ReasonRequired => "reason_required",
        }
    }
}

impl<E: Into<LicenceActionError>> From<ModifyError<E>> for LicenceActionError {
    fn from(error: ModifyError<E>) -> Self {
        match error {
            ModifyError::NotFound(id) => LicenceActionError::Archive(ArchiveError::NotFound(id)),
            ModifyError::Rejected(refusal) => refusal.into(),
            ModifyError::Store(error) => LicenceActionError::Store(error),
        }
    }
}

/// The licence's status as stored, if it is terminal (Art. 28).
fn terminal_status_of(data: &Map<String, Value>) -> Option<String> {
    let status = data.get("status").and_then(Value::as_str)?;
    status
        .parse::<LicenceStatus>()
        .ok()
        .filter(|status| status.is_terminal())
        .map(|status| status.as_str().to_string())
}

/// Approving or refusing a prepared action is an approver's act, whatever its kind: the
/// clerk who prepared it does not also decide it (Art. 13, 19, 28).
fn require_decider(author: &Author, event_kind: &str) -> Result<(), LicenceActionError> {
    require_write(author)?;
    let kind = event_kind
        .parse::<EventKind>()
        .map_err(|_| LicenceActionError::UnknownEventKind(event_kind.to_string()))?;
    require_approval(author, Some(Approval::LicenceEvent(kind)))?;
    Ok(())
}

impl Archive {
    /// A clerk (or anyone who may write) prepares a licence event of `event_kind` for the
    /// licence `licence_id`: the event's fields start from the licence's (number, enterprise,
    /// product, dates) and `input` adds or overrides the rest (reason, date, decision number,
    /// change items). The fields are validated as the event will be stored; nothing is written
    /// to the licence or the events until an approver approves.
    pub async fn prepare_licence_action(
        &self,
        licence_id: &str,
        event_kind: &str,
        input: &Map<String, Value>,
        author: &Author,
    ) -> Result<LicenceAction, LicenceActionError> {
        require_write(author)?;
        let kind = event_kind
            .trim()
            .parse::<EventKind>()
            .map_err(|_| LicenceActionError::UnknownEventKind(event_kind.to_string()))?;
        let licence = self.get(licence_id).await?;
        if licence.collection != "licences" {
            return Err(LicenceActionError::NotALicence(licence_id.to_string()));
        }
        if let Some(status) = terminal_status_of(&licence.data) {
            return Err(LicenceActionError::LicenceNotActive {
                licence: licence_id.to_string(),
                status,
            });
        }
        // The node must be one that may edit this licence and record its events.
        if let Some(refusal) = self.edit_refusal(licence_id, author).await? {
            return Err(refusal.into());
        }
        let fields = Self::event_fields(&licence, kind, input);
        let model = Self::collection("licence_events")?;
        let validated =
            licnode_model::validate(model, &fields, Mode::Create).map_err(ArchiveError::Invalid)?;
        // The jurisdiction and the authority table, as the approval will check them.
        self.jurisdiction(model, Some(&licence.jurisdiction))?;
        let text = |field: &str| validated.values.get(field).and_then(Value::as_str);
        let action = self
            .store
            .insert_licence_action(&NewLicenceAction {
                licence_id,
                event_kind: kind.as_str(),
                enterprise_name: text("enterprise_name"),
                licence_number: text("licence_number"),
                fields: &validated.values,
                prepared_by: author.user(),
                prepared_at_ms: licnode_store::now_ms(),
                node: &self.scope.node_code,
            })
            .await?;
        Ok(action)
    }

    /// The event's fields: the licence's, then the input's, then the kind and the licence.
    fn event_fields(
        licence: &StoredRecord,
        kind: EventKind,
        input: &Map<String, Value>,
    ) -> Map<String, Value> {
        let mut fields = Map::new();
        for (event_field, licence_field) in FIELDS_FROM_LICENCE {
            if let Some(value) = licence
                .data
                .get(licence_field)
                .filter(|value| !value.is_null())
            {
                fields.insert(event_field.to_string(), value.clone());
            }
        }
        for (name, value) in input {
            if !value.is_null() && value.as_str() != Some("") {
                fields.insert(name.clone(), value.clone());
            }
        }
        fields.insert("licence".into(), json!(licence.id));
        fields.insert("event_kind".into(), json!(kind.as_str()));
        fields
    }

    /// One prepared action.
    pub async fn licence_action(&self, id: i64) -> Result<LicenceAction, LicenceActionError> {
        self.store
            .licence_action(id)
            .await?
            .ok_or(LicenceActionError::NotFound(id))
    }

    /// A page of prepared actions, newest first.
    pub async fn licence_actions(
        &self,
        query: &LicenceActionQuery,
    ) -> Result<Vec<LicenceAction>, StoreError> {
        self.store.licence_actions(query).await
    }

    /// How many actions wait for an approver.
    pub async fn pending_licence_action_count(&self) -> Result<i64, StoreError> {
        self.store.pending_licence_action_count().await
    }

    /// An approver approves the pending action `id`: in one transaction, the licence event is
    /// stored and the licence takes the event's terminal status (a 变更 leaves it as it is),
    /// both authored by `author`, and the action is marked approved. A clerk is refused
    /// `approval_required`; an action decided already `action_not_pending`; a licence that
    /// became terminal meanwhile `licence_not_active` (Art. 28). A refusal changes nothing.
    pub async fn approve_licence_action(
        &self,
        id: i64,
        author: &Author,
    ) -> Result<(LicenceAction, StoredRecord), LicenceActionError> {
        let action = self.licence_action(id).await?;
        require_decider(author, &action.event_kind)?;
        let licence = self.get(&action.licence_id).await?;
        let at_ms = licnode_store::now_ms();
        let (event, _warnings) = self.prepare(
            "licence_events",
            Some(&licence.jurisdiction),
            &action.fields,
            author,
            at_ms,
        )?;
        let event_id = event.projection.id.clone();
        let kind = action
            .event_kind
            .parse::<EventKind>()
            .map_err(|_| LicenceActionError::UnknownEventKind(action.event_kind.clone()))?;
        let mut patch = Map::new();
        if let Some(status) = kind.terminal_status() {
            patch.insert("status".into(), json!(status.as_str()));
        }
        let model = Self::collection("licences")?;
        let validated =
            licnode_model::validate(model, &patch, Mode::Patch).map_err(ArchiveError::Invalid)?;
        let attribution = Attribution {
            node: self.scope.node_code.clone(),
            user: author.user().to_string(),
            at_ms,
        };
        let decision = ActionDecision {
            state: states::APPROVED,
            decided_by: author.user(),
            decided_at_ms: at_ms,
            reason: None,
            event_id: Some(&event_id),
            node: &self.scope.node_code,
        };
        let approved = self
            .store
            .approve_licence_action(id, event, &attribution, &decision, |stored, doc| {
                if stored.state != states::PENDING {
                    return Err(LicenceActionError::NotPending {
                        id,
                        state: stored.state.clone(),
                    });
                }
                let current = doc.fields();
                if let Some(status) = terminal_status_of(&current) {
                    return Err(LicenceActionError::LicenceNotActive {
                        licence: stored.licence_id.clone(),
                        status,
                    });
                }
                // The checks of `Archive::update`, on the licence as stored in this transaction.
                let creator = doc.creator_node();
                let jurisdiction = doc.meta().map(|meta| meta.jurisdiction).unwrap_or_default();
                self.require_editable(model, &stored.licence_id, &jurisdiction, creator, &current)?;
                require_approval(
                    author,
                    approval_needed(model.name, &validated.values, Some(&current)),
                )?;
                guard_terminal_status(model, &stored.licence_id, &current, &validated.values)?;
                if validated.values.is_empty() {
                    return Ok(None);
                }
                let who = Authoring {
                    actor: self.actor(),
                    user: author.user(),
                    time_ms: at_ms,
                };
                Ok(doc
                    .update(&validated.values, who)
                    .map_err(ArchiveError::from)?)
            })
            .await?;
        Ok((approved.action, approved.licence))
    }

    /// An approver refuses the pending action `id`, saying why; nothing is written to the
    /// licence or its events.
    pub async fn refuse_licence_action(
        &self,
        id: i64,
        reason: &str,
        author: &Author,
    ) -> Result<LicenceAction, LicenceActionError> {
        let action = self.licence_action(id).await?;
        require_decider(author, &action.event_kind)?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
            return Err(LicenceActionError::ReasonRequired);
        }
        let decision = ActionDecision {
            state: states::REFUSED,
            decided_by: author.user(),
            decided_at_ms: licnode_store::now_ms(),
            reason: Some(reason),
            event_id: None,
            node: &self.scope.node_code,
        };
        let refused = self
            .store
            .refuse_licence_action(id, &decision, |stored| {
                if stored.state == states::PENDING {
                    Ok(())
                } else {
                    Err(LicenceActionError::NotPending {
                        id,
                        state: stored.state.clone(),
                    })
                }
            })
            .await?;
        Ok(refused)
    }
}
