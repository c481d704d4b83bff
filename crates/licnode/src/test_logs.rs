//! Log capture for unit tests: what the code under test logs on the test's thread (a
//! single-threaded tokio test runs its spawned tasks there too), as text.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

/// The logs captured since [`capture`], until this is dropped.
pub struct CapturedLogs {
    buffer: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl CapturedLogs {
    /// Everything logged so far.
    pub fn text(&self) -> String {
        let buffer = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&buffer).into_owned()
    }
}

struct BufferWriter(Arc<Mutex<Vec<u8>>>);

impl Write for BufferWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures this thread's logs (every level) until the returned value is dropped.
pub fn capture() -> CapturedLogs {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let shared = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || BufferWriter(shared.clone()))
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    CapturedLogs {
        buffer,
        _guard: tracing::subscriber::set_default(subscriber),
    }
}
