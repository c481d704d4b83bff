//! Test support: throwaway PostgreSQL clusters, fresh databases and temporary node directories.
//!
//! Every storage test runs against both backends. The usual shape is:
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! for backend in licnode_testkit::BACKENDS {
//!     let node_directory = licnode_testkit::temp_dir()?;
//!     // Keep `_database` alive for as long as the test uses the URL.
//!     let (database_url, _database) =
//!         licnode_testkit::database_url(backend, node_directory.path()).await?;
//!     // open the store at `database_url` and exercise it …
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Where the PostgreSQL databases come from
//!
//! [`postgres_database`] returns a fresh, empty database (`CREATE DATABASE licnode_test_…`) for
//! every call, so concurrent tests never see each other's rows.
//!
//! - If `LICNODE_TEST_POSTGRES_URL` is set, it is an administrator URL to an existing server
//!   (for example `postgres://postgres:secret@db.example:5432/postgres`); the databases are
//!   created there and dropped, best effort, when their [`TestDatabase`] is dropped.
//! - Otherwise the first call in a test process starts one throwaway cluster from the
//!   installed PostgreSQL server binaries (`initdb` on `PATH`, else the highest version under
//!   `/usr/lib/postgresql/*/bin`). The cluster lives in `/tmp/licnode-pg-…`, listens only on a
//!   Unix socket in that directory, runs with durability turned off (`fsync=off`, …) and trusts
//!   every local connection. When the process runs as root, `initdb` and the server run as the
//!   `postgres` system user through `runuser`, because PostgreSQL refuses to run as root.
//!   A detached supervisor shell runs `initdb` and `pg_ctl start`, then waits for the test
//!   process to exit (however it exits, even by `SIGKILL`) and stops the server and removes the
//!   directory; allow a second or two after the process ends.
//!   Databases in the throwaway cluster are not dropped one by one: the cluster goes as a whole.
//!
//! Note that the cluster is per process: a test runner that runs each test in its own process
//! (cargo-nextest) starts one cluster per PostgreSQL test, which costs about a second each.

#[cfg(feature = "browser")]
pub mod browser;
pub mod faults;
#[cfg(feature = "fuzz")]
pub mod fuzz;
pub mod official_forms;
mod ports;
mod postgres;

use std::fmt;
use std::path::Path;

use anyhow::Context;

pub use ports::{free_port, free_ports};
pub use postgres::{TestDatabase, postgres_database};

/// The storage backends a node can run on; storage tests run against each of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Every backend, in the order tests should exercise them.
pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

impl fmt::Display for Backend {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// A database URL for `backend` that no other test uses.
///
/// For SQLite: `sqlite://<directory>/licnode.db?mode=rwc` (the file is created on first
/// connection) and no [`TestDatabase`]. For PostgreSQL: a fresh database from
/// [`postgres_database`]; keep the returned [`TestDatabase`] alive while the URL is in use.
pub async fn database_url(
    backend: Backend,
    directory: &Path,
) -> anyhow::Result<(String, Option<TestDatabase>)> {
    match backend {
        Backend::Sqlite => {
            let database_path = directory.join("licnode.db");
            let encoded_path = percent_encode_path(
                database_path
                    .to_str()
                    .with_context(|| format!("test directory {directory:?} is not UTF-8"))?,
            );
            Ok((format!("sqlite://{encoded_path}?mode=rwc"), None))
        }
        Backend::Postgres => {
            let test_database = postgres_database().await?;
            Ok((test_database.url.clone(), Some(test_database)))
        }
    }
}

/// A fresh temporary directory (`licnode-test-…` under the system temporary directory), removed
/// when the returned value is dropped.
pub fn temp_dir() -> anyhow::Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("licnode-test-")
        .tempdir()
        .context("could not create a temporary test directory")
}

/// Percent-encodes everything in a path except unreserved URL characters and `/`, so that it
/// can stand in a URL's path or query value.
pub(crate) fn percent_encode_path(path: &str) -> String {
    let mut encoded = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'/' | b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_keeps_plain_paths_and_escapes_the_rest() {
        assert_eq!(
            percent_encode_path("/tmp/licnode-x_1.db"),
            "/tmp/licnode-x_1.db"
        );
        assert_eq!(percent_encode_path("/tmp/a b?#%"), "/tmp/a%20b%3F%23%25");
    }

    #[tokio::test]
    async fn sqlite_url_points_into_the_given_directory() -> anyhow::Result<()> {
        let node_directory = temp_dir()?;
        let (url, test_database) = database_url(Backend::Sqlite, node_directory.path()).await?;
        assert!(test_database.is_none());
        assert!(url.starts_with("sqlite://"));
        assert!(url.ends_with("/licnode.db?mode=rwc"));
        Ok(())
    }
}
