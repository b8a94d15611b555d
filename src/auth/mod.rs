//! Who is asking: the session cookie's content, the extractors that check
//! it on every request, CSRF protection and passwords.

pub mod csrf;
pub mod device;
pub mod extract;
pub mod password;
pub mod session;
pub mod throttle;

pub use extract::CurrentUser;
pub use session::Method;
