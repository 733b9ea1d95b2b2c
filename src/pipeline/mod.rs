//! Orchestration: a run reads the file in parallel chunks ([`scan`]),
//! transforms every row, and hands results on in file order. [`analyze`] is
//! the whole-file pass that `check` prints and that phase 1 of a load starts
//! from; [`rejects`] writes the quarantined rows; [`report`] renders results.

pub mod analyze;
pub mod ask;
pub mod checkpoint;
pub mod export;
pub mod history;
pub mod input;
pub mod load;
pub mod lock;
pub mod mcp;
pub mod outputs;
pub mod ping;
pub mod progress;
pub mod rejects;
pub mod report;
pub mod scan;
pub mod text;
pub mod verify;
