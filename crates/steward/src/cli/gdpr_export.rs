//! `steward gdpr export USER [--output FILE]`: writes everything Steward
//! holds about one person to a `.tar.gz` archive, synchronously, and prints
//! where it went, its size, its SHA-256 and what it holds.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use steward_domain::Timestamp;
use steward_services::{ServiceError, Services};

/// The default file name: in the working directory, named by user id and
/// time (no name or login of the person in it).
fn default_output(user_id: i64) -> PathBuf {
    let stamp: String = Timestamp::now()
        .to_string()
        .chars()
        .take(19)
        .filter(char::is_ascii_digit)
        .collect();
    PathBuf::from(format!(
        "steward-personal-data-user-{user_id}-{stamp}.tar.gz"
    ))
}

/// Refuses an output the archive cannot go to, before any work is done.
fn check_output(path: &Path) -> anyhow::Result<()> {
    let shown = path.display();
    if path.as_os_str().is_empty() {
        return Err(anyhow!("--output: the file name is empty"));
    }
    if path.is_dir() {
        return Err(anyhow!(
            "--output {shown} is a directory; name the archive file to write, such as {}",
            path.join("export.tar.gz").display()
        ));
    }
    if path.exists() {
        return Err(anyhow!(
            "--output {shown} already exists; choose another name or remove it first"
        ));
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if parent.exists() && !parent.is_dir() {
        return Err(anyhow!(
            "--output {shown}: {} is not a directory",
            parent.display()
        ));
    }
    if !parent.is_dir() {
        return Err(anyhow!(
            "--output {shown}: the directory {} does not exist",
            parent.display()
        ));
    }
    Ok(())
}

pub async fn export(
    services: &Services,
    user: &str,
    output: Option<PathBuf>,
) -> anyhow::Result<()> {
    let subject = match services.user_by_ref(user).await {
        Ok(u) => u,
        Err(ServiceError::NotFound(_)) => {
            return Err(anyhow!(
                "no user {user:?}: give a user's numeric id or login (groups and built-in \
                 accounts hold no personal data of their own)"
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let output = output.unwrap_or_else(|| default_output(subject.id));
    check_output(&output)?;
    let started = std::time::Instant::now();
    let done = services
        .export_to_file(&subject, &output)
        .await
        .map_err(|e| anyhow!("exporting user {}: {e}", subject.id))?;
    let s = &done.summary;
    println!(
        "Exported the personal data of user {} ({}) to {}",
        subject.id,
        subject.login,
        done.path.display()
    );
    println!("  size:      {} bytes", done.size_bytes);
    println!("  sha256:    {}", done.sha256);
    println!("  took:      {:.3} s", started.elapsed().as_secs_f64());
    println!(
        "  work packages: {} authored, {} assigned, {} accountable",
        s.work_packages_authored, s.work_packages_assigned, s.work_packages_accountable
    );
    println!(
        "  journals written: {} ({} comments); mentions: {}; custom-field values naming them: {}",
        s.journals_written, s.comments_written, s.mentions, s.custom_field_values_about_them
    );
    println!(
        "  audit entries: {}; request log lines: {}; files: {}",
        s.audit_entries, s.request_log_lines, s.files
    );
    let rows: Vec<String> = s
        .rows_per_table
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    println!("  rows per table: {}", rows.join(", "));
    Ok(())
}
