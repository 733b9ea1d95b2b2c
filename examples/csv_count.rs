//! The yardstick for `scripts/bench-check`: a bare one-thread parse of a
//! file with the `csv` crate, counting records and nothing else. A `check`
//! of the same file is measured against it in the same run, so the figure
//! holds on any machine.
//!
//!     cargo run --release --example csv_count -- FILE

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: csv_count FILE")?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(&path)?;
    let mut record = csv::ByteRecord::new();
    let mut records = 0u64;
    while reader.read_byte_record(&mut record)? {
        records += 1;
    }
    println!("{records}");
    Ok(())
}
