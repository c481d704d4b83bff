//! A command whose reader goes away (`licnode pki show | head -1`) stops quietly: the standard
//! library ignores SIGPIPE, so a write to a closed pipe fails with EPIPE, and `println!` turns
//! that into a panic. Both the panic and an EPIPE error returned by a command end the process
//! with status 0 and nothing on stderr, as a filter that was told "enough" should.

use std::io::ErrorKind;

/// The text `print!`/`println!` panic with when stdout is gone (std's `print_to`).
const PRINT_FAILED: &str = "failed printing to stdout";

/// Installs the panic hook that turns a failed print to a closed pipe into a quiet exit; any
/// other panic is reported by the hook that was there before.
pub fn exit_quietly_when_stdout_closes() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload_as_str().is_some_and(is_broken_pipe_print) {
            std::process::exit(0);
        }
        previous(info);
    }));
}

/// True for the panic message of a print to a closed pipe.
pub fn is_broken_pipe_print(message: &str) -> bool {
    // std ends the message with the OS's wording: "Broken pipe (os error 32)" on Linux.
    message.starts_with(PRINT_FAILED) && message.to_ascii_lowercase().contains("broken pipe")
}

/// True when `error` was caused by writing to a closed pipe.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_panic_of_a_print_to_a_closed_pipe_is_recognised_and_no_other() {
        // As std words it on Linux.
        assert!(is_broken_pipe_print(
            "failed printing to stdout: Broken pipe (os error 32)"
        ));
        let full = std::io::Error::from(ErrorKind::StorageFull);
        assert!(!is_broken_pipe_print(&format!("{PRINT_FAILED}: {full}")));
        assert!(!is_broken_pipe_print("index out of bounds"));
    }

    #[test]
    fn an_error_caused_by_a_closed_pipe_is_recognised_through_its_context() {
        let error = anyhow::Error::from(std::io::Error::from(ErrorKind::BrokenPipe))
            .context("cannot write the listing");
        assert!(is_broken_pipe(&error));
        assert!(!is_broken_pipe(&anyhow::anyhow!("no such file")));
    }
}
