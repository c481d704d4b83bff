//! The reports service (Art. 18–20): runs a period's report, revises a submitted one when the
//! records changed, submits (freezes) a draft, and shows a superior who below reported what.
//! Reports are `reports` records written through the records service, so they are documents
//! like any other and flow up by replication.
//!
//! A report's id is derived from (node, kind, period, revision): running a period twice names
//! the same record, and a correction after submission is the next revision, which
//! `supersedes` the one before.

use licnode_reports::{
    MonthlyContent, Period, PeriodError, ReportKind, SupervisionReportTotals, YearlyContent,
};
use licnode_store::{ReportRun, StoreError, StoredRecord};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::clock::SharedClock;
use crate::own_issuance::IssuingAuthority;
use crate::records::{Archive, ArchiveError, Author};

/// Refusals and failures of report operations, each with a stable machine code.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Period(#[from] PeriodError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no report {0:?}")]
    NotFound(String),
    #[error(
        "report {0} is already submitted; a correction is a new revision (run the period again)"
    )]
    AlreadySubmitted(String),
    #[error("report {0} belongs to another node; only its own node submits it")]
    NotOwnReport(String),
    #[error("the period {0} cannot be reported yet")]
    PeriodNotEnded(String),
    /// Art. 20: a yearly report states how each of its four contents went in words; staff
    /// write them in the report's narrative fields before it is submitted.
    #[error(
        "yearly report {id} lacks the narrative of {}: write them (Art. 20), then submit",
        sections.join("、")
    )]
    NarrativeMissing {
        id: String,
        sections: Vec<&'static str>,
    },
}

impl ReportError {
    pub fn code(&self) -> &'static str {
        match self {
            ReportError::Period(error) => error.code(),
            ReportError::Archive(error) => error.code(),
            ReportError::Store(_) => "internal",
            ReportError::NotFound(_) => "not_found",
            ReportError::AlreadySubmitted(_) => "report_already_submitted",
            ReportError::NotOwnReport(_) => "report_not_own",
            ReportError::PeriodNotEnded(_) => "period_not_ended",
            ReportError::NarrativeMissing { .. } => "narrative_missing",
        }
    }
}

/// What a node puts on its reports and whether they go up without an approver.
#[derive(Clone, Debug)]
pub struct ReportSettings {
    /// 填报单位: the agency's name.
    pub unit_name: String,
    /// Submit (freeze) each report as soon as it is built.
    pub auto_submit: bool,
}

/// The id of revision `revision` of the `kind` report of `period` by `node`: a UUID (version 8,
/// RFC 9562) made of the SHA-256 of those four, so every run names the same record.
pub fn report_id(node: &str, kind: ReportKind, period: &Period, revision: i64) -> String {
    let mut hasher = Sha256::new();
    for part in [
        "licnode-report",
        node,
        kind.as_str(),
        &period.to_string(),
        &revision.to_string(),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(bytes).to_string()
}

/// A run's result: the run as recorded and the report it left (absent when it failed).
#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    pub run: ReportRun,
    pub report: Option<StoredRecord>,
}

/// One reporter's standing for a period at the node that receives the reports.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ReporterStatus {
    /// The reporting bureau's division code and name.
    pub division: String,
    pub name: String,
    /// The latest revision held, if any.
    pub report_id: Option<String>,
    pub revision: Option<i64>,
    pub status: Option<String>,
    pub submitted_at: Option<String>,
    /// applicants, granted, refused, changed, terminated (monthly) as the report states them.
    pub counts: Option<[i64; 5]>,
    /// Days past the due date with nothing submitted (0 when on time or not yet due).
    pub days_late: i64,
}

/// The national (or superior) view of one period: who reported what, who has not.
#[derive(Clone, Debug, Serialize)]
pub struct PeriodSummary {
    pub kind: ReportKind,
    pub period: String,
    pub due_date: String,
    pub reporters: Vec<ReporterStatus>,
    /// Sums of the submitted reports' counts.
    pub totals: [i64; 5],
    /// Division codes of the bureaus that have not submitted, late or not yet due.
    pub missing: Vec<String>,
}

/// The reports of one node: runs, submission, and the view of the reports received from below.
#[derive(Clone)]
pub struct Reports {
    pub archive: Archive,
    pub clock: SharedClock,
    pub settings: ReportSettings,
}

fn text<'a>(data: &'a Map<String, Value>, field: &str) -> &'a str {
    data.get(field).and_then(Value::as_str).unwrap_or("")
}

fn int(data: &Map<String, Value>, field: &str) -> i64 {
    data.get(field).and_then(Value::as_i64).unwrap_or(0)
}

