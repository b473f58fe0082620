//! SQLite on real files: a real writer process inserting rows during the
//! backup, the database's own consistency checks, cross-checked with the
//! sqlite3 CLI where it is installed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;
use rusqlite::Connection;

const WRITER_DB: &str = "BACKUP_DRILL_TEST_WRITER_DB";
const WRITER_STOP: &str = "BACKUP_DRILL_TEST_WRITER_STOP";
const WRITER_MODE: &str = "BACKUP_DRILL_TEST_WRITER_MODE";

/// Not a test on its own: when re-executed with the environment set, this
/// process is the writer. Each transaction inserts one user and one order,
/// so a consistent snapshot always has equal counts.
#[test]
fn writer_process_helper() {
    let Ok(db) = std::env::var(WRITER_DB) else {
        return;
    };
    let stop = PathBuf::from(std::env::var(WRITER_STOP).unwrap());
    let conn = Connection::open(&db).unwrap();
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    conn.pragma_update(None, "journal_mode", std::env::var(WRITER_MODE).unwrap())
        .unwrap();
    // Durability is not under test here; fsync per commit would only slow it.
    conn.pragma_update(None, "synchronous", "OFF").unwrap();
    let started = Instant::now();
    // Bounded: at most 200k transactions or 60 s.
    for _ in 0..200_000 {
        if stop.exists() || started.elapsed() > Duration::from_secs(60) {
            break;
        }
        let tx = conn.unchecked_transaction().unwrap();
        tx.execute("INSERT INTO users(name, score) VALUES ('w', 1.0)", [])
            .unwrap();
        tx.execute(
            "INSERT INTO orders(user_id, total) VALUES (last_insert_rowid(), 2.0)",
            [],
        )
        .unwrap();
        tx.commit().unwrap();
    }
}

