//! Reading the export: the column contract and the streaming chunk reader.

pub mod columns;
pub mod reader;
