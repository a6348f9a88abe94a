//! The journal of an account apply, and what rollback reads from it.
//!
//! Journal: JSON lines, one record before and one after each call, each flushed and fsynced.
//! `{"run", "seq", "phase": "before", "region", "operation", "undo"}` then `{"run", "seq", "phase":
//! "after", "status": "ok"|"failed", "result", "error", "inverse"}`. Rollback appends `{"run",
//! "phase": "rollback-before" | "rollback-after", "of": SEQ, ...}` to the same file, so a second
//! rollback does nothing. Every record but its `inverse` (and `undo`, the inverse known before the
//! call) is redacted: an undo is put back exactly as it was (it holds policy documents and ids,
//! never a task definition's environment).

use crate::operation::Operation;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct Journal {
    file: std::fs::File,
    pub path: PathBuf,
    /// This run's id, in each record it writes.
    pub run: String,
}

impl Journal {
    /// Opens a journal for appending (created with mode 0600 if new).
    pub fn open(path: &Path) -> std::io::Result<Journal> {
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let created = !path.exists();
        let mut opts = std::fs::OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(path)?;
        #[cfg(unix)]
        if created {
            // The new file's directory entry is durable too.
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            std::fs::File::open(dir)?.sync_all()?;
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Ok(Journal {
            file,
            path: path.to_path_buf(),
            run: format!("{nanos:x}-{:x}", std::process::id()),
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
            o.entry("run").or_insert_with(|| self.run.clone().into());
        }
        // Undos are put back exactly: kept out of the redaction.
        let exact: Vec<(&str, Value)> = ["inverse", "undo"]
            .into_iter()
            .filter_map(|k| Some((k, value.as_object_mut()?.remove(k)?)))
            .collect();
        crate::redact::redact_value(&mut value);
        if let Value::Object(o) = &mut value {
            for (k, v) in exact {
                o.insert(k.into(), v);
            }
        }
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
    /// The run that made it (`""` in journals written before runs had ids).
    pub run: String,
    pub seq: u64,
    pub region: String,
    pub inverse: Operation,
    /// The operation the step carried out (from its `before` record), to check before undoing
    /// that the resource is still as the apply left it.
    #[serde(default)]
    pub applied: Option<Operation>,
}

/// A step begun and never recorded as finished (killed, disk full), whose undo was not known
/// before the call (a creation): whether it created something is read from the account.
#[derive(Debug, Clone)]
pub struct InDoubt {
    pub run: String,
    pub seq: u64,
    pub region: String,
    /// The operation's name, as the journal gives it.
    pub name: String,
    /// The operation, when the journal's `before` record parses as one.
    pub applied: Option<Operation>,
    /// Whether the `before` record says the creation carries the run's tags (journals written
    /// before apply tagged what it created do not).
    pub tagged: bool,
}

impl InDoubt {
    pub fn describe(&self) -> String {
        format!(
            "step {} of run `{}` (`{}`) was begun and never recorded as finished",
            self.seq, self.run, self.name
        )
    }
}

/// What a journal says is left to undo.
#[derive(Debug, Default)]
pub struct Pending {
    /// Completed steps with an inverse, not rolled back yet, newest first.
    pub steps: Vec<Undo>,
    /// Steps begun and never recorded as finished whose undo the journal does not hold.
    pub in_doubt: Vec<InDoubt>,
}

/// Reads a journal. `run` chooses one run when the journal holds several with steps to undo.
pub fn pending_undo(text: &str, run: Option<&str>) -> Result<Pending, String> {
    /// One step as its records tell it, in the order the steps began.
    #[derive(Default)]
    struct Step {
        key: (String, u64),
        name: String,
        region: String,
        applied: Option<Operation>,
        /// Journaled before the call, when known then.
        undo: Option<Operation>,
        begun: bool,
        finished: bool,
        /// The `after` record's inverse, when the call succeeded.
        inverse: Option<Operation>,
        tagged: bool,
    }
    let parse = |v: &Value, line: usize| -> Result<Option<Operation>, String> {
        if v.is_null() {
            return Ok(None);
        }
        serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| format!("line {line}: {e}"))
    };
    let mut steps: Vec<Step> = Vec::new();
    let mut undone: Vec<(String, u64)> = Vec::new();
    // Journals written before runs had ids cannot tell two runs apart.
    let mut legacy_seq = 0;
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: Value = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        let key = (
            v["run"].as_str().unwrap_or_default().to_string(),
            v["seq"].as_u64().unwrap_or(0),
        );
        let phase = v["phase"].as_str();
        if key.0.is_empty() && phase == Some("before") {
            if key.1 <= legacy_seq {
                return Err("it holds several runs written before runs had ids: roll back with the fargate-rtm that wrote it".into());
            }
            legacy_seq = key.1;
        }
        if phase == Some("rollback-after") && (v["status"] == "ok" || v["status"] == "skipped") {
            undone.extend(v["of"].as_u64().map(|seq| (key.0.clone(), seq)));
            continue;
        }
        if !matches!(phase, Some("before" | "after")) {
            continue;
        }
        let at = match steps.iter().position(|s| s.key == key) {
            Some(at) => at,
            None => {
                steps.push(Step {
                    key,
                    ..Default::default()
                });
                steps.len() - 1
            }
        };
        let step = &mut steps[at];
        if let Some(r) = v["region"].as_str() {
            step.region = r.to_string();
        }
        if phase == Some("before") {
            step.begun = true;
            step.name = v["operation"]["operation"]
                .as_str()
                .unwrap_or("?")
                .to_string();
            step.applied = parse(&v["operation"], i + 1).unwrap_or(None);
            step.undo = parse(&v["undo"], i + 1)?;
            step.tagged = v["tags"].is_object();
        } else {
            step.finished = true;
            if v["status"] == "ok" {
                step.inverse = parse(&v["inverse"], i + 1)?;
            }
        }
    }
    let mut done: Vec<Undo> = Vec::new();
    let mut in_doubt: Vec<InDoubt> = Vec::new();
    for s in steps {
        let inverse = match (s.finished, s.inverse, s.undo) {
            (true, inverse, _) => inverse,
            // Begun, never finished: undone from the state recorded before the call, which is
            // right whether or not the call took effect.
            (false, _, Some(undo)) => Some(undo),
            (false, _, None) => {
                if s.begun && !undone.contains(&s.key) {
                    in_doubt.push(InDoubt {
                        run: s.key.0.clone(),
                        seq: s.key.1,
                        region: s.region.clone(),
                        name: s.name.clone(),
                        applied: s.applied.clone(),
                        tagged: s.tagged,
                    });
                }
                None
            }
        };
        if let Some(inverse) = inverse {
            done.push(Undo {
                run: s.key.0.clone(),
                seq: s.key.1,
                region: s.region,
                inverse,
                applied: s.applied,
            });
        }
    }
    done.retain(|d| !undone.contains(&(d.run.clone(), d.seq)));
    let mut runs: Vec<&str> = done
        .iter()
        .map(|d| d.run.as_str())
        .chain(in_doubt.iter().map(|d| d.run.as_str()))
        .collect();
    runs.sort();
    runs.dedup();
    let chosen = match (run, runs.as_slice()) {
        (Some(r), _) if !runs.contains(&r) => {
            return Err(format!(
                "it has no steps to undo for run `{r}` (runs with steps to undo: {})",
                if runs.is_empty() {
                    "none".to_string()
                } else {
                    runs.join(", ")
                }
            ));
        }
        (Some(r), _) => Some(r.to_string()),
        (None, [] | [_]) => None,
        (None, several) => {
            return Err(format!(
                "it holds {} runs with steps to undo ({}): choose one with `--run ID`",
                several.len(),
                several.join(", ")
            ));
        }
    };
    if let Some(r) = &chosen {
        done.retain(|d| &d.run == r);
    }
    done.reverse();
    Ok(Pending {
        steps: done,
        in_doubt: in_doubt
            .into_iter()
            .filter(|d| chosen.as_ref().is_none_or(|c| *c == d.run))
            .collect(),
    })
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
        let undo = pending_undo(&text, None).unwrap();
        assert_eq!(undo.steps.iter().map(|u| u.seq).collect::<Vec<_>>(), [2, 1]);
        let after = text + &json!({"phase": "rollback-after", "of": 2, "status": "ok"}).to_string();
        assert_eq!(
            pending_undo(&after, None)
                .unwrap()
                .steps
                .iter()
                .map(|u| u.seq)
                .collect::<Vec<_>>(),
            [1]
        );
        assert!(pending_undo("not json", None).is_err());
    }

