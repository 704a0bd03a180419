//! Requests into account values: every field checked, every problem
//! reported at once, each naming its field.

use kursi_proto::access::v1::Role;
use kursi_proto::auth::v1::{LoginRequest, RegisterRequest, SetUserRoleRequest};
use service_kit::ServiceError;
use service_kit::values::{Violations, id};
use uuid::Uuid;

use crate::accounts::Registration;
use crate::domain::{DisplayName, Email, Password, Username};

pub fn registration(request: &RegisterRequest) -> Result<Registration, ServiceError> {
    let mut v = Violations::default();
    let email = v.check(Email::parse(&request.email));
    let password = v.check(Password::parse(&request.password));
    let display_name = v.check(DisplayName::parse(&request.display_name));
    let username = v.check(match request.username.trim() {
        "" => Ok(None),
        name => Username::parse(name).map(Some),
    });
    let registration = (|| {
        Some(Registration {
            email: email?,
            password: password?,
            display_name: display_name?,
            username: username?,
        })
    })();
    v.finish(registration)
}

/// An email to look an account up by.
pub fn email(raw: &str) -> Result<Email, ServiceError> {
    Email::parse(raw).map_err(|v| ServiceError::InvalidArgument(vec![v]))
}

/// A LoginRequest's `(login, password)`: an email or a username, and a
/// password, checked only for being there.
pub fn login(request: &LoginRequest) -> Result<(&str, &str), ServiceError> {
    let mut v = Violations::default();
    let login = request.username.trim();
    if login.is_empty() {
        v.push("username", "is required (an email or a username)");
    } else if login.chars().any(char::is_control) {
        // No email or username can hold one, and PostgreSQL cannot even
        // compare text with a NUL in it: refuse before the lookup.
        v.push("username", "must not contain control characters");
    }
    if request.password.is_empty() {
        v.push("password", "is required");
    }
    if !matches!(request.grant_type.as_str(), "" | "password") {
        v.push("grant_type", "must be \"password\" or left out");
    }
    v.finish(Some((request.username.as_str(), request.password.as_str())))
}

/// A SetUserRoleRequest's account and role (the account checked first).
pub fn role_change(request: &SetUserRoleRequest) -> Result<(Uuid, Role), ServiceError> {
    let user_id = id("user_id", &request.user_id)?;
    match Role::try_from(request.role) {
        Ok(Role::Unspecified) | Err(_) => Err(ServiceError::invalid(
            "role",
            "must be CUSTOMER, STAFF or ADMIN",
        )),
        Ok(role) => Ok((user_id, role)),
    }
}

/// A refresh token, required.
pub fn refresh_token(token: &str) -> Result<&str, ServiceError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(ServiceError::invalid("refresh_token", "is required"));
    }
    Ok(token)
}
