//! Reading the export: the column contract and the streaming row reader.

pub mod columns;
