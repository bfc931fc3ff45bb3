//! What an invocation sent and got, for the inspector ([`Exchange`]): the integration
//! request exactly as sent (URL, headers, body or Lambda event), the integration's answer,
//! the final response, the throttle's and the authorizer's decisions, and when each step
//! ended. Filled in only while the inspector records, as cheaply as it can be (headers as
//! one text, what is passed on unchanged not copied again, times as instants); bodies are
//! cut at the inspector's limit and left out when it keeps none. How a trace shows all this,
//! secrets masked, is [`shown`]'s.

pub mod shown;

use std::borrow::Cow;
use std::time::Instant;

use bytes::Bytes;
use gatehouse_http::body::Keeper;
use http::uri::{Authority, Scheme};
use http::{HeaderMap, HeaderValue, Method};

/// The first bytes of a body, and how long it was.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    /// Its first bytes (copied, or a buffer made for that body alone: never a slice holding
    /// a larger buffer).
    pub head: Bytes,
    /// Its length.
    pub total: usize,
}

impl Captured {
    /// The first `limit` bytes of `bytes`.
    pub fn of(bytes: &[u8], limit: usize) -> Captured {
        Captured {
            head: Bytes::copy_from_slice(&bytes[..limit.min(bytes.len())]),
            total: bytes.len(),
        }
    }
}

/// A body as the inspector has it: whole (cut), still going through a tee, or not kept.
#[derive(Debug, Clone, Default)]
pub enum Recorded {
    /// Not kept (bodies are not recorded, or there was none to keep).
    #[default]
    None,
    /// Its first bytes.
    Whole(Captured),
    /// Kept as it streamed.
    Streamed(Keeper),
}

impl Recorded {
    /// What was kept, once the body has gone through.
    pub fn captured(&self) -> Option<Captured> {
        match self {
            Recorded::None => None,
            Recorded::Whole(c) => Some(c.clone()),
            Recorded::Streamed(k) => k.lock().ok().map(|k| Captured {
                head: Bytes::copy_from_slice(&k.head),
                total: k.total,
            }),
        }
    }

    /// Roughly the bytes it takes.
    pub fn size(&self) -> usize {
        match self {
            Recorded::None => 0,
            Recorded::Whole(c) => c.head.len(),
            Recorded::Streamed(k) => k.lock().map_or(0, |k| k.head.capacity()),
        }
    }
}

/// Headers as one text, a `name: value` line each: one copy, where a map's copy is many
/// (its bytes are read as UTF-8 only when shown).
#[derive(Debug, Clone, Default)]
pub struct HeaderText(Vec<u8>);

impl HeaderText {
    /// The text of `headers`.
    pub fn of(headers: &HeaderMap) -> HeaderText {
        HeaderText::of_lines(|| {
            headers
                .iter()
                .map(|(n, v)| (n.as_str().as_bytes(), v.as_bytes()))
        })
    }

    /// The text of `pairs`.
    pub fn from_pairs<N: AsRef<str>, V: AsRef<str>>(pairs: &[(N, V)]) -> HeaderText {
        HeaderText::of_lines(|| {
            let lines = pairs.iter();
            lines.map(|(n, v)| (n.as_ref().as_bytes(), v.as_ref().as_bytes()))
        })
    }

    /// A `name: value` line for each header `lines()` gives, written in one buffer sized
    /// once.
    fn of_lines<'a, I>(lines: impl Fn() -> I) -> HeaderText
    where
        I: Iterator<Item = (&'a [u8], &'a [u8])>,
    {
        let room = lines().map(|(n, v)| n.len() + v.len() + 3).sum();
        let mut text = Vec::with_capacity(room);
        for (name, value) in lines() {
            text.extend_from_slice(name);
            text.extend_from_slice(b": ");
            text.extend_from_slice(value);
            text.push(b'\n');
        }
        HeaderText(text)
    }

    /// Each header's name and value, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
        self.0.split(|b| *b == b'\n').filter_map(|line| {
            let at = line.windows(2).position(|w| w == b": ")?;
            let (name, value) = (&line[..at], &line[at + 2..]);
            Some((
                String::from_utf8_lossy(name),
                String::from_utf8_lossy(value),
            ))
        })
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Where an integration request went.
#[derive(Debug, Clone)]
pub enum Url {
    /// A whole URL (the Lambda Invoke API's).
    Whole(String),
    /// A backend's origin and the request target (put together when shown).
    Backend(Scheme, Authority, String),
}

/// The headers an integration request went out with.
#[derive(Debug, Clone)]
pub enum SentHeaders {
    /// Its own (those parameter mapping made, already with the backend's `Host` and the
    /// gateway's `Forwarded`).
    Own(HeaderText),
    /// The Lambda Invoke API call's: [`INVOKE_HEADERS`], the same for every call.
    Invoke,
    /// The client's, passed on: worked out when shown ([`shown::passed_on`]), not copied
    /// for every request; `Host` is the URL's authority.
    Client {
        /// The gateway's `Forwarded`.
        forwarded: Option<HeaderValue>,
    },
}

/// The headers of every Lambda Invoke API call.
pub const INVOKE_HEADERS: [(&str, &str); 2] = [
    ("content-type", "application/json"),
    ("x-amz-invocation-type", "RequestResponse"),
];

/// The integration request as it was sent.
#[derive(Debug, Clone)]
pub struct Sent {
    /// `HTTP_PROXY` or `AWS_PROXY`.
    pub kind: &'static str,
    /// The method.
    pub method: Method,
    /// The backend's URL, or the Lambda Invoke API's.
    pub url: Url,
    /// Its headers.
    pub headers: SentHeaders,
    /// Its body: the Lambda event (an HTTP backend's is the client's).
    pub body: Recorded,
}

/// An answer: the integration's or the client's.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// Its status.
    pub status: u16,
    /// Its headers (none for a response that is the integration's answer passed on, with
    /// `apigw-requestid` added: not copied again).
    pub headers: Option<HeaderText>,
    /// Its body.
    pub body: Recorded,
}