fn spawn_writer(db: &Path, stop: &Path, mode: &str) -> Child {
    // The helper's test name in this binary: its module path, crate left out.
    let module = module_path!()
        .split_once("::")
        .map(|(_, m)| format!("{m}::"));
    let helper = format!("{}writer_process_helper", module.unwrap_or_default());
    Command::new(std::env::current_exe().unwrap())
        .args([
            helper.as_str(),
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(WRITER_DB, db)
        .env(WRITER_STOP, stop)
        .env(WRITER_MODE, mode)
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

fn count(db: &Path, table: &str) -> i64 {
    let conn = Connection::open(db).unwrap();
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

fn wait_for_rows(db: &Path, at_least: i64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(db, "users") < at_least {
        assert!(
            Instant::now() < deadline,
            "writer never reached {at_least} rows"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn stop_writer(mut child: Child, stop: &Path) {
    std::fs::write(stop, b"").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "writer failed: {status}");
            return;
        }
        assert!(Instant::now() < deadline, "writer did not stop");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn drill_while_writing(mode: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    sample_db(&db, 100);
    Connection::open(&db)
        .unwrap()
        .pragma_update(None, "journal_mode", mode)
        .unwrap();
    let stop = tmp.path().join("stop");
    let writer = spawn_writer(&db, &stop, mode);
    wait_for_rows(&db, 200);
    let before = count(&db, "users");
    let keep = tmp.path().join("restored");
    let (code, recs, err) = run(&["--sqlite", p(&db), "--keep", p(&keep), "--max-rto", "8m"]);
    let after = count(&db, "users");
    stop_writer(writer, &stop);
    assert_eq!(code, 0, "{err}\n{recs:?}");
    assert!(
        after > before,
        "the writer was not writing during the drill ({before} -> {after})"
    );
    let restored = keep.join("app.db");
    let users = count(&restored, "users");
    let orders = count(&restored, "orders");
    // One consistent point in time: both tables from the same transaction.
    assert_eq!(users, orders, "snapshot is torn");
    assert!(
        before <= users && users <= after,
        "{before} <= {users} <= {after}"
    );
    assert_eq!(step(&recs, "verify")["result"], "ok");
    assert!(mismatches(&recs).is_empty());
    // The restored copy is one self-contained file: no -wal left beside it.
    assert!(!keep.join("app.db-wal").exists());
    if let Ok(out) = Command::new("sqlite3")
        .arg(&restored)
        .arg("PRAGMA integrity_check; SELECT count(*) FROM orders;")
        .output()
    {
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("ok\n{orders}\n")
        );
    } else {
        assert!(
            !common::testkit::require_tool("sqlite3"),
            "sqlite3 did not run"
        );
    }
}

#[test]
fn consistent_snapshot_while_a_wal_writer_inserts() {
    drill_while_writing("wal");
}

#[test]
fn consistent_snapshot_while_a_rollback_journal_writer_inserts() {
    drill_while_writing("delete");
}

#[test]
fn manifest_records_row_counts_and_table_digests() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    sample_db(&db, 25);
    let repo = tmp.path().join("repo");
    assert_eq!(
        run(&["backup", "--repo", p(&repo), "--sqlite", p(&db)]).0,
        0
    );
    let text = std::fs::read_to_string(only_manifest(&repo)).unwrap();
    let recs = jsonl(text.as_bytes());
    let dbrec = of_kind(&recs, "database")[0];
    assert_eq!(dbrec["path"], "app.db");
    let tables = dbrec["tables"].as_array().unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["orders", "users"]);
    assert_eq!(tables[0]["rows"], 25);
    assert_eq!(tables[1]["rows"], 25);
    // Same content, same digest: a second database with equal rows agrees.
    let db2 = tmp.path().join("two/app2.db");
    std::fs::create_dir_all(db2.parent().unwrap()).unwrap();
    sample_db(&db2, 25);
    let repo2 = tmp.path().join("repo2");
    assert_eq!(
        run(&["backup", "--repo", p(&repo2), "--sqlite", p(&db2)]).0,
        0
    );
    let text2 = std::fs::read_to_string(only_manifest(&repo2)).unwrap();
    let recs2 = jsonl(text2.as_bytes());
    assert_eq!(of_kind(&recs2, "database")[0]["tables"], dbrec["tables"]);
}

#[test]
fn foreign_key_violations_in_the_restored_copy_fail_the_drill() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    sample_db(&db, 3);
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF; INSERT INTO orders(user_id, total) VALUES (999, 1.0);",
    )
    .unwrap();
    drop(conn);
    let (code, recs, _) = run(&["--sqlite", p(&db)]);
    assert_eq!(code, 1);
    let mm = of_kind(&recs, "mismatch");
    assert_eq!(mm.len(), 1, "{mm:?}");
    assert_eq!(mm[0]["path"], "app.db");
    assert_eq!(mm[0]["what"], "foreign_key_check");
    assert_eq!(mm[0]["actual"], "orders rowid 4 -> users");
}

#[test]
fn integrity_check_failure_in_the_database_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    {
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch(
            "PRAGMA page_size=4096; CREATE TABLE t(a INTEGER, b TEXT); CREATE INDEX t_b ON t(b);",
        )
        .unwrap();
        let tx = conn.unchecked_transaction().unwrap();
        for i in 0..2000 {
            tx.execute(
                "INSERT INTO t VALUES (?1, ?2)",
                rusqlite::params![i, format!("value {i:05}")],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    // Damage the index's root page: the table still reads, the index does not.
    let root: i64 = Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT rootpage FROM sqlite_schema WHERE name = 't_b'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    tamper(&db, |bytes| {
        let start = (root as usize - 1) * 4096;
        for b in &mut bytes[start + 8..start + 4096] {
            *b = 0;
        }
    });
    let (code, recs, err) = run(&["--sqlite", p(&db)]);
    assert_eq!(code, 1, "{err}");
    let got = mismatches(&recs);
    assert_eq!(
        got,
        vec![("app.db".to_string(), "integrity_check".to_string())],
        "{recs:?}"
    );
    let mm = of_kind(&recs, "mismatch")[0];
    assert_eq!(mm["expected"], "ok");
    assert_ne!(mm["actual"], "ok");
}

#[test]
fn a_missing_table_and_changed_rows_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    sample_db(&db, 10);
    let repo = tmp.path().join("repo");
    assert_eq!(
        run(&["backup", "--repo", p(&repo), "--sqlite", p(&db)]).0,
        0
    );
    let out = tmp.path().join("out");
    assert_eq!(
        run(&["restore", "latest", "--repo", p(&repo), "--to", p(&out)]).0,
        0
    );
    let conn = Connection::open(out.join("app.db")).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = OFF; DELETE FROM users WHERE id = 10; DROP TABLE orders; CREATE TABLE extra(x);").unwrap();
    drop(conn);
    let (code, recs, _) = run(&["verify", "latest", "--repo", p(&repo), "--dir", p(&out)]);
    assert_eq!(code, 1);
    let got: Vec<(String, String)> = mismatches(&recs)
        .into_iter()
        .filter(|(_, w)| w != "sha256" && w != "size")
        .collect();
    assert_eq!(
        got,
        vec![
            ("app.db#extra".to_string(), "table_extra".to_string()),
            ("app.db#orders".to_string(), "table_missing".to_string()),
            ("app.db#users".to_string(), "rows".to_string()),
            ("app.db#users".to_string(), "table_sha256".to_string()),
        ]
    );
}

/// Regression: a --sqlite file that is not a database failed with
/// "sqlite: not an error".
#[test]
fn a_file_that_is_not_a_database_is_named_as_such() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("notes.db");
    std::fs::write(&db, "these are notes, not a database\n".repeat(100)).unwrap();
    let repo = tmp.path().join("repo");
    let (code, recs, err) = run(&["backup", "--repo", p(&repo), "--sqlite", p(&db)]);
    assert_eq!(code, 2);
    assert!(recs.is_empty());
    assert_eq!(
        err,
        format!(
            "backup-drill: error: {}: sqlite: file is not a database\n",
            std::fs::canonicalize(&db).unwrap().display()
        )
    );
    let (_, list, _) = run(&["list", "--repo", p(&repo)]);
    assert!(of_kind(&list, "snapshot").is_empty());
}
