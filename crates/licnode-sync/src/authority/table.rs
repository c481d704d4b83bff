//! The authority table: for each collection, who may author it, for which jurisdictions, and
//! which way it flows — one row per collection, each citing the regulation's articles.
//!
//! This table, not `licnode_model::Collection::{authoring_levels, direction}`, is what
//! replication enforces; where the two differ the model is advisory and the difference is listed
//! (and pinned by a test) in `super::tests`.
//!
//! Reading a row:
//! - `authors`: each level or kind that may write the collection, with its [`Scope`]:
//!   `Territory` is the author's own division and everything below it (a county: its own code
//!   only; a prefecture or province: its subtree; the national node: everything);
//!   `Nationwide` is for review departments and inspection bodies, which have no territory and
//!   serve enterprises anywhere for the products assigned to them; `NationalDivision` is for
//!   what those bodies keep about themselves (their destruction requests), whose jurisdiction
//!   is the national division, and which also comes back down to them.
//! - `route`: [`Route::Up`] is reported towards the national node, and edits made above come
//!   back down only to the bureaus that keep the record (see [`Route::Up`]);
//!   [`Route::Down`] is copied to every node below its author and never sent up;
//!   [`Route::Both`] goes up towards the national node and down into the subtree of the division
//!   the record is addressed to (its jurisdiction), no deeper than `deepest_receiver`;
//!   [`Route::Local`] never leaves the node.
//!
//! A record's jurisdiction is the division it concerns: the enterprise's location for enterprise
//! files, the reporting bureau's division for reports, the addressed division for notices
//! (`addressed_division`, Art. 24, 25).

use licnode_model::Level::{
    County, InspectionBody, National, Prefecture, Province, ReviewDepartment,
};

use super::{Author, Route, Rule, Scope};

const fn by(level: licnode_model::Level, scope: Scope, articles: &'static [u16]) -> Author {
    Author {
        level,
        scope,
        articles,
    }
}

use Scope::{NationalDivision, Nationwide, Territory};

