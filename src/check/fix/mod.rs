//! Fixes shared by several checks.

pub mod resize;
