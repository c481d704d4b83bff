//! The time limits the regulation sets, in days or years, for schedulers and reports.

/// Art. 23: an inspection body reports product-inspection results within 5 days of finishing.
pub const INSPECTION_RESULT_REPORT_DAYS: u32 = 5;
/// Art. 27: a licence is added to the licensed-enterprise database within 10 days of approval
/// (or of receiving the provincial data).
pub const LICENCE_DATABASE_UPDATE_DAYS: u32 = 10;
/// Art. 28: the national centre records a national cancellation within 5 days.
pub const NATIONAL_CANCELLATION_UPDATE_DAYS: u32 = 5;
/// Art. 28: provincial cancellations are recorded within 10 days (by the province, or by the
/// national centre from receiving them).
pub const PROVINCIAL_CANCELLATION_UPDATE_DAYS: u32 = 10;
/// Art. 30: an approved reviewer is registered within 5 days.
pub const REVIEWER_REGISTRATION_DAYS: u32 = 5;
/// Art. 31: review-department and inspection-body filings are applied within 5 days.
pub const FILING_UPDATE_DAYS: u32 = 5;
/// Art. 20: provinces report post-licence supervision to the national level every October.
pub const YEARLY_SUPERVISION_REPORT_MONTH: u32 = 10;
/// Art. 37: archives and databases are kept 5 years.
pub const RETENTION_YEARS: u32 = 5;
