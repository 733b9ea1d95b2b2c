//! Fuzz target: arbitrary bytes as a chunk of the export go through the
//! record parser, the field decoder and the transform, which must never
//! panic and must account for every record.
#![no_main]

use learngraph::graph::records::EntityCollector;
use learngraph::source::reader::{Chunk, for_each_record};
use learngraph::transform::quality::Findings;
use learngraph::transform::{TransformOptions, Transformer, decode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    thread_local! {
        static TRANSFORMER: Transformer = Transformer::new(TransformOptions::default());
    }
    let chunk = Chunk {
        index: 0,
        first_line: 2,
        records: 1,
        bytes: data.to_vec(),
        line_end: b'\n',
        tail: Default::default(),
        decoded: None,
    };
    TRANSFORMER.with(|transformer| {
        let mut findings = Findings::default();
        let mut entities = EntityCollector::default();
        let mut last_line = 0;
        for_each_record(&chunk, |record, raw| {
            assert!(raw.line >= last_line, "lines never go back");
            assert!(raw.start + raw.raw.len() <= chunk.bytes.len());
            last_line = raw.line;
            if let Ok(fields) = decode(record) {
                let _ = transformer.transform(&fields, &mut findings, &mut entities);
            }
        });
    });
});
