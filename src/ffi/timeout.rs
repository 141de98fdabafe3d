//! Timeouts in C are `double` seconds: negative or +infinity wait forever,
//! 0 does not wait, NaN is invalid. The core takes deadlines; these turn
//! C's seconds (and an acquire's `blocking` flag) into them.

use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::sync::Wait;

/// A timeout meaning "wait forever". Any negative timeout and +infinity mean
/// the same; 0 means "do not wait"; NaN is `HILO_EINVAL`.
pub const HILO_FOREVER: f64 = -1.0;

/// `HILO_EINVAL` for NaN, the one invalid timeout; reads no clock.
#[inline]
pub fn check(seconds: f64) -> Result<()> {
    if seconds.is_nan() {
        return Err(not_a_number());
    }
    Ok(())
}

#[cold]
fn not_a_number() -> Error {
    Error::invalid("timeout must be a number, not NaN")
}

/// The deadline for a wait of `seconds`, or None for "forever".
pub fn deadline(seconds: f64) -> Result<Option<Instant>> {
    check(seconds)?;
    if seconds < 0.0 || seconds.is_infinite() {
        return Ok(None);
    }
    // A wait too long to represent is a wait forever.
    Ok(Duration::try_from_secs_f64(seconds)
        .ok()
        .and_then(|wait| Instant::now().checked_add(wait)))
}

/// How long an acquire may block, from C's `(blocking, timeout)` pair, by
/// Python's rule for `acquire(blocking, timeout)`: a non-blocking call takes
/// no timeout; any negative timeout is C's spelling of "none".
pub fn acquire_wait(blocking: bool, seconds: f64) -> Result<Wait> {
    check_acquire(blocking, seconds)?;
    if !blocking {
        return Ok(Wait::No);
    }
    Ok(Wait::Until(deadline(seconds)?))
}

/// The errors of `acquire_wait`, without reading the clock: a caller that
/// can take a free lock at once needs no deadline.
#[inline]
pub fn check_acquire(blocking: bool, seconds: f64) -> Result<()> {
    check(seconds)?;
    if !blocking && seconds >= 0.0 {
        return Err(timeout_without_blocking());
    }
    Ok(())
}

#[cold]
fn timeout_without_blocking() -> Error {
    Error::invalid("can't specify a timeout for a non-blocking call")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_is_invalid_and_negative_or_infinite_is_forever() {
        assert!(deadline(f64::NAN).is_err());
        assert_eq!(deadline(-1.0).unwrap(), None);
        assert_eq!(deadline(-0.5).unwrap(), None);
        assert_eq!(deadline(f64::INFINITY).unwrap(), None);
        assert_eq!(deadline(1e300).unwrap(), None);
        let soon = deadline(0.0).unwrap().expect("zero is a deadline");
        assert!(soon <= Instant::now());
        let later = deadline(10.0).unwrap().expect("finite");
        assert!(later > Instant::now() + Duration::from_secs(9));
    }
}
