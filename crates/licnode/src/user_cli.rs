//! `licnode user`: staff accounts of this node (add, list, disable, enable, API tokens).

use std::io::IsTerminal;

use anyhow::Context;
use clap::Subcommand;

use crate::cli::{ConfigArg, open_archive};
use crate::config::Config;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add an account. The password is read from standard input (one line), or from
    /// LICNODE_PASSWORD.
    Add {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long)]
        name: String,
        /// clerk, approver, administrator or auditor.
        #[arg(long)]
        role: String,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List the accounts.
    List {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Disable an account and revoke its tokens.
    Disable {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long)]
        name: String,
    },
    /// Enable a disabled account again.
    Enable {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long)]
        name: String,
    },
    /// Issue an API token for scripts (printed once).
    Token {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "script")]
        label: String,
        /// Days until it expires; never when absent.
        #[arg(long)]
        days: Option<u32>,
    },
}

pub async fn run(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            config,
            name,
            role,
            display_name,
        } => {
            let config = Config::load(&config.config)?;
            let role: licnode_store::Role = role
                .parse()
                .map_err(|message: String| anyhow::anyhow!(message))?;
            let password = match std::env::var("LICNODE_PASSWORD") {
                Ok(password) => password,
                Err(_) => {
                    if std::io::stdin().is_terminal() {
                        eprint!(
                            "password for {name} (at least {} characters): ",
                            licnode_store::MIN_PASSWORD_CHARS
                        );
                    }
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("cannot read the password")?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let archive = open_archive(&config).await?;
            let user = archive
                .add_user(
                    &console_operator(),
                    &name,
                    display_name.as_deref().unwrap_or(&name),
                    role,
                    &password,
                )
                .await?;
            archive.close().await;
            println!("added {} ({})", user.name, user.role.as_str());
            Ok(())
        }
        UserCommand::List { config } => {
            let config = Config::load(&config.config)?;
            let archive = open_archive(&config).await?;
            for user in archive.users().await? {
                println!(
                    "{:<20} {:<14} {:<20} {}",
                    user.name,
                    user.role.as_str(),
                    user.display_name,
                    if user.disabled { "disabled" } else { "enabled" }
                );
            }
            archive.close().await;
            Ok(())
        }
        UserCommand::Disable { config, name } => set_disabled(&config, &name, true).await,
        UserCommand::Enable { config, name } => set_disabled(&config, &name, false).await,
        UserCommand::Token {
            config,
            name,
            label,
            days,
        } => {
            let config = Config::load(&config.config)?;
            let archive = open_archive(&config).await?;
            let issued = archive
                .issue_api_token(
                    &console_operator(),
                    &name,
                    &label,
                    days.map(|d| i64::from(d) * 86_400_000),
                )
                .await?;
            archive.close().await;
            println!("{}", issued.token);
            Ok(())
        }
    }
}

/// The operator at the node's console, as the audit log names account actions taken with
/// `licnode user`.
fn console_operator() -> licnode_app::Author {
    licnode_app::Author::operator("console")
}

async fn set_disabled(config: &ConfigArg, name: &str, disabled: bool) -> anyhow::Result<()> {
    let config = Config::load(&config.config)?;
    let archive = open_archive(&config).await?;
    archive
        .set_user_disabled(&console_operator(), name, disabled)
        .await?;
    archive.close().await;
    println!(
        "{name} {}",
        if disabled {
            "disabled; its tokens are revoked"
        } else {
            "enabled"
        }
    );
    Ok(())
}
