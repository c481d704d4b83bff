//! The write path of a node's archive: validate the input against the regulation's model,
//! write it through the record's automerge document, and commit document, projection and
//! change log together. The HTTP API and the CLI both write through here, and the role checks
//! that depend on what is written are made here, after validation, on the typed values
//! ([`author`]). The store below only carries out what this service decided.

pub mod author;
mod bulk;
mod editable;
pub mod references;
pub mod secrecy;

use licnode_doc::{ActorId, Authoring, Conflict, HistoryEntry, RecordDoc, RecordMeta};
use licnode_model::{Collection, Issue, Mode, ValidationErrors};
use serde_json::{Map, Value};

use licnode_store::public::{PublicPage, PublicQuery};
use licnode_store::{
    Attribution, Backend, ListQuery, LoggedChange, ModifyError, Page, PreparedChange,
    PreparedRecord, Projection, Role, SearchQuery, Store, StoreError, StoredRecord,
};

pub(crate) use author::approval_needed;
pub use author::{Approval, Author};
pub use bulk::{BulkRow, BulkWriter};

/// Refusals of the write path, each with a stable machine code.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("unknown collection {0:?}")]
    UnknownCollection(String),
    #[error("no record {0:?}")]
    NotFound(String),
    #[error("invalid input")]
    Invalid(ValidationErrors),
    #[error("jurisdiction {jurisdiction} is outside this node's jurisdiction {node}")]
    OutsideJurisdiction { jurisdiction: String, node: String },
    #[error("{0:?} is not a GB/T 2260 division code")]
    InvalidJurisdiction(String),
    /// The authority table (licnode-sync) does not let this node author this record.
    #[error("{0}")]
    NotAuthorised(licnode_sync::DenyReason),
    #[error(
        "licence {0} is in a terminal state (撤回/撤销/吊销/注销) and its status cannot change"
    )]
    TerminalLicence(String),
    /// A record of a collection that flows down (registries, publications) is kept by the node
    /// that made it; the copies below follow it and are not edited (Art. 32).
    #[error(
        "record {id} is a copy of {creator}'s {collection}: only {creator} edits it, and the change reaches this node"
    )]
    ReadOnlyCopy {
        id: String,
        collection: String,
        creator: String,
    },
    /// The author's role may read but not write (an auditor).
    #[error("{user} is a {role} and may read but not write", role = role.as_str())]
    ReadOnlyRole { user: String, role: Role },
    /// The write is an approver's and the author is not one (Art. 13, 18–20, 28).
    #[error("{approval} needs an approver; {user} is a {role}", role = role.as_str())]
    ApprovalRequired {
        user: String,
        role: Role,
        approval: Approval,
    },
    /// A submitted report is frozen for every role; a correction is the next revision
    /// (Art. 18–20).
    #[error(
        "report {0} is submitted and is not edited any more; a correction is the next revision (run the period again)"
    )]
    ReportSubmitted(String),
    /// Art. 3: foods, food-related products and cosmetics are outside the regulation; the
    /// product catalogue (`licnode_model::catalogue::outside_regulation`) decides.
    #[error(
        "{field} {value:?} is {kind}, outside this regulation (Art. 3: 本规定不适用于加工食品、直接接触食品的材料等食品相关产品、化妆品)"
    )]
    OutsideRegulation {
        field: String,
        value: String,
        kind: &'static str,
    },
    /// Art. 36: secret fields are shown unmasked only to approvers and administrators.
    #[error("{user} is a {role}: secret fields (Art. 36) are shown unmasked only to approvers and administrators", role = role.as_str())]
    SecretNotForRole { user: String, role: Role },
    /// A reference names no record this node holds, or a record of another collection
    /// (`records::references`).
    #[error(
        "{field} names {id:?}, which is no record of {collection} this node holds; pick one it holds"
    )]
    UnknownReference {
        field: String,
        collection: String,
        id: String,
    },
    /// A particular typed beside a picked licence says something else than the licence.
    #[error(
        "{field} {given} differs from the licence's {licence}; leave it out to take the licence's"
    )]
    ReferenceMismatch {
        field: String,
        given: String,
        licence: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("document: {0}")]
    Document(Box<licnode_doc::DocError>),
}

