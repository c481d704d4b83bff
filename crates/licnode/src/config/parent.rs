//! The parent's URLs: `[node] parent_url` (one) or `[node] parent_urls` (several, the
//! preferred first: a national node run as several processes, issue 15 item 4), checked at
//! load — every one an `https://` URL with a host, and not both keys at once.

use anyhow::bail;

use super::NodeSection;

impl NodeSection {
    /// Every URL the parent serves this node at, the preferred first: `parent_url` alone, or
    /// the list `parent_urls`; empty at the root of the tree.
    pub fn parent_urls(&self) -> Vec<String> {
        match &self.parent_url {
            Some(url) => vec![url.clone()],
            None => self.parent_urls.clone(),
        }
    }

    /// True when this node has a parent to sync with.
    pub fn has_parent(&self) -> bool {
        self.parent_url.is_some() || !self.parent_urls.is_empty()
    }
}

/// Children dial their parent over mutual TLS only (ARCHITECTURE.md, principle 6): every URL
/// must be `https://` with a host. `parent_url` and `parent_urls` name the same thing, so only
/// one of them may be set; a URL listed twice is a slip.
pub(super) fn check_parent_urls(node: &NodeSection) -> anyhow::Result<()> {
    if node.parent_url.is_some() && !node.parent_urls.is_empty() {
        bail!(
            "[node] parent_url and [node] parent_urls are both set: list every URL of the \
             parent in parent_urls (the preferred first) and remove parent_url"
        );
    }
    let keyed: Vec<(String, &String)> = match &node.parent_url {
        Some(url) => vec![("[node] parent_url".to_string(), url)],
        None => node
            .parent_urls
            .iter()
            .enumerate()
            .map(|(index, url)| (format!("[node] parent_urls[{index}]"), url))
            .collect(),
    };
    for (key, url) in &keyed {
        match reqwest::Url::parse(url) {
            Ok(parsed) if parsed.scheme() == "https" && parsed.host().is_some() => {}
            Ok(_) => bail!("{key}: {url:?} is not an https:// URL"),
            Err(error) => bail!("{key}: {url:?} is not a URL ({error})"),
        }
    }
    for (index, (key, url)) in keyed.iter().enumerate() {
        let same = |other: &String| other.trim_end_matches('/') == url.trim_end_matches('/');
        if keyed[..index].iter().any(|(_, earlier)| same(earlier)) {
            bail!("{key}: {url:?} is listed twice");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    const PROVINCE: &str = "[node]\ncode = \"330000\"\nlevel = \"province\"\nname = \"x\"\n";

    fn load_text(text: &str) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("licnode.toml");
        std::fs::write(&path, format!("{PROVINCE}{text}\n")).expect("write");
        Config::load_with_environment(&path, std::iter::empty())
    }

    #[test]
    fn a_list_of_parent_urls_is_read_in_order_and_a_single_parent_url_still_works() {
        let listed = load_text(
            "parent_urls = [\"https://national-1:8641\", \"https://national-2:8641\", \
             \"https://national-3:8641\"]",
        )
        .expect("a list loads");
        assert_eq!(
            listed.node.parent_urls(),
            [
                "https://national-1:8641",
                "https://national-2:8641",
                "https://national-3:8641"
            ]
        );
        assert!(listed.node.has_parent());
        let single = load_text("parent_url = \"https://h:8641\"").expect("the old key loads");
        assert_eq!(single.node.parent_urls(), ["https://h:8641"]);
        let root = load_text("").expect("no parent");
        assert!(root.node.parent_urls().is_empty() && !root.node.has_parent());
    }

    // Issue 15 item 4: a bad list stops the load naming the key and the entry.
    #[test]
    fn a_bad_parent_url_list_stops_the_load_naming_the_key() {
        for (text, named) in [
            (
                "parent_urls = [\"https://a:1\", \"http://b:2\"]",
                "[node] parent_urls[1]",
            ),
            ("parent_urls = [\"b:2\"]", "[node] parent_urls[0]"),
            (
                "parent_urls = [\"https://a:1\", \"https://a:1/\"]",
                "listed twice",
            ),
            (
                "parent_url = \"https://a:1\"\nparent_urls = [\"https://b:2\"]",
                "[node] parent_url and [node] parent_urls",
            ),
            ("parent_url = \"http://a:1\"", "[node] parent_url"),
        ] {
            let error = format!("{:#}", load_text(text).expect_err(text));
            assert!(error.contains(named), "{text}: {error}");
        }
    }
}
