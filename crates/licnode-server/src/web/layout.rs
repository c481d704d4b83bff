//! The frame of every page — the node (code, name, level), the user and role, sign-out — and
//! the refusal page that carries a stable error code.

use crate::error::ErrorCode;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::STYLE_SHEET_PATH;
use super::messages;
use super::session::WebSession;
use crate::{ApiError, NodeInfo};

/// The node's level in Chinese (`省级`), or the level as configured when it is not one.
pub(crate) fn level_label(level: &str) -> String {
    level
        .parse::<licnode_model::Level>()
        .map(|level| level.label_zh().to_string())
        .unwrap_or_else(|_| level.to_string())
}

/// A role in Chinese.
pub(crate) fn role_label(role: licnode_store::Role) -> &'static str {
    match role {
        licnode_store::Role::Clerk => "经办人",
        licnode_store::Role::Approver => "审批人",
        licnode_store::Role::Administrator => "系统管理员",
        licnode_store::Role::Auditor => "审计员",
    }
}

/// Articles as people cite them: `第12、29条`.
pub(crate) fn articles_label(articles: &[u16]) -> String {
    let numbers: Vec<String> = articles.iter().map(u16::to_string).collect();
    format!("第{}条", numbers.join("、"))
}

/// A whole page: the node and the user on top, `body` below.
pub(crate) fn page(
    node: &NodeInfo,
    session: Option<&WebSession>,
    title: &str,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (node.name) }
                link rel="stylesheet" href=(STYLE_SHEET_PATH);
            }
            body {
                header.top {
                    div.node {
                        a href="/" { strong { (node.name) } }
                        span.node-code { (node.code) " · " (level_label(&node.level)) }
                    }
                    @if let Some(session) = session {
                        div.user {
                            span.user-name { (session.staff.user.display_name) " (" (session.staff.user.name) ")" }
                            span.role { (role_label(session.staff.user.role)) }
                            form method="post" action="/logout" {
                                input type="hidden" name=(super::session::CSRF_FIELD) value=(session.csrf_token);
                                button.link type="submit" { "退出登录" }
                            }
                        }
                    }
                }
                @if let Some(session) = session {
                    nav.areas {
                        @for (path, label) in navigation(session) { a href=(path) { (label) } }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// The areas `session`'s role may open, for the navigation bar: (path, label). Every role sees
/// the work flows and the overviews; auditors and administrators also the audit log and the
/// node's health; administrators the accounts. The pages check the role again themselves.
fn navigation(session: &WebSession) -> Vec<(&'static str, &'static str)> {
    let mut links = vec![
        ("/licence-actions", "待审批"),
        ("/reports", "统计报表"),
        ("/retention", "档案保管"),
        (super::national::NATIONAL_PATH, "报送与链路"),
        ("/deadlines", "期限"),
        ("/quarantine", "隔离区"),
    ];
    if session.staff.require_oversight().is_ok() {
        links.push(("/audit", "审计日志"));
        links.push(("/health", "节点状态"));
    }
    if session.staff.require_administer().is_ok() {
        links.push(("/admin/users", "账户"));
    }
    links
}

/// A refusal shown as a page: what happened in Chinese, and the stable code a person can quote.
#[derive(Clone, Debug)]
pub(crate) struct WebError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
}

impl WebError {
    pub(crate) fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        WebError {
            status,
            code,
            message: message.into(),
        }
    }

    /// The refusal's page, framed for `node` and `session`.
    pub(crate) fn page(&self, node: &NodeInfo, session: Option<&WebSession>) -> Response {
        let body = html! {
            section.refusal data-error-code=(self.code) {
                h1 { "无法完成" }
                p { (self.message) }
                p.error-code { "错误代码：" code { (self.code) } }
                p { a href="/" { "返回首页" } }
            }
        };
        (
            self.status,
            Html(page(node, session, "无法完成", body).into_string()),
        )
            .into_response()
    }
}

impl From<ApiError> for WebError {
    fn from(error: ApiError) -> Self {
        WebError::new(
            error.status(),
            error.code(),
            messages::refusal(error.code(), &error.message()),
        )
    }
}

impl From<licnode_app::ArchiveError> for WebError {
    fn from(error: licnode_app::ArchiveError) -> Self {
        WebError::from(ApiError::from(error))
    }
}

impl From<licnode_store::StoreError> for WebError {
    fn from(error: licnode_store::StoreError) -> Self {
        WebError::from(ApiError::from(error))
    }
}

impl IntoResponse for WebError {
    /// The status and the refusal; the session middleware frames it as a full page.
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}
