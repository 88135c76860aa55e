//! Panics caught and turned into errors: sled panics on some damaged store files, geo on
//! some degenerate rings. The panic hooks print no crash report for them (and the field
//! app keeps its terminal): the failure is reported as an error instead.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

thread_local! {
    static CATCHING: Cell<u32> = const { Cell::new(0) };
}

/// Runs `f`, catching a panic in it; the hooks stay quiet for it.
pub fn catch<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    CATCHING.with(|c| c.set(c.get() + 1));
    let out = catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(c.get() - 1));
    out
}

/// Whether a panic on this thread now would be caught by [`catch`].
pub fn catching() -> bool {
    CATCHING.with(|c| c.get() > 0)
}

/// Wraps the panic hook installed so far so it stays quiet for a panic [`catch`] catches.
pub fn quiet_when_caught() {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !catching() {
            hook(info);
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caught_panic_is_caught_and_the_count_comes_back_down() {
        assert!(!catching());
        let inner = catch(catching);
        assert_eq!(inner.ok(), Some(true));
        let caught = catch(|| -> u8 { panic!("damaged") });
        assert!(caught.is_err());
        assert!(!catching());
    }
}
