//! Staff authentication and roles: password login issuing expiring session tokens, API tokens
//! for scripts, logout, account management, and rate-limited login attempts. Every staff API
//! request carries `Authorization: Bearer <token>`; the user it stands for reaches handlers as a
//! typed [`Staff`].

use crate::error::ErrorCode;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use licnode_store::AuditKind;
use licnode_store::{AuditEntry, IssuedToken, Role, User};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client_address::ClientAddress;
use crate::routes::{Operation, Routes};
use crate::{ApiError, AppState};

/// How long a login session lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);

/// Failed logins allowed in one window per (user name, client address) and per client address.
/// A user name alone is never locked: wrong passwords from one address lock that address out,
/// not the clerk who types the right one elsewhere (issue 11, item 8).
const MAX_FAILURES_PER_USER_AT_ADDRESS: u32 = 10;
const MAX_FAILURES_PER_ADDRESS: u32 = 10;
const FAILURE_WINDOW: Duration = Duration::from_secs(5 * 60);

/// The staff member a request acts for.
#[derive(Clone, Debug)]
pub struct Staff {
    pub user: User,
    pub token: String,
}

impl Staff {
    /// This staff member as the write path judges a write: name and role.
    pub fn author(&self) -> licnode_app::Author {
        licnode_app::Author::staff(self.user.name.clone(), self.user.role)
    }

    /// Refuses unless the role may create and edit records.
    pub fn require_write(&self) -> Result<(), ApiError> {
        if self.user.role.may_write() {
            return Ok(());
        }
        Err(ApiError::ForbiddenRole {
            reason: format!("a {} may read but not write", self.user.role.as_str()),
        })
    }

    /// Refuses unless the role may approve.
    pub fn require_approve(&self) -> Result<(), ApiError> {
        if self.user.role.may_approve() {
            return Ok(());
        }
        Err(ApiError::ApprovalRequired {
            role: self.user.role,
        })
    }

    /// Refuses unless the role oversees the node — administrators and auditors: the audit
    /// log, the node's health (its links, certificates, database, backups).
    pub(crate) fn require_oversight(&self) -> Result<(), ApiError> {
        if matches!(self.user.role, Role::Auditor | Role::Administrator) {
            return Ok(());
        }
        Err(ApiError::ForbiddenRole {
            reason: format!(
                "only an auditor or an administrator oversees the node, not a {}",
                self.user.role.as_str()
            ),
        })
    }

    /// Refuses unless the role manages accounts: the one guard of the JSON API's and the web
    /// application's account operations.
    pub(crate) fn require_administer(&self) -> Result<(), ApiError> {
        if self.user.role.may_administer() {
            return Ok(());
        }
        Err(ApiError::ForbiddenRole {
            reason: "only an administrator manages accounts".to_string(),
        })
    }
}

/// What failed logins are counted under. Addresses are counted as the limiters count them
/// (IPv6 by its /64, [`ClientAddress::counting_key`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum LoginKey {
    /// One user name tried from one client address.
    UserAtAddress { user: String, address: IpAddr },
    /// Every name tried from one client address.
    Address(IpAddr),
}

impl LoginKey {
    fn limit(&self) -> u32 {
        match self {
            LoginKey::UserAtAddress { .. } => MAX_FAILURES_PER_USER_AT_ADDRESS,
            LoginKey::Address(_) => MAX_FAILURES_PER_ADDRESS,
        }
    }
}

/// Counts failed logins per (user name, client address) and per client address, each in a
/// window that starts at its first failure.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<LoginKey, (u32, Instant)>>,
    /// Per client address: the minute of the last throttled attempt that was audited, and the
    /// throttled attempts since that were not.
    throttled: Mutex<HashMap<IpAddr, (i64, u64)>>,
}

