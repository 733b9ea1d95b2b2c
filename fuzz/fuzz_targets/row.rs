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
        let (mut records, mut accepted, mut rejected) = (0u64, 0u64, 0u64);
        let mut covered_to = 0usize;
        for_each_record(&chunk, |record, raw| {
            assert!(raw.line >= last_line, "lines never go back");
            assert!(raw.start + raw.raw.len() <= chunk.bytes.len());
            last_line = raw.line;
            // Between two records there are only line ends: no byte of the
            // chunk is dropped without being part of a record.
            assert!(raw.start >= covered_to, "records never overlap");
            assert!(
                chunk.bytes[covered_to..raw.start].iter().all(|b| matches!(b, b'\r' | b'\n')),
                "bytes {covered_to}..{} belong to no record",
                raw.start
            );
            covered_to = raw.start + raw.raw.len();
            records += 1;
            // Each record is either a learner or a reject with its reason.
            let outcome = decode(record).map(|fields| transformer.transform(&fields, &mut findings, &mut entities));
            match outcome {
                Ok(Ok(_)) => accepted += 1,
                Ok(Err(reject)) => {
                    assert!(!reject.to_string().is_empty(), "a reject says why");
                    rejected += 1;
                }
                Err(reject) => {
                    assert!(!reject.to_string().is_empty(), "a reject says why");
                    rejected += 1;
                }
            }
        });
        assert!(
            chunk.bytes[covered_to..].iter().all(|b| matches!(b, b'\r' | b'\n')),
            "the chunk's tail from {covered_to} belongs to no record"
        );
        assert_eq!(accepted + rejected, records, "every record is accounted for");
    });
});
