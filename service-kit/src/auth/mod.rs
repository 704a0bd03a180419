//! Who is calling, and may they? Access tokens are verified against the keys
//! auth-svc publishes, and each method's declared policy (from the contract's
//! `kursi.access.v1.policy` option) is applied before any handler runs.
//! A token that passed the full check is remembered for a short while, so a
//! caller's next requests skip the signature check (see `verified`).

mod actor;
mod admission;
mod caller;
mod claims;
mod policy;
mod verified;
mod verifier;

pub use actor::{Actor, actor};
pub use admission::{Admission, Readiness, bearer_token};
pub use caller::{Caller, caller};
pub use claims::{AccessClaims, parse_role, role_name};
pub use policy::{Denial, ExternalMethod, Policy, PolicyTable};
pub use verifier::{KeySource, KeySourceError, RemoteJwks, TokenVerifier, VerifyError};
