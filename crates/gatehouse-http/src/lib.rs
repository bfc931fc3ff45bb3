//! gatehouse's one HTTP/1.1 layer, for both directions.
//!
//! - [`server`]: accepts connections and reads requests; plain HTTP/1.1 requests (and
//!   upgrade requests) are read and answered here, anything else is handed, with the bytes
//!   already read, to hyper; answers are written as hyper would write them; an upgrade
//!   answered with `101` hands the connection to whoever answered it ([`server::upgrade`]).
//! - [`client`]: the outbound client (keep-alive connections per origin, a deadline per call,
//!   answers read whole or streamed).
//! - [`framing`]: what both share: bodies written with `content-length` or chunked, the
//!   header-value rules, the headers that belong to one connection.
//! - [`body`]: the body type both directions use, with length limits and a body that reports
//!   how it ended.
//!
//! Nothing here knows API Gateway: limits are the caller's.

#![forbid(unsafe_code)]

pub mod body;
pub mod client;
pub mod framing;
pub mod scratch;
pub mod server;

pub use body::Body;
