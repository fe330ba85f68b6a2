//! `steward seed benchmark`: the benchmark data set, with progress on
//! stderr and the time taken on stdout.

use std::time::Instant;

use anyhow::anyhow;
use steward_domain::user::User;
use steward_services::seed::{BenchmarkSeed, SeedProgress};
use steward_services::Services;

pub(crate) async fn benchmark(
    services: &Services,
    admin: &User,
    seed: &BenchmarkSeed,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let report = |p: SeedProgress| {
        let secs = started.elapsed().as_secs_f64();
        eprintln!("seed: {} {}/{} ({secs:.1} s)", p.stage, p.done, p.total);
    };
    let summary = services
        .seed_benchmark_reporting(admin, seed, &report)
        .await
        .map_err(|e| anyhow!("seeding the benchmark data: {e}"))?;
    let secs = started.elapsed().as_secs_f64();
    let projects = if summary.projects == 1 {
        String::new()
    } else {
        format!(" and {} more projects", summary.projects - 1)
    };
    println!(
        "Seeded project bench (id {}){projects}: {} work packages, {} members, in {secs:.1} s.",
        summary.project_id, summary.work_packages, summary.users
    );
    println!(
        "Wrote {} journals ({} mentioning bench1), {} memberships; {} rows, {:.0} rows/s.",
        summary.journals,
        summary.mentions,
        summary.members,
        summary.rows,
        summary.rows as f64 / secs.max(1e-9)
    );
    Ok(())
}
