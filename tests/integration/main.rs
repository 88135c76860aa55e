//! The one integration-test binary; each area of doorstep has its own module.

mod crime;
mod geography;
