//! The machine a run measured: the GPU's name, driver and clocks (`nvidia-smi`),
//! the host CPU, the date.

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

const SMI_FIELDS: &str = "name,driver_version,pci.bus_id,clocks.sm,clocks.max.sm,clocks.mem,clocks.max.mem,clocks.applications.graphics,pstate,temperature.gpu,power.draw,persistence_mode";

/// `nvidia-smi`'s view of GPU 0 (name, driver, clocks, ...), as
/// (field, value) pairs; empty when it cannot be run. Reads only: the
/// benchmark never changes clocks.
pub fn nvidia_smi() -> Vec<(String, String)> {
    let output = Command::new("nvidia-smi")
        .args([
            "-i",
            "0",
            &format!("--query-gpu={SMI_FIELDS}"),
            "--format=csv",
        ])
        .output();
    let Ok(output) = output else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let (Some(header), Some(row)) = (lines.next(), lines.next()) else {
        return Vec::new();
    };
    header
        .split(", ")
        .zip(row.split(", "))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

pub(crate) fn smi<'a>(fields: &'a [(String, String)], prefix: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k.starts_with(prefix))
        .map_or("?", |(_, v)| v.as_str())
}

/// The host CPU's model name.
pub fn host_cpu() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "?".into())
}

/// Now, as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
