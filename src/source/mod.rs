//! Reading the export: the column contract, the streaming chunk reader of
//! CSV files, the export's MySQL table read into such a file, and its
//! Parquet files read as chunks of records already split.

pub mod chunks;
pub mod columns;
pub mod growing;
pub mod mysql;
pub mod parquet;
pub mod reader;
pub mod uri;
