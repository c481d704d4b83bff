//! Accounts and API tokens (issue 12, item 6): administrators only; refusals, CSRF and hostile
//! input.

use licnode_testkit::{BACKENDS, Backend};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Browser, province, token_status, user_names};
use crate::web_client::NO_FIELDS;

#[tokio::test]
async fn an_administrator_creates_an_account_the_new_user_signs_in_and_disabling_it_ends_that() {
    for backend in BACKENDS {
        let node = province(backend).await;
        let mut admin = Browser::signed_in(&node, "admin").await;
        let accounts = admin.get("/admin/users").await;
        assert_eq!(accounts.status, StatusCode::OK, "{backend}");
        for shown in [
            "账户与 API 令牌",
            "第36条",
            "clerk-显示名",
            "审计员",
            "系统管理员",
        ] {
            assert!(accounts.body.contains(shown), "{shown}: {}", accounts.body);
        }

        let token = accounts.csrf_token();
        let created = admin
            .post_form(
                "/admin/users",
                &[
                    ("csrf_token", &token),
                    ("name", "zhao"),
                    ("display_name", "赵经办"),
                    ("role", "approver"),
                    ("password", "a long enough password"),
                ],
            )
            .await;
        assert_eq!(
            created.status,
            StatusCode::SEE_OTHER,
            "{backend}: {}",
            created.body
        );
        assert_eq!(created.location(), "/admin/users/zhao");
        let page = admin.get("/admin/users/zhao").await;
        assert!(
            page.body.contains("赵经办") && page.body.contains("审批人"),
            "{}",
            page.body
        );

        // The new user signs in with the initial password, and is an approver.
        let mut zhao = Browser::new(&node);
        let signed_in = zhao.sign_in("zhao", "a long enough password").await;
        assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{backend}");
        assert!(zhao.get("/").await.body.contains("审批人"));

        // Disabled: the session stops working and signing in is refused.
        let disabled = admin
            .post_form(
                "/admin/users/zhao/disabled",
                &[("csrf_token", &token), ("disabled", "true")],
            )
            .await;
        assert_eq!(
            disabled.status,
            StatusCode::SEE_OTHER,
            "{backend}: {}",
            disabled.body
        );
        assert!(admin.get("/admin/users/zhao").await.body.contains("已停用"));
        assert_eq!(zhao.get("/").await.location(), "/login");
        let refused = Browser::new(&node)
            .sign_in("zhao", "a long enough password")
            .await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{backend}");

        // Enabled again.
        admin
            .post_form(
                "/admin/users/zhao/disabled",
                &[("csrf_token", &token), ("disabled", "false")],
            )
            .await;
        let again = Browser::new(&node)
            .sign_in("zhao", "a long enough password")
            .await;
        assert_eq!(again.status, StatusCode::SEE_OTHER, "{backend}");
    }
}

