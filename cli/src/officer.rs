//! `openzone officer` and `openzone sealing-key`: administration of a key server's data directory while
//! the server is stopped (sled lets one process open it), or of the PostgreSQL database replicas share
//! (`--database`, servers may be running). Glue over `openzone_server::Accounts` and
//! `openzone_server::rotate_sealing_key`.

use std::io::BufRead;
use std::path::PathBuf;

use base64::Engine as _;
use clap::{Args, Subcommand};
use openzone_server::{Accounts, AuditEntry, OfficerInfo, DEFAULT_DAILY_QUOTA};
use ring::rand::{SecureRandom, SystemRandom};
use serde::Serialize;

use crate::error::CliError;
use crate::output::{print_json, Table};

/// The data directory of a stopped key server, or the database of replicas.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// The server's data directory (as given to `openzone serve --data`).
    #[arg(long, value_name = "DIR", default_value = "openzone-server-data")]
    data: PathBuf,
    /// The PostgreSQL database replicas share (as given to `openzone serve --database`), instead of
    /// the data directory's embedded database.
    #[arg(long, value_name = "URL")]
    database: Option<String>,
}

impl DataArgs {
    async fn accounts(&self) -> Result<Accounts, CliError> {
        Ok(match &self.database {
            Some(url) => Accounts::connect(url).await?,
            None => Accounts::open(&self.data)?,
        })
    }
}

/// `openzone officer ...`
#[derive(Debug, Subcommand)]
pub enum OfficerCommand {
    /// Create an officer's account. Prints a generated password once, unless --password-stdin.
    Add {
        #[command(flatten)]
        data: DataArgs,
        /// The name the officer signs in with.
        #[arg(long)]
        name: String,
        /// Codes the officer may issue per UTC day.
        #[arg(long, default_value_t = DEFAULT_DAILY_QUOTA)]
        quota: u32,
        /// Read the password from the first line of standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the accounts.
    List {
        #[command(flatten)]
        data: DataArgs,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Disable an account and end its sessions.
    Disable {
        #[command(flatten)]
        data: DataArgs,
        /// The officer's name.
        #[arg(long)]
        name: String,
    },
    /// Print the audit log (sign-ins, codes issued, accounts), or who issued one code.
    Audit {
        #[command(flatten)]
        data: DataArgs,
        /// Only say who issued this code (the 8 digits).
        #[arg(long, value_name = "CODE")]
        code: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// `openzone sealing-key ...`
#[derive(Debug, Subcommand)]
pub enum SealingKeyCommand {
    /// Make a new upload sealing key; the current one stays valid as the previous key until the next
    /// rotation. Prints the new public key (base64) for the next app release to pin.
    Rotate {
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Serialize)]
struct OfficerJson<'a> {
    name: &'a str,
    daily_quota: u32,
    disabled: bool,
    created: String,
}

impl<'a> From<&'a OfficerInfo> for OfficerJson<'a> {
    fn from(o: &'a OfficerInfo) -> Self {
        Self {
            name: &o.name,
            daily_quota: o.daily_quota,
            disabled: o.disabled,
            created: time_of(o.created_ms),
        }
    }
}

/// `YYYY-MM-DD HH:MM` UTC.
fn time_of(ms: u64) -> String {
    let minutes = ms / 60_000 % 1_440;
    format!(
        "{} {:02}:{:02}",
        crate::date_of_day((ms / 86_400_000) as u32),
        minutes / 60,
        minutes % 60
    )
}

/// A password of 24 random URL-safe characters (144 bits).
fn generated_password() -> Result<String, CliError> {
    let mut bytes = [0u8; 18];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| CliError::Wire(openzone_core::wire::Error::Random))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Runs `openzone officer ...`.
pub fn run(command: OfficerCommand) -> Result<(), CliError> {
    crate::serve::runtime()?.block_on(run_async(command))
}

async fn run_async(command: OfficerCommand) -> Result<(), CliError> {
    match command {
        OfficerCommand::Add {
            data,
            name,
            quota,
            password_stdin,
        } => {
            let accounts = data.accounts().await?;
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .map_err(CliError::Output)?;
                line.trim_end_matches(['\r', '\n']).to_owned()
            } else {
                generated_password()?
            };
            accounts.add_officer(&name, &password, quota).await?;
            println!("officer {name} created, {quota} codes a day");
            if !password_stdin {
                println!(
                    "password (shown once; give it to {name} over a trusted channel): {password}"
                );
            }
            Ok(())
        }
        OfficerCommand::List { data, json } => {
            let officers = data.accounts().await?.officers().await?;
            let rows: Vec<OfficerJson> = officers.iter().map(OfficerJson::from).collect();
            if json {
                return print_json(&rows);
            }
            let mut table = Table::new(["name", "codes a day", "disabled", "created (UTC)"]);
            for o in rows {
                table.row(vec![
                    o.name.to_owned(),
                    o.daily_quota.to_string(),
                    if o.disabled { "yes" } else { "no" }.to_owned(),
                    o.created,
                ]);
            }
            table.print()
        }
        OfficerCommand::Disable { data, name } => {
            data.accounts().await?.disable_officer(&name).await?;
            println!("officer {name} disabled; their sessions ended");
            Ok(())
        }
        OfficerCommand::Audit { data, code, json } => {
            let accounts = data.accounts().await?;
            if let Some(code) = code {
                let issuer = accounts.code_issuer(&code).await?;
                if json {
                    return print_json(&serde_json::json!({ "issued_by": issuer }));
                }
                match issuer {
                    Some(name) => println!("issued by {name}"),
                    None => println!("the audit log has no such code"),
                }
                return Ok(());
            }
            let entries: Vec<AuditEntry> = accounts.audit_log().await?;
            if json {
                return print_json(&entries);
            }
            let mut table = Table::new(["time (UTC)", "officer", "action"]);
            for e in &entries {
                let action = serde_json::to_value(e.action)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                table.row(vec![time_of(e.at_ms), e.officer.clone(), action]);
            }
            table.print()
        }
    }
}

/// Runs `openzone sealing-key ...`.
pub fn run_sealing_key(command: SealingKeyCommand) -> Result<(), CliError> {
    match command {
        SealingKeyCommand::Rotate { data } => {
            let public = match &data.database {
                Some(url) => crate::serve::runtime()?
                    .block_on(openzone_server::rotate_shared_sealing_key(url))?,
                None => openzone_server::rotate_sealing_key(&data.data)?,
            };
            println!(
                "new upload sealing key (pin it in the next app release): {}",
                public.to_base64()
            );
            println!(
                "the previous key keeps opening uploads until the next rotation; restart the server (every replica)"
            );
            Ok(())
        }
    }
}
