//! The staff web application's tests' one client: a browser without JavaScript that follows no
//! redirect by itself, keeps its cookies by hand (so their attributes can be checked too) and
//! posts forms as `application/x-www-form-urlencoded`, and the answers it reads. Each test
//! binary's node harness implements [`WebBase`] for its node.

#![allow(dead_code)]

use std::collections::HashMap;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, HeaderMap, LOCATION, SET_COOKIE};

/// The password every test account is given.
pub const PASSWORD: &str = "correct horse battery";

/// A node serving the staff web application.
pub trait WebBase {
    /// `http://127.0.0.1:<port>`.
    fn base_url(&self) -> &str;
}

/// One answer: status, headers, body.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn location(&self) -> &str {
        self.header(LOCATION.as_str())
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    /// The CSRF token of the first form on the page.
    pub fn csrf_token(&self) -> String {
        self.between("name=\"csrf_token\" value=\"", "\"")
    }

    /// The stable error code the refusal page shows.
    pub fn error_code(&self) -> String {
        self.between("data-error-code=\"", "\"")
    }

    /// The `href` of the link with this `id`, as the page writes it (ampersands escaped).
    pub fn link(&self, id: &str) -> String {
        self.between(&format!("id=\"{id}\" href=\""), "\"")
            .replace("&amp;", "&")
    }

    /// The text between the first `before` and the next `after`.
    pub fn between(&self, before: &str, after: &str) -> String {
        let at = self
            .body
            .find(before)
            .unwrap_or_else(|| panic!("{before} on the page: {}", self.body));
        let rest = &self.body[at + before.len()..];
        rest[..rest.find(after).expect("the end")].to_string()
    }
}

/// A browser without JavaScript: follows nothing by itself, keeps cookies.
pub struct Browser {
    client: reqwest::Client,
    base: String,
    /// The cookies held, by name.
    pub cookies: HashMap<String, String>,
    /// Every `Set-Cookie` received, as sent.
    pub set_cookies: Vec<String>,
}

impl Browser {
    pub fn new(node: &impl WebBase) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: node.base_url().to_string(),
            cookies: HashMap::new(),
            set_cookies: Vec::new(),
        }
    }

    /// The `Cookie` header this browser sends.
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn remember(&mut self, headers: &HeaderMap) {
        for value in headers.get_all(SET_COOKIE) {
            let text = value.to_str().expect("ascii cookie").to_string();
            let pair = text.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').expect("name=value");
            if value.is_empty() || text.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
            self.set_cookies.push(text);
        }
    }

    pub async fn answer(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let response = request
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        self.remember(&headers);
        let bytes = response.bytes().await.expect("body").to_vec();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let request = self.client.get(format!("{}{path}", self.base));
        self.answer(request).await
    }

    /// Posts `form` (name/value pairs) to `path`.
    pub async fn post<Form: serde::Serialize + ?Sized>(
        &mut self,
        path: &str,
        form: &Form,
    ) -> Answer {
        let body = serde_urlencoded::to_string(form).expect("form");
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        self.answer(request).await
    }

    /// Posts name/value pairs written out in the test.
    pub async fn post_form(&mut self, path: &str, pairs: &[(&str, &str)]) -> Answer {
        self.post(path, pairs).await
    }

    /// Posts `pairs` to `action` with the CSRF token of the page at `page`.
    pub async fn submit(&mut self, page: &str, action: &str, pairs: &[(&str, &str)]) -> Answer {
        let token = self.get(page).await.csrf_token();
        let mut form = vec![("csrf_token", token.as_str())];
        form.extend_from_slice(pairs);
        self.post(action, &form).await
    }

    /// Signs in through the sign-in form.
    pub async fn sign_in(&mut self, user: &str, password: &str) -> Answer {
        let token = self.get("/login").await.csrf_token();
        self.post(
            "/login",
            &[
                ("csrf_token", token.as_str()),
                ("name", user),
                ("password", password),
            ],
        )
        .await
    }

    /// A browser signed in as `user` (password [`PASSWORD`]).
    pub async fn signed_in(node: &impl WebBase, user: &str) -> Browser {
        let mut browser = Browser::new(node);
        let answer = browser.sign_in(user, PASSWORD).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        browser
    }

    /// The session's CSRF token, from the home page's sign-out form.
    pub async fn csrf(&mut self) -> String {
        self.get("/").await.csrf_token()
    }
}

/// A form with no fields at all (not even the CSRF token).
pub const NO_FIELDS: &[(&str, &str)] = &[];

/// Name/value pairs owned, for forms built up in a test.
pub fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}
