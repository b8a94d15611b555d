//! What a slow or greedy client can hold, bounded on purpose
//! (docs/LIMITS.md gives the figures and the reasons):
//!
//! - a request's body must arrive within [`BODY_DEADLINE`] of its head (a
//!   large one at [`MIN_BODY_RATE`] at least), or the answer is `408` and
//!   the connection is closed ([`body_deadline`]);
//! - its head within [`HEAD_TIMEOUT`] (actix's client request timeout);
//! - an idle keep-alive connection is closed after [`KEEP_ALIVE`];
//! - connections are capped so that file descriptors always remain for the
//!   database, the log and the uploads ([`max_connections_per_worker`]).

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::rt::time::{Sleep, sleep};
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage, ResponseError};
use futures_util::Stream;

use crate::error::AppError;

/// A request's body must have arrived this long after its head…
pub const BODY_DEADLINE: Duration = Duration::from_secs(10);
/// …or, for a large one (an upload), at this many bytes a second (256 KiB/s,
/// about 2 Mbit/s: a 25 MiB message gets 100 s).
pub const MIN_BODY_RATE: u64 = 256 * 1024;
/// A request's head must have arrived this long after the connection
/// opened (or the previous request ended).
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// An idle keep-alive connection is closed after this long.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// File descriptors kept for everything but client connections: the
/// database's files (WAL and shared memory, a connection each), the log,
/// the listening socket, threads' pipes.
pub const RESERVED_FDS: u64 = 256;
/// Connections a worker holds at most, whatever the limit of descriptors.
const MAX_CONNECTIONS_PER_WORKER: u64 = 25_000;

/// Raises the soft limit of open files to the hard limit, and returns how
/// many client connections each of `workers` may hold so that
/// [`RESERVED_FDS`] remain.
pub fn max_connections_per_worker(workers: usize) -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(e) => {
            log::warn!("could not read or raise the open-files limit: {e}");
            1024
        }
    };
    let per_worker = limit.saturating_sub(RESERVED_FDS).max(64) / workers.max(1) as u64;
    usize::try_from(per_worker.min(MAX_CONNECTIONS_PER_WORKER)).unwrap_or(25_000)
}

fn late() -> PayloadError {
    PayloadError::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "the request body did not arrive in time",
    ))
}

/// The request's body, cut off at its deadline: past it, the next read is an
/// error, and `expired` is set for [`body_deadline`] to answer 408.
struct Deadline {
    inner: Payload,
    timer: Pin<Box<Sleep>>,
    expired: Rc<Cell<bool>>,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired.get() {
            return Poll::Ready(Some(Err(late())));
        }
        // What has arrived is taken first; past the deadline, no more.
        let late_now = match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(_))) if self.timer.is_elapsed() => true,
            Poll::Pending => self.timer.as_mut().poll(cx).is_ready(),
            other => return other,
        };
        if late_now {
            self.expired.set(true);
            return Poll::Ready(Some(Err(late())));
        }
        Poll::Pending
    }
}

/// Middleware: gives every request that may carry a body [`BODY_DEADLINE`]
/// to send it; a request whose body ran out of time is answered `408` (the
/// handler's own answer to the broken body is dropped) with
/// `Connection: close`.
pub async fn body_deadline(
    deadline: Duration,
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    // A large body (an upload) gets the time it needs at MIN_BODY_RATE.
    let length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let deadline = deadline.max(Duration::from_secs(length / MIN_BODY_RATE));
    let expired = Rc::new(Cell::new(false));
    let inner = req.take_payload();
    req.set_payload(Payload::Stream {
        payload: Box::pin(Deadline {
            inner,
            timer: Box::pin(sleep(deadline)),
            expired: expired.clone(),
        }),
    });
    let res = next.call(req).await;
    if !expired.get() {
        return res.map(ServiceResponse::map_into_boxed_body);
    }
    let (http_req, _) = match res {
        Ok(res) => res.into_parts(),
        Err(e) => return Err(e),
    };
    let mut answer = AppError::RequestTimeout.error_response();
    answer
        .head_mut()
        .set_connection_type(actix_web::http::ConnectionType::Close);
    answer.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    Ok(ServiceResponse::new(http_req, answer))
}
