//! The engine through its public API alone: `deploy()` on temporary copies of the sample
//! repository, with a recording event sink, asserting typed reports and events.

mod engine;
mod modes;
mod support;
