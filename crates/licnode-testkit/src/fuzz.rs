//! Structured fuzzing on the stable toolchain (issue 16, item 4): the budget of cases, a
//! watchdog that turns a hang or runaway memory into a failure naming the input, and the
//! strategies every decoder's target shares — random bytes, mutations of valid input, deep
//! nesting and huge lengths.
//!
//! The budget: `LICNODE_FUZZ_CASES` cases per target; without it 200, or 1,000 with the
//! slow-test switch (`LICNODE_SLOW_TESTS`, set by `.ci/run`). A soak sets
//! `LICNODE_FUZZ_CASES=1000000` (see the test files for the commands).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

/// Cases per target when nothing is set: a normal test run stays within seconds.
pub const DEFAULT_CASES: u32 = 200;
/// Cases per target under the slow-test switch.
pub const SLOW_CASES: u32 = 1_000;
/// Longest time one input may take before it counts as a hang.
pub const INPUT_TIME_LIMIT: Duration = Duration::from_secs(10);
/// Most resident memory the test process may reach while fuzzing.
pub const MEMORY_LIMIT_BYTES: u64 = 2 << 30;

/// The number of cases each target runs.
pub fn cases() -> u32 {
    if let Some(cases) = std::env::var("LICNODE_FUZZ_CASES")
        .ok()
        .and_then(|text| text.trim().parse().ok())
    {
        return cases;
    }
    if std::env::var_os("LICNODE_SLOW_TESTS").is_some() {
        SLOW_CASES
    } else {
        DEFAULT_CASES
    }
}

/// The backends a target that runs on both fuzzes: every one, or only the one named by
/// `LICNODE_FUZZ_BACKEND` (`sqlite` or `postgres`), so a soak can spend its hours on one.
///
/// # Panics
/// When the variable names no backend: a soak that silently fuzzed nothing would be a lie.
pub fn backends() -> Vec<crate::Backend> {
    match std::env::var("LICNODE_FUZZ_BACKEND") {
        Err(_) => crate::BACKENDS.to_vec(),
        Ok(name) => {
            let chosen: Vec<_> = crate::BACKENDS
                .into_iter()
                .filter(|backend| backend.to_string() == name.trim())
                .collect();
            assert!(
                !chosen.is_empty(),
                "LICNODE_FUZZ_BACKEND={name:?} names no backend (sqlite or postgres)"
            );
            chosen
        }
    }
}

/// The proptest configuration of a target: [`cases`] cases, failures kept beside the test
/// file (`proptest-regressions/`) so a found input is replayed first next time.
pub fn config() -> Config {
    Config {
        cases: cases(),
        max_shrink_iters: 2_000,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..Config::default()
    }
}

/// The input under way and when it started.
type Current = Arc<Mutex<Option<(Instant, String)>>>;

/// Aborts the process, naming the input, when one input runs longer than its limit or the
/// process's memory grows past [`MEMORY_LIMIT_BYTES`]: a hang or a runaway allocation is a
/// failure, not a test that never ends.
#[derive(Clone)]
pub struct Watchdog {
    current: Current,
}

impl Watchdog {
    /// A watchdog over inputs that may each take up to `limit`.
    pub fn new(limit: Duration) -> Watchdog {
        let current: Current = Arc::new(Mutex::new(None));
        let watched = Arc::clone(&current);
        let period = (limit / 10).clamp(Duration::from_millis(20), Duration::from_millis(500));
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(period);
                if Arc::strong_count(&watched) == 1 {
                    return;
                }
                let held = watched
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if let Some((started, input)) = held.as_ref() {
                    if started.elapsed() > limit {
                        eprintln!("FUZZ HANG: one input ran over {limit:?}: {input}");
                        std::process::abort();
                    }
                    if let Some(resident) = resident_bytes()
                        && resident > MEMORY_LIMIT_BYTES
                    {
                        eprintln!("FUZZ MEMORY: {resident} bytes resident on input {input}");
                        std::process::abort();
                    }
                }
            }
        });
        Watchdog { current }
    }

    /// Runs `work` on `input` (described by `describe` if it hangs) under the watchdog.
    pub fn run<T>(&self, describe: impl FnOnce() -> String, work: impl FnOnce() -> T) -> T {
        self.set(Some((Instant::now(), describe())));
        let result = work();
        self.set(None);
        result
    }

    /// Marks the start of an input for asynchronous work; [`Watchdog::done`] its end.
    pub fn start(&self, describe: impl FnOnce() -> String) {
        self.set(Some((Instant::now(), describe())));
    }

    /// Marks the end of the input started with [`Watchdog::start`].
    pub fn done(&self) {
        self.set(None);
    }

    fn set(&self, value: Option<(Instant, String)>) {
        *self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = value;
    }
}

impl Default for Watchdog {
    fn default() -> Self {
        Watchdog::new(INPUT_TIME_LIMIT)
    }
}