/// The authorizer's step.
#[derive(Debug, Clone)]
pub struct Authorization {
    /// `JWT`, `REQUEST` or `AWS_IAM`.
    pub kind: &'static str,
    /// The authorizer's name (none for `AWS_IAM`).
    pub name: Option<String>,
    /// Whether a cached decision was used (Lambda authorizers with a TTL).
    pub cached: Option<bool>,
    /// Whether it let the request through.
    pub allowed: bool,
}

/// Steps an exchange notes the end of, at most.
const STEPS: usize = 8;

/// A step of serving a request, as a trace names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Resolving the API and stage, matching the route, reading a body the route needs.
    Route,
    /// The throttle's decision.
    Throttle,
    /// The authorizer's.
    Authorize,
    /// The integration, to its answer's head.
    Integrate,
    /// The answer going out.
    Respond,
}

impl Step {
    /// Its name in a trace.
    pub fn name(self) -> &'static str {
        match self {
            Step::Route => "route",
            Step::Throttle => "throttle",
            Step::Authorize => "authorize",
            Step::Integrate => "integrate",
            Step::Respond => "respond",
        }
    }
}

/// What one invocation sent and got.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Body bytes kept of each body (0: none).
    pub body_limit: usize,
    /// The client's body: kept as it streamed to the backend, else taken from the
    /// invocation when its trace is made.
    pub request_body: Recorded,
    /// The throttle's decision (none: the request never reached it).
    pub throttled: Option<bool>,
    /// The authorizer's step (none: the route has none, or it was never reached).
    pub authorization: Option<Authorization>,
    /// The integration request.
    pub sent: Option<Sent>,
    /// The integration's answer (its body: the Lambda function's output; an HTTP backend's
    /// body is the response's).
    pub answer: Option<Answer>,
    /// The final response.
    pub response: Option<Answer>,
    /// Whether the integration's answer went to the client as it came (no response
    /// parameter mapping).
    pub passed_on: bool,
    /// When serving began.
    started: Instant,
    /// Each step that ended and when, in microseconds since serving began, in order.
    steps: [Option<(Step, u32)>; STEPS],
}

impl Exchange {
    /// An exchange beginning at `started`, keeping `body_limit` bytes of each body.
    pub fn new(started: Instant, body_limit: usize) -> Exchange {
        Exchange {
            body_limit,
            request_body: Recorded::None,
            throttled: None,
            authorization: None,
            sent: None,
            answer: None,
            response: None,
            passed_on: false,
            started,
            steps: [None; STEPS],
        }
    }

    /// `step` ended at `at` (an instant serving read anyway: recording reads the clock no
    /// more than it must).
    pub fn mark(&mut self, step: Step, at: Instant) {
        let micros = at.saturating_duration_since(self.started).as_micros();
        if let Some(free) = self.steps.iter_mut().find(|s| s.is_none()) {
            *free = Some((step, u32::try_from(micros).unwrap_or(u32::MAX)));
        }
    }

    /// Each step and the microseconds it took, in order.
    pub fn step_times(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        let ended = self.steps.iter().map_while(|s| *s);
        ended.scan(0u32, |before, (step, at)| {
            let took = u64::from(at.saturating_sub(*before));
            *before = at;
            Some((step.name(), took))
        })
    }

    /// `bytes`, as kept.
    pub fn keep(&self, bytes: &[u8]) -> Recorded {
        match self.body_limit {
            0 => Recorded::None,
            limit => Recorded::Whole(Captured::of(bytes, limit)),
        }
    }

    /// A Lambda event, as kept: whole, shared rather than copied (it was made for this call
    /// alone); one cut short is masked first (a cut event cannot be read when it is shown).
    pub fn keep_event(&self, event: Bytes) -> Recorded {
        if self.body_limit == 0 {
            return Recorded::None;
        }
        if event.len() <= self.body_limit {
            let total = event.len();
            return Recorded::Whole(Captured { head: event, total });
        }
        match std::str::from_utf8(&event)
            .ok()
            .and_then(shown::masked_event)
        {
            Some(masked) => self.keep(masked.as_bytes()),
            None => Recorded::None,
        }
    }

    /// Roughly the bytes it takes.
    pub fn size(&self) -> usize {
        let answer = |a: &Option<Answer>| {
            a.as_ref().map_or(0, |a| {
                a.headers.as_ref().map_or(0, HeaderText::len) + a.body.size()
            })
        };
        let sent = self.sent.as_ref().map_or(0, |s| {
            let headers = match &s.headers {
                SentHeaders::Own(h) => h.len(),
                SentHeaders::Invoke | SentHeaders::Client { .. } => 64,
            };
            let url = match &s.url {
                Url::Whole(u) => u.len(),
                Url::Backend(_, a, t) => a.as_str().len() + t.len(),
            };
            url + headers + s.body.size()
        });
        std::mem::size_of::<Exchange>()
            + self.request_body.size()
            + sent
            + answer(&self.answer)
            + answer(&self.response)
    }
}
