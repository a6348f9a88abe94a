//! The journal of an account apply, and what rollback reads from it.
//!
//! Journal: JSON lines, one record before and one after each call, each flushed and fsynced.
//! `{"seq", "phase": "before", "region", "operation"}` then `{"seq", "phase": "after", "status":
//! "ok"|"failed", "result", "error", "inverse"}`. Rollback appends `{"phase": "rollback-before" |
//! "rollback-after", "of": SEQ, ...}` to the same file, so a second rollback does nothing.

use crate::operation::Operation;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct Journal {
    file: std::fs::File,
    pub path: PathBuf,
}

impl Journal {
    /// Opens a journal for appending (created with mode 0600 if new).
    pub fn open(path: &Path) -> std::io::Result<Journal> {
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        Ok(Journal {
            file: opts.open(path)?,
            path: path.to_path_buf(),
        })
    }

    /// Writes one record and makes it durable before returning.
    pub fn record(&mut self, mut value: Value) -> std::io::Result<()> {
        if let Value::Object(o) = &mut value {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            o.insert("time".into(), now.into());
        }
        crate::redact::redact_value(&mut value);
        let mut line = serde_json::to_vec(&value)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.flush()?;
        self.file.sync_data()
    }
}

/// The default journal path: `.fargate-rtm/journal-<seconds>.jsonl` in the working directory.
pub fn default_journal_path() -> PathBuf {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    PathBuf::from(".fargate-rtm").join(format!("journal-{now}.jsonl"))
}

/// One completed step of a journal that rollback may undo.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Undo {
    pub seq: u64,
    pub region: String,
    pub inverse: Operation,
}

/// Reads a journal: the completed steps with an inverse that are not rolled back yet, newest
/// first.
pub fn pending_undo(text: &str) -> Result<Vec<Undo>, String> {
    let mut done: Vec<Undo> = Vec::new();
    let mut undone: Vec<u64> = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: Value = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        match v["phase"].as_str() {
            Some("after") if v["status"] == "ok" && !v["inverse"].is_null() => {
                let inverse: Operation = serde_json::from_value(v["inverse"].clone())
                    .map_err(|e| format!("line {}: {e}", i + 1))?;
                done.push(Undo {
                    seq: v["seq"].as_u64().unwrap_or(0),
                    region: v["region"].as_str().unwrap_or_default().to_string(),
                    inverse,
                });
            }
            Some("rollback-after") if v["status"] == "ok" || v["status"] == "skipped" => {
                undone.extend(v["of"].as_u64())
            }
            _ => {}
        }
    }
    done.retain(|d| !undone.contains(&d.seq));
    done.reverse();
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn journal_replay_finds_what_to_undo_newest_first() {
        let text = [
            json!({"seq": 1, "phase": "before", "operation": {}}),
            json!({"seq": 1, "phase": "after", "status": "ok", "region": "r", "inverse": {"operation": "iam:DeleteRolePolicy", "role_name": "a", "policy_name": "p"}}),
            json!({"seq": 2, "phase": "after", "status": "ok", "region": "r", "inverse": {"operation": "ec2:DeleteSecurityGroup", "group_id": "sg-1"}}),
            json!({"seq": 3, "phase": "after", "status": "failed", "region": "r", "error": "x"}),
        ]
        .iter()
        .map(|v| v.to_string() + "\n")
        .collect::<String>();
        let undo = pending_undo(&text).unwrap();
        assert_eq!(undo.iter().map(|u| u.seq).collect::<Vec<_>>(), [2, 1]);
        let after = text + &json!({"phase": "rollback-after", "of": 2, "status": "ok"}).to_string();
        assert_eq!(
            pending_undo(&after)
                .unwrap()
                .iter()
                .map(|u| u.seq)
                .collect::<Vec<_>>(),
            [1]
        );
        assert!(pending_undo("not json").is_err());
    }
}
