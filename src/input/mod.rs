//! The world read into values: files into documents (`files`), an account region into an
//! `Inventory` through the `aws` traits (`account`).

pub mod account;
pub mod files;
pub mod org;
