//! Who may move a request where, and what a message does to its status
//! (README, "Support requests"):
//! `new` → `open` → `pending` → `solved` → `closed`. A customer's reply to a
//! `pending` or `solved` request makes it `open`; an agent's first public
//! reply to a `new` one makes it `open`; a `closed` request takes nothing
//! more. A requester may mark their request solved, and reopen a solved one.

use crate::db::models::Status;

/// Why a change is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The request is closed: 409.
    Closed,
    /// This person may not make this change: 403.
    NotAllowed(&'static str),
}

/// The status after a message. `staff` wrote it; `set` is the status an
/// agent chose in the same step ("reply and set pending").
pub fn after_message(
    current: Status,
    staff: bool,
    internal: bool,
    set: Option<Status>,
) -> Result<Status, Refused> {
    if current == Status::Closed {
        return Err(Refused::Closed);
    }
    if let Some(set) = set {
        return Ok(set);
    }
    Ok(match (staff, internal, current) {
        // An internal note changes nothing the customer sees.
        (true, true, s) => s,
        (true, false, Status::New) => Status::Open,
        (false, _, Status::Pending | Status::Solved) => Status::Open,
        (_, _, s) => s,
    })
}

/// A status change made on the request's page. `staff` may set any status;
/// the requester may mark it solved, or reopen a solved one; nobody else.
pub fn change_status(
    current: Status,
    to: Status,
    staff: bool,
    requester: bool,
) -> Result<Status, Refused> {
    if current == Status::Closed {
        return Err(Refused::Closed);
    }
    if staff {
        return Ok(to);
    }
    if !requester {
        return Err(Refused::NotAllowed(
            "Only the person who opened this request, or the support team, can change its status.",
        ));
    }
    match (current, to) {
        (_, Status::Solved) => Ok(Status::Solved),
        (Status::Solved, Status::Open) => Ok(Status::Open),
        (s, t) if s == t => Ok(s),
        _ => Err(Refused::NotAllowed(
            "You can mark your request as solved, or reopen it once solved; the support team sets the other statuses.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn replies_move_the_status_as_the_readme_says() {
        assert_eq!(after_message(New, true, false, None), Ok(Open));
        assert_eq!(after_message(New, true, true, None), Ok(New));
        assert_eq!(after_message(New, false, false, None), Ok(New));
        assert_eq!(after_message(Pending, false, false, None), Ok(Open));
        assert_eq!(after_message(Solved, false, false, None), Ok(Open));
        assert_eq!(after_message(Open, true, false, Some(Pending)), Ok(Pending));
        assert_eq!(after_message(Pending, true, false, None), Ok(Pending));
        assert_eq!(
            after_message(Closed, true, false, None),
            Err(Refused::Closed)
        );
        assert_eq!(
            after_message(Closed, false, false, None),
            Err(Refused::Closed)
        );
    }

    #[test]
    fn requesters_solve_and_reopen_staff_set_anything() {
        assert_eq!(change_status(Open, Solved, false, true), Ok(Solved));
        assert_eq!(change_status(Solved, Open, false, true), Ok(Open));
        assert!(change_status(Open, Pending, false, true).is_err());
        assert!(change_status(Open, Closed, false, true).is_err());
        assert!(change_status(Open, Solved, false, false).is_err());
        assert_eq!(change_status(Solved, Closed, true, false), Ok(Closed));
        assert_eq!(
            change_status(Closed, Open, true, false),
            Err(Refused::Closed)
        );
    }
}
