//! Several instances starting together on one new database (issue: replicas racing on
//! start-up migrations). Every instance must come up, on PostgreSQL and on SQLite.
//!
//! PostgreSQL cases need `NOTES_TEST_DATABASE_URL` or `SECURE_TEST_POSTGRES_URL` (a server
//! where the test user may create databases); without either they print a notice and skip.

mod support;

use std::time::Duration;

use support::with_database;

/// Instances started at once in each round.
const INSTANCES: usize = 4;
/// Rounds of in-process migrators, each on a database that did not exist before.
const ROUNDS: usize = 20;

fn postgres_url() -> Option<String> {
    ["NOTES_TEST_DATABASE_URL", "SECURE_TEST_POSTGRES_URL"]
        .into_iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"))
}

/// Says so where a person sees it (see `support::skipped`).
fn skip_notice(test: &str) {
    support::skipped(
        test,
        "PostgreSQL: SECURE_TEST_POSTGRES_URL or NOTES_TEST_DATABASE_URL (`. .ci/postgres.sh`)",
    );
}

fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

// Reviewed: DDL with a name the test made (no bind parameters for identifiers).
#[allow(clippy::disallowed_methods)]
async fn drop_database(server_url: &str, name: &str) {
    use sqlx::Executor;
    let admin = sqlx::PgPool::connect(server_url)
        .await
        .expect("admin connection");
    // The name is ours (`replicas_` + hex), not user input; DDL takes no bind parameters.
    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    admin
        .execute(sqlx::AssertSqlSafe(sql))
        .await
        .expect("drop the test database");
    admin.close().await;
}

/// `INSTANCES` connect-and-migrate calls at once, each with its own pool (as separate
/// processes have), on `url`; every one must succeed.
async fn start_together(url: &str) {
    let tasks: Vec<_> = (0..INSTANCES)
        .map(|_| {
            let url = url.to_owned();
            tokio::spawn(async move {
                let db = notes_api::connect(&url).await.map_err(|e| e.to_string())?;
                notes_api::migrate(&db).await.map_err(|e| e.to_string())
            })
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        let result = task.await.expect("task runs");
        assert!(
            result.is_ok(),
            "instance {i} failed: {}",
            result.unwrap_err()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrators_started_together_on_a_new_postgres_database_all_succeed() {
    let Some(server) = postgres_url() else {
        skip_notice("migrators_started_together_on_a_new_postgres_database_all_succeed");
        return;
    };
    for _ in 0..ROUNDS {
        let name = format!("replicas_{}", random_hex(6));
        start_together(&with_database(&server, &name)).await;
        drop_database(&server, &name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrators_started_together_on_a_new_sqlite_file_all_succeed() {
    for _ in 0..ROUNDS {
        let path = std::env::temp_dir().join(format!("notes-replicas-{}.db", random_hex(8)));
        start_together(&format!("sqlite://{}", path.display())).await;
        remove_sqlite_files(&path);
    }
}

/// The operator's view: `notes-api` processes started at the same moment on one new
/// PostgreSQL database all reach "listening".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_started_together_on_a_new_postgres_database_all_serve() {
    let Some(server) = postgres_url() else {
        skip_notice("processes_started_together_on_a_new_postgres_database_all_serve");
        return;
    };
    for _ in 0..3 {
        let name = format!("replicas_{}", random_hex(6));
        start_processes_together(&with_database(&server, &name)).await;
        drop_database(&server, &name).await;
    }
}

/// The same on one new SQLite file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_started_together_on_a_new_sqlite_file_all_serve() {
    for _ in 0..3 {
        let path = std::env::temp_dir().join(format!("notes-replicas-{}.db", random_hex(8)));
        start_processes_together(&format!("sqlite://{}", path.display())).await;
        remove_sqlite_files(&path);
    }
}

/// `INSTANCES` notes-api processes on `url` at once (debug builds: development keys); each
/// must announce that it listens.
async fn start_processes_together(url: &str) {
    let children: Vec<_> = (0..INSTANCES)
        .map(|_| {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_notes-api"))
                .env("DATABASE_URL", url)
                .env("NOTES_ADDR", "127.0.0.1:0")
                .env_remove("SECURE_JWT_KEY")
                .env_remove("SECURE_CSRF_KEY")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .expect("notes-api starts")
        })
        .collect();
    for (i, mut child) in children.into_iter().enumerate() {
        let listening = wait_for_listening(&mut child).await;
        let _ = child.kill().await;
        let output = child.wait_with_output().await.expect("output");
        assert!(
            listening,
            "instance {i} did not serve; it said: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

fn remove_sqlite_files(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.to_path_buf().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

/// Reads the child's standard output until it announces that it listens, or exits.
async fn wait_for_listening(child: &mut tokio::process::Child) -> bool {
    use tokio::io::AsyncBufReadExt;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let read = async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.starts_with("notes-api listening on") {
                return true;
            }
        }
        false
    };
    tokio::time::timeout(Duration::from_secs(120), read)
        .await
        .unwrap_or(false)
}
