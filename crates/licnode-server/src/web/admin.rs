//! Accounts and API tokens, for administrators (issue 12, item 6): the node's staff with their
//! roles and state, a new account, disabling and enabling, an API token issued (its secret
//! shown once) and revoked. Every operation calls the accounts service as `licnode user` and
//! the JSON API's `/users` do, behind the same guard (`Staff::require_administer`): anyone else
//! is refused with 403 `forbidden_role` and nothing changes.

use crate::error::ErrorCode;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use licnode_store::{Role, User};
use maud::{Markup, html};

use super::display::{china_time, china_time_or_dash, parameter};
use super::layout::{WebError, page, role_label};
use super::page_operation;
use super::session::{CSRF_FIELD, WebSession};
use crate::routes::Routes;
use crate::{ApiError, AppState};

type Pairs = Vec<(String, String)>;

/// Accounts and tokens answer to Art. 36: who did what must be traceable to a person.
const BASIS: &str = "依据：第36条（经办人员可追溯）；账户只在本节点保存，不随数据同步";

/// Longest label of an API token.
const MAX_LABEL_CHARS: usize = 100;

pub(crate) fn routes() -> Routes<AppState> {
    let administrators = "not an administrator (`forbidden_role`)";
    Routes::new()
        .get(
            "/admin/users",
            accounts_page,
            page_operation("Accounts: every staff account with its role and state, and the form for a new one (administrators)")
                .refuses_with_page(403, administrators),
        )
        .post(
            "/admin/users",
            create_account,
            page_operation("Create a staff account from the form (administrators)")
                .answers(303, "created: to the account's page")
                .refuses_with_page(403, administrators)
                .refuses_with_page(409, "the name is taken (`user_exists`): the form again")
                .refuses_with_page(422, "a name that is not allowed, a password too weak, an unknown role: the form again"),
        )
        .get(
            "/admin/users/{name}",
            account_page,
            page_operation("An account: its role and state, its API tokens, the forms that disable or enable it and issue or revoke a token (administrators)")
                .refuses_with_page(403, administrators)
                .refuses_with_page(404, "no such account (`not_found`)"),
        )
        .post(
            "/admin/users/{name}/disabled",
            set_disabled,
            page_operation("Disable an account (its tokens stop working) or enable it again (administrators)")
                .answers(303, "changed: to the account's page")
                .refuses_with_page(403, administrators)
                .refuses_with_page(404, "no such account (`not_found`)"),
        )
        .post(
            "/admin/users/{name}/tokens",
            issue_token,
            page_operation("Issue an API token for the account: its secret is shown once, on the answer (administrators)")
                .refuses_with_page(403, administrators)
                .refuses_with_page(404, "no such (enabled) account (`not_found`)")
                .refuses_with_page(422, "a label that is empty or too long, a number of days that is not a whole number"),
        )
        .post(
            "/admin/users/{name}/tokens/revoke",
            revoke_token,
            page_operation("Revoke one API token of the account by its identifier (administrators)")
                .answers(303, "revoked: to the account's page")
                .refuses_with_page(403, administrators)
                .refuses_with_page(404, "the account has no such token (`not_found`)"),
        )
}

/// An account refusal worded in Chinese, with its stable code.
fn account_refusal(error: ApiError) -> WebError {
    let text = match error.code() {
        ErrorCode::UserExists => "这个用户名已被使用",
        ErrorCode::BadUserName => "用户名须为1—64个英文字母、数字、“.”、“-”或“_”",
        ErrorCode::WeakPassword => "密码至少需要10个字符",
        ErrorCode::BadRole => "请选择经办人、审批人、系统管理员或审计员",
        ErrorCode::NotFound => "没有这个账户，或账户没有这个令牌",
        ErrorCode::OwnAccountLockout => "不能停用自己的账户：请由另一位系统管理员操作",
        _ => return WebError::from(error),
    };
    WebError::new(error.status(), error.code(), text)
}

fn state_label(user: &User) -> &'static str {
    if user.disabled { "已停用" } else { "启用" }
}

/// What the new-account form shows besides its fields.
#[derive(Default)]
struct AccountForm<'a> {
    name: &'a str,
    display_name: &'a str,
    role: &'a str,
    problem: Option<WebError>,
}

