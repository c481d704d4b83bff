//! Signing in and out of the web application, and the cookie session every page needs.
//!
//! The session cookie holds a session token of the accounts service — the same tokens, the
//! same lifetime ([`crate::auth::SESSION_LIFETIME`]) and the same throttled, audited password
//! check ([`crate::auth::password_login`], by the same [`ClientAddress`]) as the JSON API's
//! `/auth/login`; only the token's SHA-256 is stored. The cookie is `HttpOnly`,
//! `SameSite=Strict`, and `Secure` when the page was served over TLS (issue 12, item 1).
//!
//! Every form carries a CSRF token: for a session, the SHA-256 of a purpose and the session
//! token, which a page of another site cannot read; for the sign-in form, the same of a random
//! value kept in a short-lived cookie. A POST without the right one is refused with 403
//! `bad_csrf_token` before any handler runs, and changes nothing.

use crate::error::ErrorCode;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::html;
use sha2::{Digest, Sha256};

use super::layout::{WebError, page};
use super::page_operation;
use crate::auth::{LoginOutcome, SESSION_LIFETIME, Staff, password_login};
use crate::client_address::ClientAddress;
use crate::routes::Routes;
use crate::{AppState, MAX_BODY_BYTES};

/// The cookie holding the session token.
pub const SESSION_COOKIE: &str = "licnode_session";
/// The cookie holding the sign-in form's random value until the form is posted.
const SIGN_IN_COOKIE: &str = "licnode_sign_in";
/// How long a sign-in form may stay open.
const SIGN_IN_COOKIE_SECONDS: u64 = 60 * 60;
/// The form field that carries the CSRF token.
pub(crate) const CSRF_FIELD: &str = "csrf_token";
/// The stable code of a POST refused for its CSRF token.
pub(crate) const BAD_CSRF_TOKEN: ErrorCode = ErrorCode::BadCsrfToken;

/// The signed-in staff member a page is shown to, and the CSRF token its forms carry.
#[derive(Clone, Debug)]
pub(crate) struct WebSession {
    pub staff: Staff,
    pub csrf_token: String,
}

/// The sign-in page and its form: no session needed.
pub(crate) fn open_routes() -> Routes<AppState> {
    Routes::new()
        .get(
            "/login",
            sign_in_page,
            page_operation("The sign-in page (a signed-in user goes home)"),
        )
        .post(
            "/login",
            sign_in,
            page_operation("Sign in with a name and a password: a session cookie for 8 hours")
                .answers(303, "signed in: home, with the session cookie")
                .refuses_with_page(401, "the name or the password is wrong, or the account is disabled")
                .refuses_with_page(403, "no or a wrong CSRF token (`bad_csrf_token`)")
                .refuses_with_page(429, "too many failed logins from this address or for this name (`too_many_attempts`); `Retry-After` says when to try again"),
        )
}

/// Sign-out: a session and its CSRF token needed.
pub(crate) fn signed_in_routes() -> Routes<AppState> {
    Routes::new().post(
        "/logout",
        sign_out,
        page_operation("Sign out: the session token stops working")
            .answers(303, "signed out: to the sign-in page"),
    )
}

/// The value of the cookie `name`, if the request carries it.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty() && value.len() <= 128)
}

/// The CSRF token of the forms tied to `secret` (a session token, a sign-in value).
fn csrf_token_for(purpose: &str, secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"licnode web csrf\0");
    hasher.update(purpose.as_bytes());
    hasher.update(b"\0");
    hasher.update(secret.as_bytes());
    hex::encode(hasher.finalize())
}

/// Compares without stopping at the first difference.
fn same_token(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

/// Whether the request reached the node over TLS: its URI says so, or a trusted reverse proxy
/// (`[http] trusted_proxies`) says so in `X-Forwarded-Proto`.
fn served_over_tls(state: &AppState, request: &Request) -> bool {
    if request.uri().scheme_str() == Some("https") {
        return true;
    }
    let from_trusted_proxy = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|info| state.trusted_proxies.contains(info.0.ip()));
    from_trusted_proxy
        && request
            .headers()
            .get("x-forwarded-proto")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, `Secure` over TLS.
fn set_cookie(name: &str, value: &str, path: &str, max_age_seconds: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{name}={value}; Path={path}; Max-Age={max_age_seconds}; HttpOnly; SameSite=Strict{secure}"
    )
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Middleware of every signed-in page: resolves the session cookie to a [`WebSession`] (or
/// sends the browser to `/login`), checks the CSRF token of a POST before the handler sees
/// it, and frames a handler's refusal ([`WebError`]) as a page.
pub(crate) async fn require_session(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let token = cookie(request.headers(), SESSION_COOKIE).map(str::to_string);
    let user = match &token {
        Some(token) => state.archive.user_for_token(token).await,
        None => Ok(None),
    };
    let (user, token) = match (user, token) {
        (Ok(Some(user)), Some(token)) => (user, token),
        (Err(error), _) => {
            return WebError::from(crate::ApiError::from(error)).page(&state.node, None);
        }
        _ => return Redirect::to("/login").into_response(),
    };
    tracing::Span::current().record("user", user.name.as_str());
    let session = WebSession {
        csrf_token: csrf_token_for("session", &token),
        staff: Staff { user, token },
    };
    let mut request = request;
    if request.method() == Method::POST {
        let (parts, body) = request.into_parts();
        let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
            Ok(bytes) => bytes,
            Err(_) => {
                return WebError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorCode::PayloadTooLarge,
                    "提交的内容超过 1 MiB",
                )
                .page(&state.node, Some(&session));
            }
        };
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        let given = pairs
            .iter()
            .find(|(name, _)| name == CSRF_FIELD)
            .map(|(_, value)| value.as_str())
            .unwrap_or_default();
        if !same_token(given, &session.csrf_token) {
            tracing::warn!("web form refused: bad CSRF token");
            return csrf_refusal().page(&state.node, Some(&session));
        }
        request = Request::from_parts(parts, Body::from(bytes));
    }
    request.extensions_mut().insert(session.clone());
    let response = next.run(request).await;
    match response.extensions().get::<WebError>() {
        Some(refusal) => refusal.page(&state.node, Some(&session)),
        None => response,
    }
}

