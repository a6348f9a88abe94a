//! Carrying out a plan: files (atomic writes to their destinations) and accounts
//! (preconditions, ordered operations, a journal, rollback).

pub mod account;
pub mod files;
pub mod journal;
pub mod preconditions;
pub mod rollback;
