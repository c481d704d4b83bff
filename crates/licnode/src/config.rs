//! The node's configuration: one TOML file (`licnode.toml`), one documented struct per
//! section, overridable from the environment (`LICNODE_HTTP__LISTEN=0.0.0.0:8640` sets
//! `[http] listen`). Values are typed when the file is read — levels, addresses, durations,
//! cron expressions — so a bad one stops the node at load, naming its `[section] key`, before
//! anything starts (issue 17, item 4).

mod parent;
mod values;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use licnode_model::Level;
use serde::{Deserialize, Serialize};

use values::{cron_or_off, nonzero_human_duration};
pub use values::{format_duration, human_duration, parse_cron, parse_duration};

/// The whole configuration file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub node: NodeSection,
    #[serde(default)]
    pub storage: StorageSection,
    #[serde(default)]
    pub http: HttpSection,
    #[serde(default)]
    pub log: LogSection,
    /// The public query service on a listener of its own; absent means it is served only under
    /// `/public` on the staff listener.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<PublicSection>,
    /// Node-to-node endpoints over mutual TLS; absent means this node accepts no children.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<PeerSection>,
    /// When this node syncs with its parent (only with a parent_url and a certificate).
    #[serde(default)]
    pub sync: SyncSection,
    /// When the statutory reports are built (Art. 18–20).
    #[serde(default)]
    pub schedule: ScheduleSection,
    /// How long archives are kept and how destruction approvals run (Art. 37, 38).
    #[serde(default)]
    pub retention: crate::retention_cli::RetentionSection,
    /// Where the file was read from; relative paths in it are relative to its directory.
    #[serde(skip)]
    pub path: PathBuf,
}

/// Who this node is.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSection {
    /// GB/T 2260 division code of the bureau (`330106`), `100000` for the national node.
    pub code: String,
    /// national, province, prefecture, county, review_department or inspection_body.
    pub level: Level,
    /// The agency's name, e.g. 杭州市西湖区市场监督管理局.
    pub name: String,
    /// The parent node's URL for replication; absent at the national node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_url: Option<String>,
    /// Instead of `parent_url`, every URL the parent serves its children at (a national node
    /// run as several processes), the preferred first: a child fails over to the next when one
    /// does not answer and comes back to the first later (see [`NodeSection::parent_urls`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parent_urls: Vec<String>,
    /// At a province: the prefectures below it that run a node of their own (`["330100"]`).
    /// Their counties link to them, and this node refuses those counties (`not_a_child`); the
    /// counties of every other prefecture link to this province directly.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub child_prefectures: Vec<String>,
}

/// Where the node keeps its archives.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSection {
    /// The node's data directory (relative to the config file's directory).
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; absent means SQLite in `data_dir/licnode.db`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

impl Default for StorageSection {
    fn default() -> Self {
        StorageSection {
            data_dir: default_data_dir(),
            database_url: None,
        }
    }
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

/// The staff HTTP API.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSection {
    /// Address the staff API listens on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Reverse proxies in front of the staff API and the public service, as addresses or
    /// networks (`["10.0.0.0/8", "127.0.0.1", "fd00::/8"]`). A request from one of them is
    /// counted — login throttling, the public rate limit, the audit log — under the right-most
    /// address of its `X-Forwarded-For` that is not itself a trusted proxy; everybody else's
    /// `X-Forwarded-For` is ignored. Empty (the default): nobody's is believed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<String>,
}

impl Default for HttpSection {
    fn default() -> Self {
        HttpSection {
            listen: default_listen(),
            trusted_proxies: Vec::new(),
        }
    }
}

impl HttpSection {
    /// `trusted_proxies`, parsed; an entry that is neither an address nor a network is named.
    pub fn trusted_proxies(
        &self,
    ) -> anyhow::Result<licnode_server::client_address::TrustedProxies> {
        licnode_server::client_address::TrustedProxies::parse(&self.trusted_proxies)
            .map_err(|error| anyhow::anyhow!("[http] trusted_proxies: {error}"))
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8640))
}

