//! The display name of a shared node: of the spellings the file uses for
//! its id (`Python`, `python`, `PYTHON` are one Skill), the most frequent,
//! ties going to the one seen first in the file. Each transform thread
//! counts the spellings it meets: its first spelling of each id beside the
//! id in the collector's own map (`EntityCollector`), any other in a
//! [`SpellingTally`]; once the whole file is read, the counts of the ids
//! spelled more than one way are merged and each gets its winner
//! ([`Spellings::choose`]). A position is the
//! chunk's index and the occurrence's ordinal within it, which orders
//! occurrences as the file does however it was cut into chunks, so the
//! choice is the same whatever the number of threads or the chunk size.

use rustc_hash::FxHashMap as HashMap;

/// How often one spelling of one id was met, and where first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FormCount {
    pub count: u64,
    pub first: u64,
}

impl FormCount {
    fn add(&mut self, other: FormCount) {
        self.count += other.count;
        self.first = self.first.min(other.first);
    }

    /// Whether this spelling wins over `other`: more often, or as often and
    /// seen earlier.
    fn beats(&self, other: &FormCount) -> bool {
        (self.count, std::cmp::Reverse(self.first)) > (other.count, std::cmp::Reverse(other.first))
    }
}

/// The spellings one transform thread met besides its first of each id,
/// by (id fingerprint, spelling fingerprint), and the position of the next
/// occurrence.
#[derive(Default)]
pub struct SpellingTally {
    pub forms: HashMap<(u128, u64), FormCount>,
    position: u64,
}

impl SpellingTally {
    /// Positions of what follows count from the start of chunk `index`.
    pub fn begin_chunk(&mut self, index: u64) {
        self.position = index << 32;
    }

    /// The position of the next occurrence, counted.
    pub fn next_position(&mut self) -> u64 {
        let position = self.position;
        self.position += 1;
        position
    }

    /// One occurrence, at `position`, of spelling `form` of id `key`.
    pub fn note_at(&mut self, key: u128, form: u64, position: u64) {
        self.forms
            .entry((key, form))
            .and_modify(|c| c.count += 1)
            .or_insert(FormCount {
                count: 1,
                first: position,
            });
    }

    /// One occurrence, at the next position, of spelling `form` of id `key`.
    pub fn note(&mut self, key: u128, form: u64) {
        let position = self.next_position();
        self.note_at(key, form, position);
    }
}

/// The winning spelling of every id, over the whole file.
#[derive(Default)]
pub struct Spellings {
    best: HashMap<u128, (u64, FormCount)>,
}

impl Spellings {
    /// Chooses each id's spelling from the counts of its spellings, which
    /// may come in several parts (one per thread).
    pub fn choose(counts: impl IntoIterator<Item = ((u128, u64), FormCount)>) -> Self {
        let mut all: HashMap<(u128, u64), FormCount> = HashMap::default();
        for (form, count) in counts {
            all.entry(form).and_modify(|c| c.add(count)).or_insert(count);
        }
        let mut best: HashMap<u128, (u64, FormCount)> = HashMap::default();
        for ((key, form), count) in all {
            best.entry(key)
                .and_modify(|held| {
                    if count.beats(&held.1) {
                        *held = (form, count);
                    }
                })
                .or_insert((form, count));
        }
        Spellings { best }
    }

    /// The fingerprint of the spelling chosen for id `key`.
    pub fn best(&self, key: u128) -> Option<u64> {
        self.best.get(&key).map(|(form, _)| *form)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_frequent_spelling_wins_and_a_tie_goes_to_the_first_seen() {
        let mut early = SpellingTally::default();
        early.begin_chunk(0);
        early.note(1, 30); // PYTHON, first
        early.note(1, 10); // Python
        early.note(2, 7);
        let mut late = SpellingTally::default();
        late.begin_chunk(1);
        late.note(1, 10);
        late.note(1, 20); // python
        late.note(2, 8);
        let spellings = Spellings::choose(late.forms.into_iter().chain(early.forms));
        assert_eq!(
            spellings.best(1),
            Some(10),
            "two of Python against one of the others"
        );
        assert_eq!(spellings.best(2), Some(7), "one each: the earlier chunk's");
        assert_eq!(spellings.best(3), None);
    }

    #[test]
    fn positions_follow_the_file_across_chunks() {
        let mut tally = SpellingTally::default();
        tally.begin_chunk(2);
        tally.note(1, 5);
        tally.begin_chunk(1);
        tally.note(1, 6);
        assert_eq!(
            Spellings::choose(tally.forms).best(1),
            Some(6),
            "chunk 1 comes before chunk 2"
        );
    }
}
