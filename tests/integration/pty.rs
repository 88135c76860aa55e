//! Drives the real `doorstep` binary in a pseudo-terminal (80×24) and reads its screen
//! through a terminal emulator. Every wait has a deadline and prints the screen on failure.

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};

pub const ENTER: &str = "\r";
pub const ESC: &str = "\x1b";
pub const CTRL_S: &str = "\x13";

pub struct Tui {
    child: Box<dyn Child + Send + Sync>,
    writer: Option<Box<dyn Write + Send>>,
    output: Receiver<Vec<u8>>,
    parser: vt100::Parser,
    // Kept open so the child keeps its terminal (until `hang_up`).
    master: Option<Box<dyn portable_pty::MasterPty + Send>>,
    // Tells the reader thread to let go of its copy of the terminal's controlling side.
    stop_reading: Arc<AtomicBool>,
}

impl Tui {
    pub fn start(data_dir: &Path) -> Tui {
        let pty = native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows: 24,
                cols: 80,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_doorstep"));
        cmd.env("DOORSTEP_DATA_DIR", data_dir);
        cmd.env("TERM", "xterm-256color");
        cmd.env("NO_COLOR", "1");
        let child = pair.slave.spawn_command(cmd).expect("start doorstep");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = pair.master.take_writer().expect("pty writer");
        let (tx, rx) = channel();
        let stop_reading = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&stop_reading);
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() || stop.load(Ordering::SeqCst) {
                    break;
                }
            }
        });
        let parser = vt100::Parser::new(
            NonZeroU16::new(24).unwrap(),
            NonZeroU16::new(80).unwrap(),
            0,
        );
        Tui {
            child,
            writer: Some(writer),
            output: rx,
            parser,
            master: Some(pair.master),
            stop_reading,
        }
    }

    fn pump(&mut self) {
        while let Ok(bytes) = self.output.try_recv() {
            self.parser.process(&bytes);
        }
    }

    pub fn screen(&mut self) -> String {
        self.pump();
        self.parser.screen().contents()
    }

    pub fn send(&mut self, keys: &str) {
        let writer = self.writer.as_mut().expect("the terminal is still open");
        writer.write_all(keys.as_bytes()).expect("write to the pty");
        writer.flush().expect("flush the pty");
    }

    /// Waits until the screen satisfies `pred`, or fails showing the screen.
    pub fn wait_for(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; the screen was:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn wait_text(&mut self, text: &str) -> String {
        self.wait_for(&format!("`{text}`"), |s| s.contains(text))
    }

    /// Sends keys, waits for the screen to change, then for it to settle (a frame can
    /// arrive in pieces; deciding on half a frame would make the tests flaky).
    pub fn step(&mut self, keys: &str) -> String {
        let before = self.screen();
        self.send(keys);
        self.wait_for("the screen to change", |s| s != before);
        self.settle()
    }

    /// Waits until the screen has not changed for a short while.
    pub fn settle(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut last = self.screen();
        let mut since = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(10));
            let now = self.screen();
            if now != last {
                last = now;
                since = Instant::now();
            } else if since.elapsed() >= Duration::from_millis(60) {
                return last;
            }
            if Instant::now() > deadline {
                panic!("the screen never settled; it was:\n{last}");
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.process_id().expect("child pid")
    }

    /// Whether the app is (still) on the alternate screen it draws on.
    pub fn on_alternate_screen(&mut self) -> bool {
        self.pump();
        self.parser.screen().alternate_screen()
    }

    /// Closes the terminal's controlling side, as closing the window or losing the SSH
    /// session does. The reader thread holds a copy of it until its next read returns, so
    /// the terminal is first resized: the app redraws, the reader wakes and lets go.
    pub fn hang_up(&mut self) {
        self.stop_reading.store(true, Ordering::SeqCst);
        if let Some(master) = self.master.take() {
            master
                .resize(PtySize {
                    rows: 25,
                    cols: 80,
                    pixel_width: 0,
                    pixel_height: 0,
                })
                .expect("resize the pty");
            drop(master);
        }
        self.writer = None;
    }

    pub fn signal(&mut self, name: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    pub fn sigterm(&mut self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    pub fn sigkill(&mut self) {
        let status = std::process::Command::new("kill")
            .args(["-9", &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        let _ = self.child.wait();
    }

    /// Reads what the app wrote before it exited: its last bytes (the terminal put back, a
    /// message) can still be on their way through the reader thread when the exit is seen.
    /// The reader ends when the terminal closes behind the app; the wait is bounded.
    fn drain_after_exit(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            match self.output.recv_timeout(Duration::from_millis(50)) {
                Ok(bytes) => self.parser.process(&bytes),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
    }

    /// Waits for the app to exit and returns its exit code.
    pub fn wait_exit(&mut self) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                self.drain_after_exit();
                return status.exit_code();
            }
            if Instant::now() > deadline {
                let s = self.screen();
                panic!("doorstep did not exit; the screen was:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
