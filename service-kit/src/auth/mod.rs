//! Who is calling, and may they? Access tokens are verified against the keys
//! auth-svc publishes, and each method's declared policy (from the contract's
//! `kursi.access.v1.policy` option) is applied before any handler runs.

mod admission;
mod caller;
mod claims;
mod policy;
mod verifier;

pub use admission::{Admission, Readiness};
pub use caller::{Caller, caller};
pub use claims::{AccessClaims, parse_role, role_name};
pub use policy::{Denial, Policy, PolicyTable};
pub use verifier::{KeySource, KeySourceError, RemoteJwks, TokenVerifier, VerifyError};