/// The public query service (Art. 27, 28, 30, 31, 33–35) on its own listener, serving only
/// `/public`: the address an operator exposes to the internet while the staff API stays private.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicSection {
    /// Address the public service listens on, e.g. `0.0.0.0:8080`.
    pub listen: SocketAddr,
    /// Requests per second a client (an IPv4 address or an IPv6 /64) may make, sustained; 0
    /// turns rate limiting off.
    #[serde(default = "default_public_requests_per_second")]
    pub requests_per_second: f64,
    /// Requests a client may make at once before the rate applies.
    #[serde(default = "default_public_burst")]
    pub burst: u32,
}

fn default_public_requests_per_second() -> f64 {
    licnode_server::public::PublicOptions::default().requests_per_second
}

fn default_public_burst() -> u32 {
    licnode_server::public::PublicOptions::default().burst
}

/// The node-to-node listener: mutual TLS only, for child nodes (replication, certificate
/// renewal, CRLs). The node's certificate, key, root and CRLs are under `<data_dir>/../pki`,
/// as `licnode pki install --dir <node dir>` puts them.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerSection {
    /// Address the mutual-TLS listener binds, e.g. `0.0.0.0:8641`.
    pub listen: SocketAddr,
    /// Refuse every peer once the CRLs are older than this (fail closed), e.g. `45d`.
    #[serde(default = "default_max_crl_age", with = "human_duration")]
    pub max_crl_age: Duration,
    /// Address of the enrollment endpoint (server-authenticated TLS only: a child without a
    /// certificate presents a one-time token from `licnode pki token`). Nodes with a CA only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enroll_listen: Option<SocketAddr>,
}

fn default_max_crl_age() -> Duration {
    licnode_pki::DEFAULT_MAX_CRL_AGE
}

/// When a child syncs with its parent: shortly after a write, on an interval, on demand; with
/// exponential backoff and jitter while the parent is unreachable. Durations like `90s`, `5m`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncSection {
    /// Whether the node syncs by itself (`false`: only `licnode sync now`).
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// A session at least this often.
    #[serde(default = "default_sync_interval", with = "nonzero_human_duration")]
    pub interval: Duration,
    /// After a write, wait this long for more before syncing (a batch a child pushed goes on
    /// at once while the link works: it is gathered already).
    #[serde(default = "default_sync_debounce", with = "human_duration")]
    pub debounce: Duration,
    /// The longest wait between attempts while the parent is unreachable.
    #[serde(default = "default_sync_max_backoff", with = "nonzero_human_duration")]
    pub max_backoff: Duration,
}

impl Default for SyncSection {
    fn default() -> Self {
        SyncSection {
            enabled: true,
            interval: default_sync_interval(),
            debounce: default_sync_debounce(),
            max_backoff: default_sync_max_backoff(),
        }
    }
}

fn default_true() -> bool {
    true
}

fn default_sync_interval() -> Duration {
    Duration::from_secs(60)
}

fn default_sync_debounce() -> Duration {
    Duration::from_secs(2)
}

fn default_sync_max_backoff() -> Duration {
    Duration::from_secs(10 * 60)
}

/// When the statutory reports are built: cron expressions in China time, with a seconds field
/// (`sec min hour day month weekday`). Provinces build the monthly report (Art. 18, 19); every
/// bureau below the national node builds the yearly one (Art. 20). An empty expression turns a
/// report off. A node that was down when a report was due builds it when it starts.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSection {
    /// The monthly report of last month; by default at 02:00 on the 1st.
    #[serde(default = "default_monthly_cron", with = "cron_or_off")]
    pub monthly: Option<cron::Schedule>,
    /// The yearly report of this year; by default at 03:00 on 1 October.
    #[serde(default = "default_yearly_cron", with = "cron_or_off")]
    pub yearly: Option<cron::Schedule>,
    /// Submit reports as soon as they are built, without an approver.
    #[serde(default)]
    pub auto_submit: bool,
    /// How often the scheduler checks what is due.
    #[serde(
        default = "default_schedule_check_every",
        with = "nonzero_human_duration"
    )]
    pub check_every: Duration,
}

impl Default for ScheduleSection {
    fn default() -> Self {
        ScheduleSection {
            monthly: default_monthly_cron(),
            yearly: default_yearly_cron(),
            auto_submit: false,
            check_every: default_schedule_check_every(),
        }
    }
}

/// The built-in schedule `text`, which is a valid expression (a unit test parses both).
fn built_in_cron(text: &str) -> Option<cron::Schedule> {
    parse_cron(text).unwrap_or_default()
}

