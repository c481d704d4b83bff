//! The statutory reports as data (Art. 18–21, 26 and Attachments 1–3): report periods and
//! their due dates, the monthly report's four tables, the official forms' layouts with their
//! headings exactly as the original prints them, and the forms as XLSX and CSV bytes. No IO.

#![forbid(unsafe_code)]

pub mod files;
pub mod forms;
pub mod monthly;
pub mod period;
pub mod yearly;

pub use files::{FileError, to_csv, to_xlsx};
pub use forms::{FillDate, Form, FormName, HeaderCell, Orientation};
pub use monthly::{MonthlyContent, MonthlyTables, YearlyFigures};
pub use period::{Period, PeriodError, ReportKind};
pub use yearly::{SupervisionReportTotals, YEARLY_SECTIONS, YearlyContent, missing_narratives};