impl LoginLimiter {
    /// The keys an attempt by `user` from `client` is counted under. The name is cut to the
    /// longest a user name can be (64), so that the counts stay small whatever is sent.
    fn keys(user: &str, client: ClientAddress) -> [LoginKey; 2] {
        let address = client.counting_key();
        [
            LoginKey::UserAtAddress {
                user: user.chars().take(64).collect(),
                address,
            },
            LoginKey::Address(address),
        ]
    }

    /// Seconds to wait if `key` has failed too often, else `None`.
    fn blocked_for(&self, key: &LoginKey) -> Option<u64> {
        let failures = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (count, since) = failures.get(key)?;
        let elapsed = since.elapsed();
        (*count >= key.limit() && elapsed < FAILURE_WINDOW)
            .then(|| (FAILURE_WINDOW - elapsed).as_secs().max(1))
    }

    fn record_failure(&self, key: LoginKey) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if failures.len() > 100_000 {
            failures.retain(|_, (_, since)| since.elapsed() < FAILURE_WINDOW);
        }
        let entry = failures.entry(key).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= FAILURE_WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    /// Counts a throttled attempt from `address` at `now_ms`. The first of each minute is
    /// audited, carrying how many came since the last audited one (returned); the others are
    /// only counted, so a locked-out guesser cannot grow the audit log at will (issue 11,
    /// item 8).
    fn throttled_attempt(&self, address: IpAddr, now_ms: i64) -> Option<u64> {
        let minute = now_ms.div_euclid(60_000);
        let mut throttled = self
            .throttled
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if throttled.len() > 100_000 {
            throttled.retain(|_, (audited_minute, _)| *audited_minute >= minute);
        }
        match throttled.get_mut(&address) {
            Some((audited_minute, not_audited)) if *audited_minute >= minute => {
                *not_audited += 1;
                None
            }
            Some((audited_minute, not_audited)) => {
                let since_last_entry = *not_audited;
                *audited_minute = minute;
                *not_audited = 0;
                Some(since_last_entry)
            }
            None => {
                throttled.insert(address, (minute, 0));
                Some(0)
            }
        }
    }

    fn clear(&self, key: &LoginKey) {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
    }
}

/// Routes that need no token: login.
pub(crate) fn open_routes() -> Routes<AppState> {
    Routes::new().post(
        "/auth/login",
        login,
        Operation::new("Log in with a name and a password: a session token for 8 hours")
            .json_body(json!({ "type": "object", "required": ["name", "password"], "additionalProperties": false,
                "properties": { "name": { "type": "string" }, "password": { "type": "string" } } }))
            .answers(200, "`token`, `expires_at_ms`, `user`")
            .refuses(400, &[ErrorCode::MalformedJson, ErrorCode::BadBody], "malformed body")
            .refuses(401, &[ErrorCode::Unauthenticated], "the name or the password is wrong, or the account is disabled")
            .refuses(415, &[ErrorCode::UnsupportedMediaType], "no JSON content type")
            .refuses(429, &[ErrorCode::TooManyAttempts], "too many failed logins from this address or for this name; `Retry-After` says when to try again"),
    )
}

