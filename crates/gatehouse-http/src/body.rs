//! Bodies, both directions: whole bytes or a stream, held to a length limit the caller
//! names; [`Counted`] learns a body's length as it goes out and reports how it ended (for
//! access logs and metrics).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};

/// An error from a body stream.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request or response body: whole bytes or a stream.
pub type Body = UnsyncBoxBody<Bytes, BoxError>;

/// A body of `bytes`.
pub fn full(bytes: Bytes) -> Body {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// A body with nothing in it (no allocation: the box holds nothing).
pub fn empty() -> Body {
    http_body_util::Empty::new()
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// Any body of bytes as a [`Body`].
pub fn boxed<B>(b: B) -> Body
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    b.map_err(|e| -> BoxError { e.into() }).boxed_unsync()
}

/// `body`, failing once more than `max` bytes went through.
pub fn limited(body: Body, max: usize) -> Body {
    Limited::new(body, max).boxed_unsync()
}

/// Whether a body error (or one of its sources) is a [`limited`] body's limit.
pub fn is_over_limit(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.is::<LengthLimitError>() {
            return true;
        }
        cause = c.source();
    }
    false
}

/// Reads `body` whole; `Err(true)` when it is over `max` bytes, `Err(false)` when it broke
/// off.
pub async fn read(mut body: Body, max: usize) -> Result<Bytes, bool> {
    // A body of one piece (the usual case) is returned as it is, not copied.
    let (mut first, mut rest, mut total) = (None::<Bytes>, bytes::BytesMut::new(), 0usize);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| is_over_limit(e.as_ref()))?;
        if let Ok(data) = frame.into_data() {
            total += data.len();
            if total > max {
                return Err(true);
            }
            match first.take() {
                None if rest.is_empty() => first = Some(data),
                held => {
                    if let Some(held) = held {
                        rest.extend_from_slice(&held);
                    }
                    rest.extend_from_slice(&data);
                }
            }
        }
    }
    Ok(first.unwrap_or_else(|| rest.freeze()))
}

/// The first bytes of a body, kept by a [`tee`] as they go through it, and how many went
/// through in all.
#[derive(Debug, Default)]
pub struct Kept {
    /// The first bytes, up to the tee's limit (copied: a chunk may share a larger buffer).
    pub head: bytes::BytesMut,
    /// Bytes that went through.
    pub total: usize,
}

/// Where a [`tee`] keeps what it saw, readable once the body has gone through.
pub type Keeper = std::sync::Arc<std::sync::Mutex<Kept>>;

/// `body` as it was, keeping a copy of its first `limit` bytes as they go through.
pub fn tee(body: Body, limit: usize) -> (Body, Keeper) {
    // (Room for what is coming, when the body says, so that keeping it copies once.)
    let coming = HttpBody::size_hint(&body).exact().unwrap_or(0) as usize;
    let kept = Keeper::new(std::sync::Mutex::new(Kept {
        head: bytes::BytesMut::with_capacity(coming.min(limit)),
        total: 0,
    }));
    let tee = Tee {
        inner: body,
        limit,
        kept: kept.clone(),
    };
    (tee.boxed_unsync(), kept)
}

/// Adds to `head` what of `data` fits within `limit` bytes in all.
fn keep_head(head: &mut bytes::BytesMut, limit: usize, data: &[u8]) {
    let room = limit.saturating_sub(head.len());
    head.extend_from_slice(&data[..room.min(data.len())]);
}

struct Tee {
    inner: Body,
    limit: usize,
    kept: Keeper,
}

impl HttpBody for Tee {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let (Some(data), Ok(mut kept)) = (frame.data_ref(), self.kept.lock()) {
                kept.total += data.len();
                keep_head(&mut kept.head, self.limit, data);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// How a body ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// Bytes that went through it.
    pub sent: usize,
    /// Whether it was read to its end without an error (not broken off, not dropped
    /// half-read).
    pub complete: bool,
    /// Its first bytes, when it was asked to keep them ([`Counted::keeping`]).
    pub head: Option<Bytes>,
}

/// What is called once when a body ends (or breaks off, or is dropped before its end: the
/// client went away).
pub type OnEnd = Box<dyn FnOnce(Ended) + Send>;

/// A body that counts what goes through it and reports how it ended, once.
pub struct Counted {
    inner: Body,
    sent: usize,
    on_end: Option<OnEnd>,
    /// The first bytes kept, and how many to keep.
    head: Option<(bytes::BytesMut, usize)>,
}

impl Counted {
    /// Wraps `inner`.
    pub fn new(inner: Body, on_end: OnEnd) -> Counted {
        Counted {
            inner,
            sent: 0,
            on_end: Some(on_end),
            head: None,
        }
    }