fn csrf_refusal() -> WebError {
    WebError::new(
        StatusCode::FORBIDDEN,
        BAD_CSRF_TOKEN,
        super::messages::refusal(BAD_CSRF_TOKEN, ""),
    )
}

/// What the sign-in form shows besides its fields.
struct SignInForm<'a> {
    name: &'a str,
    problem: Option<String>,
}

fn sign_in_response(
    state: &AppState,
    status: StatusCode,
    form: SignInForm<'_>,
    secure: bool,
) -> Response {
    let sign_in_value = hex::encode(rand::random::<[u8; 32]>());
    let body = html! {
        section.sign-in {
            h1 { "登录" }
            @if let Some(problem) = &form.problem {
                p.error role="alert" { (problem) }
            }
            form method="post" action="/login" {
                input type="hidden" name=(CSRF_FIELD) value=(csrf_token_for("sign-in", &sign_in_value));
                label for="name" { "用户名" }
                input #name type="text" name="name" value=(form.name) autocomplete="username" required;
                label for="password" { "密码" }
                input #password type="password" name="password" autocomplete="current-password" required;
                button type="submit" { "登录" }
            }
        }
    };
    let response = (
        status,
        Html(page(&state.node, None, "登录", body).into_string()),
    )
        .into_response();
    with_cookie(
        response,
        &set_cookie(
            SIGN_IN_COOKIE,
            &sign_in_value,
            "/login",
            SIGN_IN_COOKIE_SECONDS,
            secure,
        ),
    )
}

async fn sign_in_page(State(state): State<AppState>, request: Request) -> Response {
    if let Some(token) = cookie(request.headers(), SESSION_COOKIE)
        && let Ok(Some(_)) = state.archive.user_for_token(token).await
    {
        return Redirect::to("/").into_response();
    }
    let secure = served_over_tls(&state, &request);
    sign_in_response(
        &state,
        StatusCode::OK,
        SignInForm {
            name: "",
            problem: None,
        },
        secure,
    )
}

#[derive(serde::Deserialize)]
struct SignInFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf_token: String,
}

async fn sign_in(
    State(state): State<AppState>,
    client: ClientAddress,
    request: Request,
) -> Response {
    let secure = served_over_tls(&state, &request);
    let sign_in_value = cookie(request.headers(), SIGN_IN_COOKIE).map(str::to_string);
    let fields = match axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES).await {
        Ok(bytes) => serde_urlencoded::from_bytes::<SignInFields>(&bytes).ok(),
        Err(_) => None,
    };
    let Some(fields) = fields else {
        return WebError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadBody,
            "登录表单不完整，请刷新页面后重试",
        )
        .page(&state.node, None);
    };
    let csrf_ok = sign_in_value
        .is_some_and(|value| same_token(&fields.csrf_token, &csrf_token_for("sign-in", &value)));
    if !csrf_ok {
        return csrf_refusal().page(&state.node, None);
    }
    let outcome = match password_login(&state, &fields.name, &fields.password, client).await {
        Ok(outcome) => outcome,
        Err(error) => return WebError::from(error).page(&state.node, None),
    };
    match outcome {
        LoginOutcome::SignedIn { issued, .. } => {
            let response = Redirect::to("/").into_response();
            let response = with_cookie(
                response,
                &set_cookie(
                    SESSION_COOKIE,
                    &issued.token,
                    "/",
                    SESSION_LIFETIME.as_secs(),
                    secure,
                ),
            );
            with_cookie(
                response,
                &set_cookie(SIGN_IN_COOKIE, "", "/login", 0, secure),
            )
        }
        LoginOutcome::Refused => sign_in_response(
            &state,
            StatusCode::UNAUTHORIZED,
            SignInForm {
                name: &fields.name,
                problem: Some("用户名或密码错误".to_string()),
            },
            secure,
        ),
        LoginOutcome::Throttled {
            retry_after_seconds,
        } => {
            let mut response = sign_in_response(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                SignInForm {
                    name: &fields.name,
                    problem: Some(format!(
                        "登录失败次数过多，请 {retry_after_seconds} 秒后再试（错误代码：too_many_attempts）"
                    )),
                },
                secure,
            );
            if let Ok(value) = HeaderValue::from_str(&retry_after_seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}

async fn sign_out(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    _form: Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    state
        .archive
        .revoke_token(&session.staff.token)
        .await
        .map_err(crate::ApiError::from)?;
    let response = Redirect::to("/login").into_response();
    Ok(with_cookie(
        response,
        &set_cookie(SESSION_COOKIE, "", "/", 0, false),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_found_among_others_and_an_absent_one_is_not() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; licnode_session=abc123"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc123"));
        assert_eq!(cookie(&headers, SIGN_IN_COOKIE), None);
    }

    #[test]
    fn the_csrf_token_depends_on_the_session_and_the_purpose() {
        let token = csrf_token_for("session", "one");
        assert_eq!(token.len(), 64);
        assert_ne!(token, csrf_token_for("session", "two"));
        assert_ne!(token, csrf_token_for("sign-in", "one"));
        assert!(same_token(&token, &csrf_token_for("session", "one")));
        assert!(!same_token(&token, ""));
    }
}
