//! The AWS API as a table: every operation of the model with its method, URI template,
//! success status and typed path ([`operations`], [`paths`]), and the router that finds the
//! operation a request names ([`router`]). Nothing here runs an operation.

pub mod operations;
pub mod paths;
pub mod router;

pub use operations::Operation;

#[cfg(test)]
mod model_check;
