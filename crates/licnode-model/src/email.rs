//! E-mail addresses: a shape check, not a deliverability check.

/// The longest address accepted (RFC 5321 path limit).
pub const MAX_LENGTH: usize = 254;

/// What is wrong with an e-mail address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Not `local@domain.tld`.
    #[error("{0:?} is not an e-mail address like name@example.cn")]
    BadShape(String),
}

/// Checks the shape `local@domain.tld` and returns the address trimmed, with full-width
/// characters folded and the domain in lower case.
pub fn normalise(text: &str) -> Result<String, EmailError> {
    let folded = crate::text::fold_full_width(text.trim());
    let bad = || EmailError::BadShape(text.to_owned());
    if folded.len() > MAX_LENGTH || folded.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = folded.split_once('@').ok_or_else(bad)?;
    if local.is_empty() || local.len() > 64 || domain.contains('@') {
        return Err(bad());
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(bad());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |label: &&str| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(bad());
    }
    Ok(format!("{local}@{}", domain.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_addresses_are_accepted_with_the_domain_lower_cased() {
        assert_eq!(
            normalise("zhang.san@samr.gov.cn").as_deref(),
            Ok("zhang.san@samr.gov.cn")
        );
        assert_eq!(
            normalise(" Li_Si+xk@QQ.COM ").as_deref(),
            Ok("Li_Si+xk@qq.com")
        );
        assert_eq!(normalise("王五@例子.中国").as_deref(), Ok("王五@例子.中国"));
    }

    #[test]
    fn full_width_at_signs_are_folded() {
        assert_eq!(normalise("zhang＠163.com").as_deref(), Ok("zhang@163.com"));
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for address in [
            "",
            "zhang",
            "zhang@",
            "@163.com",
            "zhang@163",
            "zhang@@163.com",
            "zhang@163..com",
            "zhang san@163.com",
            "zhang@-163.com",
            ".zhang@163.com",
            "zhang@163.com.",
        ] {
            assert!(normalise(address).is_err(), "{address}");
        }
    }
}