const DEFAULT_MONTHLY_CRON: &str = "0 0 2 1 * *";
const DEFAULT_YEARLY_CRON: &str = "0 0 3 1 10 *";

fn default_monthly_cron() -> Option<cron::Schedule> {
    built_in_cron(DEFAULT_MONTHLY_CRON)
}

fn default_yearly_cron() -> Option<cron::Schedule> {
    built_in_cron(DEFAULT_YEARLY_CRON)
}

fn default_schedule_check_every() -> Duration {
    Duration::from_secs(60)
}

/// Logging.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// `text` (default) or `json`.
    #[serde(default)]
    pub format: LogFormat,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Config {
    /// Reads the file at `path`, applies `LICNODE_<SECTION>__<KEY>` environment overrides and
    /// checks it: every value is typed here, so a bad one is refused now, naming its key.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        Config::load_with_environment(path, std::env::vars())
    }

    /// [`Config::load`] with the environment given (`LICNODE_…` variables are read from it).
    pub fn load_with_environment(
        path: &Path,
        environment: impl Iterator<Item = (String, String)>,
    ) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration {}", path.display()))?;
        let mut value: toml::Table = toml::from_str(&text)
            .with_context(|| format!("{} is not valid TOML", path.display()))?;
        let overridden = apply_env_overrides(&mut value, environment)?;
        let mut config = Config::from_table(value, &overridden)
            .with_context(|| format!("{} is not a valid licnode configuration", path.display()))?;
        config.path = path.to_path_buf();
        config
            .check()
            .map_err(|error| name_the_variable(error, &overridden))?;
        Ok(config)
    }

    /// Deserializes the typed configuration; a value that does not fit its key is named as
    /// `[section] key`, with the environment variable that set it, if one did.
    fn from_table(table: toml::Table, overridden: &[Override]) -> anyhow::Result<Config> {
        serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|error| {
            let key = key_of(error.path());
            let set_by = overridden
                .iter()
                .find(|set| {
                    // The key itself, or an element of it (`[node] child_prefectures[0]`).
                    let named = format!("[{}] {}", set.section, set.key);
                    key == named
                        || key.starts_with(&format!("{named}["))
                        || key.starts_with(&format!("{named}."))
                })
                .map(|set| format!(" (set by {})", set.variable))
                .unwrap_or_default();
            // The section's own refusal (a required key missing): name what the environment
            // set in it, which may be what brought the section in.
            let setters: Vec<&str> = overridden
                .iter()
                .filter(|set| key == format!("[{}]", set.section))
                .map(|set| set.variable.as_str())
                .collect();
            let set_in_it = if setters.is_empty() {
                String::new()
            } else {
                format!(" (keys of it set by {})", setters.join(", "))
            };
            anyhow::anyhow!("{key}{set_by}: {}{set_in_it}", error.inner().message())
        })
    }

    /// Refuses what would make a broken node.
    pub fn check(&self) -> anyhow::Result<()> {
        let level = self.node.level;
        if level.is_territorial() && licnode_model::divisions::lookup(&self.node.code).is_none() {
            bail!(
                "node code {:?} is not a GB/T 2260 division code (national is 100000)",
                self.node.code
            );
        }
        self.http.trusted_proxies()?;
        parent::check_parent_urls(&self.node)?;
        if let Some(public) = &self.public
            && !(public.requests_per_second.is_finite() && public.requests_per_second >= 0.0)
        {
            bail!(
                "[public] requests_per_second: {} is not a rate (a number of requests per \
                 second, 0 for no limit)",
                public.requests_per_second
            );
        }
        self.retention.check(level)?;
        let node = licnode_sync::NodeRef::new(self.node.code.clone(), level);
        if let Some(problem) =
            licnode_sync::child_prefectures_problem(&node, &self.node.child_prefectures)
        {
            bail!("[node] child_prefectures: {problem}");
        }
        Ok(())
    }

    /// The directory relative paths are resolved against.
    pub fn base_dir(&self) -> PathBuf {
        self.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// The data directory, absolute or relative to the config file.
    pub fn data_dir(&self) -> PathBuf {
        let base = self.base_dir();
        base.join(&self.storage.data_dir)
    }

    /// The database URL: the configured one, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        match &self.storage.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir().join("licnode.db").display()
            ),
        }
    }
}

