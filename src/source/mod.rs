//! Reading the export: the column contract, the streaming chunk reader of
//! CSV files, and the export's MySQL table and Parquet files read into
//! such a file.

pub mod columns;
pub mod growing;
pub mod mysql;
pub mod parquet;
pub mod reader;
pub mod uri;
