//! The node's configuration: one TOML file (`licnode.toml`), one documented struct per
//! section, overridable from the environment (`LICNODE_HTTP__LISTEN=0.0.0.0:8640` sets
//! `[http] listen`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

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
    pub level: String,
    /// The agency's name, e.g. 杭州市西湖区市场监督管理局.
    pub name: String,
    /// The parent node's URL for replication; absent at the national node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_url: Option<String>,
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
    #[serde(default = "default_max_crl_age")]
    pub max_crl_age: String,
    /// Address of the enrollment endpoint (server-authenticated TLS only: a child without a
    /// certificate presents a one-time token from `licnode pki token`). Nodes with a CA only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enroll_listen: Option<SocketAddr>,
}

fn default_max_crl_age() -> String {
    "45d".to_string()
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
    #[serde(default = "default_sync_interval")]
    pub interval: String,
    /// After a write, wait this long for more before syncing.
    #[serde(default = "default_sync_debounce")]
    pub debounce: String,
    /// The longest wait between attempts while the parent is unreachable.
    #[serde(default = "default_sync_max_backoff")]
    pub max_backoff: String,
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

fn default_sync_interval() -> String {
    "60s".to_string()
}

fn default_sync_debounce() -> String {
    "2s".to_string()
}

fn default_sync_max_backoff() -> String {
    "10m".to_string()
}

/// When the statutory reports are built: cron expressions in China time, with a seconds field
/// (`sec min hour day month weekday`). Provinces build the monthly report (Art. 18, 19); every
/// bureau below the national node builds the yearly one (Art. 20). An empty expression turns a
/// report off. A node that was down when a report was due builds it when it starts.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSection {
    /// The monthly report of last month; by default at 02:00 on the 1st.
    #[serde(default = "default_monthly_cron")]
    pub monthly: String,
    /// The yearly report of this year; by default at 03:00 on 1 October.
    #[serde(default = "default_yearly_cron")]
    pub yearly: String,
    /// Submit reports as soon as they are built, without an approver.
    #[serde(default)]
    pub auto_submit: bool,
    /// How often the scheduler checks what is due.
    #[serde(default = "default_schedule_check_every")]
    pub check_every: String,
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

fn default_monthly_cron() -> String {
    "0 0 2 1 * *".to_string()
}

fn default_yearly_cron() -> String {
    "0 0 3 1 10 *".to_string()
}

fn default_schedule_check_every() -> String {
    "60s".to_string()
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
    /// checks it.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration {}", path.display()))?;
        let mut value: toml::Table = toml::from_str(&text)
            .with_context(|| format!("{} is not valid TOML", path.display()))?;
        apply_env_overrides(&mut value, std::env::vars())?;
        let mut config: Config = toml::Value::Table(value)
            .try_into()
            .with_context(|| format!("{} is not a valid licnode configuration", path.display()))?;
        config.path = path.to_path_buf();
        config.check()?;
        Ok(config)
    }

    /// Refuses what would make a broken node.
    pub fn check(&self) -> anyhow::Result<()> {
        let level: licnode_model::Level = self
            .node
            .level
            .parse()
            .map_err(|_| anyhow::anyhow!("unknown node level {:?}", self.node.level))?;
        if level.is_territorial() && licnode_model::divisions::lookup(&self.node.code).is_none() {
            bail!(
                "node code {:?} is not a GB/T 2260 division code (national is 100000)",
                self.node.code
            );
        }
        self.http.trusted_proxies()?;
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

/// `LICNODE_HTTP__LISTEN=…` sets `[http] listen`. Values are read as TOML when they parse as
/// such (numbers, booleans), and as strings otherwise.
fn apply_env_overrides(
    table: &mut toml::Table,
    vars: impl Iterator<Item = (String, String)>,
) -> anyhow::Result<()> {
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
                inner.insert(key, parsed);
            }
            _ => bail!("{name}: [{section}] is not a section"),
        }
    }
    Ok(())
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