    /// It also keeps a copy of the body's first `limit` bytes, handed to its end's callback.
    pub fn keeping(mut self, limit: usize) -> Counted {
        let coming = HttpBody::size_hint(&self.inner).exact().unwrap_or(0) as usize;
        self.head = Some((bytes::BytesMut::with_capacity(coming.min(limit)), limit));
        self
    }

    fn end(&mut self, complete: bool) {
        if let Some(f) = self.on_end.take() {
            f(Ended {
                sent: self.sent,
                complete,
                head: self.head.take().map(|(head, _)| head.freeze()),
            });
        }
    }
}

impl HttpBody for Counted {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.sent += data.len();
                    if let Some((head, limit)) = &mut self.head {
                        keep_head(head, *limit, data);
                    }
                }
                if self.inner.is_end_stream() {
                    self.end(true);
                }
            }
            Poll::Ready(None) => self.end(true),
            Poll::Ready(Some(Err(_))) => self.end(false),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        // A body with nothing left to read is complete even if nobody asked for its end.
        let complete = self.inner.is_end_stream();
        self.end(complete);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[tokio::test]
    async fn a_counted_body_can_keep_its_first_bytes() {
        let seen = Arc::new(Mutex::new(None));
        let s = seen.clone();
        let body = Counted::new(
            full(Bytes::from_static(b"hello world")),
            Box::new(move |ended| *s.lock().unwrap() = Some(ended)),
        )
        .keeping(5);
        body.collect().await.unwrap();
        let ended = seen.lock().unwrap().take().unwrap();
        assert_eq!(
            (ended.sent, ended.head.as_deref()),
            (11, Some(&b"hello"[..]))
        );
    }

    #[tokio::test]
    async fn a_tee_keeps_the_first_bytes_and_counts_them_all() {
        let (body, kept) = tee(full(Bytes::from_static(b"hello world")), 5);
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(bytes.as_ref(), b"hello world");
        let kept = kept.lock().unwrap();
        assert_eq!((kept.head.as_ref(), kept.total), (&b"hello"[..], 11));
    }

    #[tokio::test]
    async fn a_counted_body_reports_its_length_once() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let body = Counted::new(
            full(Bytes::from_static(b"hello")),
            Box::new(move |n| s.lock().unwrap().push(n)),
        );
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(bytes.as_ref(), b"hello");
        let ended = |sent, complete| Ended {
            sent,
            complete,
            head: None,
        };
        assert_eq!(*seen.lock().unwrap(), vec![ended(5, true)]);
        // Dropped unread: reported once, with nothing sent, not complete.
        let s = seen.clone();
        drop(Counted::new(
            full(Bytes::from_static(b"x")),
            Box::new(move |n| s.lock().unwrap().push(n)),
        ));
        assert_eq!(*seen.lock().unwrap(), vec![ended(5, true), ended(0, false)]);
        // Dropped with nothing to read: complete.
        let s = seen.clone();
        drop(Counted::new(
            full(Bytes::new()),
            Box::new(move |n| s.lock().unwrap().push(n)),
        ));
        assert_eq!(seen.lock().unwrap().last(), Some(&ended(0, true)));
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_refused() {
        const MAX: usize = 1024;
        let big = full(Bytes::from(vec![0u8; MAX + 1]));
        assert_eq!(read(big, MAX).await, Err(true));
        let ok = full(Bytes::from(vec![0u8; MAX]));
        assert_eq!(read(ok, MAX).await.map(|b| b.len()), Ok(MAX));
        let streamed = limited(full(Bytes::from(vec![0u8; MAX + 1])), MAX);
        assert_eq!(read(streamed, usize::MAX).await, Err(true));
    }
}
