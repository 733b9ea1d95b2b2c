//! The fixed world a generated file lives in: countries with their cities,
//! skills, cohorts and the pools companies and institutions are drawn from.
//!
//! Built once per run from the row count (pools grow with it) and shared by
//! every generating thread, read-only.

use super::profile;
use super::vocab::{self, ProgramSpec};

/// One country and the cities that belong to it.
pub struct CountrySpec {
    pub name: &'static str,
    pub region: &'static str,
    pub latitude: f64,
    pub longitude: f64,
    pub cities: Vec<CitySpec>,
}

pub struct CitySpec {
    pub name: String,
    pub latitude: f64,
    pub longitude: f64,
}

/// A cohort and the program it belongs to.
pub struct Cohort {
    pub program: &'static ProgramSpec,
    pub code: String,
}

pub struct World {
    pub countries: Vec<CountrySpec>,
    /// Cumulative row shares of `countries`, for inverse-CDF sampling.
    pub country_cdf: Vec<f64>,
    pub skills: Vec<String>,
    pub cohorts: Vec<Cohort>,
    /// Cumulative row shares of `cohorts`.
    pub cohort_cdf: Vec<f64>,
    /// Number of recurring companies; grows with the row count.
    pub company_pool: u64,
    /// Number of institutions; grows with the row count.
    pub institution_pool: u64,
}

/// Share of company mentions that name a company seen nowhere else.
pub const UNIQUE_COMPANY_SHARE: f64 = 0.30;
/// Recurring companies per row of the file.
const COMPANY_POOL_PER_ROW: f64 = 0.12;

impl World {
    pub fn new(rows: u64) -> World {
        let countries = build_countries();
        let tail_share = (1.0 - vocab::TOP_COUNTRIES.iter().map(|(_, w)| w).sum::<f64>())
            / vocab::TAIL_COUNTRIES.len() as f64;
        let weights: Vec<f64> = vocab::TOP_COUNTRIES
            .iter()
            .map(|(_, w)| *w)
            .chain(vocab::TAIL_COUNTRIES.iter().map(|_| tail_share))
            .collect();
        let cohorts: Vec<Cohort> = vocab::PROGRAMS
            .iter()
            .flat_map(|program| {
                (1..=program.cohorts).map(move |n| Cohort {
                    program,
                    code: format!("{}-C{}", program.prefix, n),
                })
            })
            .collect();
        let program_total: f64 = vocab::PROGRAMS.iter().map(|p| p.share).sum();
        let cohort_weights: Vec<f64> = cohorts
            .iter()
            .map(|c| c.program.share / program_total / f64::from(c.program.cohorts))
            .collect();
        World {
            countries,
            country_cdf: cumulative(&weights),
            skills: build_skills(),
            cohorts,
            cohort_cdf: cumulative(&cohort_weights),
            company_pool: ((rows as f64 * COMPANY_POOL_PER_ROW) as u64).max(50),
            institution_pool: ((rows as f64 * profile::INSTITUTIONS_PER_ROW * 1.02) as u64).max(20),
        }
    }
}

fn cumulative(weights: &[f64]) -> Vec<f64> {
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    weights
        .iter()
        .map(|w| {
            acc += w / total;
            acc
        })
        .collect()
}

/// Index of the bucket `u` (in [0,1)) falls into.
pub fn pick_cdf(cdf: &[f64], u: f64) -> usize {
    cdf.partition_point(|&c| c <= u).min(cdf.len() - 1)
}

fn build_countries() -> Vec<CountrySpec> {
    let total_cities = profile::DISTINCT_CITIES as f64;
    let tail_share =
        (1.0 - vocab::TOP_COUNTRIES.iter().map(|(_, w)| w).sum::<f64>()) / vocab::TAIL_COUNTRIES.len() as f64;
    let all = vocab::TOP_COUNTRIES
        .iter()
        .copied()
        .chain(vocab::TAIL_COUNTRIES.iter().map(|n| (*n, tail_share)));
    let mut city_counter = 0u64;
    all.enumerate()
        .map(|(index, (name, weight))| {
            let latitude = -30.0 + (index as f64 * 7.31) % 60.0;
            let longitude = -20.0 + (index as f64 * 13.7) % 140.0;
            let city_count = ((total_cities * weight).round() as usize).max(2);
            let cities = (0..city_count)
                .map(|c| {
                    city_counter += 1;
                    CitySpec {
                        name: city_name(city_counter),
                        latitude: latitude + (c as f64 * 0.37) % 3.0,
                        longitude: longitude + (c as f64 * 0.53) % 3.0,
                    }
                })
                .collect();
            CountrySpec {
                name,
                region: region_of(index),
                latitude,
                longitude,
                cities,
            }
        })
        .collect()
}

fn region_of(country_index: usize) -> &'static str {
    match country_index {
        0..=53 => vocab::REGIONS[0],
        54..=96 => vocab::REGIONS[1],
        97..=139 => vocab::REGIONS[2],
        _ => vocab::REGIONS[3],
    }
}

/// A capitalized name made of syllables: the base-40 digits of `n`, at least
/// `min_len` of them. Distinct `n` give distinct names.
pub fn syllable_name(mut n: u64, min_len: usize) -> String {
    let base = vocab::SYLLABLES.len() as u64;
    let mut name = String::new();
    let mut len = 0;
    while n > 0 || len < min_len {
        name.push_str(vocab::SYLLABLES[(n % base) as usize]);
        n /= base;
        len += 1;
    }
    capitalize(&name)
}

fn city_name(n: u64) -> String {
    // Spread consecutive cities over the name space so neighbours differ.
    syllable_name(n.wrapping_mul(7_919) % 64_000, 2)
}

pub fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn build_skills() -> Vec<String> {
    let mut skills: Vec<String> = vocab::BASE_SKILLS.iter().map(|s| s.to_string()).collect();
    'outer: for qualifier in vocab::SKILL_QUALIFIERS {
        for base in vocab::BASE_SKILLS {
            if skills.len() == profile::DISTINCT_SKILLS {
                break 'outer;
            }
            skills.push(format!("{qualifier} {base}"));
        }
    }
    skills
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn world_has_the_production_distinct_counts() {
        let world = World::new(1_000);
        assert_eq!(world.countries.len(), profile::DISTINCT_COUNTRIES);
        assert_eq!(world.cohorts.len(), profile::DISTINCT_COHORTS);
        assert_eq!(world.skills.len(), profile::DISTINCT_SKILLS);
        let cities: usize = world.countries.iter().map(|c| c.cities.len()).sum();
        let off = (cities as f64 - profile::DISTINCT_CITIES as f64).abs();
        assert!(off / (profile::DISTINCT_CITIES as f64) < 0.05, "{cities} cities");
    }

    #[test]
    fn city_names_are_unique() {
        let world = World::new(10);
        let mut names: Vec<&str> = world
            .countries
            .iter()
            .flat_map(|c| c.cities.iter().map(|city| city.name.as_str()))
            .collect();
        let total = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), total);
    }

    #[test]
    fn cdf_picks_every_bucket() {
        let cdf = cumulative(&[1.0, 1.0, 2.0]);
        assert_eq!(pick_cdf(&cdf, 0.0), 0);
        assert_eq!(pick_cdf(&cdf, 0.3), 1);
        assert_eq!(pick_cdf(&cdf, 0.99), 2);
        assert_eq!(pick_cdf(&cdf, 0.999_999_9), 2);
    }
}