impl From<licnode_doc::DocError> for ArchiveError {
    fn from(error: licnode_doc::DocError) -> Self {
        ArchiveError::Document(Box::new(error))
    }
}

impl ArchiveError {
    /// The stable machine code of this refusal.
    pub fn code(&self) -> &'static str {
        match self {
            ArchiveError::UnknownCollection(_) => "unknown_collection",
            ArchiveError::NotFound(_) => "not_found",
            ArchiveError::Invalid(_) => "validation_failed",
            ArchiveError::OutsideJurisdiction { .. } => "outside_jurisdiction",
            ArchiveError::InvalidJurisdiction(_) => "invalid_jurisdiction",
            ArchiveError::NotAuthorised(reason) => reason.code(),
            ArchiveError::TerminalLicence(_) => "licence_terminal",
            ArchiveError::ReadOnlyCopy { .. } => "read_only_copy",
            ArchiveError::ReadOnlyRole { .. } => "forbidden_role",
            ArchiveError::ApprovalRequired { .. } => "approval_required",
            ArchiveError::ReportSubmitted(_) => "report_submitted",
            ArchiveError::OutsideRegulation { .. } => "outside_regulation",
            ArchiveError::SecretNotForRole { .. } => "secret_not_for_role",
            ArchiveError::UnknownReference { .. } => "unknown_reference",
            ArchiveError::ReferenceMismatch { .. } => "reference_mismatch",
            ArchiveError::Store(_) | ArchiveError::Document(_) => "internal",
        }
    }
}

/// Art. 3: a record naming a food, a food-related product or a cosmetic as its product is
/// refused; the regulation does not cover their licences. Asked of every value written, in a
/// creation and in a patch.
fn refuse_outside_regulation(values: &Map<String, Value>) -> Result<(), ArchiveError> {
    for field in licnode_model::catalogue::PRODUCT_FIELDS {
        let Some(value) = values.get(*field).and_then(Value::as_str) else {
            continue;
        };
        if let Some(kind) = licnode_model::catalogue::outside_regulation(value) {
            return Err(ArchiveError::OutsideRegulation {
                field: (*field).to_string(),
                value: value.to_string(),
                kind: kind.name_zh,
            });
        }
    }
    Ok(())
}

/// The node an archive belongs to: its code decides the default jurisdiction of new records;
/// its code and level decide, through the one authority table, what its staff may author.
#[derive(Clone, Debug)]
pub struct NodeScope {
    pub node_code: String,
    pub level: licnode_model::Level,
    /// For a province: the prefectures below it that run a node of their own, whose counties
    /// are their children and not this node's (see `licnode_sync::tree`).
    pub child_prefectures: Vec<String>,
    /// At the national node: the staff designated to approve its own destructions (Art. 38;
    /// it has no superior). `[retention] national_approvers`.
    pub destruction_approvers: Vec<String>,
}

impl NodeScope {
    /// True when `jurisdiction` is this node's own code or below it in the division tree.
    pub fn covers(&self, jurisdiction: &str) -> bool {
        licnode_model::divisions::is_within(jurisdiction, &self.node_code)
    }

    /// This node as the authority table names it.
    pub fn node_ref(&self) -> licnode_sync::NodeRef {
        licnode_sync::NodeRef::new(self.node_code.clone(), self.level)
    }

    /// Why `peer` is not a direct child of this node, if it is not (issue 11 item 3).
    pub fn not_a_child(&self, peer: &licnode_sync::NodeRef) -> Option<String> {
        licnode_sync::direct_child_problem(&self.node_ref(), peer, &self.child_prefectures)
    }
}

/// A record created, with the warnings its input raised.
#[derive(Debug)]
pub struct Created {
    pub record: StoredRecord,
    pub warnings: Vec<Issue>,
}

/// A record updated, with the warnings its input raised.
#[derive(Debug)]
pub struct Updated {
    pub record: StoredRecord,
    pub warnings: Vec<Issue>,
    /// False when every value given was already there.
    pub changed: bool,
}

