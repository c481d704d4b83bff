//! The application services every door calls — the JSON API, the staff web application, the
//! command line: the records service (create, update, authorise on validated values), reports,
//! retention and deadlines, and the node's clock. Authorisation is decided here, on validated
//! values, once for every door; the store below (`licnode-store`) is a repository that carries
//! out what these services decided.

#![forbid(unsafe_code)]

pub mod accounts;
pub mod administration;
pub mod anchors;
pub mod audit;
pub mod clock;
pub mod deadlines;
pub mod licence_actions;
pub mod licence_file;
pub mod network;
pub mod official_forms;
pub mod overview;
pub mod own_issuance;
pub mod records;
pub mod replication;
pub mod reports;
pub mod retention;
pub mod spot_check_notices;

pub use clock::{Clock, ManualClock, OffsetClock, SharedClock, SystemClock};
pub use licence_actions::LicenceActionError;
pub use licnode_store::DeadlineQuery;
pub use records::secrecy::{Reader, SecretFields};
pub use records::{
    Approval, Archive, ArchiveError, Author, BulkRow, BulkWriter, Created, NodeScope, Updated,
};
pub use reports::{
    PeriodSummary, ReportError, ReportSettings, ReporterStatus, Reports, RunResult, report_id,
};
pub use retention::RetentionError;
