//! The report scheduler: cron expressions from `[schedule]` (China time, with a seconds field)
//! say when the monthly (Art. 18, 19) and yearly (Art. 20) reports are built. The scheduler
//! works from the node's clock and the persisted runs, not from timers: every check asks "which
//! periods are due by now and have no successful run?" So a node that was down when a run was
//! due catches up when it starts, and a test moves the clock instead of waiting.

use std::time::Duration;

use licnode_app::{Reports, RunResult};
use licnode_model::Level;
use licnode_reports::{Period, ReportKind};
use tokio_util::sync::CancellationToken;

use crate::config::ScheduleSection;

/// At most this many missed periods of one kind are caught up at once (two years of months).
const MAX_CATCH_UP: usize = 24;

/// One scheduled report.
#[derive(Clone, Debug)]
pub struct ScheduledReport {
    pub kind: ReportKind,
    pub cron: cron::Schedule,
}

/// The node's schedule: what it reports and when, and how often it checks.
#[derive(Clone, Debug)]
pub struct ReportSchedule {
    pub reports: Vec<ScheduledReport>,
    pub check_every: Duration,
}

impl ReportSchedule {
    /// The schedule of a node of `level`: monthly reports are the provinces' (Art. 18, 19) and
    /// the national centre's own (its roll-up of the country's applicants, Art. 18 "汇总", with
    /// its own decisions, Art. 10, 11, 13); yearly ones every bureau's below the national node
    /// (Art. 20). An empty expression turns a report off. The expressions were parsed when the
    /// configuration was read.
    pub fn from_section(section: &ScheduleSection, level: Level) -> Self {
        let mut reports = Vec::new();
        let wanted = [
            (
                ReportKind::Monthly,
                &section.monthly,
                matches!(level, Level::National | Level::Province),
            ),
            (
                ReportKind::Yearly,
                &section.yearly,
                matches!(level, Level::Province | Level::Prefecture | Level::County),
            ),
        ];
        for (kind, cron, applies) in wanted {
            if let (true, Some(cron)) = (applies, cron) {
                reports.push(ScheduledReport {
                    kind,
                    cron: cron.clone(),
                });
            }
        }
        ReportSchedule {
            reports,
            check_every: section.check_every,
        }
    }
}

/// The periods of `scheduled` that are due by now and have not run successfully: the period of
/// the latest firing time, and every period since the last one that ran (a node down for months
/// catches up each of them).
///
/// A node's first check builds nothing: it records the period then due as `skipped` (it fell
/// due before the node's schedule began) and reports from the next firing on. A node put in
/// service mid-month does not send a report of a month it did not keep; staff can still run
/// any past period by hand.
pub async fn due_periods(
    reports: &Reports,
    scheduled: &ScheduledReport,
) -> anyhow::Result<Vec<Period>> {
    let now = reports.clock.now_china() + chrono::Duration::seconds(1);
    let Some(last_firing) = scheduled.cron.after(&now).next_back() else {
        return Ok(Vec::new());
    };
    let latest = Period::due_on(scheduled.kind, last_firing.date_naive());
    let finished = reports.periods_run(scheduled.kind).await?;
    // Only a finished run (built or skipped) says the schedule has begun: recording the skipped
    // period is two statements, and a kill -9 between them leaves a run `running` forever, after
    // which the next start would build a report of a period the node did not keep (issue 16).
    if finished.is_empty() {
        reports
            .record_skipped_run(
                &latest,
                "schedule",
                "due before the node's schedule began; run it by hand if it is needed",
            )
            .await?;
        return Ok(Vec::new());
    }
    let done: Vec<Period> = finished
        .iter()
        .filter_map(|text| Period::parse(scheduled.kind, text).ok())
        .collect();
    let mut due = Vec::new();
    let mut period = match done.iter().filter(|period| **period < latest).max() {
        Some(previous) => previous.next(),
        None => latest,
    };
    while period <= latest && due.len() < MAX_CATCH_UP {
        if !done.contains(&period) {
            due.push(period);
        }
        period = period.next();
    }
    Ok(due)
}

/// The latest monthly period that has a report, when the records no longer match it: a late
/// entry or a correction, to be rebuilt (a draft is updated; a submitted report gets its next
/// revision, Art. 19). One indexed roll-up per check. Yearly reports are not compared (their
/// figures read a territory's whole archive); a correction to one is run by hand.
async fn stale_period(
    reports: &Reports,
    scheduled: &ScheduledReport,
) -> anyhow::Result<Option<Period>> {
    if scheduled.kind != ReportKind::Monthly {
        return Ok(None);
    }
    let latest = reports
        .runs(Some(scheduled.kind), 50)
        .await?
        .into_iter()
        .filter(|run| run.report_id.is_some())
        .filter_map(|run| Period::parse(scheduled.kind, &run.period).ok())
        .max();
    let Some(period) = latest else {
        return Ok(None);
    };
    Ok(reports.is_stale(&period).await?.then_some(period))
}

/// One check: runs every due period of every scheduled report, and rebuilds the latest
/// reported period when the records no longer match it; returns what ran.
pub async fn check(reports: &Reports, schedule: &ReportSchedule) -> Vec<RunResult> {
    let mut ran = Vec::new();
    for scheduled in &schedule.reports {
        let due = match due_periods(reports, scheduled).await {
            Ok(mut due) => {
                match stale_period(reports, scheduled).await {
                    Ok(Some(stale)) if !due.contains(&stale) => due.push(stale),
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "cannot compare the latest report"),
                }
                due
            }
            Err(error) => {
                tracing::warn!(%error, kind = scheduled.kind.as_str(), "cannot read report runs");
                continue;
            }
        };
        for period in due {
            match reports.run(&period, "schedule").await {
                Ok(result) => {
                    tracing::info!(
                        kind = scheduled.kind.as_str(),
                        period = %period,
                        outcome = %result.run.outcome,
                        "scheduled report built"
                    );
                    ran.push(result);
                }
                Err(error) => tracing::warn!(
                    %error,
                    kind = scheduled.kind.as_str(),
                    period = %period,
                    "scheduled report failed"
                ),
            }
        }
    }
    ran
}

/// Runs [`check`] at start and then every `check_every`, until `cancel` (a check under way is
/// finished first). Every check stands on its own (the runs are persisted), so the node's
/// supervisor starts this again if it dies.
pub async fn run(reports: Reports, schedule: ReportSchedule, cancel: CancellationToken) {
    let mut ticker = tokio::time::interval(schedule.check_every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = ticker.tick() => {}
        }
        check(&reports, &schedule).await;
    }
}
