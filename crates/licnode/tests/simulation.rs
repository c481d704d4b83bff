//! The country simulation (`licnode sim`, issue 15 item 1) at a size CI runs in about a minute:
//! the first three provinces of the real division tree (Beijing and Tianjin, whose districts
//! dial the province, and Hebei through its prefectures), every node with its own store,
//! engine and sync loop at the default `[sync]` settings. It asserts the promises: every
//! county's record reaches national, every county gets the national registry change, and after
//! the burst, the national restart and the province outage every node holds exactly what the
//! authority table sends it (Art. 20: quality archives go up; Art. 32: the reviewer registry
//! goes down to every node) and nothing else, with nothing quarantined. With
//! `LICNODE_SLOW_TESTS` it runs Zhejiang's 90 counties directly under the province as well.

use std::time::Duration;

use licnode::sim::{SimOptions, SimReport, simulate};

fn small(province: Option<&str>, provinces: Option<usize>, prefectures: bool) -> SimOptions {
    SimOptions {
        province: province.map(str::to_string),
        provinces,
        whole_country: false,
        prefectures,
        duration: Duration::from_secs(3),
        burst_seconds: 3,
        outage: Duration::from_secs(5),
        seed: 7,
        sample_counties: 100,
        seed_records: 2,
        dir: None,
    }
}

fn assert_promises_kept(report: &SimReport) {
    let table = licnode::sim::table(report);
    assert!(report.county_to_national.count > 0, "{table}");
    assert_eq!(
        report.county_to_national.missing, 0,
        "every sampled county's record reaches national\n{table}"
    );
    assert_eq!(
        report.county_to_province.missing, 0,
        "every sampled county's record reaches its province\n{table}"
    );
    assert_eq!(
        report.registry_to_counties.missing, 0,
        "every county gets the national registry change\n{table}"
    );
    assert!(report.registry_to_counties.count > 0, "{table}");
    assert_eq!(report.burst_to_national.missing, 0, "{table}");
    assert_eq!(report.burst_with_restart_to_national.missing, 0, "{table}");
    assert_eq!(report.outage_missing, 0, "{table}");
    assert_eq!(
        report.verdicts.len(),
        4,
        "every settled step was checked\n{table}"
    );
    for (step, verdict) in &report.verdicts {
        assert!(
            verdict.is_clean(),
            "after {step}: lost {:?}, misplaced {:?}, quarantined {:?}\n{table}",
            verdict.lost,
            verdict.misplaced,
            verdict.quarantined
        );
        assert!(
            verdict.looked_up > 0,
            "after {step}: every record looked up at every holder\n{table}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_county_reaches_national_and_the_national_registry_reaches_every_county() {
    let report = simulate(small(None, Some(3), true))
        .await
        .expect("the simulation runs");
    assert!(report.nodes > 200, "a few hundred nodes: {}", report.nodes);
    assert_promises_kept(&report);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_province_with_ninety_counties_directly_under_it_keeps_the_same_promises() {
    if std::env::var_os("LICNODE_SLOW_TESTS").is_none() {
        eprintln!("SKIPPED: Zhejiang without prefectures runs with LICNODE_SLOW_TESTS=1");
        return;
    }
    let report = simulate(small(Some("33"), None, false))
        .await
        .expect("the simulation runs");
    assert!(report.nodes > 90, "{}", report.nodes);
    assert_promises_kept(&report);
}