/// A node's archive: its store, its scope and this process's actor id.
///
/// The store is private to the services, so code outside this crate cannot write past their
/// rules (ARCHITECTURE.md, principle 13, "one rule, every door"); the replication engine, the
/// anchors, the link reports and the bundle go through services of this crate too. Only tests
/// have a door of their own (`store_for_tests`, feature `testing`), which the shipped binary
/// does not enable.
///
/// and reaching for the store itself does not compile:
///
/// ```compile_fail
/// fn reach_past(archive: &licnode_app::Archive) -> &licnode_store::Store {
///     &archive.store
/// }
/// ```
#[derive(Clone)]
pub struct Archive {
    /// Private: callers outside this crate go through the services, so every write is decided
    /// here (ARCHITECTURE.md, principle 13, "one rule, every door").
    pub(crate) store: Store,
    pub scope: NodeScope,
    actor: ActorId,
    /// Push batches arrived and not yet stored: (child, after, up_to) by an arrival number
    /// (`replication::parent`, which lets a child's next batch wait for the one before).
    pub(crate) pushes_in_progress: crate::replication::parent::PushesInProgress,
}

impl Archive {
    /// An archive over `store` for the bureau `node_code` (a GB/T 2260 division code; its
    /// level follows from the code), with a fresh actor id for this process.
    pub fn new(store: Store, node_code: &str) -> Archive {
        let level = licnode_model::divisions::lookup(node_code)
            .map_or(licnode_model::Level::National, |division| {
                licnode_model::Level::for_division(division.level)
            });
        Archive::with_level(store, node_code, level)
    }

    /// An archive for a node of any level or kind (review departments and inspection bodies
    /// have codes that are not divisions).
    pub fn with_level(store: Store, node_code: &str, level: licnode_model::Level) -> Archive {
        Archive {
            store,
            scope: NodeScope {
                node_code: node_code.to_string(),
                level,
                child_prefectures: Vec::new(),
                destruction_approvers: Vec::new(),
            },
            actor: licnode_doc::actor::fresh(node_code),
            pushes_in_progress: Default::default(),
        }
    }

    /// The same archive, for a province some of whose prefectures run nodes of their own.
    pub fn with_child_prefectures(mut self, child_prefectures: Vec<String>) -> Archive {
        self.scope.child_prefectures = child_prefectures;
        self
    }

    /// The store behind the services, for tests alone (feature `testing`): to forge what no
    /// service writes, or read what no service shows. Nothing in the node takes this door.
    #[cfg(feature = "testing")]
    pub fn store_for_tests(&self) -> &Store {
        &self.store
    }

    /// Which database the node runs on.
    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// True when the database answers.
    pub async fn ping(&self) -> bool {
        self.store.ping().await
    }

    /// Closes the database, waiting for running statements.
    pub async fn close(&self) {
        self.store.close().await
    }