/// Routes that need a token: the session, API tokens, accounts.
pub(crate) fn staff_routes() -> Routes<AppState> {
    let administrators_only = "only administrators";
    Routes::new()
        .get(
            "/auth/me",
            me,
            Operation::new("The user the token belongs to").answers(200, "`user`: name, display name, role, disabled"),
        )
        .post(
            "/auth/logout",
            logout,
            Operation::new("End the session: the token stops working").answers(204, "logged out"),
        )
        .post(
            "/auth/tokens",
            issue_api_token,
            Operation::new("Issue an API token for scripts (for another user: administrators only)")
                .json_body(json!({ "type": "object", "required": ["label"], "additionalProperties": false,
                    "properties": { "label": { "type": "string" }, "user": { "type": "string" },
                                    "expires_in_days": { "type": "integer", "minimum": 0 } } }))
                .answers(201, "the token (shown once), its label, user and expiry")
                .refuses(400, &[ErrorCode::MalformedJson, ErrorCode::BadBody], "malformed body")
                .refuses(403, &[ErrorCode::ForbiddenRole], administrators_only)
                .refuses(404, &[ErrorCode::NotFound], "no such user"),
        )
        .get(
            "/users",
            list_users,
            Operation::new("The staff accounts of this node (administrators)")
                .answers(200, "`users`")
                .refuses(403, &[ErrorCode::ForbiddenRole], administrators_only),
        )
        .post(
            "/users",
            add_user,
            Operation::new("Add a staff account (administrators): clerk, approver, administrator or auditor")
                .json_body(json!({ "type": "object", "required": ["name", "role", "password"], "additionalProperties": false,
                    "properties": { "name": { "type": "string" }, "display_name": { "type": "string" },
                                    "role": { "type": "string", "enum": ["clerk", "approver", "administrator", "auditor"] },
                                    "password": { "type": "string" } } }))
                .answers(201, "`user`")
                .refuses(400, &[ErrorCode::MalformedJson, ErrorCode::BadBody], "malformed body")
                .refuses(403, &[ErrorCode::ForbiddenRole], administrators_only)
                .refuses(409, &[ErrorCode::UserExists], "the name is taken")
                .refuses(422, &[ErrorCode::BadRole, ErrorCode::BadUserName, ErrorCode::WeakPassword], "an unknown role, a name that is not allowed, a password too weak"),
        )
        .get(
            "/users/{name}/tokens",
            list_api_tokens,
            Operation::new("The API tokens of an account without their secrets: identifier, label, created, expiry, revoked (administrators)")
                .answers(200, "`tokens`, newest first")
                .refuses(403, &[ErrorCode::ForbiddenRole], administrators_only),
        )
        .post(
            "/users/{name}/tokens/revoke",
            revoke_api_token,
            Operation::new("Revoke an API token of an account by its identifier (administrators)")
                .json_body(json!({ "type": "object", "required": ["id"], "additionalProperties": false,
                    "properties": { "id": { "type": "string" } } }))
                .answers(204, "revoked")
                .refuses(400, &[ErrorCode::MalformedJson, ErrorCode::BadBody], "malformed body")
                .refuses(403, &[ErrorCode::ForbiddenRole], administrators_only)
                .refuses(404, &[ErrorCode::NotFound], "the account has no such API token"),
        )
        .patch(
            "/users/{name}",
            change_user,
            Operation::new("Disable or enable a staff account (administrators)")
                .json_body(json!({ "type": "object", "required": ["disabled"], "additionalProperties": false,
                    "properties": { "disabled": { "type": "boolean" } } }))
                .answers(204, "changed")
                .refuses(400, &[ErrorCode::MalformedJson, ErrorCode::BadBody], "malformed body")
                .refuses(403, &[ErrorCode::ForbiddenRole], administrators_only)
                .refuses(404, &[ErrorCode::NotFound], "no such user")
                .refuses(409, &[ErrorCode::OwnAccountLockout], "an administrator may not disable their own account"),
        )
}

fn unauthenticated(message: &str) -> ApiError {
    ApiError::Unauthenticated {
        reason: message.to_string(),
    }
}

/// Middleware: resolves the bearer token to a [`Staff`] or answers 401.
pub(crate) async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty() && token.len() <= 128)
        .map(str::to_string);
    let Some(token) = token else {
        return with_challenge(unauthenticated(
            "log in first: POST /api/v1/auth/login, then send Authorization: Bearer <token>",
        ));
    };
    match state.archive.user_for_token(&token).await {
        Ok(Some(user)) => {
            tracing::Span::current().record("user", user.name.as_str());
            request.extensions_mut().insert(Staff { user, token });
            next.run(request).await
        }
        Ok(None) => with_challenge(unauthenticated(
            "the token is unknown, expired, logged out, or its account is disabled",
        )),
        Err(error) => ApiError::from(error).into_response(),
    }
}