/// The rows, in the model's collection order.
pub(super) static RULES: [Rule; 18] = [
    // Art. 5, 6: the provincial licensing departments keep the applicant database and the
    // licence file (application → acceptance → on-site review → inspection → approval).
    // Art. 6: for nationally issued products the national centre archives its part.
    // Art. 34: a local bureau entrusted by the province with acceptance (a prefecture or county)
    // enters the applications it accepts, for its own territory.
    // Art. 18: sent to the national office every month: up.
    Rule {
        collection: "applications",
        authors: &[
            by(National, Territory, &[6, 18]),
            by(Province, Territory, &[5, 6]),
            by(Prefecture, Territory, &[34]),
            by(County, Territory, &[34]),
        ],
        route: Route::Up,
        route_articles: &[18],
        addressees: &[],
    },
    // Art. 7: review departments and the provincial review offices keep review plans.
    // A provincial review office is part of the province's node (Art. 21: it files with the
    // provincial office), so the province authors for its own territory.
    // Art. 21: a review department files its plan with the national centre: up.
    Rule {
        collection: "review_plans",
        authors: &[
            by(Province, Territory, &[7, 21]),
            by(ReviewDepartment, Nationwide, &[7, 21]),
        ],
        route: Route::Up,
        route_articles: &[21],
        addressees: &[],
    },
    // Art. 8: every unit that organises reviews keeps the site-verification archive: the province
    // for provincial issuance, the review department for national issuance (Art. 22).
    // Art. 22: review department → national centre: up. When a province organised the review and
    // a review department summarises it, the province addresses its results to that department
    // (the record's jurisdiction is the department's code): up to the national node, which
    // relays them down to that department and no other.
    Rule {
        collection: "site_verifications",
        authors: &[
            by(Province, Territory, &[8, 22]),
            by(ReviewDepartment, Nationwide, &[8, 22]),
        ],
        route: Route::Up,
        route_articles: &[22],
        addressees: &[ReviewDepartment],
    },
    // Art. 9: inspection bodies keep the inspection archive.
    // Art. 23: results go to the unit that organised the review within 5 days. Inspection bodies
    // hang under the national node, so results go up to the national centre and down to the
    // organiser: for a provincial review the province of the enterprise (jurisdiction: the
    // enterprise's division; Art. 22) — no further: prefectures and counties do not organise
    // reviews, and raw inspection data is the enterprise's secret (Art. 36); for a national
    // review the review department that organised it (jurisdiction: its code), and no other.
    Rule {
        collection: "inspections",
        authors: &[by(InspectionBody, Nationwide, &[9, 23])],
        route: Route::Both {
            deepest_receiver: Province,
        },
        route_articles: &[6, 22, 23, 36],
        addressees: &[ReviewDepartment],
    },
    // Art. 10: the national centre keeps the refusals of national issuance, each province those
    // of its own issuance. Art. 19: provinces report them monthly: up.
    Rule {
        collection: "refusals",
        authors: &[
            by(National, Territory, &[10]),
            by(Province, Territory, &[10]),
        ],
        route: Route::Up,
        route_articles: &[19],
        addressees: &[],
    },
    // Art. 11, 27: the national centre keeps national and provincial licences, each province its
    // own. Art. 19, 27: provinces report monthly and the centre adds them within 10 days: up.
    // Art. 12, 20, 29: every bureau keeps the quality archive of the licensed enterprises of its
    // territory and reports on them yearly, so a licence also goes down, as a read-only copy,
    // to every bureau whose territory holds the enterprise (its jurisdiction).
    Rule {
        collection: "licences",
        authors: &[
            by(National, Territory, &[11, 27]),
            by(Province, Territory, &[11, 27]),
        ],
        route: Route::Both {
            deepest_receiver: County,
        },
        route_articles: &[12, 19, 20, 27, 29],
        addressees: &[],
    },
    // Art. 13, 28: changes, withdrawals, revocations and cancellations, kept by the national
    // centre (national issuance) and each province (its own). Art. 19, 28: reported up; and
    // down with their licence (Art. 12, 29).
    Rule {
        collection: "licence_events",
        authors: &[
            by(National, Territory, &[13, 28]),
            by(Province, Territory, &[13, 28]),
        ],
        route: Route::Both {
            deepest_receiver: County,
        },
        route_articles: &[12, 19, 28, 29],
        addressees: &[],
    },
    // Art. 12: every bureau level keeps the quality archive of the licensed enterprises in its
    // territory; Art. 29: provinces and below update it. Art. 20: post-licence supervision is
    // reported to the superior every year: up.
    Rule {
        collection: "quality_archives",
        authors: &[
            by(National, Territory, &[12]),
            by(Province, Territory, &[12, 29]),
            by(Prefecture, Territory, &[12, 29]),
            by(County, Territory, &[12, 29]),
        ],
        route: Route::Up,
        route_articles: &[20],
        addressees: &[],
    },
    // Art. 14: the national office and each province keep their own archive of public messages,
    // letters and visits. No article of Chapter 3 passes it on, and it holds complainants'
    // personal data (Art. 36): local.
    Rule {
        collection: "letters_visits",
        authors: &[
            by(National, Territory, &[14]),
            by(Province, Territory, &[14]),
        ],
        route: Route::Local,
        route_articles: &[14],
        addressees: &[],
    },
    // Art. 15, 30: the national centre keeps the reviewer registry. Art. 32: provinces and review
    // departments keep their copies current: down to every node.
    Rule {
        collection: "reviewers",
        authors: &[by(National, Territory, &[15, 30])],
        route: Route::Down,
        route_articles: &[32],
        addressees: &[],
    },
    // Art. 16, 31: the national office keeps the review-department registry. Art. 32: down.
    Rule {
        collection: "review_departments",
        authors: &[by(National, Territory, &[16, 31])],
        route: Route::Down,
        route_articles: &[32],
        addressees: &[],
    },
    // Art. 17, 31: the national office keeps the inspection-body registry; Art. 26: a body files
    // its changes with the national centre, which updates the registry (Art. 31). Art. 32: down.
    Rule {
        collection: "inspection_bodies",
        authors: &[by(National, Territory, &[17, 26, 31])],
        route: Route::Down,
        route_articles: &[32],
        addressees: &[],
    },
    // Art. 24: national spot-check failures are notified to the provinces concerned, provincial
    // ones to the prefectures concerned. Art. 25: the unit that organised a review (province or
    // review department) notifies the province concerned of problems found. An addressee records
    // how it handled the notice on the same record: provinces and prefectures (Art. 24).
    // Route: up towards the national node (a review department's notice reaches a province only
    // through it; replies reach the issuer), and down into the addressed division's subtree —
    // counties included, since Art. 29 has every bureau below the province update its quality
    // archives from the spot checks.
    Rule {
        collection: "notices",
        authors: &[
            by(National, Territory, &[24]),
            by(Province, Territory, &[24, 25]),
            by(Prefecture, Territory, &[24]),
            by(ReviewDepartment, Nationwide, &[25]),
        ],
        route: Route::Both {
            deepest_receiver: County,
        },
        route_articles: &[24, 25, 29],
        addressees: &[],
    },
    // Art. 33: the national office publishes laws, the catalogue and implementation rules.
    // Art. 34: each accepting office (the province, or a local bureau it entrusted) publishes its
    // guide. Art. 32: every node below works from the latest: down to every node below the author.
    Rule {
        collection: "publications",
        authors: &[
            by(National, Territory, &[33]),
            by(Province, Territory, &[34]),
            by(Prefecture, Territory, &[34]),
            by(County, Territory, &[34]),
        ],
        route: Route::Down,
        route_articles: &[32, 33],
        addressees: &[],
    },
    // Art. 20: each bureau below the province reports its territory's post-licence supervision
    // to its superior every year; each province reports to the national office in October. The
    // national centre keeps them (one archive per province) but writes none.
    Rule {
        collection: "supervision_reports",
        authors: &[
            by(Province, Territory, &[20]),
            by(Prefecture, Territory, &[20]),
            by(County, Territory, &[20]),
        ],
        route: Route::Up,
        route_articles: &[20],
        addressees: &[],
    },
    // Art. 18, 19: provinces report monthly; Art. 20: every bureau reports yearly; the national
    // centre compiles the country's roll-ups (Art. 18–20 "汇总"). Up.
    Rule {
        collection: "reports",
        authors: &[
            by(National, Territory, &[18, 19, 20]),
            by(Province, Territory, &[18, 19, 20]),
            by(Prefecture, Territory, &[20]),
            by(County, Territory, &[20]),
        ],
        route: Route::Up,
        route_articles: &[18, 19, 20],
        addressees: &[],
    },
    // Art. 37, 38: a bureau asks its superior's approval before destroying archives whose five
    // years are over. The request (jurisdiction: the requesting bureau's own code) goes up; the
    // superior's decision, written into the same record, comes back down to the requesting
    // bureau and no further. Every bureau keeps archives, so every bureau may author both halves
    // for its territory. Review departments and inspection bodies keep archives too (Art. 7–9,
    // 37): their requests carry the national division and are decided by the national node,
    // whose decision comes back down to the bodies that write such requests.
    Rule {
        collection: "destructions",
        authors: &[
            by(National, Territory, &[38]),
            by(Province, Territory, &[37, 38]),
            by(Prefecture, Territory, &[37, 38]),
            by(County, Territory, &[37, 38]),
            by(ReviewDepartment, NationalDivision, &[37, 38]),
            by(InspectionBody, NationalDivision, &[37, 38]),
        ],
        route: Route::Both {
            deepest_receiver: County,
        },
        route_articles: &[38],
        addressees: &[],
    },
    // Art. 26: an inspection body files the change of its details (Attachment 3) with the
    // national centre, with the opinion of the provincial bureau. The body writes the filing
    // from its node for the province whose opinion it needs (the jurisdiction): up to the
    // national node and down to that province. The province answers with its opinion in a
    // record of its own addressed to the body (its code as jurisdiction): up to the national
    // node, which then holds both (Art. 31), and down to that body. Each is edited by its author
    // only, so every copy converges.
    Rule {
        collection: "inspection_body_filings",
        authors: &[
            by(InspectionBody, Nationwide, &[26]),
            by(Province, Territory, &[26]),
        ],
        route: Route::Both {
            deepest_receiver: Province,
        },
        route_articles: &[26, 31],
        addressees: &[InspectionBody],
    },
];
