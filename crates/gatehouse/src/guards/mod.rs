//! What runs before an operation and may stop it: AWS-style per-account throttling
//! ([`throttle`]) and injected faults ([`faults`]).

pub mod faults;
pub mod throttle;