fn with_challenge(error: ApiError) -> Response {
    let mut response = error.into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    name: String,
    password: String,
}

fn parse<T: serde::de::DeserializeOwned>(
    body: Result<Json<Value>, JsonRejection>,
) -> Result<T, ApiError> {
    let Json(value) = body?;
    serde_json::from_value(value).map_err(|error| ApiError::BadBody {
        status: StatusCode::BAD_REQUEST,
        reason: error.to_string(),
    })
}

/// How a password login ended, decided once for every door that signs staff in (the JSON
/// API's `/auth/login` and the web application's sign-in page).
pub(crate) enum LoginOutcome {
    /// The name and password are right: a session token for [`SESSION_LIFETIME`].
    SignedIn { user: User, issued: IssuedToken },
    /// The name or the password is wrong, or the account is disabled (one answer for all).
    Refused,
    /// Too many failed logins from this address or for this name: wait this many seconds.
    Throttled { retry_after_seconds: u64 },
}

/// Checks a password login from `client` through the node's one [`LoginLimiter`], audits it,
/// and on success issues a session token (only its SHA-256 is stored).
pub(crate) async fn password_login(
    state: &AppState,
    name: &str,
    password: &str,
    client: ClientAddress,
) -> Result<LoginOutcome, ApiError> {
    let [user_at_address, address] = LoginLimiter::keys(name, client);
    if let Some(seconds) = state
        .login_limiter
        .blocked_for(&user_at_address)
        .or_else(|| state.login_limiter.blocked_for(&address))
    {
        if let Some(not_audited) = state
            .login_limiter
            .throttled_attempt(client.counting_key(), state.clock.now_ms())
        {
            let name: String = name.chars().take(64).collect();
            let entry = AuditEntry::new(
                AuditKind::LoginFailed,
                &state.node.code,
                &name,
                state.clock.now_ms(),
            )
            .detail(json!({
                "client": client.to_string(),
                "how": "too_many_attempts",
                // Throttled attempts from this address since its last entry, not each audited.
                "throttled_not_audited": not_audited,
            }));
            state.archive.audit(entry).await?;
        }
        return Ok(LoginOutcome::Throttled {
            retry_after_seconds: seconds,
        });
    }
    match state.archive.check_password(name, password).await? {
        Some(user) => {
            // The address's own count stays: one good account does not buy more guesses.
            state.login_limiter.clear(&user_at_address);
            let issued = state
                .archive
                .issue_session_token(&user.name, SESSION_LIFETIME.as_millis() as i64)
                .await?;
            tracing::info!(user = %user.name, %client, "login");
            audit_login(state, AuditKind::Login, &user.name, client, "password").await?;
            Ok(LoginOutcome::SignedIn { user, issued })
        }
        None => {
            state.login_limiter.record_failure(user_at_address);
            state.login_limiter.record_failure(address);
            tracing::warn!(user = %name, %client, "login refused");
            audit_login(
                state,
                AuditKind::LoginFailed,
                name,
                client,
                "wrong_credentials",
            )
            .await?;
            Ok(LoginOutcome::Refused)
        }
    }
}

