//! The row being generated and the hash every decision about it draws
//! from: the lowest layer of the generator, shared by the rows, their
//! faults and the later snapshots.

/// The fields of one row, reused from row to row to avoid allocation.
pub struct RowFields {
    pub fields: Vec<Vec<u8>>,
    pub(super) scratch: String,
    /// The learner is enrolled (what a follow-up snapshot may change).
    pub enrolled: bool,
    /// The learner has a placement (wage job, freelance or venture).
    pub placed: bool,
    /// The employment flags (what a later snapshot may change).
    pub wage: bool,
    pub freelancer: bool,
    pub venture: bool,
    /// The world's indices of the country of residence and its city, when
    /// the row names them.
    pub residence: Option<(usize, Option<usize>)>,
    /// The world's index of the country of origin, when the row names one.
    pub origin: Option<usize>,
}

impl Default for RowFields {
    fn default() -> Self {
        RowFields {
            fields: vec![Vec::new(); 58],
            scratch: String::new(),
            enrolled: false,
            placed: false,
            wage: false,
            freelancer: false,
            venture: false,
            residence: None,
            origin: None,
        }
    }
}

impl RowFields {
    pub fn set(&mut self, column: usize, value: &str) {
        let field = &mut self.fields[column];
        field.clear();
        field.extend_from_slice(value.as_bytes());
    }
}

/// A 64-bit mix of two values (splitmix64 finalizer), the basis of every
/// per-row and per-entity decision.
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform number in [0,1) from a hash.
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}
