//! `notes-api`: serve the API, print its route policies, or create an administrator.
//!
//! ```text
//! notes-api                               serve on NOTES_ADDR (127.0.0.1:3000)
//! notes-api routes                        print the route policy table and exit
//! notes-api create-admin --username NAME [--email ADDRESS]
//!                                         read the password from standard input
//! notes-api rekey                         seal every TOTP secret under SECURE_DATA_KEY
//! notes-api service-account --name NAME [--role ROLE] --scope SCOPE [--scope SCOPE] [--days N]
//!                                         a machine account and its first API key
//! ```
//!
//! `DATABASE_URL` is `sqlite://notes.db` unless set (`postgres://...` works the same);
//! keys and limits come from `SECURE_*` variables (`SecurityConfig::from_env`).
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::process::ExitCode;

use notes_api::{AppRole, AppScope, Options};
use secure_core::SecretString;
use secure_core::accounts::Accounts;
use secure_core::auth::{Role as _, Scope as _};
use secure_core::config::{Keys, SecurityConfig};
use tokio::io::AsyncBufReadExt;

const DEFAULT_DATABASE_URL: &str = "sqlite://notes.db";
const USAGE: &str =
    "usage: notes-api [routes | create-admin --username NAME [--email ADDRESS] | rekey
                  | service-account --name NAME [--role ROLE] --scope SCOPE [--scope SCOPE] [--days N]]
  (no command)   serve on NOTES_ADDR (default 127.0.0.1:3000), database at DATABASE_URL
                 (default sqlite://notes.db), keys from SECURE_* variables
  routes         print the route policy table and exit
  create-admin   create an administrator; the password is read from standard input
                 (`--email` defaults to NAME@localhost)
  rekey          seal every stored TOTP secret under SECURE_DATA_KEY (after a rotation, with
                 the old key in SECURE_DATA_KEY_PREVIOUS)
  service-account
                 create a service account (no password; role member unless --role, e.g.
                 monitor) and print its first API key, once: scopes notes:read,
                 notes:write, metrics:read; --days 1 to 365, else until revoked";

#[tokio::main]
async fn main() -> ExitCode {
    // Audit events and the causes of 500s on standard error from the first run.
    secure_core::serve::init_logging();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None | Some("serve") => serve().await,
        Some("routes") => routes().await,
        Some("create-admin") => create_admin(&args[1..]).await,
        Some("rekey") if args.len() == 1 => rekey().await,
        Some("service-account") => service_account(&args[1..]).await,
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(_) => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("notes-api: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The defaults, and the reset link of `NOTES_RESET_LINK` (a release build refuses to start
/// with it: its notifier writes links to the log).
fn options() -> Options {
    let mut options = Options::default();
    if let Ok(link) = std::env::var("NOTES_RESET_LINK") {
        options.reset_link = Some(link);
    }
    options
}

fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned())
}

/// Opens and migrates the database. Errors never include the URL (it may hold a password).
async fn open_database() -> Result<notes_api::Database, String> {
    let db = notes_api::connect(&database_url())
        .await
        .map_err(|e| format!("cannot open the database at DATABASE_URL: {e}"))?;
    notes_api::migrate(&db)
        .await
        .map_err(|e| format!("cannot migrate the database: {e}"))?;
    Ok(db)
}

/// The policy table of the routes this build serves (accounts on an in-memory database).
async fn routes() -> Result<(), String> {
    let db = notes_api::connect("sqlite::memory:")
        .await
        .map_err(|e| e.to_string())?;
    notes_api::migrate(&db).await.map_err(|e| e.to_string())?;
    let config = SecurityConfig::new().with_keys(Keys::ephemeral());
    let accounts = notes_api::accounts(&db, &config, &Options::default())
        .await
        .map_err(|e| e.to_string())?;
    println!("{}", notes_api::routes(&accounts).policies());
    Ok(())
}

/// The accounts on the database at `DATABASE_URL`, with the keys of `SECURE_*`.
async fn accounts(config: &SecurityConfig) -> Result<Accounts, String> {
    let db = open_database().await?;
    notes_api::accounts(&db, config, &Options::default())
        .await
        .map_err(|e| e.to_string())
}

async fn serve() -> Result<(), String> {
    let addr: SocketAddr = match std::env::var("NOTES_ADDR") {
        Ok(addr) => addr
            .parse()
            .map_err(|_| "NOTES_ADDR must be an address such as 127.0.0.1:3000".to_owned())?,
        Err(_) => SocketAddr::from(([127, 0, 0, 1], 3000)),
    };
    // Keys and limits; in a debug build without SECURE_JWT_KEY/SECURE_CSRF_KEY this
    // generates development keys with a loud warning, in a release build it refuses to start.
    let config = SecurityConfig::from_env().map_err(|e| format!("configuration: {e}"))?;
    let db = open_database().await?;
    let kind = db.kind();
    let accounts = notes_api::accounts(&db, &config, &options())
        .await
        .map_err(|e| e.to_string())?;
    let app = notes_api::app(db, config, &accounts).map_err(|e| e.to_string())?;
    println!("{}", app.policies());
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    println!("notes-api listening on http://{local} ({kind}); README: \"The reference service\"");
    // With peer addresses (what the per-IP limits count); SIGTERM or Ctrl-C lets the
    // requests in flight finish.
    secure_core::serve::serve(listener, app)
        .await
        .map_err(|e| format!("server: {e}"))
}

/// `create-admin --username NAME [--email ADDRESS]`, password on standard input (never in
/// argv, where `ps` and shell history would show it).
async fn create_admin(args: &[String]) -> Result<(), String> {
    let mut username = None;
    let mut email = None;
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        match flag.as_str() {
            "--username" => username = rest.next().cloned(),
            "--email" => email = rest.next().cloned(),
            _ => return Err(USAGE.to_owned()),
        }
    }
    let username = username.ok_or_else(|| USAGE.to_owned())?;
    let email = email.unwrap_or_else(|| format!("{}@localhost", username.trim().to_lowercase()));
    let password = read_password().await?;
    let config = SecurityConfig::from_env().map_err(|e| format!("configuration: {e}"))?;
    let id = accounts(&config)
        .await?
        .create_account(&username, &email, password, &[AppRole::Admin])
        .await
        .map_err(|e| format!("create-admin: {e}"))?;
    println!(
        "created administrator {} with id {id}",
        username.trim().to_lowercase()
    );
    Ok(())
}