/// The resident memory of this process, where the system says (Linux `/proc/self/statm`).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// A short description of `bytes` for a hang report: the length and the first bytes in hex.
pub fn describe_bytes(bytes: &[u8]) -> String {
    let shown: String = bytes
        .iter()
        .take(64)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("{} bytes: {shown}…", bytes.len())
}

/// A short description of `text` for a hang report.
pub fn describe_text(text: &str) -> String {
    let shown: String = text.chars().take(120).collect();
    format!("{} bytes: {shown:?}…", text.len())
}

/// How many characters of an input's `Debug` form [`describe_debug`] keeps.
pub const DESCRIBED_CHARS: usize = 600;

/// A description of `value` for a hang report: its `Debug` form cut at [`DESCRIBED_CHARS`]
/// characters, and formatted no further. Every input is described before it runs, so the
/// description must cost the same for a large input as for a small one (formatting whole
/// batches of change bytes and then cutting them was most of a fuzz run's time).
pub fn describe_debug(value: &impl std::fmt::Debug) -> String {
    struct Bounded {
        text: String,
        left: usize,
    }
    impl std::fmt::Write for Bounded {
        fn write_str(&mut self, piece: &str) -> std::fmt::Result {
            for ch in piece.chars() {
                if self.left == 0 {
                    // Stops the formatting: derived `Debug` passes the error up at once.
                    return Err(std::fmt::Error);
                }
                self.text.push(ch);
                self.left -= 1;
            }
            Ok(())
        }
    }
    let mut bounded = Bounded {
        text: String::new(),
        left: DESCRIBED_CHARS,
    };
    // An error here only means the limit was reached.
    let _ = std::fmt::write(&mut bounded, format_args!("{value:?}"));
    bounded.text
}

/// Random bytes, from empty to `max_len` long.
pub fn bytes(max_len: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..=max_len)
}

/// One way of damaging a valid input.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// Flip one bit at a position (taken modulo the length).
    FlipBit(usize, u8),
    /// Overwrite one byte with a boundary value.
    SetByte(usize, u8),
    /// Cut the input at a position.
    Truncate(usize),
    /// Insert bytes at a position.
    Insert(usize, Vec<u8>),
    /// Remove up to a number of bytes at a position.
    Remove(usize, usize),
    /// Repeat a slice many times at its place (a huge length, a deep run).
    Repeat(usize, usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let boundary = prop_oneof![Just(0u8), Just(0x7f), Just(0x80), Just(0xff), any::<u8>()];
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit(at, bit)),
        (any::<usize>(), boundary).prop_map(|(at, value)| Mutation::SetByte(at, value)),
        any::<usize>().prop_map(Mutation::Truncate),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(at, inserted)| Mutation::Insert(at, inserted)),
        (any::<usize>(), 1usize..64).prop_map(|(at, count)| Mutation::Remove(at, count)),
        (any::<usize>(), 1usize..16, 2usize..4_096)
            .prop_map(|(at, len, times)| Mutation::Repeat(at, len, times)),
    ]
}

/// Applies `mutations` to `input`, in order.
pub fn apply_mutations(input: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = input.to_vec();
    for mutation in mutations {
        let at = |position: usize, len: usize| if len == 0 { 0 } else { position % len };
        match mutation {
            Mutation::FlipBit(position, bit) if !bytes.is_empty() => {
                let index = at(*position, bytes.len());
                bytes[index] ^= 1 << bit;
            }
            Mutation::SetByte(position, value) if !bytes.is_empty() => {
                let index = at(*position, bytes.len());
                bytes[index] = *value;
            }
            Mutation::Truncate(position) => {
                let cut = at(*position, bytes.len() + 1);
                bytes.truncate(cut);
            }
            Mutation::Insert(position, inserted) => {
                let index = at(*position, bytes.len() + 1);
                bytes.splice(index..index, inserted.iter().copied());
            }
            Mutation::Remove(position, count) if !bytes.is_empty() => {
                let index = at(*position, bytes.len());
                let end = (index + count).min(bytes.len());
                bytes.drain(index..end);
            }
            Mutation::Repeat(position, len, times) if !bytes.is_empty() => {
                let index = at(*position, bytes.len());
                let end = (index + len).min(bytes.len());
                let slice = bytes[index..end].to_vec();
                let repeated: Vec<u8> = slice.repeat(*times);
                bytes.splice(index..end, repeated);
            }
            _ => {}
        }
    }
    bytes
}

/// One of `valid` damaged by one to eight mutations.
pub fn mutated(valid: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let count = valid.len().max(1);
    (0..count, proptest::collection::vec(mutation(), 1..8)).prop_map(move |(index, mutations)| {
        let input = valid.get(index).cloned().unwrap_or_default();
        apply_mutations(&input, &mutations)
    })
}

