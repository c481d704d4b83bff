//! `licnode init`: a node directory with its configuration and data directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::config::{Config, HttpSection, LogSection, NodeSection, PeerSection, StorageSection};

/// What `licnode init` is told.
pub struct InitOptions {
    pub dir: PathBuf,
    pub code: String,
    pub level: String,
    pub name: String,
    pub parent_url: Option<String>,
    pub database_url: Option<String>,
    pub listen: SocketAddr,
    /// Address of the mutual-TLS listener for child nodes, if this node has children.
    pub peer_listen: Option<SocketAddr>,
    pub force: bool,
}

/// Writes `dir/licnode.toml` and creates `dir/data`. Returns the config file's path.
pub fn init(options: InitOptions) -> anyhow::Result<PathBuf> {
    let config_path = options.dir.join("licnode.toml");
    if config_path.exists() && !options.force {
        bail!(
            "{} already exists; pass --force to overwrite it",
            config_path.display()
        );
    }
    let config = Config {
        node: NodeSection {
            code: options.code,
            level: options.level.parse().map_err(|_| {
                anyhow::anyhow!(
                    "unknown node level {:?} (national, province, prefecture, county, \
                     review_department or inspection_body)",
                    options.level
                )
            })?,
            name: options.name,
            parent_url: options.parent_url,
            parent_urls: Vec::new(),
            child_prefectures: Vec::new(),
        },
        storage: StorageSection {
            data_dir: PathBuf::from("data"),
            database_url: options.database_url,
        },
        http: HttpSection {
            listen: options.listen,
            trusted_proxies: Vec::new(),
        },
        log: LogSection::default(),
        public: None,
        peer: options.peer_listen.map(|listen| PeerSection {
            listen,
            max_crl_age: licnode_pki::DEFAULT_MAX_CRL_AGE,
            enroll_listen: None,
        }),
        sync: Default::default(),
        schedule: Default::default(),
        retention: Default::default(),
        path: config_path.clone(),
    };
    config.check()?;
    let level = config.node.level;
    if let Some(division) = licnode_model::divisions::lookup(&config.node.code)
        && level.is_territorial()
        && licnode_model::Level::for_division(division.level) != level
    {
        bail!(
            "{} ({}) is a {:?} division, not a {} node",
            division.code,
            division.name,
            division.level,
            level.as_str()
        );
    }
    std::fs::create_dir_all(options.dir.join("data"))
        .with_context(|| format!("cannot create {}", options.dir.display()))?;
    let body = toml::to_string_pretty(&config).context("cannot write the configuration")?;
    let text = format!(
        "# licnode node configuration. Every key can be overridden from the environment:\n\
         # LICNODE_<SECTION>__<KEY>, e.g. LICNODE_HTTP__LISTEN=0.0.0.0:8640.\n\n{body}"
    );
    write_file(&config_path, &text)?;
    Ok(config_path)
}

fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// `licnode init`: writes the node directory and says how to start the node.
pub fn run(options: InitOptions) -> anyhow::Result<()> {
    let path = init(options)?;
    println!("wrote {}", path.display());
    println!(
        "start the node with: licnode serve --config {}",
        path.display()
    );
    Ok(())
}