/// A key set from the environment.
struct Override {
    variable: String,
    section: String,
    key: String,
}

/// `error` of a checked value, with the environment variable that set the value when one did
/// (`[node] child_prefectures: … (set by LICNODE_NODE__CHILD_PREFECTURES)`).
fn name_the_variable(error: anyhow::Error, overridden: &[Override]) -> anyhow::Error {
    let message = error.to_string();
    let set_by = overridden.iter().find(|set| {
        message.starts_with(&format!("[{}] {}", set.section, set.key))
            || message.starts_with(&format!("{} {}", set.section, set.key))
    });
    match set_by {
        Some(set) => anyhow::anyhow!("{message} (set by {})", set.variable),
        None => error,
    }
}

/// A deserialization path as the file spells it: `[sync] interval`, `[node] child_prefectures[0]`.
fn key_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut segments = path
        .iter()
        .filter(|segment| !matches!(segment, Segment::Unknown));
    let section = match segments.next() {
        Some(Segment::Map { key }) => format!("[{key}]"),
        Some(other) => other.to_string(),
        None => return "the file's top level".to_string(),
    };
    let mut key = String::new();
    for segment in segments {
        match segment {
            Segment::Seq { index } => key.push_str(&format!("[{index}]")),
            other => {
                if !key.is_empty() {
                    key.push('.');
                }
                key.push_str(&other.to_string());
            }
        }
    }
    if key.is_empty() {
        section
    } else {
        format!("{section} {key}")
    }
}

