//! The staff web application at `/` on the staff listener: server-rendered pages in Chinese
//! (maud: compile-time checked, every interpolation escaped), plain CSS embedded in the binary,
//! no JavaScript needed. One router module per area; every handler calls the same
//! `licnode-app` services the JSON API calls, so authorisation and validation are decided once,
//! in `Archive` (ARCHITECTURE.md, principle 13, "one rule, every door").
//!
//! Pages need a cookie session ([`session`]); every POST carries the session's CSRF token,
//! checked before any handler runs.

mod admin;
mod audit;
mod deadlines;
mod display;
mod flow_messages;
mod flows;
mod form;
mod health;
mod home;
mod layout;
mod licence_actions;
mod messages;
mod national;
mod official_forms;
mod quarantine;
mod records;
mod reports;
mod retention;
mod session;

use axum::http::header;
use axum::middleware;
use axum::response::IntoResponse;
use serde_json::json;

use crate::AppState;
use crate::routes::{Operation, Routes};

pub use audit::LastAuditVerification;
pub use home::CountsCache;
pub use session::SESSION_COOKIE;

/// The plain style sheet of every page, embedded in the binary.
const STYLE_SHEET: &str = include_str!("style.css");

/// Where the style sheet is served; browsers keep it for a day (`STYLE_SHEET_CACHE`).
pub(crate) const STYLE_SHEET_PATH: &str = "/web/style.css";
const STYLE_SHEET_CACHE: &str = "public, max-age=86400";

/// Every page of the web application, each declared with its description under the `web` tag:
/// `/openapi.json` lists them as HTML operations, so the one router walk that checks the
/// document covers them too.
pub(crate) fn routes(state: &AppState) -> Routes<AppState> {
    let signed_in = home::routes()
        .merge(records::routes())
        .merge(national::routes())
        .merge(licence_actions::routes())
        .merge(flows::routes())
        .merge(reports::routes())
        .merge(official_forms::routes())
        .merge(retention::routes())
        .merge(session::signed_in_routes())
        .merge(admin::routes().merge(audit::routes()).merge(health::routes()).merge(deadlines::routes()).merge(quarantine::routes()))
        .map_operations(|operation| {
            operation
                .answers(303, "no session: to the sign-in page (`/login`)")
                .refuses_with_page(
                    403,
                    "a POST without the session's CSRF token (`bad_csrf_token`), or a refusal of the records service (its code on the page)",
                )
        })
        .map_router(|router| {
            router.route_layer(middleware::from_fn_with_state(
                state.clone(),
                session::require_session,
            ))
        });
    session::open_routes()
        .merge(signed_in)
        .get(
            STYLE_SHEET_PATH,
            style_sheet,
            Operation::new("The web application's style sheet").answers_content(
                200,
                "CSS",
                "text/css",
                json!({ "type": "string" }),
            ),
        )
        .map_operations(|operation| operation.tag("web"))
}

async fn style_sheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, STYLE_SHEET_CACHE),
        ],
        STYLE_SHEET,
    )
}

/// An HTML operation's description: a page for people.
pub(crate) fn page_operation(summary: &str) -> Operation {
    Operation::new(summary).answers_content(
        200,
        "an HTML page in Chinese",
        "text/html",
        json!({ "type": "string" }),
    )
}