    #[test]
    fn runs_are_kept_apart_and_unfinished_steps_are_in_doubt() {
        let text = [
            json!({"run": "a", "seq": 1, "phase": "before", "operation": {"operation": "ec2:CreateSecurityGroup"}}),
            json!({"run": "a", "seq": 1, "phase": "after", "status": "ok", "region": "r", "inverse": {"operation": "ec2:DeleteSecurityGroup", "group_id": "sg-1"}}),
            json!({"run": "b", "seq": 1, "phase": "before", "operation": {"operation": "iam:PutRolePolicy"}}),
            json!({"run": "b", "seq": 1, "phase": "after", "status": "ok", "region": "r", "inverse": {"operation": "iam:DeleteRolePolicy", "role_name": "x", "policy_name": "p"}}),
            json!({"run": "b", "seq": 2, "phase": "before", "operation": {"operation": "ec2:CreateVpcEndpoint"}}),
        ]
        .iter()
        .map(|v| v.to_string() + "\n")
        .collect::<String>();
        let err = pending_undo(&text, None).unwrap_err();
        assert!(err.contains("choose one with `--run ID`"), "{err}");
        let b = pending_undo(&text, Some("b")).unwrap();
        assert_eq!(b.steps.len(), 1);
        assert_eq!(b.steps[0].inverse.name(), "iam:DeleteRolePolicy");
        assert_eq!(
            b.in_doubt.iter().map(InDoubt::describe).collect::<Vec<_>>(),
            [
                "step 2 of run `b` (`ec2:CreateVpcEndpoint`) was begun and never recorded as finished"
            ]
        );
        // Undoing run b's step 1 leaves run a's step 1, and b's step in doubt until it is
        // settled.
        let after = text
            + &json!({"run": "b", "phase": "rollback-after", "of": 1, "status": "ok"}).to_string()
            + "\n";
        assert!(pending_undo(&after, None).is_err());
        let settled = after
            + &json!({"run": "b", "phase": "rollback-after", "of": 2, "status": "ok"}).to_string();
        let left = pending_undo(&settled, None).unwrap();
        assert_eq!((left.steps.len(), left.steps[0].run.as_str()), (1, "a"));
        assert!(left.in_doubt.is_empty());
    }