async fn login(
    State(state): State<AppState>,
    client: ClientAddress,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let body: LoginBody = parse(body)?;
    match password_login(&state, &body.name, &body.password, client).await? {
        LoginOutcome::SignedIn { user, issued } => Ok(Json(
            json!({ "token": issued.token, "expires_at_ms": issued.expires_at_ms, "user": user }),
        )
        .into_response()),
        // The same answer whether the name or the password was wrong, or the account disabled.
        LoginOutcome::Refused => Err(unauthenticated("the name or the password is wrong")),
        LoginOutcome::Throttled {
            retry_after_seconds,
        } => {
            let mut response = ApiError::TooManyAttempts {
                retry_after_seconds,
            }
            .into_response();
            if let Ok(value) = HeaderValue::from_str(&retry_after_seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Ok(response)
        }
    }
}

/// Records a login or a refused one in the audit log (Art. 37; ARCHITECTURE.md, principle 9). The name
/// is the one given, cut short: a refused login may carry anything.
async fn audit_login(
    state: &AppState,
    kind: AuditKind,
    name: &str,
    client: ClientAddress,
    how: &str,
) -> Result<(), ApiError> {
    let name: String = name.chars().take(64).collect();
    // The client as decided from the peer and the trusted proxies (issue 11, item 9).
    let entry = AuditEntry::new(kind, &state.node.code, &name, state.clock.now_ms())
        .detail(json!({ "client": client.to_string(), "how": how }));
    state.archive.audit(entry).await?;
    Ok(())
}

async fn me(Extension(staff): Extension<Staff>) -> Json<Value> {
    Json(json!({ "user": staff.user }))
}

async fn logout(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
) -> Result<StatusCode, ApiError> {
    state.archive.revoke_token(&staff.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    label: String,
    /// For another user (administrators only).
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    expires_in_days: Option<u32>,
}

async fn issue_api_token(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let body: TokenBody = parse(body)?;
    let user = match body.user {
        Some(user) if user != staff.user.name => {
            staff.require_administer()?;
            user
        }
        _ => staff.user.name.clone(),
    };
    let lifetime = body
        .expires_in_days
        .map(|days| i64::from(days) * 86_400_000);
    let issued = state
        .archive
        .issue_api_token(&staff.author(), &user, &body.label, lifetime)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(issued))).into_response())
}

async fn list_users(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
) -> Result<Json<Value>, ApiError> {
    staff.require_administer()?;
    Ok(Json(json!({ "users": state.archive.users().await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    name: String,
    #[serde(default)]
    display_name: Option<String>,
    role: String,
    password: String,
}

async fn add_user(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    staff.require_administer()?;
    let body: NewUser = parse(body)?;
    let role: Role = body
        .role
        .parse()
        .map_err(|message: String| ApiError::BadRole { reason: message })?;
    let user = state
        .archive
        .add_user(
            &staff.author(),
            &body.name,
            body.display_name.as_deref().unwrap_or(&body.name),
            role,
            &body.password,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "user": user }))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeUser {
    disabled: bool,
}

async fn change_user(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(name): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    staff.require_administer()?;
    let body: ChangeUser = parse(body)?;
    state
        .archive
        .set_user_disabled(&staff.author(), &name, body.disabled)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_api_tokens(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    staff.require_administer()?;
    Ok(Json(
        json!({ "tokens": state.archive.api_tokens(&name).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeToken {
    id: String,
}

async fn revoke_api_token(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Path(name): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    staff.require_administer()?;
    let body: RevokeToken = parse(body)?;
    state
        .archive
        .revoke_api_token(&staff.author(), &name, &body.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_name_is_counted_under_its_first_64_characters() {
        let client = ClientAddress([192, 0, 2, 1].into());
        let [user_at_address, _] = LoginLimiter::keys(&"名".repeat(100_000), client);
        let LoginKey::UserAtAddress { user, .. } = user_at_address else {
            panic!("the first key is the user at the address");
        };
        assert_eq!(user.chars().count(), 64);
    }

    #[test]
    fn a_throttled_address_is_audited_once_a_minute_with_the_count_in_between() {
        let limiter = LoginLimiter::default();
        let address: IpAddr = [192, 0, 2, 1].into();
        assert_eq!(limiter.throttled_attempt(address, 60_000), Some(0));
        assert_eq!(limiter.throttled_attempt(address, 60_001), None);
        assert_eq!(limiter.throttled_attempt(address, 119_999), None);
        assert_eq!(limiter.throttled_attempt(address, 120_000), Some(2));
        // Another address has its own minute.
        assert_eq!(
            limiter.throttled_attempt([192, 0, 2, 2].into(), 120_001),
            Some(0)
        );
    }
}
