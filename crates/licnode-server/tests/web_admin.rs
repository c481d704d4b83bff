//! The administration pages of the staff web application through real HTTP, as a browser
//! without JavaScript uses them (a cookie jar kept by hand, forms posted urlencoded), on SQLite
//! and PostgreSQL: accounts and API tokens, the audit log and its verification, the node's
//! health and "sync now", the deadline board and the quarantine (issue 12, items 5 and 6, and
//! the hostile-input acceptance).
#[path = "web_admin/harness.rs"]
mod harness;
mod web_client;

#[path = "web_admin/accounts.rs"]
mod accounts;
#[path = "web_admin/oversight.rs"]
mod oversight;