    /// This process's automerge actor id.
    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    pub(crate) fn collection(name: &str) -> Result<&'static Collection, ArchiveError> {
        licnode_model::collection(name).ok_or_else(|| ArchiveError::UnknownCollection(name.into()))
    }

    /// The jurisdiction of a new record of `collection`, checked: a real division code, within
    /// this node's territory, and one this node may author the collection for.
    pub(crate) fn jurisdiction(
        &self,
        collection: &Collection,
        requested: Option<&str>,
    ) -> Result<String, ArchiveError> {
        let jurisdiction = requested
            .unwrap_or(&self.scope.node_code)
            .trim()
            .to_string();
        // A record may be addressed to a review department instead of a division (Art. 22, 23):
        // the authority table says for which collections (`Rule::addressees`).
        let addressed_to_body = licnode_sync::addressed_body(&jurisdiction).is_some();
        if licnode_model::divisions::lookup(&jurisdiction).is_none() && !addressed_to_body {
            return Err(ArchiveError::InvalidJurisdiction(jurisdiction));
        }
        if self.scope.level.is_territorial()
            && !addressed_to_body
            && !self.scope.covers(&jurisdiction)
        {
            return Err(ArchiveError::OutsideJurisdiction {
                jurisdiction,
                node: self.scope.node_code.clone(),
            });
        }
        match licnode_sync::may_author(&self.scope.node_ref(), collection.name, &jurisdiction) {
            licnode_sync::Decision::Allow => Ok(jurisdiction),
            licnode_sync::Decision::Deny { reason } => Err(ArchiveError::NotAuthorised(reason)),
        }
    }

    /// Validates and builds one new record without storing it.
    pub fn prepare(
        &self,
        collection: &str,
        jurisdiction: Option<&str>,
        input: &Map<String, Value>,
        author: &Author,
        at_ms: i64,
    ) -> Result<(PreparedRecord, Vec<Issue>), ArchiveError> {
        let id = uuid::Uuid::now_v7().to_string();
        self.prepare_with_id(id, collection, jurisdiction, input, author, at_ms)
    }

    /// [`Archive::prepare`] with the record's id given: for records whose id is derived from
    /// what they are, so that building one twice names the same record (a report per node,
    /// kind and period).
    pub fn prepare_with_id(
        &self,
        id: String,
        collection: &str,
        jurisdiction: Option<&str>,
        input: &Map<String, Value>,
        author: &Author,
        at_ms: i64,
    ) -> Result<(PreparedRecord, Vec<Issue>), ArchiveError> {
        require_write(author)?;
        let model = Self::collection(collection)?;
        let jurisdiction = self.jurisdiction(model, jurisdiction)?;
        let validated =
            licnode_model::validate(model, input, Mode::Create).map_err(ArchiveError::Invalid)?;
        refuse_outside_regulation(&validated.values)?;
        // Decided on what will be stored, never on the input's spelling (issue 11, item 1).
        require_approval(author, approval_needed(model.name, &validated.values, None))?;
        let user = author.user();
        let meta = RecordMeta {
            id,
            collection: model.name.to_string(),
            jurisdiction,
        };
        let who = Authoring {
            actor: &self.actor,
            user,
            time_ms: at_ms,
        };
        let (mut doc, change) = RecordDoc::create(&meta, &validated.values, who)?;
        let projection = Projection::of(&doc, at_ms)?;
        Ok((
            PreparedRecord {
                change: PreparedChange {
                    hash: change.hash,
                    record_id: meta.id,
                    collection: meta.collection,
                    jurisdiction: meta.jurisdiction,
                    author_node: self.scope.node_code.clone(),
                    author_user: user.to_string(),
                    origin: self.scope.node_code.clone(),
                    at_ms,
                    bytes: change.bytes,
                },
                projection,
                edit_state: doc.edit_state().map(|state| state.encode()),
            },
            validated.warnings,
        ))
    }

    /// Creates one record. Acknowledged (returns) only once committed. A quality archive that
    /// names its licence takes the licence's particulars, and every reference must name a
    /// record this node holds ([`references`]).
    pub async fn create(
        &self,
        collection: &str,
        jurisdiction: Option<&str>,
        input: &Map<String, Value>,
        author: &Author,
    ) -> Result<Created, ArchiveError> {
        let input = self.with_particulars_of_licence(collection, input).await?;
        let (prepared, warnings) = self.prepare(
            collection,
            jurisdiction,
            &input,
            author,
            licnode_store::now_ms(),
        )?;
        self.refuse_unknown_references(Self::collection(collection)?, &prepared.projection.data)
            .await?;
        let id = prepared.projection.id.clone();
        let seq = self.store.insert_one(prepared).await?;
        let record = self
            .store
            .get(&id)
            .await?
            .ok_or_else(|| ArchiveError::NotFound(id.clone()))?;
        debug_assert_eq!(seq, record.last_seq);
        Ok(Created { record, warnings })
    }

    /// Changes some fields of a record (a partial update; `null` clears a field).
    pub async fn update(
        &self,
        id: &str,
        patch: &Map<String, Value>,
        author: &Author,
    ) -> Result<Updated, ArchiveError> {
        require_write(author)?;
        let user = author.user();
        let current = self
            .store
            .get(id)
            .await?
            .ok_or_else(|| ArchiveError::NotFound(id.to_string()))?;
        let model = Self::collection(&current.collection)?;
        self.require_authority_over(&current)?;
        let validated =
            licnode_model::validate(model, patch, Mode::Patch).map_err(ArchiveError::Invalid)?;
        refuse_outside_regulation(&validated.values)?;
        self.refuse_unknown_references(model, &validated.values)
            .await?;
        let at_ms = licnode_store::now_ms();
        let attribution = Attribution {
            node: self.scope.node_code.clone(),
            user: user.to_string(),
            at_ms,
        };
        let who = Authoring {
            actor: &self.actor,
            user,
            time_ms: at_ms,
        };
        let mut changed = false;
        let result = self
            .store
            .modify(id, &attribution, |doc| {
                let stored = doc.fields();
                self.require_editable(
                    model,
                    id,
                    &current.jurisdiction,
                    doc.creator_node(),
                    &stored,
                )?;
                // Decided on the validated patch and the stored record, inside the write, so
                // the record cannot change between the check and the write (issue 11, item 1).
                require_approval(
                    author,
                    approval_needed(model.name, &validated.values, Some(&stored)),
                )?;
                guard_terminal_status(model, id, &stored, &validated.values)?;
                let change = doc.update(&validated.values, who)?;
                changed = change.is_some();
                Ok::<_, ArchiveError>(change)
            })
            .await;
        let record = match result {
            Ok(record) => record,
            Err(ModifyError::NotFound(id)) => return Err(ArchiveError::NotFound(id)),
            Err(ModifyError::Rejected(error)) => return Err(error),
            Err(ModifyError::Store(error)) => return Err(error.into()),
        };
        Ok(Updated {
            record,
            warnings: validated.warnings,
            changed,
        })
    }

    /// Why `author` may not edit the record `id` at this node, if it may not — the checks
    /// [`Archive::update`] makes before it reads a patch: the role (auditors read only), the
    /// authority table, a read-only copy of a record that flows down (Art. 32), a submitted
    /// report (Art. 18–20). The web application asks it before offering an edit; the write
    /// itself is decided by `update` again.
    pub async fn edit_refusal(
        &self,
        id: &str,
        author: &Author,
    ) -> Result<Option<ArchiveError>, ArchiveError> {
        let current = self.get(id).await?;
        let model = Self::collection(&current.collection)?;
        let mut document = self.document(id).await?;
        let creator = document.creator_node();
        let refusal = require_write(author)
            .and_then(|()| self.require_authority_over(&current))
            .and_then(|()| {
                self.require_editable(
                    model,
                    id,
                    &current.jurisdiction,
                    creator,
                    &document.fields(),
                )
            })
            .err();
        Ok(refusal)
    }

    /// One record.
    pub async fn get(&self, id: &str) -> Result<StoredRecord, ArchiveError> {
        self.store
            .get(id)
            .await?
            .ok_or_else(|| ArchiveError::NotFound(id.to_string()))
    }

    /// One record, or `None` when this node holds no record `id`.
    pub async fn find(&self, id: &str) -> Result<Option<StoredRecord>, StoreError> {
        self.store.get(id).await
    }

    /// A page of records.
    pub async fn list(&self, query: &ListQuery) -> Result<Page, StoreError> {
        self.store.list(query).await
    }

    /// A page of records whose enterprise name, licence number or credit code matches.
    pub async fn search(&self, query: &SearchQuery) -> Result<Page, StoreError> {
        self.store.search(query).await
    }

    /// A page of public records (Art. 36), for the public query service.
    pub async fn public_records(&self, query: &PublicQuery) -> Result<PublicPage, StoreError> {
        self.store.public_records(query).await
    }

    /// How many records each collection holds.
    pub async fn counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.store.counts().await
    }

    /// The change log after `after`, optionally of some collections only.
    pub async fn changes_after(
        &self,
        after: i64,
        collections: Option<&[&str]>,
        limit: i64,
    ) -> Result<Vec<LoggedChange>, StoreError> {
        self.store.changes_after(after, collections, limit).await
    }

    /// [`Archive::changes_after`] without the changes' bytes (`bytes` left empty): the change
    /// log as staff read it, where only who wrote what and when is shown.
    pub async fn change_metadata_after(
        &self,
        after: i64,
        collections: Option<&[&str]>,
        limit: i64,
    ) -> Result<Vec<LoggedChange>, StoreError> {
        self.store
            .change_metadata_after_not_from(after, collections, None, limit)
            .await
    }

    /// Wakes the sync loop and the children's long-polls when the change log moved past
    /// `seen` (see [`Store::notice_external_writes`]); returns the log's end.
    pub async fn notice_external_writes(&self, seen: i64) -> Result<i64, StoreError> {
        self.store.notice_external_writes(seen).await
    }

    /// Who holds the node's once-only lock (see [`Store::once_only_holder`]).
    pub async fn once_only_holder(&self) -> Result<licnode_store::OnceOnlyHolder, StoreError> {
        self.store.once_only_holder().await
    }

    /// The latest recorded runs of the once-only work `task`, newest first.
    pub async fn once_only_runs(
        &self,
        task: &str,
        limit: i64,
    ) -> Result<Vec<licnode_store::OnceOnlyRun>, StoreError> {
        self.store.once_only_runs(task, limit).await
    }

    /// The number of the last change stored.
    pub async fn last_seq(&self) -> Result<i64, StoreError> {
        self.store.last_seq().await
    }

    /// How many received changes are held in quarantine.
    pub async fn quarantine_count(&self) -> Result<i64, StoreError> {
        self.store.quarantine_count().await
    }

    /// The document of a record, loaded.
    pub async fn document(&self, id: &str) -> Result<RecordDoc, ArchiveError> {
        let bytes = self
            .store
            .document(id)
            .await?
            .ok_or_else(|| ArchiveError::NotFound(id.to_string()))?;
        RecordDoc::load(&bytes).map_err(|source| {
            ArchiveError::Store(StoreError::CorruptDocument {
                id: id.to_string(),
                source: Box::new(source),
            })
        })
    }

    /// Every change of a record, oldest first, with author node, user and time.
    pub async fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, ArchiveError> {
        Ok(self.document(id).await?.history())
    }

    /// The fields of a record that hold concurrent values.
    pub async fn conflicts(&self, id: &str) -> Result<Vec<Conflict>, ArchiveError> {
        Ok(self.document(id).await?.conflicts())
    }
}

