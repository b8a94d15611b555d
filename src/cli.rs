//! The command line. Every command prints one JSON object on stdout; errors
//! go to stderr with a non-zero exit. `--database PATH` (before or after the
//! subcommand) overrides `DATABASE_URL`.

use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};

use crate::auth::password;
use crate::config::Settings;
use crate::db::models::{Company, NewAdmin, Project, Role, SsoSecret, User};
use crate::db::{self, Db, DbConn};
use crate::input::{clean_name, display_name, normalize_email};
use crate::sso::mint::{self, LinkClaims};

#[derive(Debug, Parser)]
#[command(
    name = "portico",
    version,
    about = "Self-hosted customer portal with JWT single sign-on"
)]
pub struct Cli {
    /// The database to use: an SQLite file's path or a postgres:// URL
    /// (overrides DATABASE_URL).
    #[arg(long, global = true, value_name = "PATH")]
    pub database: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the portal (what a bare `portico` does).
    Serve,
    /// Manage companies.
    #[command(subcommand)]
    Company(CompanyCommand),
    /// Manage SSO secrets and make test links.
    #[command(subcommand)]
    Sso(SsoCommand),
    /// Manage projects.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Delete a user for good (emails are unique across all companies: this
    /// releases an address claimed by the wrong company). Their sessions,
    /// memberships and the requests they opened go too; refused for the
    /// last admin of a company and for anyone who answered others' requests.
    Delete {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CompanyCommand {
    /// Create a company and its first admin. The admin's password is read
    /// from PORTICO_ADMIN_PASSWORD (unset: the admin has no password yet).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin_email: String,
        #[arg(long)]
        admin_name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SsoCommand {
    /// Generate a new SSO secret; the old one keeps working for --grace seconds.
    Rotate {
        #[arg(long)]
        company: String,
        /// How long the previous secret keeps working (0: revoked at once).
        #[arg(long, default_value_t = 0)]
        grace: i64,
    },
    /// Print a signed sign-in link, for trying the flow locally.
    Link(LinkArgs),
}

#[derive(Debug, Args)]
pub struct LinkArgs {
    #[arg(long)]
    company: String,
    #[arg(long)]
    email: String,
    #[arg(long)]
    name: Option<String>,
    /// CUSTOMER or AGENT.
    #[arg(long)]
    role: Option<String>,
    /// A project ID (proj_…) to add the user to.
    #[arg(long)]
    project: Option<String>,
    /// Seconds the link stays valid (at most the company's max lifetime).
    #[arg(long, default_value_t = 300)]
    ttl: i64,
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project of a company.
    Create {
        #[arg(long)]
        company: String,
        #[arg(long)]
        name: String,
    },
}

/// Runs a command other than `serve`; returns the JSON to print.
pub fn run(command: Command, settings: &Settings) -> Result<Value, String> {
    // A process of its own: a running server's cache hears nothing of what
    // this writes and sees it within its TTL (see docs/PERFORMANCE.md).
    let db = Db::new(
        db::connect_for_command(&settings.database_url)?,
        Arc::new(()),
    );
    match command {
        Command::Serve => Err("serve is not a one-shot command".into()),
        Command::Company(CompanyCommand::Create {
            name,
            admin_email,
            admin_name,
        }) => company_create(&db, &name, &admin_email, admin_name.as_deref()),
        Command::Sso(SsoCommand::Rotate { company, grace }) => sso_rotate(&db, &company, grace),
        Command::Sso(SsoCommand::Link(args)) => sso_link(&db, settings, args),
        Command::Project(ProjectCommand::Create { company, name }) => {
            project_create(&db, &company, &name)
        }
        Command::User(UserCommand::Delete { email }) => user_delete(&db, &email),
    }
}

fn user_delete(db: &Db, email: &str) -> Result<Value, String> {
    let email = normalize_email(email).map_err(|why| format!("--email: {why}"))?;
    let deleted = db
        .write_blocking(|tx| {
            let Some(user) = User::find_by_email(tx.read(), &email)? else {
                return Ok(Err(format!("no user has the email {email}")));
            };
            let company = Company::find(tx.read(), user.company_id)?;
            Ok(User::delete(tx, &user)?.map(|requests| (user, company, requests)))
        })
        .map_err(|e| e.to_string())??;
    let (user, company, requests) = deleted;
    Ok(json!({
        "deleted": {
            "userId": user.id,
            "email": user.email,
            "companyId": company.map(|c| c.public_id),
            "role": user.role().as_str(),
        },
        "requestsDeleted": requests,
    }))
}

fn conn(db: &Db) -> Result<db::Conn, String> {
    db.conn()
        .map_err(|e| format!("cannot open the database: {e}"))
}

fn find_company(conn: &mut DbConn, public_id: &str) -> Result<Company, String> {
    Company::find_by_public_id(conn, public_id.trim())
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no company has the ID {public_id}"))
}

fn company_create(
    db: &Db,
    name: &str,
    admin_email: &str,
    admin_name: Option<&str>,
) -> Result<Value, String> {
    let name = clean_name(name, "company")?;
    let email = normalize_email(admin_email).map_err(|why| format!("--admin-email: {why}"))?;
    let admin_name = display_name(admin_name, &email);
    let password_hash = match std::env::var("PORTICO_ADMIN_PASSWORD") {
        Ok(pw) if !pw.is_empty() => {
            password::check_policy(&pw).map_err(|e| format!("PORTICO_ADMIN_PASSWORD: {e}"))?;
            Some(password::hash(&pw, &mut password::Scratch::default())?)
        }
        _ => {
            eprintln!(
                "warning: PORTICO_ADMIN_PASSWORD is not set; the admin cannot sign in with a password yet"
            );
            None
        }
    };
    let admin = NewAdmin {
        email: &email,
        name: &admin_name,
        password_hash: password_hash.as_deref(),
        signed_in_by: None,
    };
    let (company, admin) = db
        .write_blocking(|tx| Company::create_with_admin(tx, &name, admin, db::now()))
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("the email {email} is already registered"))?;
    Ok(json!({"companyId": company.public_id, "adminUserId": admin.id}))
}

fn sso_rotate(db: &Db, company: &str, grace: i64) -> Result<Value, String> {
    if !(0..=7 * 86_400).contains(&grace) {
        return Err("--grace must be between 0 and 604800 seconds".into());
    }
    let mut conn = conn(db)?;
    let company = find_company(&mut conn, company)?;
    let secret = db
        .write_blocking(|tx| SsoSecret::rotate(tx, company.id, grace, db::now()))
        .map_err(|e| e.to_string())?;
    Ok(json!({"companyId": company.public_id, "secret": secret.secret}))
}

fn project_create(db: &Db, company: &str, name: &str) -> Result<Value, String> {
    let name = clean_name(name, "project")?;
    let mut conn = conn(db)?;
    let company = find_company(&mut conn, company)?;
    let project = db
        .write_blocking(|tx| Project::create(tx, company.id, &name, db::now()))
        .map_err(|e| {
            if e.is_unique_violation() {
                format!("the company already has a project named {name}")
            } else {
                e.to_string()
            }
        })?;
    Ok(json!({"projectId": project.public_id}))
}

fn sso_link(db: &Db, settings: &Settings, args: LinkArgs) -> Result<Value, String> {
    let mut conn = conn(db)?;
    let company = find_company(&mut conn, &args.company)?;
    let now = db::now();
    let secret = SsoSecret::usable(&mut conn, company.id, now)
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(SsoSecret::is_current)
        .ok_or("the company has no SSO secret yet: run `portico sso rotate` first")?;
    let email = normalize_email(&args.email).map_err(|why| format!("--email: {why}"))?;
    if let Some(role) = &args.role
        && Role::parse_assignable(role).is_none()
    {
        return Err("--role must be CUSTOMER or AGENT".into());
    }
    if let Some(project) = &args.project {
        Project::find_in_company(&mut conn, company.id, project)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("the company has no project {project}"))?;
    }
    if args.ttl < 1 || args.ttl > company.max_token_lifetime {
        return Err(format!(
            "--ttl must be between 1 and the company's max token lifetime ({} s)",
            company.max_token_lifetime
        ));
    }
    let claims = LinkClaims {
        company_id: company.public_id,
        email,
        name: args.name,
        role: args.role,
        project_id: args.project,
        iss: "portico-cli".into(),
        jti: crate::db::models::random_alphanumeric(24),
        iat: now,
        exp: now + args.ttl,
    };
    let token = mint::sign(&claims, &secret.secret).map_err(|e| format!("cannot sign: {e}"))?;
    Ok(json!({"url": mint::link(&settings.configured_base_url(), &token)}))
}