/// `service-account --name NAME --scope SCOPE [--scope SCOPE] [--days N]`: a machine
/// account and its first API key, printed once on standard output.
async fn service_account(args: &[String]) -> Result<(), String> {
    let mut name = None;
    let mut scopes = Vec::new();
    let mut days = None;
    let mut role = AppRole::Member;
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        match (flag.as_str(), rest.next()) {
            ("--name", Some(value)) => name = Some(value.clone()),
            ("--scope", Some(value)) => scopes
                .push(AppScope::parse(value).ok_or_else(|| format!("unknown scope {value:?}"))?),
            ("--role", Some(value)) => {
                role = AppRole::parse(value).ok_or_else(|| format!("unknown role {value:?}"))?;
            }
            ("--days", Some(value)) => {
                days = Some(value.parse::<u32>().map_err(|_| USAGE.to_owned())?);
            }
            _ => return Err(USAGE.to_owned()),
        }
    }
    let name = name.ok_or_else(|| USAGE.to_owned())?;
    let config = SecurityConfig::from_env().map_err(|e| format!("configuration: {e}"))?;
    let accounts = accounts(&config).await?;
    let id = accounts
        .create_service_account(&name, &[role])
        .await
        .map_err(|e| format!("service-account: {e}"))?;
    let key = accounts
        .issue_api_key(&id, "first key", &scopes, days)
        .await
        .map_err(|e| format!("service-account: {e}"))?;
    eprintln!(
        "created service account {} with id {id}; its key (shown once):",
        name.trim().to_lowercase()
    );
    println!("{}", secure_core::redact::ExposeSecret::expose_secret(&key));
    Ok(())
}

/// `rekey`: seals every TOTP secret under the current data key. Refuses generated keys: what
/// it sealed with them would be unreadable after this process.
async fn rekey() -> Result<(), String> {
    let config = SecurityConfig::from_env().map_err(|e| format!("configuration: {e}"))?;
    if config.keys().is_none_or(|k| k.is_ephemeral()) {
        return Err("rekey needs the configured keys (SECURE_DATA_KEY, and SECURE_DATA_KEY_PREVIOUS for the old one); development keys would make every secret unreadable".to_owned());
    }
    let done = accounts(&config)
        .await?
        .reseal_secrets()
        .await
        .map_err(|e| format!("rekey: {e}"))?;
    println!(
        "resealed {}, already current {}, unreadable {}",
        done.resealed, done.current, done.unreadable
    );
    if done.unreadable > 0 {
        return Err(format!(
            "{} TOTP secrets open with no configured key: set the key they were sealed with as SECURE_DATA_KEY_PREVIOUS, or reset those users' MFA",
            done.unreadable
        ));
    }
    Ok(())
}

/// The first line of standard input, without its line ending.
async fn read_password() -> Result<SecretString, String> {
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprintln!("password (12 to 128 characters; the input is shown, so prefer a pipe):");
    }
    let mut line = String::new();
    tokio::io::BufReader::new(tokio::io::stdin())
        .read_line(&mut line)
        .await
        .map_err(|e| format!("cannot read the password: {e}"))?;
    let password = SecretString::from(line.trim_end_matches(['\r', '\n']));
    // The buffer held the password too: a SecretString wipes it on drop.
    drop(SecretString::from(line));
    Ok(password)
}
