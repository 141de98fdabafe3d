//! Timeouts in C are `double` seconds: negative or +infinity wait forever,
//! 0 does not wait, NaN is invalid.

use std::time::{Duration, Instant};

use crate::error::{Error, Result};

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
