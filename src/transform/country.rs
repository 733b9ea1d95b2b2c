//! Country names to ISO 3166-1 alpha-2 codes.
//!
//! Spellings are looked up in three layers, an earlier one winning:
//! 1. the ISO 3166-1 names and common aliases of the `celes` crate (which
//!    also gives the Country nodes their English names), and our own
//!    reviewed table, `country_variants.tsv`: the spellings real exports
//!    use that no table has (`DRC`, `BiH`, `Misr`, `Antigua`, ...);
//! 2. the ISO alpha-3 codes (`NGA`, `CIV`), only as codes are written:
//!    three capital letters (`CAN` is Canada, `Can` and `can` are words);
//! 3. the names of the `keshvar` crate (the ISO 3166 data of the
//!    `countries` project): each country's name in the languages the
//!    exports' learners write (French, Portuguese, Spanish, German, Swahili,
//!    ...) and its unofficial names, Latin script only, each kept only when
//!    it names one country in every language.
//!
//! Names are compared loosely: case, accents, punctuation and a leading
//! "the" do not matter. A name in another script (Arabic, Amharic,
//! Cyrillic, ...) is never folded to Latin letters and guessed at: it
//! matches only a name the `keshvar` lists give in that script
//! (`مصر` is Egypt; `هند` is no list's name, so it stays unknown). A name
//! that stands for several countries (`Virgin Islands`) stays unknown. A
//! name that matches nothing gets no code: it is reported, never guessed,
//! since a wrong country is worse than an unknown one.

use rustc_hash::FxHashMap as HashMap;

use celes::{Country, LookupTable};

/// Spellings seen in exports that the `celes` table does not carry, or maps
/// elsewhere: a data file reviewed like code (spelling, code, reason).
const VARIANTS: &str = include_str!("country_variants.tsv");

/// The variant table's (spelling, code) pairs; comments and blank lines
/// skipped. The file ships inside the binary and a test reads every line,
/// so a malformed line fails the tests, never a run.
fn variants() -> impl Iterator<Item = (&'static str, &'static str)> {
    pairs(VARIANTS)
}

/// The (spelling, code) pairs of a table in the variant file's form.
fn pairs(table: &str) -> impl Iterator<Item = (&str, &str)> {
    table
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let mut fields = line.split('\t');
            Some((fields.next()?.trim(), fields.next()?.trim()))
        })
}

/// A resolved country.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountryCode {
    pub code: &'static str,
    /// Index of its English name in the resolver's name list.
    name_index: usize,
}

/// Looks up country names; built once and shared by every transform thread.
pub struct CountryResolver {
    by_key: HashMap<String, CountryCode>,
    /// Alpha-3 codes, as written (capitals).
    by_code: HashMap<&'static str, CountryCode>,
    /// Names in scripts other than Latin, lower-cased as they are written.
    by_native_name: HashMap<String, CountryCode>,
    /// The English names as they are: most rows spell them so, and an
    /// exact match skips building the loose key.
    by_name: HashMap<String, CountryCode>,
    names: Vec<String>,
}

