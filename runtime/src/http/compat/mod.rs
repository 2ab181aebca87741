//! Compatibility APIs: other platforms' HTTP APIs served over the same services as the
//! native `/v1` API, so their clients work unchanged. One module per seed document.

pub mod errors;
pub mod seed000;
pub mod seed001;
pub mod seed002;
pub mod seed003;
pub mod seed004;
