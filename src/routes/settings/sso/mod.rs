//! Settings → SSO: the company ID, the secret (generate, rotate with a
//! grace period, revoke), the token rules, snippets, the test-link maker,
//! the token checker and the recent sign-in events.

mod options;
mod secret;
mod snippets;
mod tools;

use actix_web::{HttpResponse, web};
use askama::Template;

pub use options::options_post;
pub use secret::{revoke_previous_post, rotate_post};
pub use snippets::{Snippet, snippets};
pub use tools::{CheckView, TestLinkView, check_post, test_link_post};

use super::Nav;
use crate::auth::extract::AdminUser;
use crate::db::models::{Company, Project, SsoEvent, SsoSecret};
use crate::db::{self, DbError};
use crate::error::AppError;
use crate::routes::layout;
use crate::state::AppState;
use crate::views::{Layout, format_time, format_time_seconds, render};

const SSO_PAGE: &str = "/settings/sso";
/// How many events the page lists.
const EVENTS_SHOWN: i64 = 50;

/// A choice of how long the previous secret keeps working after a
/// rotation: the form lists these, the handler accepts only these.
pub struct Grace {
    pub seconds: i64,
    pub label: &'static str,
    pub help: &'static str,
    /// The choice selected when the page opens.
    pub preselected: bool,
}

pub const GRACE_CHOICES: [Grace; 3] = [
    Grace {
        seconds: 3600,
        label: "In 1 hour",
        help: "Time to deploy the new secret.",
        preselected: true,
    },
    Grace {
        seconds: 86_400,
        label: "In 24 hours",
        help: "For slow or manual deployments.",
        preselected: false,
    },
    Grace {
        seconds: 0,
        label: "Right away — revoke it now",
        help: "For a leaked secret: tokens signed with it are refused at once.",
        preselected: false,
    },
];

/// The bounds of the max token lifetime, for the form and its message.
pub struct LifetimeBounds {
    pub min: i64,
    pub max: i64,
    pub default: i64,
}

pub const LIFETIME: LifetimeBounds = LifetimeBounds {
    min: Company::MIN_TOKEN_LIFETIME,
    max: Company::MAX_TOKEN_LIFETIME,
    default: Company::DEFAULT_MAX_TOKEN_LIFETIME,
};

pub struct SecretView {
    pub created: String,
    pub last4: String,
    pub last_used: Option<String>,
    /// For a previous secret: when it stops working.
    pub until: Option<String>,
}

impl SecretView {
    fn of(s: &SsoSecret) -> SecretView {
        SecretView {
            created: format_time(s.created_at),
            last4: s.last4().to_owned(),
            last_used: s.last_used_at.map(format_time),
            until: s.expires_at.map(format_time),
        }
    }
}

pub struct EventView {
    pub time: String,
    pub outcome: String,
    pub subject: String,
    pub ip: String,
    pub iss: String,
    /// How many refusals the row stands for (one minute, one reason, one IP).
    pub count: i64,
}

impl EventView {
    fn of(e: SsoEvent) -> EventView {
        EventView {
            time: format_time(e.event.created_at),
            outcome: e.event.outcome,
            subject: e.event.subject.unwrap_or_default(),
            ip: e.event.ip.unwrap_or_default(),
            iss: e.event.iss.unwrap_or_default(),
            count: e.count,
        }
    }
}

#[derive(Template)]
#[template(path = "settings/sso.html")]
pub struct SsoSettingsPage {
    pub layout: Layout,
    pub nav: Nav,
    pub company_id: String,
    pub base_url: String,
    pub current: Option<SecretView>,
    pub previous: Option<SecretView>,
    /// A secret just generated: shown this once.
    pub revealed: Option<String>,
    pub max_token_lifetime: i64,
    pub lifetime: LifetimeBounds,
    pub grace_choices: [Grace; 3],
    pub signout_url: String,
    pub signin_url: String,
    pub options_error: Option<String>,
    pub snippets: Vec<Snippet>,
    pub projects: Vec<Project>,
    pub test: TestLinkView,
    pub check: Option<CheckView>,
    pub server_time: String,
    /// The last sign-ins, and apart from them the last refusals: a flood of
    /// refusals cannot push a sign-in out of sight.
    pub signins: Vec<EventView>,
    pub refusals: Vec<EventView>,
}

/// Everything the page shows, read in one database hop.
pub(super) async fn page(state: &AppState, admin: &AdminUser) -> Result<SsoSettingsPage, AppError> {
    Ok(page_and_secret(state, admin).await?.0)
}

/// The page, and the current secret it was read with (never rendered): the
/// test-link maker signs with it without reading it again.
async fn page_and_secret(
    state: &AppState,
    admin: &AdminUser,
) -> Result<(SsoSettingsPage, Option<SsoSecret>), AppError> {
    let company_id = admin.company.id;
    let now = db::now();
    let (company, secrets, (signins, refusals), projects) = state
        .db
        .read(move |conn| {
            let company = Company::find(conn, company_id)?;
            let secrets = SsoSecret::usable(conn, company_id, now)?;
            let signins = SsoEvent::recent(conn, company_id, true, EVENTS_SHOWN)?;
            let refusals = SsoEvent::recent(conn, company_id, false, EVENTS_SHOWN)?;
            let projects = Project::list_for_company(conn, company_id)?;
            Ok::<_, DbError>((company, secrets, (signins, refusals), projects))
        })
        .await?;
    let company = company.ok_or(AppError::SignInRequired)?;
    let current_secret = secrets.iter().find(|s| s.is_current()).cloned();
    let current = current_secret.as_ref().map(SecretView::of);
    let previous = secrets.iter().find(|s| !s.is_current()).map(SecretView::of);
    Ok((
        SsoSettingsPage {
            layout: layout(admin)?,
            nav: Nav::Sso,
            snippets: snippets(&company.public_id, &state.base_url),
            company_id: company.public_id,
            base_url: state.base_url.clone(),
            current,
            previous,
            revealed: None,
            max_token_lifetime: company.max_token_lifetime,
            lifetime: LIFETIME,
            grace_choices: GRACE_CHOICES,
            signout_url: company.signout_url.unwrap_or_default(),
            signin_url: company.signin_url.unwrap_or_default(),
            options_error: None,
            projects,
            test: TestLinkView::default(),
            check: None,
            server_time: format_time_seconds(now),
            signins: signins.into_iter().map(EventView::of).collect(),
            refusals: refusals.into_iter().map(EventView::of).collect(),
        },
        current_secret,
    ))
}

/// `GET /settings/sso`.
pub async fn sso_get(
    admin: AdminUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    Ok(render(&page(&state, &admin).await?)?)
}