/// `LICNODE_HTTP__LISTEN=…` sets `[http] listen`. Values are read as TOML when they parse as
/// such (numbers, booleans), and as strings otherwise. Returns what was set.
fn apply_env_overrides(
    table: &mut toml::Table,
    vars: impl Iterator<Item = (String, String)>,
) -> anyhow::Result<Vec<Override>> {
    let mut overridden = Vec::new();
    for (name, value) in vars {
        let Some(rest) = name.strip_prefix("LICNODE_") else {
            continue;
        };
        let Some((section, key)) = rest.split_once("__") else {
            continue;
        };
        let section = section.to_lowercase();
        let key = key.to_lowercase();
        let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or(toml::Value::String(value));
        let entry = table
            .entry(section.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        match entry {
            toml::Value::Table(inner) => {
                inner.insert(key.clone(), parsed);
            }
            _ => bail!("{name}: [{section}] is not a section"),
        }
        overridden.push(Override {
            variable: name,
            section,
            key,
        });
    }
    Ok(overridden)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_configurations_load() {
        for name in ["national", "province", "county"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../config")
                .join(format!("{name}.toml"));
            let config = Config::load(&path).unwrap_or_else(|error| panic!("{name}: {error:#}"));
            assert!(!config.node.code.is_empty(), "{name}");
        }
    }

    #[test]
    fn environment_overrides_a_key_of_a_section() {
        let mut table: toml::Table =
            toml::from_str("[http]\nlisten = \"127.0.0.1:1\"\n").expect("test toml");
        apply_env_overrides(
            &mut table,
            vec![
                ("LICNODE_HTTP__LISTEN".to_string(), "0.0.0.0:9".to_string()),
                ("UNRELATED".to_string(), "x".to_string()),
            ]
            .into_iter(),
        )
        .expect("override");
        assert_eq!(table["http"]["listen"].as_str(), Some("0.0.0.0:9"));
    }

    // Found by `tests/fuzz_config.rs`: a variable that sets a key of a section the file does
    // not have brings the section in without its required keys; the refusal named the section
    // but not the variable.
    #[test]
    fn a_section_brought_in_by_the_environment_and_left_incomplete_names_the_variable() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("licnode.toml");
        std::fs::write(
            &path,
            "[node]\ncode = \"330000\"\nlevel = \"province\"\nname = \"x\"\n",
        )
        .expect("write");
        let variable = "LICNODE_PUBLIC__REQUESTS_PER_SECOND";
        let error = Config::load_with_environment(
            &path,
            vec![(variable.to_string(), "0".to_string())].into_iter(),
        )
        .expect_err("[public] without listen");
        let message = format!("{error:#}");
        assert!(
            message.contains("[public]") && message.contains("listen"),
            "{message}"
        );
        assert!(message.contains(variable), "{message}");
    }

    #[test]
    fn the_public_section_is_optional_and_takes_a_listen_address() {
        let base = "[node]\ncode = \"330000\"\nlevel = \"province\"\nname = \"x\"\n";
        let config: Config = toml::from_str(base).expect("without [public]");
        assert!(config.public.is_none());
        let config: Config =
            toml::from_str(&format!("{base}[public]\nlisten = \"0.0.0.0:8080\"\n"))
                .expect("with [public]");
        let public = config.public.expect("public section");
        assert_eq!(public.listen, SocketAddr::from(([0, 0, 0, 0], 8080)));
        assert!(public.requests_per_second > 0.0 && public.burst > 0);
    }

    #[test]
    fn trusted_proxies_are_checked_when_the_configuration_is_loaded() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("licnode.toml");
        let base = "[node]\ncode = \"330000\"\nlevel = \"province\"\nname = \"x\"\n";
        std::fs::write(
            &path,
            format!(
                "{base}[http]\ntrusted_proxies = [\"10.0.0.0/8\", \"127.0.0.1\", \"fd00::/8\"]\n"
            ),
        )
        .expect("write");
        let config = Config::load(&path).expect("valid proxies");
        let trusted = config.http.trusted_proxies().expect("parsed");
        assert!(trusted.contains([10, 1, 2, 3].into()));
        assert!(!trusted.contains([192, 0, 2, 1].into()));

        std::fs::write(
            &path,
            format!("{base}[http]\ntrusted_proxies = [\"10.0.0.0/8\", \"10.0.0.0/40\"]\n"),
        )
        .expect("write");
        let error = format!("{:#}", Config::load(&path).expect_err("a bad network"));
        assert!(
            error.contains("[http] trusted_proxies") && error.contains("10.0.0.0/40"),
            "{error}"
        );
    }

    const PROVINCE: &str = "[node]\ncode = \"330000\"\nlevel = \"province\"\nname = \"x\"\n";

    /// Loads `text` as a configuration file, with `environment` as the process environment.
    fn load_text(text: &str, environment: &[(&str, &str)]) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("licnode.toml");
        std::fs::write(&path, text).expect("write");
        Config::load_with_environment(
            &path,
            environment
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string())),
        )
    }

    /// Every typed key: its section's header, the key, and a value it must refuse.
    const TYPED_KEYS: [(&str, &str, &str); 15] = [
        ("node", "level", "\"town\""),
        ("http", "listen", "\"localhost\""),
        ("public", "listen", "\"0.0.0.0\""),
        ("peer", "listen", "\"8641\""),
        ("peer", "enroll_listen", "\"[::1]\""),
        ("peer", "max_crl_age", "\"45\""),
        ("sync", "interval", "\"soon\""),
        ("sync", "interval", "\"0s\""),
        ("sync", "debounce", "\"2 fortnights\""),
        ("sync", "max_backoff", "\"0m\""),
        ("schedule", "monthly", "\"0 0 2 1 *\""),
        ("schedule", "yearly", "\"on 1 October\""),
        ("schedule", "check_every", "\"-1s\""),
        ("schedule", "check_every", "60"),
        ("retention", "sweep_every", "\"daily\""),
    ];

    /// The rest of a section that needs more than the key under test.
    fn section_with(section: &str, key: &str, value: &str) -> String {
        let mut text = format!("[{section}]\n{key} = {value}\n");
        if matches!(section, "public" | "peer") && key != "listen" {
            text.push_str("listen = \"127.0.0.1:0\"\n");
        }
        text
    }

    #[test]
    fn a_bad_value_of_any_typed_key_stops_the_load_naming_the_key() {
        for (section, key, value) in TYPED_KEYS {
            let text = if section == "node" {
                format!("[node]\ncode = \"330000\"\nname = \"x\"\n{key} = {value}\n")
            } else {
                format!("{PROVINCE}{}", section_with(section, key, value))
            };
            let error = format!("{:#}", load_text(&text, &[]).expect_err(&text));
            assert!(
                error.contains(&format!("[{section}] {key}:")),
                "{section}.{key} = {value}: {error}"
            );
        }
    }

    /// Found by fuzzing the configuration: a value checked after it is read named its key but
    /// not the variable that set it.
    #[test]
    fn a_checked_value_from_the_environment_names_the_variable_too() {
        let national = "[node]\ncode = \"100000\"\nlevel = \"national\"\nname = \"x\"\n";
        let variable = "LICNODE_NODE__CHILD_PREFECTURES";
        let error = format!(
            "{:#}",
            load_text(national, &[(variable, "[\"330100\"]")]).expect_err("national")
        );
        assert!(
            error.contains("[node] child_prefectures") && error.contains(variable),
            "{error}"
        );
    }

    #[test]
    fn a_bad_value_from_the_environment_stops_the_load_naming_the_key_and_the_variable() {
        for (section, key, value) in TYPED_KEYS {
            let base = match section {
                "node" => {
                    "[node]\ncode = \"330000\"\nlevel = \"province\"\nname = \"x\"\n".to_string()
                }
                "public" | "peer" if key != "listen" => {
                    format!("{PROVINCE}[{section}]\nlisten = \"127.0.0.1:0\"\n")
                }
                _ => PROVINCE.to_string(),
            };
            let variable = format!("LICNODE_{}__{}", section.to_uppercase(), key.to_uppercase());
            let value = value.trim_matches('"');
            let error = format!(
                "{:#}",
                load_text(&base, &[(&variable, value)]).expect_err(&variable)
            );
            assert!(
                error.contains(&format!("[{section}] {key} (set by {variable}):")),
                "{variable}={value}: {error}"
            );
        }
    }

    #[test]
    fn typed_values_are_read_and_good_values_from_the_environment_apply() {
        let config = load_text(
            &format!(
                "{PROVINCE}[sync]\ninterval = \"90s\"\n[schedule]\nmonthly = \"\"\n\
                 check_every = \"1h 30m\"\n[peer]\nlisten = \"127.0.0.1:0\"\n"
            ),
            &[
                ("LICNODE_SYNC__DEBOUNCE", "5s"),
                ("LICNODE_RETENTION__SWEEP_EVERY", "12h"),
                ("LICNODE_SCHEDULE__YEARLY", "0 0 4 2 10 *"),
            ],
        )
        .expect("valid");
        assert_eq!(config.node.level, Level::Province);
        assert_eq!(config.sync.interval, Duration::from_secs(90));
        assert_eq!(config.sync.debounce, Duration::from_secs(5));
        assert_eq!(config.sync.max_backoff, Duration::from_secs(600));
        assert_eq!(config.schedule.check_every, Duration::from_secs(5400));
        assert!(
            config.schedule.monthly.is_none(),
            "an empty expression is off"
        );
        assert_eq!(
            config.schedule.yearly.as_ref().map(cron::Schedule::source),
            Some("0 0 4 2 10 *")
        );
        assert_eq!(
            config.retention.sweep_every,
            Duration::from_secs(12 * 60 * 60)
        );
        let peer = config.peer.as_ref().expect("peer");
        assert_eq!(peer.max_crl_age, licnode_pki::DEFAULT_MAX_CRL_AGE);
    }

    #[test]
    fn a_parent_url_that_is_not_https_or_a_rate_that_is_not_a_number_stops_the_load() {
        for (text, key) in [
            ("parent_url = \"hangzhou:8641\"", "[node] parent_url"),
            ("parent_url = \"http://hangzhou:8641\"", "[node] parent_url"),
            ("parent_url = \"https://\"", "[node] parent_url"),
        ] {
            let error = format!(
                "{:#}",
                load_text(&format!("{PROVINCE}{text}\n"), &[]).expect_err(text)
            );
            assert!(error.contains(key), "{text}: {error}");
        }
        assert!(load_text(&format!("{PROVINCE}parent_url = \"https://h:8641\"\n"), &[]).is_ok());
        for rate in ["-1.0", "nan", "inf"] {
            let text = format!(
                "{PROVINCE}[public]\nlisten = \"127.0.0.1:0\"\nrequests_per_second = {rate}\n"
            );
            let error = format!("{:#}", load_text(&text, &[]).expect_err(rate));
            assert!(
                error.contains("[public] requests_per_second"),
                "{rate}: {error}"
            );
        }
    }

    #[test]
    fn retention_years_below_the_five_of_article_37_stop_the_load_naming_the_key() {
        for years in ["0", "1", "4"] {
            let text = format!("{PROVINCE}[retention]\nyears = {years}\n");
            let error = format!("{:#}", load_text(&text, &[]).expect_err(years));
            assert!(error.contains("[retention] years"), "{years}: {error}");
            assert!(error.contains("Art. 37"), "{years}: {error}");
        }
        let from_environment = load_text(PROVINCE, &[("LICNODE_RETENTION__YEARS", "3")]);
        let error = format!(
            "{:#}",
            from_environment.expect_err("3 from the environment")
        );
        assert!(error.contains("[retention] years"), "{error}");
        for years in ["5", "10"] {
            let text = format!("{PROVINCE}[retention]\nyears = {years}\n");
            let config = load_text(&text, &[]).expect(years);
            assert_eq!(config.retention.years.to_string(), years);
        }
        assert_eq!(
            load_text(PROVINCE, &[]).expect("default").retention.years,
            5
        );
        // Art. 38: only the national node, which has no superior, designates second approvers.
        let approvers = "[retention]\nnational_approvers = [\"li\"]\n";
        let error = format!(
            "{:#}",
            load_text(&format!("{PROVINCE}{approvers}"), &[]).expect_err("province")
        );
        assert!(error.contains("[retention] national_approvers"), "{error}");
        let national = "[node]\ncode = \"100000\"\nlevel = \"national\"\nname = \"x\"\n";
        let config = load_text(&format!("{national}{approvers}"), &[]).expect("national");
        assert_eq!(config.retention.national_approvers, vec!["li".to_string()]);
    }

    #[test]
    fn the_built_in_schedules_are_cron_expressions() {
        let schedule = ScheduleSection::default();
        assert_eq!(
            schedule.monthly.as_ref().map(cron::Schedule::source),
            Some(DEFAULT_MONTHLY_CRON)
        );
        assert_eq!(
            schedule.yearly.as_ref().map(cron::Schedule::source),
            Some(DEFAULT_YEARLY_CRON)
        );
    }

    #[test]
    fn a_written_configuration_reads_back_the_same_values() {
        let config = load_text(
            &format!(
                "{PROVINCE}[sync]\ninterval = \"90s\"\nmax_backoff = \"1h\"\n\
                 [peer]\nlisten = \"127.0.0.1:0\"\nmax_crl_age = \"30d\"\n\
                 [schedule]\nyearly = \"\"\n"
            ),
            &[],
        )
        .expect("valid");
        let written = toml::to_string_pretty(&config).expect("serialize");
        let again = load_text(&written, &[]).expect("reads back");
        assert_eq!(again.sync.interval, config.sync.interval);
        assert_eq!(again.sync.max_backoff, config.sync.max_backoff);
        assert_eq!(
            again.peer.as_ref().map(|peer| peer.max_crl_age),
            Some(Duration::from_secs(30 * 24 * 60 * 60))
        );
        assert!(again.schedule.yearly.is_none());
        assert_eq!(
            again.schedule.monthly.as_ref().map(cron::Schedule::source),
            Some(DEFAULT_MONTHLY_CRON)
        );
    }

    #[test]
    fn only_a_province_names_child_prefectures_and_only_its_own() {
        let node = |code: &str, level: &str, children: &str| {
            format!(
                "[node]\ncode = \"{code}\"\nlevel = \"{level}\"\nname = \"x\"\n\
                 child_prefectures = {children}\n"
            )
        };
        let check = |text: String| {
            toml::from_str::<Config>(&text)
                .expect("parses")
                .check()
                .map_err(|error| error.to_string())
        };
        assert!(check(node("330000", "province", "[\"330100\"]")).is_ok());
        assert!(check(node("330000", "province", "[]")).is_ok());
        for (code, level, children) in [
            ("330000", "province", "[\"320100\"]"),
            ("330000", "province", "[\"330106\"]"),
            ("330100", "prefecture", "[\"330100\"]"),
            ("100000", "national", "[\"330100\"]"),
        ] {
            let refused = check(node(code, level, children));
            assert!(
                refused
                    .as_ref()
                    .is_err_and(|error| error.contains("child_prefectures")),
                "{code} {children}: {refused:?}"
            );
        }
    }
}