fn now_rfc3339(clock: &SharedClock) -> String {
    clock
        .now_china()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

impl Archive {
    /// The latest report runs, of one kind or all, newest first.
    pub async fn report_runs(
        &self,
        kind: Option<ReportKind>,
        limit: i64,
    ) -> Result<Vec<ReportRun>, StoreError> {
        self.store.report_runs(kind, limit).await
    }
}

impl Reports {
    pub fn new(archive: Archive, clock: SharedClock, settings: ReportSettings) -> Reports {
        Reports {
            archive,
            clock,
            settings,
        }
    }

    fn node(&self) -> &str {
        &self.archive.scope.node_code
    }

    /// The latest runs, of one kind or all, newest first.
    pub async fn runs(
        &self,
        kind: Option<ReportKind>,
        limit: i64,
    ) -> Result<Vec<ReportRun>, StoreError> {
        self.archive.report_runs(kind, limit).await
    }

    /// The periods of `kind` that have a finished run.
    pub async fn periods_run(&self, kind: ReportKind) -> Result<Vec<String>, StoreError> {
        self.archive.store.periods_run(kind).await
    }

    /// Records a run of `period` that was not carried out, and why (`detail`).
    pub async fn record_skipped_run(
        &self,
        period: &Period,
        started_by: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        let store = &self.archive.store;
        let at_ms = self.clock.now_ms();
        let run = store
            .start_report_run(period.kind(), period, started_by, at_ms)
            .await?;
        store
            .finish_report_run(run, at_ms, "skipped", None, Some(detail))
            .await
    }

    /// Every revision of this node's report of `period` it holds, oldest first.
    pub async fn revisions(&self, period: &Period) -> Result<Vec<StoredRecord>, ReportError> {
        let mut found = Vec::new();
        for revision in 1.. {
            let id = report_id(self.node(), period.kind(), period, revision);
            match self.archive.store.get(&id).await? {
                Some(record) => found.push(record),
                None => break,
            }
        }
        Ok(found)
    }

    /// The report's fields for `content` (without status and revision).
    async fn build(&self, period: &Period) -> Result<Map<String, Value>, ReportError> {
        let within = self.node().to_string();
        let mut fields = Map::new();
        match period.kind() {
            ReportKind::Monthly => {
                let held = self.archive.store.rollup_monthly(&within, period).await?;
                // Art. 19, Attachment 1: only the node's own decisions (a province's
                // territory also holds nationally issued licences, which national counts).
                let source = match IssuingAuthority::of_node(&within) {
                    Some(authority) => authority.own_decisions(held),
                    None => held,
                };
                let content = MonthlyContent::build(period, &source);
                let [applicants, granted, refused, changed, terminated] = content.counts();
                fields.insert("applicant_count".into(), json!(applicants));
                fields.insert("granted_count".into(), json!(granted));
                fields.insert("refused_count".into(), json!(refused));
                fields.insert("changed_count".into(), json!(changed));
                fields.insert("terminated_count".into(), json!(terminated));
                fields.insert(
                    "content".into(),
                    Value::String(serde_json::to_string(&content).unwrap_or_default()),
                );
            }
            ReportKind::Yearly => {
                let figures = self.archive.store.rollup_yearly(&within, period).await?;
                let totals = self.supervision_report_totals(period).await?;
                let content = YearlyContent::build(period.to_string(), figures, &totals);
                fields.insert(
                    "content".into(),
                    Value::String(serde_json::to_string(&content).unwrap_or_default()),
                );
            }
        }
        Ok(fields)
    }

    /// The sums of the supervision reports of `period`'s year this node holds within its
    /// territory (Art. 20: its own and those its bureaus below sent up).
    async fn supervision_report_totals(
        &self,
        period: &Period,
    ) -> Result<SupervisionReportTotals, StoreError> {
        let mut totals = SupervisionReportTotals::default();
        let mut query = licnode_store::ListQuery {
            collection: "supervision_reports".to_string(),
            within: Some(self.node().to_string()),
            limit: 500,
            ..licnode_store::ListQuery::default()
        };
        loop {
            let page = self.archive.store.list(&query).await?;
            for report in &page.items {
                if report.data.get("year").and_then(Value::as_i64) == Some(i64::from(period.year()))
                {
                    totals.add(&report.data);
                }
            }
            match (page.next, page.items.last()) {
                (Some(_), Some(last)) => query.after = Some(last.key),
                _ => return Ok(totals),
            }
        }
    }

    /// True when this node has a report of `period` whose content no longer matches the
    /// records (a late entry or correction): running the period again would change it.
    pub async fn is_stale(&self, period: &Period) -> Result<bool, ReportError> {
        let Some(latest) = self.revisions(period).await?.pop() else {
            return Ok(false);
        };
        let fields = self.build(period).await?;
        Ok(text(&latest.data, "content") != text(&fields, "content"))
    }

    /// Builds (or rebuilds) this node's report of `period` and records the run.
    ///
    /// - no report yet: revision 1 is created;
    /// - the latest revision is a draft: its content is brought up to date;
    /// - the latest revision is submitted and the records have changed since: the next
    ///   revision is created, superseding it (Art. 19: the national centre must hold what is
    ///   true, and what it was told stays as it was);
    /// - otherwise nothing changes.
    ///
    /// Drafts are submitted at once when the settings say so.
    pub async fn run(&self, period: &Period, started_by: &str) -> Result<RunResult, ReportError> {
        // A month is reported once it is over (Art. 18, 19: "上月"); a year from October on,
        // while it is still running (Art. 20: "每年10月就本年度").
        let today = self.clock.today();
        let ready = match period.kind() {
            ReportKind::Monthly => period.last_day() < today,
            ReportKind::Yearly => period.due_date() - chrono::Duration::days(30) <= today,
        };
        if !ready {
            return Err(ReportError::PeriodNotEnded(period.to_string()));
        }
        let store = &self.archive.store;
        let run = store
            .start_report_run(period.kind(), period, started_by, self.clock.now_ms())
            .await?;
        let result = self.run_inner(period).await;
        let now = self.clock.now_ms();
        match result {
            Ok((outcome, record)) => {
                store
                    .finish_report_run(run, now, outcome, Some(&record.id), None)
                    .await?;
                let recorded = store
                    .report_runs(Some(period.kind()), 50)
                    .await?
                    .into_iter()
                    .find(|row| row.id == run);
                Ok(RunResult {
                    run: recorded.unwrap_or_else(|| ReportRun {
                        id: run,
                        kind: period.kind().as_str().into(),
                        period: period.to_string(),
                        started_by: started_by.into(),
                        started_at_ms: now,
                        finished_at_ms: Some(now),
                        outcome: outcome.into(),
                        report_id: Some(record.id.clone()),
                        detail: None,
                    }),
                    report: Some(record),
                })
            }
            Err(error) => {
                let detail = error.to_string();
                store
                    .finish_report_run(run, now, "failed", None, Some(&detail))
                    .await?;
                Err(error)
            }
        }
    }

    /// [`Reports::run`] by a staff member: anyone who may write runs a period (clerks,
    /// approvers, administrators); an auditor only reads (`forbidden_role`).
    pub async fn run_as(&self, period: &Period, author: &Author) -> Result<RunResult, ReportError> {
        crate::records::require_write(author)?;
        self.run(period, author.user()).await
    }

    async fn run_inner(
        &self,
        period: &Period,
    ) -> Result<(&'static str, StoredRecord), ReportError> {
        let fields = self.build(period).await?;
        let revisions = self.revisions(period).await?;
        let (outcome, record) = match revisions.last() {
            None => (
                "created",
                self.create_revision(period, 1, None, fields).await?,
            ),
            Some(latest) if text(&latest.data, "status") == "submitted" => {
                if text(&latest.data, "content") == text(&fields, "content") {
                    ("unchanged", latest.clone())
                } else {
                    let revision = int(&latest.data, "revision").max(1) + 1;
                    let record = self
                        .create_revision(period, revision, Some(&latest.id), fields)
                        .await?;
                    ("revised", record)
                }
            }
            Some(latest) => {
                if text(&latest.data, "content") == text(&fields, "content") {
                    ("unchanged", latest.clone())
                } else {
                    let mut patch = fields;
                    patch.insert("generated_at".into(), json!(now_rfc3339(&self.clock)));
                    patch.insert(
                        "fill_date".into(),
                        json!(self.clock.today().format("%Y-%m-%d").to_string()),
                    );
                    let updated = self
                        .archive
                        .update(&latest.id, &patch, &Author::report_scheduler())
                        .await?;
                    ("updated", updated.record)
                }
            }
        };
        // A yearly report waits for the narratives of its four sections (Art. 20) even where
        // reports go up by themselves.
        let ready = period.kind() == ReportKind::Monthly
            || licnode_reports::missing_narratives(&record.data).is_empty();
        let record =
            if self.settings.auto_submit && ready && text(&record.data, "status") == "draft" {
                self.submit(&record.id, &Author::report_scheduler()).await?
            } else {
                record
            };
        Ok((outcome, record))
    }

    async fn create_revision(
        &self,
        period: &Period,
        revision: i64,
        supersedes: Option<&str>,
        mut fields: Map<String, Value>,
    ) -> Result<StoredRecord, ReportError> {
        let id = report_id(self.node(), period.kind(), period, revision);
        fields.insert("report_kind".into(), json!(period.kind().as_str()));
        fields.insert("period".into(), json!(period.to_string()));
        fields.insert("revision".into(), json!(revision));
        fields.insert("status".into(), json!("draft"));
        fields.insert("reporting_unit".into(), json!(self.settings.unit_name));
        fields.insert("reporting_division".into(), json!(self.node()));
        fields.insert(
            "fill_date".into(),
            json!(self.clock.today().format("%Y-%m-%d").to_string()),
        );
        fields.insert("generated_at".into(), json!(now_rfc3339(&self.clock)));
        if let Some(previous) = supersedes {
            fields.insert("supersedes".into(), json!(previous));
        }
        let (prepared, _warnings) = self.archive.prepare_with_id(
            id.clone(),
            "reports",
            None,
            &fields,
            &Author::report_scheduler(),
            self.clock.now_ms(),
        )?;
        if let Err(error) = self.archive.store.insert_one(prepared).await {
            // A concurrent run of the same period inserted the same id first: that one stands.
            return match self.archive.store.get(&id).await? {
                Some(record) => Ok(record),
                None => Err(error.into()),
            };
        }
        Ok(self.archive.get(&id).await?)
    }

    /// Submits (freezes) a draft of this node: Art. 19 "报送". A submitted report is never
    /// edited; a later correction is a new revision. Submitting is an approver's act, which
    /// the write path checks on `author`'s role.
    pub async fn submit(&self, id: &str, author: &Author) -> Result<StoredRecord, ReportError> {
        let record = self
            .archive
            .store
            .get(id)
            .await?
            .filter(|record| record.collection == "reports")
            .ok_or_else(|| ReportError::NotFound(id.to_string()))?;
        if record.jurisdiction != self.node() {
            return Err(ReportError::NotOwnReport(id.to_string()));
        }
        if text(&record.data, "status") == "submitted" {
            return Err(ReportError::AlreadySubmitted(id.to_string()));
        }
        if text(&record.data, "report_kind") == ReportKind::Yearly.as_str() {
            let sections = licnode_reports::missing_narratives(&record.data);
            if !sections.is_empty() {
                return Err(ReportError::NarrativeMissing {
                    id: id.to_string(),
                    sections,
                });
            }
        }
        let mut patch = Map::new();
        patch.insert("status".into(), json!("submitted"));
        patch.insert("submitted_at".into(), json!(now_rfc3339(&self.clock)));
        Ok(self.archive.update(id, &patch, author).await?.record)
    }

    /// The bureaus expected to report `kind` to this node: every province to the national
    /// node (Art. 18–20); the bureaus one level below to a province or prefecture, yearly
    /// (Art. 20). Monthly reports are the provinces' alone.
    pub fn expected_reporters(&self, kind: ReportKind) -> Vec<(String, String)> {
        let node = self.node();
        let national = node == licnode_model::divisions::NATIONAL_CODE;
        if !national && kind == ReportKind::Monthly {
            return Vec::new();
        }
        licnode_model::divisions::children(node)
            .into_iter()
            .map(|division| (division.code.clone(), division.name.clone()))
            .collect()
    }

    /// Who below reported `period`, who has not and how late they are, and the totals of what
    /// was submitted (Art. 19, 20: the national centre aggregates the provinces' reports).
    pub async fn summary(&self, period: &Period) -> Result<PeriodSummary, ReportError> {
        let kind = period.kind();
        let held = self.archive.store.reports_of_period(kind, period).await?;
        let today = self.clock.today();
        let mut totals = [0i64; 5];
        let mut reporters = Vec::new();
        let mut missing = Vec::new();
        for (division, name) in self.expected_reporters(kind) {
            let latest = held
                .iter()
                .filter(|record| text(&record.data, "reporting_division") == division)
                .max_by_key(|record| int(&record.data, "revision"));
            let submitted = latest
                .map(|record| text(&record.data, "status") == "submitted")
                .unwrap_or(false);
            let counts = latest.map(|record| {
                [
                    int(&record.data, "applicant_count"),
                    int(&record.data, "granted_count"),
                    int(&record.data, "refused_count"),
                    int(&record.data, "changed_count"),
                    int(&record.data, "terminated_count"),
                ]
            });
            if submitted && let Some(counts) = counts {
                for (total, count) in totals.iter_mut().zip(counts) {
                    *total += count;
                }
            }
            if !submitted {
                missing.push(division.clone());
            }
            reporters.push(ReporterStatus {
                division,
                name,
                report_id: latest.map(|record| record.id.clone()),
                revision: latest.map(|record| int(&record.data, "revision")),
                status: latest.map(|record| text(&record.data, "status").to_string()),
                submitted_at: latest
                    .and_then(|record| record.data.get("submitted_at"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
                counts,
                days_late: if submitted {
                    0
                } else {
                    period.days_late(today)
                },
            });
        }
        Ok(PeriodSummary {
            kind,
            period: period.to_string(),
            due_date: period.due_date().format("%Y-%m-%d").to_string(),
            reporters,
            totals,
            missing,
        })
    }
}
