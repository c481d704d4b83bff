//! Fresh PostgreSQL databases for tests: on `LICNODE_TEST_POSTGRES_URL`, or in one throwaway
//! cluster per test process that a detached supervisor removes when the process exits.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tokio::sync::OnceCell;

use crate::percent_encode_path;

/// Administrator URL of an existing server to create test databases on, instead of starting a
/// throwaway cluster.
const POSTGRES_URL_VARIABLE: &str = "LICNODE_TEST_POSTGRES_URL";

/// The port number only names the socket file: the throwaway cluster listens on no TCP port.
const THROWAWAY_CLUSTER_PORT: u16 = 5432;

/// How long `initdb` plus server start may take before the server accepts connections (a
/// loaded two-core machine is slow).
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(60);

/// Settings appended to the throwaway cluster's `postgresql.conf`; the socket directory is
/// added separately.
const THROWAWAY_CLUSTER_SETTINGS: &str = "\
listen_addresses = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 128MB
";

/// A fresh, empty PostgreSQL database that belongs to one test.
///
/// On a server named by `LICNODE_TEST_POSTGRES_URL` the database is dropped, best effort, when
/// this value is dropped. In the throwaway cluster it is left in place: the whole cluster is
/// removed when the test process exits.
#[derive(Debug)]
pub struct TestDatabase {
    /// Connection URL for the database, ready for `PgPool::connect`.
    pub url: String,
    /// The database's name, `licnode_test_…`.
    pub name: String,
    /// Administrator URL to drop the database with when this value is dropped, if any.
    administrator_url_for_drop: Option<String>,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(administrator_url) = self.administrator_url_for_drop.take() else {
            return;
        };
        let database_name = self.name.clone();
        // Drop runs synchronously, possibly on a runtime thread: use a thread of our own with a
        // runtime of its own, and ignore every failure (the server may be gone already).
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut connection) = PgConnection::connect(&administrator_url).await {
                    let statement =
                        format!("DROP DATABASE IF EXISTS \"{database_name}\" WITH (FORCE)");
                    let _ = sqlx::raw_sql(AssertSqlSafe(statement))
                        .execute(&mut connection)
                        .await;
                    let _ = connection.close().await;
                }
            });
        });
        let _ = dropper.join();
    }
}

/// Creates a fresh, empty database and returns its URL; see the crate documentation for where
/// the server comes from.
pub async fn postgres_database() -> anyhow::Result<TestDatabase> {
    let database_name = unique_database_name();
    match std::env::var(POSTGRES_URL_VARIABLE) {
        Ok(administrator_url) if !administrator_url.trim().is_empty() => {
            let administrator_url = administrator_url.trim().to_owned();
            create_database(&administrator_url, &database_name)
                .await
                .with_context(|| {
                    format!("could not create a test database on {POSTGRES_URL_VARIABLE}")
                })?;
            let url = replace_database_in_url(&administrator_url, &database_name)?;
            Ok(TestDatabase {
                url,
                name: database_name,
                administrator_url_for_drop: Some(administrator_url),
            })
        }
        _ => {
            let cluster = throwaway_cluster().await?;
            create_database(&cluster.url_for_database("postgres"), &database_name)
                .await
                .context("could not create a test database in the throwaway cluster")?;
            Ok(TestDatabase {
                url: cluster.url_for_database(&database_name),
                name: database_name,
                administrator_url_for_drop: None,
            })
        }
    }
}

/// `licnode_test_<process id>_<random>_<sequence>`: unique within the process and, with
/// overwhelming likelihood, among processes sharing one server.
fn unique_database_name() -> String {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let random = RandomState::new().build_hasher().finish() & 0xffff_ffff_ffff;
    format!(
        "licnode_test_{}_{random:012x}_{sequence}",
        std::process::id()
    )
}

async fn create_database(administrator_url: &str, database_name: &str) -> anyhow::Result<()> {
    let mut connection = PgConnection::connect(administrator_url)
        .await
        .context("could not connect as administrator")?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE DATABASE \"{database_name}\""
    )))
    .execute(&mut connection)
    .await
    .with_context(|| format!("CREATE DATABASE {database_name} failed"))?;
    connection
        .close()
        .await
        .context("could not close the administrator connection")?;
    Ok(())
}

/// Replaces the database (the URL's path) in a `postgres://` URL, keeping its query string.
fn replace_database_in_url(url: &str, database_name: &str) -> anyhow::Result<String> {
    let (scheme, remainder) = url
        .split_once("://")
        .with_context(|| format!("{POSTGRES_URL_VARIABLE} is not a URL: no `://`"))?;
    let (before_query, query) = match remainder.split_once('?') {
        Some((before_query, query)) => (before_query, Some(query)),
        None => (remainder, None),
    };
    let authority = before_query
        .split_once('/')
        .map_or(before_query, |(authority, _database)| authority);
    Ok(match query {
        Some(query) => format!("{scheme}://{authority}/{database_name}?{query}"),
        None => format!("{scheme}://{authority}/{database_name}"),
    })
}

