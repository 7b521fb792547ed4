//! Log lines on stderr through one process-wide buffer.
//!
//! The daemon logs a line per invocation; writing each one to stderr (which is
//! unbuffered) would cost a `write(2)` per request. Instead every event is
//! appended whole, under a lock, to a buffer that is written out:
//! - when it holds more than [`FLUSH_AT`] bytes;
//! - at once for `WARN` and `ERROR` events (with everything before them);
//! - by a flusher thread at most [`IDLE_FLUSH`] after a line arrives in an
//!   empty buffer, so that an idle node's lines are not held back; the thread
//!   is woken once per such batch, not per line, and sleeps while the buffer
//!   is empty;
//! - by [`flush_logs`], which [`crate::run`] calls before it returns, and
//!   before a panic's message or a forced exit.
//!
//! A line is never split: the writer for one event holds the lock from its
//! first byte to its last, and buffers are written out under the same lock, so
//! lines leave in the order they were logged. Bytes that stderr refuses (it
//! was closed) are dropped, so the buffer stays bounded.

use std::io::{IsTerminal as _, Write};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::{self, Thread};
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::LogFormat;

/// Buffered bytes past which the event that crossed it writes them out.
const FLUSH_AT: usize = 32 * 1024;

/// The buffer's capacity, reserved once: room for [`FLUSH_AT`] and a long line.
const CAPACITY: usize = 64 * 1024;

/// The longest a line waits in the buffer when nothing else writes it out.
const IDLE_FLUSH: Duration = Duration::from_millis(100);

/// Log bytes not yet written to stderr.
static PENDING: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// The flusher thread, woken when a line lands in an empty buffer. Unset
/// until it runs (or if it could not be started): then every event is
/// written out at once.
static FLUSHER: OnceLock<Thread> = OnceLock::new();

/// Sets up logging to stderr at `info` (or as `RUST_LOG` says) in `format`,
/// through the buffer (see the module docs), with colours when stderr is a
/// terminal. Also installs a panic hook that writes the buffer out before the
/// panic's message. Does nothing if a global subscriber is already installed.
pub fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(BufferedStderr);
    // An error only means a subscriber exists already (e.g. set by an embedder).
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    if installed.is_err() {
        return;
    }
    pending().reserve(CAPACITY);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // `try_lock`: the panicking thread may be the one holding the buffer.
        if let Ok(mut bytes) = PENDING.try_lock() {
            write_out(&mut bytes);
        }
        previous(info);
    }));
    let started = thread::Builder::new()
        .name("pappus-log-flush".into())
        .spawn(flush_when_idle);
    if let Ok(flusher) = started {
        let _ = FLUSHER.set(flusher.thread().clone());
    }
}

/// Writes the buffered log lines to stderr now.
///
/// [`crate::run`] calls it before returning; an embedder that runs
/// [`crate::serve`] itself after [`init_logging`] calls it before exiting.
pub fn flush_logs() {
    write_out(&mut pending());
}

/// The [`MakeWriter`] of the daemon's subscriber: one [`EventWriter`] per event.
#[derive(Clone, Copy, Debug)]
struct BufferedStderr;

impl<'a> MakeWriter<'a> for BufferedStderr {
    type Writer = EventWriter;

    fn make_writer(&'a self) -> EventWriter {
        EventWriter::new(false)
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> EventWriter {
        // Levels compare by verbosity: ERROR < WARN < INFO.
        EventWriter::new(*meta.level() <= Level::WARN)
    }
}

/// Appends one event to the buffer, holding its lock from creation to drop so
/// that no other event's bytes come between this one's.
struct EventWriter {
    pending: MutexGuard<'static, Vec<u8>>,
    /// Write out on drop (a warning or error).
    urgent: bool,
    /// The buffer was empty when this event started, so the flusher is asleep
    /// until told there is something to write.
    was_empty: bool,
}

impl EventWriter {
    fn new(urgent: bool) -> EventWriter {
        let pending = pending();
        let was_empty = pending.is_empty();
        EventWriter {
            pending,
            urgent,
            was_empty,
        }
    }
}

impl Write for EventWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        let flusher = FLUSHER.get();
        if self.urgent || self.pending.len() > FLUSH_AT || flusher.is_none() {
            write_out(&mut self.pending);
        } else if self.was_empty && !self.pending.is_empty() {
            if let Some(flusher) = flusher {
                flusher.unpark();
            }
        }
    }
}

/// The flusher thread's loop: sleeps while the buffer is empty; once a line
/// arrives, waits [`IDLE_FLUSH`] for more and writes out whatever is there.
fn flush_when_idle() {
    loop {
        if pending().is_empty() {
            // Woken by the event that fills the buffer (or spuriously: the
            // loop checks again).
            thread::park();
            continue;
        }
        thread::sleep(IDLE_FLUSH);
        flush_logs();
    }
}

/// The buffer, even if a thread panicked while holding it (its bytes are
/// whole events or a prefix of one, still worth writing).
fn pending() -> MutexGuard<'static, Vec<u8>> {
    PENDING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Writes `bytes` to stderr and empties it; on failure (stderr closed) the
/// bytes are dropped, as an unbuffered write would have lost them.
fn write_out(bytes: &mut Vec<u8>) {
    if bytes.is_empty() {
        return;
    }
    let _ = std::io::stderr().lock().write_all(bytes);
    bytes.clear();
}
