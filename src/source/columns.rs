//! The 58 columns of the learner-profile export, in file order.
//!
//! This is the input contract of `docs/input.md` in code form: the
//! generator writes exactly these headers and the reader checks them, so both
//! sides of the contract share one list.

/// Every column of the export, in the order the production file holds them.
pub const COLUMNS: [&str; 58] = [
    "hashed_email",
    "sand_id",
    "email",
    "full_name",
    "profile_photo_url",
    "bio",
    "skills_list",
    "gender",
    "country_of_residence",
    "country_of_origin",
    "city_of_residence",
    "region_name",
    "education_level_of_study",
    "education_field_of_study",
    "country_of_residence_latitude",
    "country_of_residence_longitude",
    "city_of_residence_latitude",
    "city_of_residence_longitude",
    "designation",
    "testimonial",
    "is_learning_data",
    "is_featured",
    "youtube_id",
    "is_featured_video",
    "is_graduate_learner",
    "is_active_learner",
    "is_a_dropped_out",
    "learning_details",
    "is_running_a_venture",
    "is_a_freelancer",
    "is_wage_employed",
    "placement_details",
    "is_placed",
    "employment_details",
    "has_employment_details",
    "education_details",
    "has_education_details",
    "has_data",
    "is_rural",
    "description_of_living_location",
    "has_disability",
    "type_of_disability",
    "is_from_low_income_household",
    "demographic_details",
    "legacy_points_transaction_history",
    "has_legacy_points_transactions",
    "meta_rn",
    "meta_ui_lat",
    "meta_ui_lng",
    "student_record_ranking",
    "rnk",
    "zoom_attendance_details",
    "circle_events",
    "ehub_check_ins",
    "has_placement_details",
    "has_profile_profile_photo",
    "has_social_economic_data",
    "snapshot_id",
];

/// Zero-based positions of the columns the loader reads, named so that no
/// code indexes a record with a bare number.
pub mod col {
    pub const HASHED_EMAIL: usize = 0;
    pub const SAND_ID: usize = 1;
    pub const EMAIL: usize = 2;
    pub const FULL_NAME: usize = 3;
    pub const PROFILE_PHOTO_URL: usize = 4;
    pub const BIO: usize = 5;
    pub const SKILLS_LIST: usize = 6;
    pub const GENDER: usize = 7;
    pub const COUNTRY_OF_RESIDENCE: usize = 8;
    pub const COUNTRY_OF_ORIGIN: usize = 9;
    pub const CITY_OF_RESIDENCE: usize = 10;
    pub const REGION_NAME: usize = 11;
    pub const EDUCATION_LEVEL: usize = 12;
    pub const EDUCATION_FIELD: usize = 13;
    pub const COUNTRY_LAT: usize = 14;
    pub const COUNTRY_LNG: usize = 15;
    pub const CITY_LAT: usize = 16;
    pub const CITY_LNG: usize = 17;
    pub const DESIGNATION: usize = 18;
    pub const TESTIMONIAL: usize = 19;
    pub const IS_LEARNING_DATA: usize = 20;
    pub const IS_FEATURED: usize = 21;
    pub const YOUTUBE_ID: usize = 22;
    pub const IS_FEATURED_VIDEO: usize = 23;
    pub const IS_GRADUATE: usize = 24;
    pub const IS_ACTIVE: usize = 25;
    pub const IS_DROPPED_OUT: usize = 26;
    pub const LEARNING_DETAILS: usize = 27;
    pub const IS_RUNNING_VENTURE: usize = 28;
    pub const IS_FREELANCER: usize = 29;
    pub const IS_WAGE_EMPLOYED: usize = 30;
    pub const PLACEMENT_DETAILS: usize = 31;
    pub const IS_PLACED: usize = 32;
    pub const EMPLOYMENT_DETAILS: usize = 33;
    pub const HAS_EMPLOYMENT_DETAILS: usize = 34;
    pub const EDUCATION_DETAILS: usize = 35;
    pub const HAS_EDUCATION_DETAILS: usize = 36;
    pub const HAS_DATA: usize = 37;
    pub const IS_RURAL: usize = 38;
    pub const LIVING_LOCATION: usize = 39;
    pub const HAS_DISABILITY: usize = 40;
    pub const TYPE_OF_DISABILITY: usize = 41;
    pub const IS_LOW_INCOME: usize = 42;
    pub const DEMOGRAPHIC_DETAILS: usize = 43;
    pub const LEGACY_POINTS: usize = 44;
    pub const HAS_LEGACY_POINTS: usize = 45;
    pub const META_RN: usize = 46;
    pub const META_UI_LAT: usize = 47;
    pub const META_UI_LNG: usize = 48;
    pub const STUDENT_RECORD_RANKING: usize = 49;
    pub const RNK: usize = 50;
    pub const ZOOM_ATTENDANCE: usize = 51;
    pub const CIRCLE_EVENTS: usize = 52;
    pub const EHUB_CHECK_INS: usize = 53;
    pub const HAS_PLACEMENT_DETAILS: usize = 54;
    pub const HAS_PROFILE_PHOTO: usize = 55;
    pub const HAS_SOCIAL_ECONOMIC_DATA: usize = 56;
    pub const SNAPSHOT_ID: usize = 57;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_positions_match_the_header() {
        assert_eq!(COLUMNS[col::HASHED_EMAIL], "hashed_email");
        assert_eq!(COLUMNS[col::LEARNING_DETAILS], "learning_details");
        assert_eq!(COLUMNS[col::EMPLOYMENT_DETAILS], "employment_details");
        assert_eq!(COLUMNS[col::EDUCATION_DETAILS], "education_details");
        assert_eq!(COLUMNS[col::HAS_PLACEMENT_DETAILS], "has_placement_details");
        assert_eq!(COLUMNS[col::SNAPSHOT_ID], "snapshot_id");
    }

    #[test]
    fn column_names_are_unique() {
        let mut names = COLUMNS.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), COLUMNS.len());
    }
}
