//! The first steps: which API an invoke request is for ([`target`], [`domains`]), its stage
//! and that stage's deployment compiled into a route tree ([`resolve`], [`router`]), and the
//! route that answers it, by AWS's priority ([`router`]), and why ([`explain`]).

pub mod domains;
pub mod explain;
pub mod resolve;
pub mod router;
pub mod target;
