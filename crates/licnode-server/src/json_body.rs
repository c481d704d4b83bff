//! JSON request bodies of the staff API with a key repeated in one object are refused
//! (`duplicate_key`) before any handler reads them: `serde_json` would keep the last value, so
//! what one reader checks and another stores could differ (issue 11, item 7).

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};

use crate::ApiError;

/// A key repeated in one JSON object: the key and where the object is (`$`, `$.rows[2]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateKey {
    pub key: String,
    pub path: String,
}

/// Finds the first key repeated within one object of the JSON text `bytes`, at any depth.
/// Malformed JSON has none (the body's own extractor reports it as malformed).
pub fn first_duplicate_key(bytes: &[u8]) -> Option<DuplicateKey> {
    let found = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let seed = UniqueKeys {
        path: "$".to_string(),
        found: &found,
    };
    // An error is either the duplicate (recorded in `found`) or malformed JSON.
    let _ = seed.deserialize(&mut deserializer);
    found.into_inner()
}

/// Walks one JSON value, recording the first repeated key in `found`.
struct UniqueKeys<'a> {
    path: String,
    found: &'a RefCell<Option<DuplicateKey>>,
}

impl<'de> DeserializeSeed<'de> for UniqueKeys<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueKeys<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        while sequence
            .next_element_seed(UniqueKeys {
                path: format!("{}[{index}]", self.path),
                found: self.found,
            })?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = format!("{}.{key}", self.path);
            if !seen.insert(key.clone()) {
                *self.found.borrow_mut() = Some(DuplicateKey {
                    key,
                    path: self.path,
                });
                return Err(A::Error::custom("duplicate key"));
            }
            map.next_value_seed(UniqueKeys {
                path,
                found: self.found,
            })?;
        }
        Ok(())
    }
}

/// Whether the request says its body is JSON (`application/json`, `application/…+json`), as
/// the JSON extractor reads it.
fn is_json(request: &Request) -> bool {
    let Some(content_type) = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Middleware: refuses a JSON body with a repeated key (400 `duplicate_key`, naming the key and
/// the object's path), and hands every other request on unchanged.
pub(crate) async fn refuse_duplicate_keys(request: Request, next: Next) -> Response {
    if !is_json(&request) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, crate::MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return ApiError::PayloadTooLarge {
                reason: format!(
                    "the body is larger than {} bytes or could not be read",
                    crate::MAX_BODY_BYTES
                ),
            }
            .into_response();
        }
    };
    if let Some(duplicate) = first_duplicate_key(&bytes) {
        return ApiError::DuplicateKey {
            key: duplicate.key,
            path: duplicate.path,
        }
        .into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_key_is_found_at_any_depth_and_named_with_its_object() {
        assert_eq!(
            first_duplicate_key(br#"{"a": 1, "b": {"c": [1, {"d": 2}]}}"#),
            None
        );
        assert_eq!(
            first_duplicate_key(br#"{"status": "valid", "status": "revoked"}"#),
            Some(DuplicateKey {
                key: "status".into(),
                path: "$".into()
            })
        );
        assert_eq!(
            first_duplicate_key(br#"{"rows": [{"x": 1}, {"y": 1, "y": 2}]}"#),
            Some(DuplicateKey {
                key: "y".into(),
                path: "$.rows[1]".into()
            })
        );
    }

    #[test]
    fn keys_are_compared_after_their_escapes_are_read() {
        assert_eq!(
            first_duplicate_key(br#"{"status": "valid", "st\u0061tus": "revoked"}"#)
                .map(|duplicate| duplicate.key),
            Some("status".to_string())
        );
    }

    #[test]
    fn malformed_json_has_no_duplicate_to_report() {
        assert_eq!(first_duplicate_key(br#"{"a": 1,"#), None);
    }
}