fn account_form(session: &WebSession, form: &AccountForm<'_>) -> Markup {
    html! {
        form.record #new-account method="post" action="/admin/users" {
            h2 { "新建账户" }
            @if let Some(problem) = &form.problem {
                p.error role="alert" data-error-code=(problem.code) {
                    (problem.message) "（错误代码：" code { (problem.code) } "）"
                }
            }
            input type="hidden" name=(CSRF_FIELD) value=(session.csrf_token);
            div.field {
                label for="account-name" { "用户名" span.required { "*" } }
                input #account-name type="text" name="name" value=(form.name) required maxlength="64" autocomplete="off";
            }
            div.field {
                label for="account-display-name" { "姓名" }
                input #account-display-name type="text" name="display_name" value=(form.display_name) maxlength="100";
            }
            div.field {
                label for="account-role" { "角色" span.required { "*" } }
                select #account-role name="role" required {
                    @for role in Role::ALL {
                        option value=(role.as_str()) selected[form.role == role.as_str()] { (role_label(role)) }
                    }
                }
            }
            div.field {
                label for="account-password" { "初始密码" span.required { "*" } }
                input #account-password type="password" name="password" required minlength=(licnode_store::MIN_PASSWORD_CHARS) autocomplete="new-password";
            }
            button type="submit" { "新建账户" }
        }
    }
}

async fn accounts_response(
    state: &AppState,
    session: &WebSession,
    status: StatusCode,
    form: AccountForm<'_>,
) -> Result<Response, WebError> {
    let users = state.archive.users().await.map_err(ApiError::from)?;
    let body = html! {
        h1 { "账户与 API 令牌" }
        p.basis { (BASIS) }
        div.table-scroll {
            table.list #accounts {
                thead { tr { th { "用户名" } th { "姓名" } th { "角色" } th { "状态" } th { "创建时间" } } }
                tbody {
                    @for user in &users {
                        tr data-user=(user.name) {
                            td { a href={ "/admin/users/" (user.name) } { (user.name) } }
                            td { (user.display_name) }
                            td { (role_label(user.role)) }
                            td { (state_label(user)) }
                            td { (china_time(user.created_at_ms)) }
                        }
                    }
                }
            }
        }
        (account_form(session, &form))
    };
    Ok((
        status,
        Html(page(&state.node, Some(session), "账户与 API 令牌", body).into_string()),
    )
        .into_response())
}

async fn accounts_page(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
) -> Result<Response, WebError> {
    session.staff.require_administer()?;
    accounts_response(&state, &session, StatusCode::OK, AccountForm::default()).await
}

async fn create_account(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Form(fields): Form<Pairs>,
) -> Result<Response, WebError> {
    session.staff.require_administer()?;
    let name = parameter(&fields, "name");
    let display_name = parameter(&fields, "display_name");
    let role_text = parameter(&fields, "role");
    let password = fields
        .iter()
        .find(|(known, _)| known == "password")
        .map(|(_, value)| value.as_str())
        .unwrap_or_default();
    let created = match role_text.parse::<Role>() {
        Err(reason) => Err(ApiError::BadRole { reason }),
        Ok(role) => {
            let display_name = if display_name.is_empty() {
                name
            } else {
                display_name
            };
            state
                .archive
                .add_user(&session.staff.author(), name, display_name, role, password)
                .await
                .map_err(ApiError::from)
        }
    };
    match created {
        Ok(user) => Ok(Redirect::to(&format!("/admin/users/{}", user.name)).into_response()),
        Err(error) => {
            let problem = account_refusal(error);
            if problem.status.is_server_error() {
                return Err(problem);
            }
            let status = problem.status;
            let form = AccountForm {
                name,
                display_name,
                role: role_text,
                problem: Some(problem),
            };
            accounts_response(&state, &session, status, form).await
        }
    }
}

/// The account `name`, or 404 `not_found`.
async fn account(state: &AppState, name: &str) -> Result<User, WebError> {
    let users = state.archive.users().await.map_err(ApiError::from)?;
    users
        .into_iter()
        .find(|user| user.name == name)
        .ok_or_else(|| {
            account_refusal(ApiError::from(licnode_store::AccountError::NoSuchUser(
                name.to_string(),
            )))
        })
}

async fn account_page(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    session.staff.require_administer()?;
    let user = account(&state, &name).await?;
    let body = account_body(&state, &session, &user, None).await?;
    Ok(Html(page(&state.node, Some(&session), "账户", body).into_string()).into_response())
}

