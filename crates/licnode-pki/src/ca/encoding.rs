//! PEM blocks, serial numbers, key usages and times as the CA writes them into certificates.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{KeyUsagePurpose, SerialNumber};

/// Splits a PEM text into its `-----BEGIN …-----` blocks, each ending with a newline.
pub(crate) fn pem_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.starts_with("-----BEGIN ") {
            current.clear();
        }
        current.push_str(line.trim_end());
        current.push('\n');
        if line.starts_with("-----END ") {
            blocks.push(std::mem::take(&mut current));
        }
    }
    blocks
}

pub(super) fn push_pem(target: &mut String, pem: &str) {
    if pem.trim().is_empty() {
        return;
    }
    if !target.ends_with('\n') {
        target.push('\n');
    }
    target.push_str(pem.trim_end());
    target.push('\n');
}

pub(super) fn authority_key_usages() -> Vec<KeyUsagePurpose> {
    vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ]
}

/// A random positive 16-byte serial whose first byte is 0x40–0x7f, so its DER encoding has
/// neither a sign byte nor a stripped leading zero and its hex is the same everywhere.
pub(crate) fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] = (bytes[0] & 0x3f) | 0x40;
    SerialNumber::from_slice(&bytes)
}

/// Lower-case hex without separators.
pub(crate) fn normalise_serial(serial: &str) -> String {
    serial
        .chars()
        .filter(|character| character.is_ascii_hexdigit())
        .collect::<String>()
        .to_ascii_lowercase()
}

pub(crate) fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|duration| duration.as_secs())
        .unwrap_or(0)
}

pub(super) fn truncate_to_seconds(time: SystemTime) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix_seconds(time))
}

/// X.509 times have whole seconds.
pub(crate) fn to_time(time: SystemTime) -> time::OffsetDateTime {
    let seconds = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    };
    time::OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}
