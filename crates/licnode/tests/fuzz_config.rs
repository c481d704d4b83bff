//! Fuzzing the configuration file's decoder (issue 16, item 4): `Config::load_with_environment`
//! on random text, mutated example configurations, and the examples with one key of one
//! section given a random value, in the file or through its `LICNODE_<SECTION>__<KEY>`
//! variable. No input panics or hangs; a configuration refused because of one key names that
//! key (and the variable, when one set it). Cases: `LICNODE_FUZZ_CASES` (see
//! `licnode_testkit::fuzz`). Soak: `LICNODE_FUZZ_CASES=1000000 cargo test --release -p licnode
//! --test fuzz_config`.

use licnode::config::Config;
use licnode_testkit::fuzz::{self, Watchdog};
use proptest::prelude::*;

/// The example configurations of the repository, as text.
fn examples() -> Vec<String> {
    ["national", "province", "county"]
        .iter()
        .map(|name| {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../config")
                .join(format!("{name}.toml"));
            std::fs::read_to_string(&path).expect("example configuration")
        })
        .collect()
}

/// Loads `text` as a configuration file with `environment` as the process environment.
fn load(text: &[u8], environment: &[(String, String)]) -> anyhow::Result<Config> {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("licnode.toml");
    std::fs::write(&path, text).expect("write");
    Config::load_with_environment(&path, environment.iter().cloned())
}

/// A TOML value of any kind, as it would be written in a file.
fn toml_value() -> impl Strategy<Value = toml::Value> {
    let leaf = prop_oneof![
        fuzz::text().prop_map(toml::Value::String),
        any::<i64>().prop_map(toml::Value::Integer),
        any::<f64>().prop_map(toml::Value::Float),
        any::<bool>().prop_map(toml::Value::Boolean),
        prop_oneof![
            Just("0s"),
            Just("1h"),
            Just("45d"),
            Just("-5s"),
            Just("99999999999999999999d"),
            Just("0 0 2 1 * *"),
            Just("* * * * * * * *"),
            Just("0 0 2 31 2 *"),
            Just("@yearly"),
            Just("0.0.0.0:0"),
            Just("[::1]:65536"),
            Just("330000"),
            Just("town"),
            Just("https://"),
            Just("https://[::1]:1"),
            Just("10.0.0.0/40"),
        ]
        .prop_map(|text| toml::Value::String(text.to_string())),
    ];
    leaf.prop_recursive(2, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(toml::Value::Array),
            proptest::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|map| toml::Value::Table(map.into_iter().collect())),
        ]
    })
}

/// One example with one key set to `value`: in the file, or by its environment variable
/// (as text, as an operator writes one).
#[derive(Clone, Debug)]
struct OneKey {
    example: usize,
    section: String,
    key: String,
    value: toml::Value,
    by_environment: bool,
}

fn one_key() -> impl Strategy<Value = OneKey> {
    let keys = prop_oneof![
        Just(("node", "code")),
        Just(("node", "level")),
        Just(("node", "name")),
        Just(("node", "parent_url")),
        Just(("node", "child_prefectures")),
        Just(("storage", "data_dir")),
        Just(("storage", "database_url")),
        Just(("http", "listen")),
        Just(("http", "trusted_proxies")),
        Just(("peer", "listen")),
        Just(("peer", "max_crl_age")),
        Just(("log", "format")),
        Just(("sync", "interval")),
        Just(("sync", "debounce")),
        Just(("sync", "max_backoff")),
        Just(("schedule", "monthly")),
        Just(("schedule", "yearly")),
        Just(("schedule", "auto_submit")),
        Just(("schedule", "check_every")),
        Just(("retention", "years")),
        Just(("retention", "approval_days")),
        Just(("retention", "sweep_every")),
        Just(("public", "listen")),
        Just(("public", "requests_per_second")),
        Just(("public", "burst")),
    ];
    (
        0usize..3,
        keys,
        toml_value(),
        proptest::bool::weighted(0.25),
    )
        .prop_map(|(example, (section, key), value, by_environment)| OneKey {
            example,
            section: section.to_string(),
            key: key.to_string(),
            value,
            by_environment,
        })
}