#[tokio::test]
async fn a_taken_name_a_weak_password_and_a_forged_role_bring_the_form_back_and_add_nobody() {
    for backend in BACKENDS {
        let node = province(backend).await;
        let mut admin = Browser::signed_in(&node, "admin").await;
        let token = admin.csrf().await;
        // A taken name and a weak password: the form again with the code, nothing added.
        let before = user_names(&node).await;
        let taken = admin
            .post_form(
                "/admin/users",
                &[
                    ("csrf_token", &token),
                    ("name", "clerk"),
                    ("role", "clerk"),
                    ("password", "a long enough password"),
                ],
            )
            .await;
        assert_eq!(taken.status, StatusCode::CONFLICT, "{backend}");
        assert!(taken.body.contains("user_exists") && taken.body.contains("这个用户名已被使用"));
        let weak = admin
            .post_form(
                "/admin/users",
                &[
                    ("csrf_token", &token),
                    ("name", "qian"),
                    ("role", "clerk"),
                    ("password", "short"),
                ],
            )
            .await;
        assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert!(weak.body.contains("weak_password") && weak.body.contains("value=\"qian\""));
        let forged_role = admin
            .post_form(
                "/admin/users",
                &[
                    ("csrf_token", &token),
                    ("name", "sun"),
                    ("role", "superuser"),
                    ("password", "a long enough password"),
                ],
            )
            .await;
        assert_eq!(
            forged_role.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        assert!(forged_role.body.contains("bad_role"));
        assert_eq!(user_names(&node).await, before);
    }
}

#[tokio::test]
async fn an_api_token_is_shown_once_works_on_the_json_api_and_stops_when_revoked() {
    for backend in BACKENDS {
        let node = province(backend).await;
        let mut admin = Browser::signed_in(&node, "admin").await;
        let token = admin.csrf().await;
        let issued = admin
            .post_form(
                "/admin/users/clerk/tokens",
                &[
                    ("csrf_token", &token),
                    ("label", "夜间导入脚本"),
                    ("days", "30"),
                ],
            )
            .await;
        assert_eq!(issued.status, StatusCode::OK, "{backend}: {}", issued.body);
        assert_eq!(
            issued
                .headers
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store")
        );
        let secret = issued.between("<code id=\"token-secret\">", "</code>");
        assert!(secret.starts_with("lnt_"), "{secret}");
        assert_eq!(
            token_status(&node, &secret).await,
            StatusCode::OK,
            "{backend}"
        );

        // The account's page lists the token by its label, never the secret again.
        let page = admin.get("/admin/users/clerk").await;
        assert!(page.body.contains("夜间导入脚本"));
        assert!(
            !page.body.contains(&secret),
            "{backend}: the secret is shown once"
        );

        // The JSON API lists the same token, and the identifier revokes it from the page.
        let listed: Value = reqwest::Client::new()
            .get(format!("{}/api/v1/users/clerk/tokens", node.base))
            .bearer_auth(&secret)
            .send()
            .await
            .expect("response")
            .json()
            .await
            .expect("json");
        assert_eq!(
            listed["error"]["code"],
            json!("forbidden_role"),
            "a clerk lists no tokens"
        );
        let id = page.between("name=\"id\" value=\"", "\"");
        let revoked = admin
            .post_form(
                "/admin/users/clerk/tokens/revoke",
                &[("csrf_token", &token), ("id", &id)],
            )
            .await;
        assert_eq!(
            revoked.status,
            StatusCode::SEE_OTHER,
            "{backend}: {}",
            revoked.body
        );
        assert_eq!(
            token_status(&node, &secret).await,
            StatusCode::UNAUTHORIZED,
            "{backend}"
        );
        assert!(
            admin
                .get("/admin/users/clerk")
                .await
                .body
                .contains("已吊销")
        );

        // Another account's token identifier revokes nothing.
        let unknown = admin
            .post_form(
                "/admin/users/approver/tokens/revoke",
                &[("csrf_token", &token), ("id", &id)],
            )
            .await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{backend}");
        assert!(unknown.body.contains("not_found"));
    }
}

#[tokio::test]
async fn the_json_api_lists_and_revokes_api_tokens_for_administrators() {
    let node = province(Backend::Sqlite).await;
    let issued = node
        .archive
        .issue_api_token(
            &licnode_app::Author::operator("console"),
            "admin",
            "admin script",
            None,
        )
        .await
        .expect("token");
    let scripted = node
        .archive
        .issue_api_token(
            &licnode_app::Author::operator("console"),
            "clerk",
            "clerk script",
            None,
        )
        .await
        .expect("token");
    let client = reqwest::Client::new();
    let listed: Value = client
        .get(format!("{}/api/v1/users/clerk/tokens", node.base))
        .bearer_auth(&issued.token)
        .send()
        .await
        .expect("response")
        .json()
        .await
        .expect("json");
    let tokens = listed["tokens"].as_array().expect("tokens");
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["label"], json!("clerk script"));
    assert!(!listed.to_string().contains(&scripted.token));
    let revoked = client
        .post(format!("{}/api/v1/users/clerk/tokens/revoke", node.base))
        .bearer_auth(&issued.token)
        .json(&json!({ "id": tokens[0]["id"] }))
        .send()
        .await
        .expect("response");
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        token_status(&node, &scripted.token).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_clerks_forged_post_to_create_an_account_is_refused_and_changes_nothing() {
    for backend in BACKENDS {
        let node = province(backend).await;
        let before = user_names(&node).await;
        for role in ["clerk", "approver", "auditor"] {
            let mut browser = Browser::signed_in(&node, role).await;
            let token = browser.csrf().await;
            // Neither the page nor the forms: 403 with the JSON API's code.
            let page = browser.get("/admin/users").await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{backend} {role}");
            assert!(page.body.contains("forbidden_role"), "{}", page.body);
            let forged = browser
                .post_form(
                    "/admin/users",
                    &[
                        ("csrf_token", &token),
                        ("name", "mole"),
                        ("role", "administrator"),
                        ("password", "a long enough password"),
                    ],
                )
                .await;
            assert_eq!(forged.status, StatusCode::FORBIDDEN, "{backend} {role}");
            assert!(forged.body.contains("forbidden_role"));
            let disable = browser
                .post_form(
                    "/admin/users/admin/disabled",
                    &[("csrf_token", &token), ("disabled", "true")],
                )
                .await;
            assert_eq!(disable.status, StatusCode::FORBIDDEN, "{backend} {role}");
            let issue = browser
                .post_form(
                    "/admin/users/admin/tokens",
                    &[("csrf_token", &token), ("label", "mine now")],
                )
                .await;
            assert_eq!(issue.status, StatusCode::FORBIDDEN, "{backend} {role}");
        }
        assert_eq!(user_names(&node).await, before, "{backend}");
        assert!(
            node.archive
                .api_tokens("admin")
                .await
                .expect("tokens")
                .is_empty()
        );
        let admin = node.archive.users().await.expect("users");
        assert!(admin.iter().all(|user| !user.disabled), "{backend}");
    }
}

#[tokio::test]
async fn an_account_post_without_its_csrf_token_is_refused_and_changes_nothing() {
    for backend in BACKENDS {
        let node = province(backend).await;
        let mut admin = Browser::signed_in(&node, "admin").await;
        let before = user_names(&node).await;
        for token in ["", "0000"] {
            let refused = admin
                .post_form(
                    "/admin/users",
                    &[
                        ("csrf_token", token),
                        ("name", "mole"),
                        ("role", "administrator"),
                        ("password", "a long enough password"),
                    ],
                )
                .await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{backend}");
            assert!(refused.body.contains("bad_csrf_token"));
        }
        let sync = admin.post_form("/health/sync", NO_FIELDS).await;
        assert_eq!(sync.status, StatusCode::FORBIDDEN, "{backend}");
        assert!(sync.body.contains("bad_csrf_token"));
        assert_eq!(user_names(&node).await, before, "{backend}");
    }
}

#[tokio::test]
async fn script_tags_and_quotes_in_the_account_form_come_back_escaped() {
    for backend in BACKENDS {
        let node = province(backend).await;
        let mut admin = Browser::signed_in(&node, "admin").await;
        let token = admin.csrf().await;
        let hostile = "<script>alert(\"x\")</script>'\"";
        // Refused as a name: the form comes back with the input escaped.
        let refused = admin
            .post_form(
                "/admin/users",
                &[
                    ("csrf_token", &token),
                    ("name", hostile),
                    ("display_name", hostile),
                    ("role", "clerk"),
                    ("password", "a long enough password"),
                ],
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        assert!(refused.body.contains("bad_user_name"));
        // Accepted as a display name and a token label: shown escaped.
        admin
            .post_form(
                "/admin/users",
                &[
                    ("csrf_token", &token),
                    ("name", "hostile"),
                    ("display_name", hostile),
                    ("role", "clerk"),
                    ("password", "a long enough password"),
                ],
            )
            .await;
        admin
            .post_form(
                "/admin/users/hostile/tokens",
                &[("csrf_token", &token), ("label", hostile)],
            )
            .await;
        for page in [
            refused,
            admin.get("/admin/users").await,
            admin.get("/admin/users/hostile").await,
        ] {
            assert!(
                !page.body.contains("<script>alert"),
                "{backend}: {}",
                page.body
            );
            assert!(
                page.body
                    .contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"),
                "{}",
                page.body
            );
        }
    }
}

#[tokio::test]
async fn the_navigation_offers_each_role_only_the_pages_it_may_open() {
    let node = province(Backend::Sqlite).await;
    for (role, offered, withheld) in [
        (
            "clerk",
            vec!["/deadlines", "/quarantine"],
            vec!["/audit", "/health", "/admin/users"],
        ),
        ("auditor", vec!["/audit", "/health"], vec!["/admin/users"]),
        ("admin", vec!["/audit", "/health", "/admin/users"], vec![]),
    ] {
        let mut browser = Browser::signed_in(&node, role).await;
        let home = browser.get("/").await;
        let navigation = home.between("<nav class=\"areas\">", "</nav>");
        for path in offered {
            assert!(
                navigation.contains(&format!("href=\"{path}\"")),
                "{role}: {path}"
            );
            assert_eq!(
                browser.get(path).await.status,
                StatusCode::OK,
                "{role}: {path}"
            );
        }
        for path in withheld {
            assert!(
                !navigation.contains(&format!("href=\"{path}\"")),
                "{role}: {path}"
            );
            assert_eq!(
                browser.get(path).await.status,
                StatusCode::FORBIDDEN,
                "{role}: {path}"
            );
        }
    }
}