/// Auditors read and write nothing.
pub(crate) fn require_write(author: &Author) -> Result<(), ArchiveError> {
    if author.role().may_write() {
        Ok(())
    } else {
        Err(ArchiveError::ReadOnlyRole {
            user: author.user().to_string(),
            role: author.role(),
        })
    }
}

/// Refuses a write that needs an approver unless the author may approve.
pub(crate) fn require_approval(
    author: &Author,
    approval: Option<Approval>,
) -> Result<(), ArchiveError> {
    match approval {
        Some(approval) if !author.role().may_approve() => Err(ArchiveError::ApprovalRequired {
            user: author.user().to_string(),
            role: author.role(),
            approval,
        }),
        _ => Ok(()),
    }
}

/// Art. 28 (and ARCHITECTURE.md, principle 2): a licence withdrawn, revoked or cancelled stays so; its
/// status is not edited back to a non-terminal value.
pub(crate) fn guard_terminal_status(
    model: &Collection,
    id: &str,
    current: &Map<String, Value>,
    values: &Map<String, Value>,
) -> Result<(), ArchiveError> {
    let Some(status_field) = model.status_field else {
        return Ok(());
    };
    if model.name != "licences" {
        return Ok(());
    }
    let Some(new_status) = values.get(status_field) else {
        return Ok(());
    };
    let Some(old_status) = current.get(status_field) else {
        return Ok(());
    };
    if licnode_doc::rules::is_terminal_status(old_status) && new_status != old_status {
        return Err(ArchiveError::TerminalLicence(id.to_string()));
    }
    Ok(())
}