/// An account's page; `issued` is a token just issued, shown once.
async fn account_body(
    state: &AppState,
    session: &WebSession,
    user: &User,
    issued: Option<&licnode_store::IssuedToken>,
) -> Result<Markup, WebError> {
    let tokens = state
        .archive
        .api_tokens(&user.name)
        .await
        .map_err(ApiError::from)?;
    let action = |what: &str| format!("/admin/users/{}/{what}", user.name);
    Ok(html! {
        h1 { "账户：" (user.name) }
        p.basis { (BASIS) }
        p { a href="/admin/users" { "← 全部账户" } }
        dl.fields {
            dt { "姓名" } dd { (user.display_name) }
            dt { "角色" } dd #account-role { (role_label(user.role)) }
            dt { "状态" } dd #account-state { (state_label(user)) }
            dt { "创建时间" } dd { (china_time(user.created_at_ms)) }
        }
        form.actions method="post" action=(action("disabled")) {
            input type="hidden" name=(CSRF_FIELD) value=(session.csrf_token);
            @if user.disabled {
                input type="hidden" name="disabled" value="false";
                button type="submit" { "重新启用账户" }
            } @else {
                input type="hidden" name="disabled" value="true";
                button type="submit" { "停用账户（其令牌同时失效）" }
            }
        }
        @if let Some(issued) = issued {
            section.read-only #issued-token {
                h2 { "新的 API 令牌" }
                p { "请立即复制保存：令牌只显示这一次，本节点只保存它的摘要。" }
                p { code #token-secret { (issued.token) } }
                p { "有效期至：" (china_time_or_dash(issued.expires_at_ms)) }
            }
        }
        h2 { "API 令牌" }
        @if tokens.is_empty() {
            p.empty { "这个账户没有 API 令牌。" }
        } @else {
            div.table-scroll {
                table.list #tokens {
                    thead { tr { th { "用途" } th { "签发时间" } th { "有效期至" } th { "状态" } th { "" } } }
                    tbody {
                        @for token in &tokens {
                            tr {
                                td { (token.label) }
                                td { (china_time(token.created_at_ms)) }
                                td { (china_time_or_dash(token.expires_at_ms)) }
                                td { @if token.revoked { "已吊销" } @else { "有效" } }
                                td {
                                    @if !token.revoked {
                                        form method="post" action=(action("tokens/revoke")) {
                                            input type="hidden" name=(CSRF_FIELD) value=(session.csrf_token);
                                            input type="hidden" name="id" value=(token.id);
                                            button type="submit" { "吊销" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if !user.disabled {
            form.record #new-token method="post" action=(action("tokens")) {
                h3 { "签发 API 令牌（供脚本调用 JSON 接口）" }
                input type="hidden" name=(CSRF_FIELD) value=(session.csrf_token);
                div.field {
                    label for="token-label" { "用途" span.required { "*" } }
                    input #token-label type="text" name="label" required maxlength=(MAX_LABEL_CHARS);
                }
                div.field {
                    label for="token-days" { "有效天数（留空为长期）" }
                    input #token-days type="number" name="days" min="1" max="3650" inputmode="numeric";
                }
                button type="submit" { "签发令牌" }
            }
        }
    })
}

async fn set_disabled(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(name): Path<String>,
    Form(fields): Form<Pairs>,
) -> Result<Response, WebError> {
    session.staff.require_administer()?;
    let disabled = match parameter(&fields, "disabled") {
        "true" => true,
        "false" => false,
        _ => {
            return Err(WebError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadBody,
                "表单不完整，请刷新页面后重试",
            ));
        }
    };
    state
        .archive
        .set_user_disabled(&session.staff.author(), &name, disabled)
        .await
        .map_err(|error| account_refusal(ApiError::from(error)))?;
    Ok(Redirect::to(&format!("/admin/users/{name}")).into_response())
}

async fn issue_token(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(name): Path<String>,
    Form(fields): Form<Pairs>,
) -> Result<Response, WebError> {
    session.staff.require_administer()?;
    let user = account(&state, &name).await?;
    let label = parameter(&fields, "label");
    if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
        return Err(WebError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::BadBody,
            format!("请填写令牌的用途（至多{MAX_LABEL_CHARS}个字）"),
        ));
    }
    let lifetime_ms = match parameter(&fields, "days") {
        "" => None,
        days => match days.parse::<u32>() {
            Ok(days) if (1..=3650).contains(&days) => Some(i64::from(days) * 86_400_000),
            _ => {
                return Err(WebError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::BadBody,
                    "有效天数须为1—3650的整数，或留空",
                ));
            }
        },
    };
    let issued = state
        .archive
        .issue_api_token(&session.staff.author(), &user.name, label, lifetime_ms)
        .await
        .map_err(|error| account_refusal(ApiError::from(error)))?;
    let body = account_body(&state, &session, &user, Some(&issued)).await?;
    let mut response =
        Html(page(&state.node, Some(&session), "账户", body).into_string()).into_response();
    // The secret is on this page only: no cache keeps it.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

async fn revoke_token(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
    Path(name): Path<String>,
    Form(fields): Form<Pairs>,
) -> Result<Response, WebError> {
    session.staff.require_administer()?;
    state
        .archive
        .revoke_api_token(&session.staff.author(), &name, parameter(&fields, "id"))
        .await
        .map_err(|error| account_refusal(ApiError::from(error)))?;
    Ok(Redirect::to(&format!("/admin/users/{name}")).into_response())
}
