//! The home page: the collections this node may author — from the authority table, so a
//! county never sees a licence form — and those it holds read-only, with counts and the
//! articles behind each.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use maud::html;

use super::layout::{WebError, articles_label, page};
use super::page_operation;
use super::session::WebSession;
use crate::AppState;
use crate::routes::Routes;

pub(crate) fn routes() -> Routes<AppState> {
    Routes::new().get(
        "/",
        home,
        page_operation(
            "Home: the collections this node may author and those it holds read-only, with counts",
        ),
    )
}

/// Whether this node's level may author `collection` at all (the authority table; for which
/// jurisdictions is decided when a record is written).
pub(crate) fn may_author_collection(state: &AppState, collection: &str) -> bool {
    licnode_sync::rule(collection)
        .and_then(|rule| rule.author(state.archive.scope.level))
        .is_some()
}

/// Records per collection with the audit-log position they were read at (see
/// [`collection_counts`]).
pub type CountsCache = tokio::sync::Mutex<Option<(i64, Arc<Vec<(String, i64)>>)>>;

/// Records per collection, read again only when the audit log has moved since the last read:
/// every stored change (local or received) and every destruction appends to it, so the counts
/// change only when it does. Counting reads every record (tens of milliseconds at 100,000 on
/// PostgreSQL), and the home page is the page people open most.
async fn collection_counts(state: &AppState) -> Result<Arc<Vec<(String, i64)>>, WebError> {
    let (audit_seq, _) = state.archive.audit_head().await?;
    let mut cached = state.home_counts.lock().await;
    if let Some((seen_at, counts)) = cached.as_ref()
        && *seen_at == audit_seq
    {
        return Ok(counts.clone());
    }
    let counts = Arc::new(state.archive.counts().await?);
    *cached = Some((audit_seq, counts.clone()));
    Ok(counts)
}

async fn home(
    State(state): State<AppState>,
    Extension(session): Extension<WebSession>,
) -> Result<Response, WebError> {
    let counts = collection_counts(&state).await?;
    let count_of = |name: &str| {
        counts
            .iter()
            .find(|(collection, _)| collection == name)
            .map_or(0, |(_, count)| *count)
    };
    let (authored, held): (Vec<&licnode_model::Collection>, Vec<_>) = licnode_model::collections()
        .iter()
        .partition(|collection| may_author_collection(&state, collection.name));
    let body = html! {
        h1 { "首页" }
        section.collections #authored {
            h2 { "本节点录入的数据库" }
            @if authored.is_empty() {
                p.empty { "按许可权限表，本节点不录入任何数据库。" }
            }
            table.list {
                thead { tr { th { "数据库" } th { "依据" } th.number { "记录数" } th { "" } } }
                tbody {
                    @for collection in &authored {
                        @let authority = licnode_sync::rule(collection.name).and_then(|rule| rule.author(state.archive.scope.level));
                        tr data-collection=(collection.name) {
                            td { a href={ "/collections/" (collection.name) } { (collection.label_zh) } }
                            td.basis {
                                (articles_label(collection.articles))
                                @if let Some(authority) = authority {
                                    " · 录入权限：" (articles_label(authority.articles))
                                }
                            }
                            td.number { (count_of(collection.name)) }
                            td {
                                @if crate::records::authorise_write(&session.staff, collection).is_ok() {
                                    a.button href={ "/collections/" (collection.name) "/new" } { "新建" }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.collections #held {
            h2 { "本节点只读保存的数据库" }
            table.list {
                thead { tr { th { "数据库" } th { "依据" } th.number { "记录数" } } }
                tbody {
                    @for collection in &held {
                        tr data-collection=(collection.name) {
                            td { a href={ "/collections/" (collection.name) } { (collection.label_zh) } }
                            td.basis { (articles_label(collection.articles)) }
                            td.number { (count_of(collection.name)) }
                        }
                    }
                }
            }
        }
    };
    Ok(Html(page(&state.node, Some(&session), "首页", body).into_string()).into_response())
}