/// The throwaway cluster of this test process.
#[derive(Debug)]
struct ThrowawayCluster {
    /// Holds the data directory, the server log and the server's Unix socket.
    cluster_directory: PathBuf,
}

impl ThrowawayCluster {
    fn url_for_database(&self, database_name: &str) -> String {
        let socket_directory = percent_encode_path(&self.cluster_directory.to_string_lossy());
        format!(
            "postgres://postgres@localhost:{THROWAWAY_CLUSTER_PORT}/{database_name}?host={socket_directory}&sslmode=disable"
        )
    }
}

/// Starts the throwaway cluster on first use. A failure is remembered, so the other tests of
/// the process report it at once instead of each trying again.
async fn throwaway_cluster() -> anyhow::Result<&'static ThrowawayCluster> {
    static CLUSTER: OnceCell<Result<ThrowawayCluster, String>> = OnceCell::const_new();
    let started = CLUSTER
        .get_or_init(|| async {
            start_throwaway_cluster()
                .await
                .map_err(|error| format!("{error:#}"))
        })
        .await;
    match started {
        Ok(cluster) => Ok(cluster),
        Err(message) => bail!("could not start the throwaway PostgreSQL cluster: {message}"),
    }
}

/// Sets the cluster up, then waits for the test process to exit and tears the cluster down.
///
/// It runs detached from the test process, in its own process group and with no inherited
/// pipes, so that neither Ctrl-C on the test run nor the test process's death interrupts it and
/// it never holds the test runner's output open. Because setup and teardown run one after the
/// other in this one script, a test process killed while `initdb` runs still leaves nothing
/// behind. Progress is reported through files in the cluster directory: `setup.log` holds the
/// output of `initdb` and `pg_ctl`, `setup-failed` appears if either fails.
const SUPERVISOR_SCRIPT: &str = r#"
test_process_id="$1"; binary_directory="$2"; cluster_directory="$3"; server_user="$4"; settings="$5"
data_directory="$cluster_directory/data"
as_server_user() {
    if [ "$server_user" = postgres ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cd "$cluster_directory" || exit 1
if as_server_user "$binary_directory/initdb" -D "$data_directory" -A trust -U postgres \
        --no-sync -E UTF8 --locale=C >setup.log 2>&1 \
    && printf '%s' "$settings" >>"$data_directory/postgresql.conf" \
    && as_server_user "$binary_directory/pg_ctl" -D "$data_directory" -l server.log \
        -w -t 30 start >>setup.log 2>&1
then :; else touch setup-failed; fi
while kill -0 "$test_process_id" 2>/dev/null; do sleep 1; done
if [ -f "$data_directory/postmaster.pid" ]; then
    as_server_user "$binary_directory/pg_ctl" -D "$data_directory" stop -m immediate -w -t 30 \
        || kill -9 "$(head -n 1 "$data_directory/postmaster.pid")"
fi
cd / && rm -rf "$cluster_directory"
"#;

/// Who runs `initdb`, `pg_ctl` and the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerUser {
    /// The test process's own user.
    Current,
    /// The `postgres` system user, through `runuser`: the test process is root, and
    /// PostgreSQL refuses to run as root.
    PostgresSystemUser,
}

async fn start_throwaway_cluster() -> anyhow::Result<ThrowawayCluster> {
    use std::os::unix::process::CommandExt;

    let binary_directory = find_postgres_binary_directory()?;
    let server_user = if current_user_is_root()? {
        ServerUser::PostgresSystemUser
    } else {
        ServerUser::Current
    };

    // Under /tmp rather than $TMPDIR: every parent must be traversable by the `postgres` user.
    let cluster_directory = tempfile::Builder::new()
        .prefix("licnode-pg-")
        .tempdir_in("/tmp")
        .context("could not create the cluster directory under /tmp")?
        .keep();
    if server_user == ServerUser::PostgresSystemUser {
        hand_directory_to_postgres_user(&cluster_directory)?;
    }

    let settings = format!(
        "\n# licnode-testkit: a throwaway cluster for tests\n{THROWAWAY_CLUSTER_SETTINGS}\
         port = {THROWAWAY_CLUSTER_PORT}\nunix_socket_directories = '{}'\n",
        cluster_directory.display()
    );
    let server_user_argument = match server_user {
        ServerUser::Current => "current",
        ServerUser::PostgresSystemUser => "postgres",
    };
    let supervisor = std::process::Command::new("sh")
        .arg("-c")
        .arg(SUPERVISOR_SCRIPT)
        .arg("licnode-testkit-postgres-supervisor")
        .arg(std::process::id().to_string())
        .arg(&binary_directory)
        .arg(&cluster_directory)
        .arg(server_user_argument)
        .arg(settings)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    if let Err(error) = supervisor {
        let _ = std::fs::remove_dir_all(&cluster_directory);
        return Err(error).context("could not start the cluster supervisor (`sh`)");
    }
    // The supervisor is never waited for: it outlives this process by design.

    let cluster = ThrowawayCluster { cluster_directory };
    wait_until_accepting_connections(&cluster).await?;
    Ok(cluster)
}

async fn wait_until_accepting_connections(cluster: &ThrowawayCluster) -> anyhow::Result<()> {
    let url = cluster.url_for_database("postgres");
    let deadline = Instant::now() + SERVER_START_TIMEOUT;
    loop {
        let failure = if cluster.cluster_directory.join("setup-failed").exists() {
            Some("initdb or pg_ctl start failed".to_owned())
        } else {
            match PgConnection::connect(&url).await {
                Ok(connection) => {
                    let _ = connection.close().await;
                    return Ok(());
                }
                Err(error) if Instant::now() >= deadline => Some(format!(
                    "the server did not accept connections within {SERVER_START_TIMEOUT:?} \
                     (last error: {error})"
                )),
                Err(_) => None,
            }
        };
        if let Some(failure) = failure {
            bail!(
                "{failure} in {}\nsetup output:\n{}\nserver log:\n{}",
                cluster.cluster_directory.display(),
                read_log(&cluster.cluster_directory.join("setup.log")),
                read_log(&cluster.cluster_directory.join("server.log"))
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn read_log(log_path: &Path) -> String {
    std::fs::read_to_string(log_path)
        .unwrap_or_else(|error| format!("(could not read {}: {error})", log_path.display()))
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`: the one on `PATH` if there is one,
/// else the highest version under `/usr/lib/postgresql/*/bin`.
fn find_postgres_binary_directory() -> anyhow::Result<PathBuf> {
    if let Some(path_variable) = std::env::var_os("PATH") {
        for directory in std::env::split_paths(&path_variable) {
            if directory.join("initdb").is_file() && directory.join("pg_ctl").is_file() {
                return Ok(directory);
            }
        }
    }
    let mut versioned_directories: Vec<(u32, PathBuf)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        for entry in entries.flatten() {
            let Some(version) = entry
                .file_name()
                .to_str()
                .and_then(|name| name.parse::<u32>().ok())
            else {
                continue;
            };
            let binary_directory = entry.path().join("bin");
            if binary_directory.join("initdb").is_file() {
                versioned_directories.push((version, binary_directory));
            }
        }
    }
    versioned_directories
        .into_iter()
        .max_by_key(|(version, _)| *version)
        .map(|(_, binary_directory)| binary_directory)
        .with_context(|| {
            format!(
                "no PostgreSQL server binaries: initdb is neither on PATH nor under \
                 /usr/lib/postgresql/*/bin (install the `postgresql` package, or set \
                 {POSTGRES_URL_VARIABLE} to an administrator URL of a running server)"
            )
        })
}

fn current_user_is_root() -> anyhow::Result<bool> {
    Ok(run_id(&["-u"])? == 0)
}

/// Runs `id <arguments>` and parses the number it prints.
fn run_id(arguments: &[&str]) -> anyhow::Result<u32> {
    let output = std::process::Command::new("id")
        .args(arguments)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not run `id {}`", arguments.join(" ")))?;
    if !output.status.success() {
        bail!(
            "`id {}` failed: {}",
            arguments.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let printed = String::from_utf8_lossy(&output.stdout);
    printed
        .trim()
        .parse()
        .with_context(|| format!("`id {}` printed {printed:?}", arguments.join(" ")))
}

fn hand_directory_to_postgres_user(directory: &Path) -> anyhow::Result<()> {
    let user_id = run_id(&["-u", "postgres"]).context(
        "the tests run as root, so PostgreSQL must run as the `postgres` system user, \
         which was not found",
    )?;
    let group_id = run_id(&["-g", "postgres"])?;
    std::os::unix::fs::chown(directory, Some(user_id), Some(group_id)).with_context(|| {
        format!(
            "could not hand {} to the postgres user",
            directory.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_replaced_in_administrator_urls() -> anyhow::Result<()> {
        assert_eq!(
            replace_database_in_url("postgres://user:secret@db:5432/postgres", "fresh")?,
            "postgres://user:secret@db:5432/fresh"
        );
        assert_eq!(
            replace_database_in_url("postgres://db?sslmode=disable", "fresh")?,
            "postgres://db/fresh?sslmode=disable"
        );
        assert_eq!(
            replace_database_in_url("postgresql://db/postgres?host=/run/pg", "fresh")?,
            "postgresql://db/fresh?host=/run/pg"
        );
        Ok(())
    }

    #[test]
    fn database_names_are_unique_and_valid_identifiers() {
        let first = unique_database_name();
        let second = unique_database_name();
        assert_ne!(first, second);
        assert!(
            first.len() <= 63,
            "{first} is longer than PostgreSQL allows"
        );
        assert!(
            first
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
        );
    }
}
