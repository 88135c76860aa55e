//! The app's one event stream: key presses from the input thread, a tick, signals and
//! background jobs all arrive on one channel, and the loop in `mod.rs` handles them in order.

use std::sync::mpsc::Sender;
use std::time::Duration;

use ratatui::crossterm::event::{self as term, KeyEvent, KeyEventKind};

use super::jobs::{JobId, JobMessage};

/// How often the tick comes (and the terminal is checked for a hang-up).
pub const TICK: Duration = Duration::from_millis(250);

#[derive(Debug)]
pub enum Event {
    /// A key press (releases and repeats are dropped at the source).
    Key(KeyEvent),
    /// Text pasted into the terminal, in one piece (bracketed paste).
    Paste(String),
    /// The terminal changed size: redraw.
    Resize,
    Tick,
    /// The terminal is gone (closed, hung up, or failing): save and exit.
    TerminalLost(String),
    /// SIGTERM, SIGHUP or SIGINT: save and exit.
    Signal(i32),
    Job(JobId, JobMessage),
}

/// Starts the threads that feed `events`: terminal input, the tick, and signals. They stop
/// on their own when the receiver is dropped (or with the process).
pub fn start_sources(events: &Sender<Event>) -> std::io::Result<()> {
    let input = events.clone();
    std::thread::Builder::new()
        .name("input".into())
        .spawn(move || read_input(&input))?;
    let tick = events.clone();
    std::thread::Builder::new()
        .name("tick".into())
        .spawn(move || {
            loop {
                std::thread::sleep(TICK);
                // The input thread can be stuck inside the terminal library when the
                // terminal goes away (it retries reads that return end of input), so the
                // hang-up is watched from here too.
                if let Some(why) = terminal_gone() {
                    let _ = tick.send(Event::TerminalLost(why));
                    return;
                }
                if tick.send(Event::Tick).is_err() {
                    return;
                }
            }
        })?;
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGINT,
    ])?;
    let signalled = events.clone();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if signalled.send(Event::Signal(signal)).is_err() {
                    return;
                }
            }
        })?;
    Ok(())
}

/// Reads the terminal until it goes away. It only asks the terminal library for events when
/// the terminal has input and has not hung up, because that library loops for ever on a
/// terminal that returns end of input.
fn read_input(events: &Sender<Event>) {
    loop {
        let readable = match wait_readable(TICK) {
            Ok(r) => r,
            Err(why) => {
                let _ = events.send(Event::TerminalLost(why));
                return;
            }
        };
        // A resize arrives as a signal inside the terminal library, not as input, so the
        // library is asked on every turn, without waiting.
        let _ = readable;
        loop {
            match term::poll(Duration::ZERO) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let _ = events.send(Event::TerminalLost(format!("reading the terminal: {e}")));
                    return;
                }
            }
            let event = match term::read() {
                Ok(term::Event::Key(key)) if key.kind == KeyEventKind::Press => Event::Key(key),
                Ok(term::Event::Resize(..)) => Event::Resize,
                Ok(term::Event::Paste(text)) => Event::Paste(text),
                Ok(_) => continue,
                Err(e) => {
                    let _ = events.send(Event::TerminalLost(format!("reading the terminal: {e}")));
                    return;
                }
            };
            if events.send(event).is_err() {
                return;
            }
        }
    }
}

/// Waits up to `timeout` for input on the terminal: Ok(true) if there is some, Err with a
/// sentence if the terminal has hung up or failed.
#[cfg(unix)]
fn wait_readable(timeout: Duration) -> Result<bool, String> {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let stdin = std::io::stdin();
    let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
    let timeout = Timespec::try_from(timeout).ok();
    match poll(&mut fds, timeout.as_ref()) {
        Ok(_) => {}
        Err(rustix::io::Errno::INTR) => return Ok(false),
        Err(e) => return Err(format!("waiting for the terminal: {e}")),
    }
    let revents = fds[0].revents();
    if revents.intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL) {
        return Err("the terminal was closed".into());
    }
    Ok(revents.contains(PollFlags::IN))
}

#[cfg(not(unix))]
fn wait_readable(timeout: Duration) -> Result<bool, String> {
    term::poll(timeout).map_err(|e| format!("reading the terminal: {e}"))
}

/// Whether the terminal has hung up, without reading from it.
#[cfg(unix)]
fn terminal_gone() -> Option<String> {
    wait_readable(Duration::ZERO).err()
}

#[cfg(not(unix))]
fn terminal_gone() -> Option<String> {
    None
}