/// The file and environment of `case`.
fn written(case: &OneKey) -> (String, Vec<(String, String)>) {
    let mut table: toml::Table = toml::from_str(&examples()[case.example]).expect("example");
    let mut environment = Vec::new();
    if case.by_environment {
        let text = match &case.value {
            toml::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        environment.push((
            format!(
                "LICNODE_{}__{}",
                case.section.to_uppercase(),
                case.key.to_uppercase()
            ),
            text,
        ));
    } else {
        let section = table
            .entry(case.section.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(section) = section {
            section.insert(case.key.clone(), case.value.clone());
        }
    }
    (toml::to_string(&table).expect("toml"), environment)
}

fn watchdog() -> &'static Watchdog {
    static WATCHDOG: std::sync::OnceLock<Watchdog> = std::sync::OnceLock::new();
    WATCHDOG.get_or_init(Watchdog::default)
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn random_text_never_panics_the_configuration_loader(text in fuzz::bytes(2_048)) {
        watchdog().run(|| fuzz::describe_bytes(&text), || { let _ = load(&text, &[]); });
    }

    #[test]
    fn mutated_examples_never_panic_the_configuration_loader(
        text in fuzz::mutated(examples().into_iter().map(String::into_bytes).collect())
    ) {
        watchdog().run(|| fuzz::describe_bytes(&text), || { let _ = load(&text, &[]); });
    }

    #[test]
    fn a_configuration_refused_for_one_key_names_that_key(case in one_key()) {
        let (text, environment) = written(&case);
        let loaded = watchdog().run(
            || format!("{case:?}").chars().take(400).collect(),
            || load(text.as_bytes(), &environment),
        );
        if let Err(error) = loaded {
            let message = format!("{error:#}");
            // `[node] code` is checked against the division codes as "node code …"; a key set
            // in a section the example does not have may leave that section's required key
            // missing, and the refusal names that one.
            let named = message.contains(&format!("[{}] {}", case.section, case.key))
                || (case.section == "node" && case.key == "code" && message.contains("node code"))
                || message.contains(&format!("[{}]: missing field", case.section));
            prop_assert!(named, "{case:?}: {message}");
            if case.by_environment {
                prop_assert!(message.contains("LICNODE_"), "{case:?}: {message}");
            }
        }
    }
}

/// A cron-like expression: five to eight fields of numbers (huge ones too), ranges, steps,
/// lists, names and wildcards.
fn cron_like() -> impl Strategy<Value = String> {
    let field = prop_oneof![
        Just("*".to_string()),
        Just("?".to_string()),
        (0u64..100).prop_map(|n| n.to_string()),
        Just("4294967296".to_string()),
        Just("99999999999999999999".to_string()),
        (0u64..70, 0u64..70).prop_map(|(a, b)| format!("{a}-{b}")),
        (0u64..70, 0u64..70).prop_map(|(a, b)| format!("{a}/{b}")),
        Just("*/0".to_string()),
        Just("1,2,,3".to_string()),
        Just("MON-FRI".to_string()),
        Just("L".to_string()),
        Just("JAN-DEC/2".to_string()),
        "[0-9*/,-]{1,6}",
    ];
    proptest::collection::vec(field, 0..9).prop_map(|fields| fields.join(" "))
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn cron_strings_are_read_or_refused_naming_their_key(
        expression in cron_like(),
        key in prop_oneof![Just("monthly"), Just("yearly")],
    ) {
        let case = OneKey {
            example: 1,
            section: "schedule".to_string(),
            key: key.to_string(),
            value: toml::Value::String(expression.clone()),
            by_environment: false,
        };
        let (text, environment) = written(&case);
        let loaded = watchdog().run(
            || expression.clone(),
            || load(text.as_bytes(), &environment),
        );
        if let Err(error) = loaded {
            let message = format!("{error:#}");
            prop_assert!(message.contains(&format!("[schedule] {key}")), "{expression:?}: {message}");
        }
    }
}

#[test]
fn the_examples_the_mutations_start_from_load() {
    for text in examples() {
        load(text.as_bytes(), &[]).expect("example loads");
    }
}