    #[test]
    fn inverses_are_kept_exactly_and_the_rest_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut j = Journal::open(&path).unwrap();
        let previous = json!({"Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
            "Resource": "*", "Condition": {"StringEquals": {"secretsmanager:SecretId": "db"}}}]});
        j.record(json!({"seq": 1, "phase": "after", "status": "ok", "region": "r",
            "result": {"DB_PASSWORD": "hunter2"},
            "inverse": {"operation": "iam:PutRolePolicy", "role_name": "x", "policy_name": "p", "policy_document": previous}}))
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        let steps = pending_undo(&text, None).unwrap().steps;
        match &steps[0].inverse {
            Operation::PutRolePolicy {
                policy_document, ..
            } => assert_eq!(policy_document, &previous),
            other => panic!("{other:?}"),
        }
        assert_eq!(steps[0].run, j.run);
    }

    #[test]
    fn a_step_killed_during_its_call_is_undone_from_the_state_recorded_before_it() {
        let text = [
            json!({"run": "a", "seq": 1, "phase": "before", "region": "r",
                "operation": {"operation": "iam:PutRolePolicy", "role_name": "x", "policy_name": "p", "policy_document": {}},
                "undo": {"operation": "iam:DeleteRolePolicy", "role_name": "x", "policy_name": "p"}}),
        ]
        .iter()
        .map(|v| v.to_string() + "\n")
        .collect::<String>();
        let p = pending_undo(&text, None).unwrap();
        assert!(p.in_doubt.is_empty(), "{:?}", p.in_doubt);
        assert_eq!(p.steps.len(), 1);
        assert_eq!(p.steps[0].inverse.name(), "iam:DeleteRolePolicy");
        assert_eq!(p.steps[0].region, "r");
    }

    #[test]
    fn an_unknown_run_and_old_journals_of_several_runs_are_refused() {
        let step = |seq: u64| {
            [
                json!({"seq": seq, "phase": "before", "operation": {"operation": "ec2:CreateSecurityGroup"}}),
                json!({"seq": seq, "phase": "after", "status": "ok", "region": "r", "inverse": {"operation": "ec2:DeleteSecurityGroup", "group_id": format!("sg-{seq}")}}),
            ]
            .iter()
            .map(|v| v.to_string() + "\n")
            .collect::<String>()
        };
        let one = step(1) + &step(2);
        assert_eq!(pending_undo(&one, None).unwrap().steps.len(), 2);
        let err = pending_undo(&one, Some("nope")).unwrap_err();
        assert!(err.contains("no steps to undo for run `nope`"), "{err}");
        // Two runs appended to one file before runs had ids: seq starts again.
        let err = pending_undo(&(one.clone() + &step(1)), None).unwrap_err();
        assert!(
            err.contains("several runs written before runs had ids"),
            "{err}"
        );
    }
}