/// The bytes of a change chunk: magic, checksum, type, length, then `data`. The checksum is
/// the first four bytes of SHA-256 over type, length and data.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// The chunk type of an uncompressed change.
pub const CHANGE_CHUNK: u8 = 1;
/// Magic, checksum and type: the fixed part of a chunk's header.
const FIXED_HEADER: usize = 9;

/// `data` framed as a change chunk with a correct length and checksum, so a mutation reaches
/// the decoder of the change's columns instead of stopping at the checksum.
pub fn framed_chunk(chunk_type: u8, data: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    let mut length = Vec::new();
    let mut rest = data.len() as u64;
    loop {
        let byte = (rest & 0x7f) as u8;
        rest >>= 7;
        if rest == 0 {
            length.push(byte);
            break;
        }
        length.push(byte | 0x80);
    }
    let mut hashed = vec![chunk_type];
    hashed.extend_from_slice(&length);
    hashed.extend_from_slice(data);
    let checksum = sha2::Sha256::digest(&hashed);
    let mut chunk = MAGIC.to_vec();
    chunk.extend_from_slice(&checksum[..4]);
    chunk.extend_from_slice(&hashed);
    chunk
}

/// The data of a valid change chunk: what follows its header.
pub fn chunk_data(chunk: &[u8]) -> Vec<u8> {
    let mut at = FIXED_HEADER;
    while chunk.get(at).is_some_and(|byte| byte & 0x80 != 0) {
        at += 1;
    }
    chunk.get(at + 1..).map(<[u8]>::to_vec).unwrap_or_default()
}

/// One of `valid` (automerge change chunks) with its columns damaged by one to eight mutations
/// and framed again with a correct length and checksum: what reaches a change's decoder, and a
/// store's handling of a parsed change, rather than stopping at the checksum.
pub fn mutated_change_columns(valid: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let data: Vec<Vec<u8>> = valid.iter().map(|chunk| chunk_data(chunk)).collect();
    mutated(data).prop_map(|data| framed_chunk(CHANGE_CHUNK, &data))
}

/// Text: short and ordinary, control and bidirectional characters, or huge.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        2 => "[a-z_]{0,12}",
        1 => "[\\x00-\\x1f\\u{202e}\\u{200b}\\u{feff}a-z]{0,40}",
        1 => (1usize..300_000).prop_map(|len| "长".repeat(len)),
    ]
}

/// Any JSON value: scalars at the edges (huge numbers, long strings), arrays and objects
/// nested up to `depth` levels, and, sometimes, a plain run of nesting far deeper.
pub fn json_value(depth: u32) -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let scalar = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(
            |number| serde_json::Number::from_f64(number).map_or(Value::Null, Value::Number)
        ),
        Just(Value::from(u64::MAX)),
        text().prop_map(Value::String),
    ];
    scalar.prop_recursive(depth, 256, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{0,16}", inner, 0..8)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A body as bytes: a JSON value, the same cut short, deep nesting written out, or bytes.
pub fn json_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => json_value(4).prop_map(|value| value.to_string().into_bytes()),
        1 => (json_value(3), any::<usize>()).prop_map(|(value, cut)| {
            let mut text = value.to_string().into_bytes();
            let keep = cut % (text.len() + 1);
            text.truncate(keep);
            text
        }),
        1 => (1usize..200_000).prop_map(|depth| {
            let mut text = "[".repeat(depth);
            text.push_str(&"]".repeat(depth));
            text.into_bytes()
        }),
        1 => bytes(512),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_stay_within_the_input_and_change_it() {
        let input = b"licnode".to_vec();
        assert_eq!(
            apply_mutations(&input, &[Mutation::FlipBit(0, 0)]),
            b"micnode".to_vec()
        );
        assert_eq!(apply_mutations(&input, &[Mutation::Truncate(3)]), b"lic");
        assert_eq!(
            apply_mutations(&input, &[Mutation::Repeat(0, 1, 3)]),
            b"lllicnode".to_vec()
        );
        assert_eq!(
            apply_mutations(&[], &[Mutation::FlipBit(5, 1)]),
            Vec::<u8>::new()
        );
    }

    #[test]
    fn a_description_is_the_start_of_the_debug_form_and_never_longer_than_its_limit() {
        let small = vec!["西湖区", "a\"b"];
        assert_eq!(describe_debug(&small), format!("{small:?}"));
        let large: Vec<Vec<u8>> = vec![vec![7_u8; 100_000]; 10];
        let described = describe_debug(&large);
        assert_eq!(described.chars().count(), DESCRIBED_CHARS);
        assert!(format!("{large:?}").starts_with(&described));
    }

    #[test]
    fn the_budget_comes_from_the_environment_or_the_default() {
        if std::env::var_os("LICNODE_FUZZ_CASES").is_none()
            && std::env::var_os("LICNODE_SLOW_TESTS").is_none()
        {
            assert_eq!(cases(), DEFAULT_CASES);
        }
    }
}