/// The loose comparison key: accents folded, lower case, letters and digits
/// only, a leading "the" dropped.
pub fn loose_key(name: &str) -> String {
    let folded = if name.is_ascii() {
        name.to_ascii_lowercase()
    } else {
        deunicode::deunicode(name).to_ascii_lowercase()
    };
    let trimmed = folded.trim_start();
    let without_article = trimmed.strip_prefix("the ").unwrap_or(trimmed);
    without_article
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

impl Default for CountryResolver {
    fn default() -> Self {
        Self::new()
    }
}

/// The languages whose country names layer 3 takes: those of the regions
/// the exports come from, and the major European ones.
const NAME_LANGUAGES: [&str; 17] = [
    "fr", "pt", "es", "de", "it", "nl", "sw", "af", "so", "ha", "yo", "ig", "rw", "ln", "mg", "wo", "ca",
];

/// Whether every letter of `name` is Latin (the folding to ASCII of other
/// scripts is a guess, and a guess may collide with another country).
fn latin(name: &str) -> bool {
    name.chars()
        .filter(|c| c.is_alphabetic())
        .all(|c| (c as u32) <= 0x024F || (0x1E00..=0x1EFF).contains(&(c as u32)))
}

/// Names that stand for more than one country: unknown, never one of them.
const AMBIGUOUS: [&str; 2] = ["Virgin Islands", "Islas Virgenes"];

/// The scripts' languages whose names the lists give: a name in another
/// script matches only these, as written.
const NATIVE_LANGUAGES: [&str; 8] = ["ar", "am", "ru", "uk", "fa", "he", "ti", "bg"];

/// `keshvar`'s names of each country in [`NATIVE_LANGUAGES`], lower-cased;
/// a name two countries share is left out.
fn native_names(countries: &[Country]) -> HashMap<String, usize> {
    let mut names: HashMap<String, Option<usize>> = HashMap::default();
    for country in keshvar::CountryIterator::new() {
        let alpha2 = country.alpha2().to_string();
        let Some(index) = countries.iter().position(|c| c.alpha2 == alpha2) else {
            continue;
        };
        for language in NATIVE_LANGUAGES {
            let Some(name) = country.translations().get(language) else {
                continue;
            };
            let entry = names.entry(name.trim().to_lowercase()).or_insert(Some(index));
            if *entry != Some(index) {
                *entry = None;
            }
        }
    }
    names
        .into_iter()
        .filter_map(|(name, index)| Some((name, index?)))
        .collect()
}

/// Layer 3: `keshvar`'s names in [`NAME_LANGUAGES`] and its unofficial
/// names, by loose key, to the index of their country in `countries`; a key
/// two countries share is left out.
fn other_names(countries: &[Country]) -> HashMap<String, usize> {
    let mut keys: HashMap<String, Option<usize>> = HashMap::default();
    for country in keshvar::CountryIterator::new() {
        let alpha2 = country.alpha2().to_string();
        let Some(index) = countries.iter().position(|c| c.alpha2 == alpha2) else {
            continue;
        };
        let translations = NAME_LANGUAGES
            .iter()
            .filter_map(|language| country.translations().get(language).copied());
        let names = translations
            .chain(country.unofficial_name_list().iter().copied())
            .chain([country.iso_short_name(), country.iso_long_name()]);
        for name in names.filter(|n| latin(n)) {
            let key = loose_key(name);
            if key.is_empty() {
                continue;
            }
            let entry = keys.entry(key).or_insert(Some(index));
            if *entry != Some(index) {
                *entry = None;
            }
        }
    }
    keys.into_iter()
        .filter_map(|(key, index)| Some((key, index?)))
        .collect()
}

impl CountryResolver {
    pub fn new() -> Self {
        let mut by_key = HashMap::default();
        let mut by_name = HashMap::default();
        let countries = Country::get_countries();
        let names: Vec<String> = countries.iter().map(display_name).collect();
        let entry = |name_index: usize| CountryCode {
            code: countries[name_index].alpha2,
            name_index,
        };
        for (name_index, country) in countries.iter().enumerate() {
            by_key.insert(loose_key(&names[name_index]), entry(name_index));
            by_name.insert(names[name_index].clone(), entry(name_index));
            by_key.insert(loose_key(country.long_name), entry(name_index));
            for alias in country.aliases.iter() {
                by_key.insert(loose_key(alias), entry(name_index));
            }
        }
        for (spelling, code) in variants() {
            if let Some(name_index) = countries.iter().position(|c| c.alpha2 == code) {
                by_key.insert(loose_key(spelling), entry(name_index));
            }
        }
        let by_code = countries
            .iter()
            .enumerate()
            .map(|(name_index, country)| (country.alpha3, entry(name_index)))
            .collect();
        for (key, name_index) in other_names(&countries) {
            by_key.entry(key).or_insert(entry(name_index));
        }
        for key in AMBIGUOUS {
            by_key.remove(&loose_key(key));
        }
        let by_native_name = native_names(&countries)
            .into_iter()
            .map(|(name, name_index)| (name, entry(name_index)))
            .collect();
        CountryResolver {
            by_key,
            by_code,
            by_native_name,
            by_name,
            names,
        }
    }

    /// The code of a country name, or `None` when the name is unknown.
    pub fn resolve(&self, name: &str) -> Option<CountryCode> {
        if let Some(country) = self.by_name.get(name) {
            return Some(*country);
        }
        let trimmed = name.trim();
        if !latin(trimmed) {
            return self.by_native_name.get(&trimmed.to_lowercase()).copied();
        }
        if trimmed.len() == 3
            && trimmed.bytes().all(|b| b.is_ascii_uppercase())
            && let Some(country) = self.by_code.get(trimmed)
        {
            return Some(*country);
        }
        self.by_key.get(&loose_key(name)).copied()
    }

    /// The English name of a resolved country.
    pub fn name(&self, country: CountryCode) -> &str {
        &self.names[country.name_index]
    }
}

/// Short English names for the countries whose table name is a formal one
/// (`The Republic Of Korea`) or lost its punctuation (`Coted Ivoire`).
const SHORT_NAMES: [(&str, &str); 24] = [
    ("CI", "Côte d'Ivoire"),
    ("CD", "Democratic Republic of the Congo"),
    ("CG", "Republic of the Congo"),
    ("TZ", "Tanzania"),
    ("US", "United States"),
    ("GB", "United Kingdom"),
    ("KR", "South Korea"),
    ("KP", "North Korea"),
    ("RU", "Russia"),
    ("IR", "Iran"),
    ("SY", "Syria"),
    ("LA", "Laos"),
    ("MD", "Moldova"),
    ("VE", "Venezuela"),
    ("BO", "Bolivia"),
    ("PS", "Palestine"),
    ("MK", "North Macedonia"),
    ("FM", "Micronesia"),
    ("TW", "Taiwan"),
    ("VA", "Holy See"),
    ("FK", "Falkland Islands"),
    ("CC", "Cocos (Keeling) Islands"),
    ("SH", "Saint Helena, Ascension and Tristan da Cunha"),
    ("HM", "Heard Island and McDonald Islands"),
];

/// The Country node's name: a short English name, or the table's name
/// without a leading "The" and with its small words in lower case.
fn display_name(country: &Country) -> String {
    if let Some((_, name)) = SHORT_NAMES.iter().find(|(code, _)| *code == country.alpha2) {
        return name.to_string();
    }
    let name = country
        .long_name
        .strip_prefix("The ")
        .unwrap_or(country.long_name);
    name.replace(" Of ", " of ")
        .replace(" And ", " and ")
        .replace(" The ", " the ")
        .replace(" Da ", " da ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::vocab;

    #[test]
    fn a_variant_table_skips_comments_and_blank_lines_even_with_tabs() {
        let table = "# spelling\tcode\treason\n\n  \nIvory Coast\tCIV\tEnglish name\n\t# indented\tXXX\n";
        assert_eq!(pairs(table).collect::<Vec<_>>(), [("Ivory Coast", "CIV")]);
    }

    #[test]
    fn every_country_the_generator_writes_resolves() {
        let resolver = CountryResolver::new();
        let mut codes = std::collections::HashSet::new();
        for name in vocab::TOP_COUNTRIES
            .iter()
            .map(|(n, _)| *n)
            .chain(vocab::TAIL_COUNTRIES)
        {
            let code = resolver
                .resolve(name)
                .unwrap_or_else(|| panic!("{name} has no code"));
            codes.insert(code.code);
        }
        assert_eq!(codes.len(), 168, "168 names give 168 distinct codes");
    }

    #[test]
    fn no_word_and_no_other_script_resolves_to_a_wrong_country() {
        let resolver = CountryResolver::new();
        let code = |name: &str| resolver.resolve(name).map(|c| c.code);
        // Names in the scripts learners write, as the lists give them.
        for (name, expected) in [
            ("مصر", "EG"),
            ("الهند", "IN"),
            ("نيجيريا", "NG"),
            ("كينيا", "KE"),
            ("ኢትዮጵያ", "ET"),
            ("Нигерия", "NG"),
            ("Египет", "EG"),
            ("Égypte", "EG"),
            ("Nigéria", "NG"),
            ("Quénia", "KE"),
            ("Misr", "EG"),
            ("Kenya", "KE"),
            ("CAN", "CA"),
            ("NGA", "NG"),
        ] {
            assert_eq!(code(name), Some(expected), "{name}");
        }
        // Guesses that were wrong: unknown now. Transliterations matched
        // against codes (مصر -> msr -> Montserrat, هند -> hnd -> Honduras),
        // a truncated Cyrillic name, common short words that are alpha-3
        // codes when written in capitals, a name of two countries.
        for name in [
            "هند",
            "Нигери",
            "And",
            "and",
            "Can",
            "can",
            "Per",
            "Ben",
            "Guy",
            "Mar",
            "Fin",
            "The",
            "Man",
            "Tun",
            "Virgin Islands",
            "virgin islands",
            "ምስር",
        ] {
            assert_eq!(code(name), None, "{name} must stay unknown");
        }
    }

    #[test]
    fn common_variants_resolve_to_the_same_code() {
        let resolver = CountryResolver::new();
        let code = |name: &str| resolver.resolve(name).map(|c| c.code);
        assert_eq!(code("Nigeria"), Some("NG"));
        assert_eq!(code("NIGERIA "), Some("NG"));
        assert_eq!(code(" nigeria"), Some("NG"));
        assert_eq!(code("Côte d'Ivoire"), Some("CI"));
        assert_eq!(code("Cote d'Ivoire"), Some("CI"));
        assert_eq!(code("Ivory Coast"), Some("CI"));
        assert_eq!(code("DR Congo"), Some("CD"));
        assert_eq!(code("Democratic Republic of the Congo"), Some("CD"));
        assert_eq!(code("Republic of the Congo"), Some("CG"));
        assert_eq!(code("Tanzania"), Some("TZ"));
        assert_eq!(code("United Republic of Tanzania"), Some("TZ"));
        assert_eq!(code("The Gambia"), Some("GM"));
        assert_eq!(code("Gambia"), Some("GM"));
        assert_eq!(code("USA"), Some("US"));
        assert_eq!(code("United States of America"), Some("US"));
        assert_eq!(code("UK"), Some("GB"));
        assert_eq!(code("Samoa"), Some("WS"));
        assert_eq!(code("South Korea"), Some("KR"));
        assert_eq!(code("Eswatini"), Some("SZ"));
        assert_eq!(code("Thailand"), Some("TH"));
    }

    #[test]
    fn every_line_of_the_variant_table_is_well_formed_and_unambiguous() {
        let codes: std::collections::HashSet<&str> =
            Country::get_countries().iter().map(|c| c.alpha2).collect();
        let mut seen = HashMap::default();
        let lines = VARIANTS
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
        for line in lines {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 3, "spelling, code, reason: {line:?}");
            assert!(
                codes.contains(fields[1]),
                "{} is no ISO 3166-1 alpha-2 code",
                fields[1]
            );
            assert!(!fields[2].trim().is_empty(), "every variant says why: {line:?}");
            if let Some(other) = seen.insert(loose_key(fields[0]), fields[1]) {
                assert_eq!(other, fields[1], "{} maps to two codes", fields[0]);
            }
        }
        assert!(seen.len() > 60);
    }

    #[test]
    fn abbreviations_former_and_native_names_resolve() {
        let resolver = CountryResolver::new();
        let code = |name: &str| resolver.resolve(name).map(|c| c.code);
        for (name, expected) in [
            ("UAE", "AE"),
            ("RSA", "ZA"),
            ("Deutschland", "DE"),
            ("Brasil", "BR"),
            ("Ivory Coast", "CI"),
            ("DRC", "CD"),
            ("D.R.C.", "CD"),
            ("España", "ES"),
            ("Österreich", "AT"),
            ("Côte d’Ivoire", "CI"),
            ("Zaire", "CD"),
            ("Burma", "MM"),
        ] {
            assert_eq!(code(name), Some(expected), "{name}");
        }
        for ambiguous in ["SA", "Guinea Republic", "Korea DPR RoK"] {
            assert_eq!(code(ambiguous), None, "{ambiguous} must stay unknown");
        }
    }

    /// The resolver's reach on real-world spellings of every kind
    /// (tests/fixtures/country_spellings.tsv): at least 97% resolve, and
    /// none to a wrong code.
    #[test]
    fn real_world_spellings_resolve_and_none_wrongly() {
        let resolver = CountryResolver::new();
        let fixture = include_str!("../../tests/fixtures/country_spellings.tsv");
        let (mut total, mut unknown, mut wrong) = (0, Vec::new(), Vec::new());
        for line in fixture
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 3, "spelling, code, kind: {line:?}");
            total += 1;
            match resolver.resolve(fields[0]).map(|c| c.code) {
                None => unknown.push(fields[0]),
                Some(code) if code != fields[1] => {
                    wrong.push(format!("{} -> {code}, not {}", fields[0], fields[1]))
                }
                Some(_) => {}
            }
        }
        assert!(total > 300, "{total} spellings");
        assert!(wrong.is_empty(), "wrong codes: {wrong:?}");
        let resolved = total - unknown.len();
        assert!(
            resolved * 100 >= total * 97,
            "{resolved} of {total} resolve; unknown: {unknown:?}"
        );
    }

    #[test]
    fn unknown_names_get_no_code() {
        let resolver = CountryResolver::new();
        for name in vocab::UNKNOWN_COUNTRIES {
            assert_eq!(resolver.resolve(name), None, "{name}");
        }
        assert_eq!(resolver.resolve(""), None);
        // Words a country cell holds that name no country, in the
        // languages layer 3 reads as well.
        for word in [
            "Africa",
            "Afrique",
            "África",
            "Europe",
            "Asia",
            "Americas",
            "West Africa",
            "East Africa",
            "Other",
            "Autre",
            "Outro",
            "Unknown",
            "Inconnu",
            "Remote",
            "Online",
            "International",
            "Not applicable",
            "Prefer not to say",
            "Diaspora",
            "Worldwide",
        ] {
            assert_eq!(resolver.resolve(word).map(|c| c.code), None, "{word}");
        }
    }

    #[test]
    fn country_nodes_get_short_english_names() {
        let resolver = CountryResolver::new();
        let name = |n: &str| resolver.resolve(n).map(|c| resolver.name(c).to_string());
        assert_eq!(name("Ivory Coast").as_deref(), Some("Côte d'Ivoire"));
        assert_eq!(name("United Republic of Tanzania").as_deref(), Some("Tanzania"));
        assert_eq!(name("Gambia").as_deref(), Some("Gambia"));
        assert_eq!(
            name("Bosnia and Herzegovina").as_deref(),
            Some("Bosnia and Herzegovina")
        );
        assert_eq!(name("nigeria").as_deref(), Some("Nigeria"));
    }
}
