//! Settings, for admins who signed in with a password ([`AdminUser`]):
//! SSO, projects and people. Every form is CSRF-checked by
//! [`crate::auth::csrf::CsrfForm`]; every action answers with a redirect
//! and a flash message (post/redirect/get), or re-renders with an error.

pub mod people;
pub mod projects;
pub mod sso;

use actix_web::HttpResponse;

use crate::auth::extract::AdminUser;
use crate::views::see_other;

/// `GET /settings`.
pub async fn settings_get(_admin: AdminUser) -> HttpResponse {
    see_other(Nav::Sso.href())
}

/// The pages of Settings, in the order of its menu
/// (templates/settings/layout.html).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumIter)]
pub enum Nav {
    Sso,
    Projects,
    People,
}

/// One entry of the Settings menu, as the template shows it.
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

impl Nav {
    pub fn href(self) -> &'static str {
        match self {
            Nav::Sso => "/settings/sso",
            Nav::Projects => "/settings/projects",
            Nav::People => "/settings/people",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Nav::Sso => "SSO",
            Nav::Projects => "Projects",
            Nav::People => "People",
        }
    }

    /// The menu, with this page marked current.
    pub fn items(self) -> Vec<NavItem> {
        use strum::IntoEnumIterator;
        Nav::iter()
            .map(|item| NavItem {
                href: item.href(),
                label: item.label(),
                current: item == self,
            })
            .collect()
    }
}
