//! `AWS_IAM` routes: the request's SigV4 signature (service `execute-api`) checked by the
//! server, which holds the credentials, and the signing account compared with the API's.

use crate::context::{Incoming, Invocation};
use crate::gateway::{not_served, GatewayError, Refusal};

/// Checks the SigV4 signature of a request to an `AWS_IAM` route (service `execute-api`) and
/// names the signing account; `Err` says why it is refused. Implemented where the
/// credentials are (the server).
pub trait IamCheck: Send + Sync {
    /// The account that signed `incoming`, or why it is refused.
    fn caller(&self, incoming: &Incoming) -> Result<String, String>;
}

/// Admits the request when `iam` names its signer and that is the account that owns the
/// API (another account's credentials do not reach this account's API); 403 otherwise.
pub fn check(iam: Option<&dyn IamCheck>, inv: &Invocation) -> Result<(), Refusal> {
    let Some(iam) = iam else {
        return Err(not_served(GatewayError::Forbidden, "no IAM verifier"));
    };
    match iam.caller(&inv.incoming) {
        Ok(account) if *account == *inv.facts.account_id => Ok(()),
        Ok(account) => Err(not_served(
            GatewayError::Forbidden,
            format!("account {account} may not invoke this API"),
        )),
        Err(why) => Err(not_served(GatewayError::Forbidden, why)),
    }
}
