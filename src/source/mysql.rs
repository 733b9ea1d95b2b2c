//! The export's own table in MySQL (or MariaDB) as a source:
//! `mysql://USER@HOST:PORT/DATABASE?table=TABLE[&ssl-mode=...&ssl-ca=FILE]`.
//!
//! The table is read once, with one streaming (unbuffered) scan, as CSV in
//! the export's column order. A load spools it into a local file that every
//! pass reads, so the analysis and phase 2 see the same rows even while the
//! table is being written, no transaction is held open on the production
//! server for the length of a load, and a resume continues from the spool
//! without reading the table again (a checkpoint position is a record
//! number of the spool); a one-pass command (`check`, `verify`, `export`)
//! reads the rows as they arrive, through a pipe (see
//! [`crate::pipeline::input`]). The text protocol hands every
//! value over as the server prints it (`1` for a TINYINT, `2024-09-23` for a
//! DATE, a JSON document as text), which is the CSV file's form; NULL
//! becomes an empty field, the CSV file's missing value. Columns are
//! matched by name, in any order; extra columns are ignored.

use std::path::{Path, PathBuf};

use mysql::prelude::Queryable;
use mysql::{Conn, OptsBuilder, SslOpts};

use super::columns::COLUMNS;
use super::uri;

/// How the connection to the server is encrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    /// Plain TCP (the default, as for the `mysql` client on loopback).
    Disabled,
    /// TLS, the server's certificate not checked.
    Required,
    /// TLS, the server's certificate checked against `ssl-ca` (or the
    /// system's roots), its host name not.
    VerifyCa,
    /// TLS, certificate and host name checked.
    VerifyIdentity,
}

/// A table to read, from a `mysql://` source URI.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TableSource {
    pub user: String,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub table: String,
    pub ssl_mode: SslMode,
    pub ssl_ca: Option<PathBuf>,
}

impl std::fmt::Display for TableSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "mysql://{}@{}:{}/{}?table={}",
            self.user, self.host, self.port, self.database, self.table
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MysqlError {
    #[error(
        "the source {0:?} is not a MySQL source URI: {1} (expected mysql://USER@HOST:PORT/DATABASE?table=TABLE)"
    )]
    BadUri(String, String),
    #[error(
        "cannot reach the MySQL server at {source_uri}: {detail}; check that it runs and the host and port (for the local one: scripts/local-mysql start)"
    )]
    Unreachable { source_uri: String, detail: String },
    #[error(
        "the MySQL server refused user {user:?}: {detail}; check MYSQL_PASSWORD or --source-password-file"
    )]
    Authentication { user: String, detail: String },
    #[error("the MySQL server has no database {database:?} (or user {user:?} may not see it): {detail}")]
    UnknownDatabase {
        database: String,
        user: String,
        detail: String,
    },
    #[error("the database {database:?} has no table {table:?}; check ?table= in the source URI")]
    UnknownTable { database: String, table: String },
    #[error(
        "the table {table:?} lacks the column {column:?} of the export contract; the table must hold all 58 columns (by name, in any order)"
    )]
    MissingColumn { table: String, column: String },
    #[error("reading the table {table:?} failed after {rows} rows: {detail}")]
    Read {
        table: String,
        rows: u64,
        detail: String,
    },
    #[error("cannot write the spool file {path}: {source}")]
    Spool { path: PathBuf, source: std::io::Error },
}

/// Parses `mysql://USER@HOST[:PORT]/DATABASE?table=TABLE[&ssl-mode=MODE][&ssl-ca=FILE]`.
/// A password in the URI is refused: it would show in process lists and
/// shell histories.
pub fn parse_uri(text: &str) -> Result<TableSource, MysqlError> {
    let bad = |why: &str| MysqlError::BadUri(uri::redact(text), why.to_string());
    if !text.starts_with("mysql://") {
        return Err(bad("it does not start with mysql://"));
    }
    // User-info ends at the last `@` (see crate::source::uri), so a
    // password holding `/` or `?` is still recognised, and refused.
    let (without_userinfo, user, password) = uri::split_userinfo(text);
    if password.is_some() {
        return Err(bad(
            "it carries a password; give it in MYSQL_PASSWORD or --source-password-file instead",
        ));
    }
    let user = user.ok_or_else(|| bad("no USER@ before the host"))?;
    let rest = &without_userinfo["mysql://".len()..];
    let (host_port, rest) = rest.split_once('/').ok_or_else(|| bad("no /DATABASE"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (host, port) = match host_port.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad("the port is not a number"))?),
        None => (host_port, 3306),
    };
    let mut table = None;
    let mut ssl_mode = SslMode::Disabled;
    let mut ssl_ca = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "table" => table = Some(value.to_string()),
            "ssl-mode" | "sslmode" => {
                ssl_mode = match value.to_ascii_lowercase().as_str() {
                    "disabled" => SslMode::Disabled,
                    "required" => SslMode::Required,
                    "verify_ca" | "verify-ca" => SslMode::VerifyCa,
                    "verify_identity" | "verify-identity" => SslMode::VerifyIdentity,
                    _ => {
                        return Err(bad(
                            "ssl-mode is one of disabled, required, verify_ca, verify_identity",
                        ));
                    }
                }
            }
            "ssl-ca" => ssl_ca = Some(PathBuf::from(value)),
            other => {
                return Err(bad(&format!(
                    "unknown parameter {other:?} (table, ssl-mode, ssl-ca)"
                )));
            }
        }
    }
    let table = table
        .filter(|t| !t.is_empty())
        .ok_or_else(|| bad("no ?table=TABLE"))?;
    if user.is_empty() || host.is_empty() || path.is_empty() {
        return Err(bad("USER, HOST and DATABASE must not be empty"));
    }
    if ssl_ca.is_some() && ssl_mode == SslMode::Disabled {
        ssl_mode = SslMode::VerifyCa;
    }
    Ok(TableSource {
        user: user.to_string(),
        host: host.to_string(),
        port,
        database: path.to_string(),
        table,
        ssl_mode,
        ssl_ca,
    })
}

/// Whether the driver gave up on a silent socket (its read or write
/// timeout), however it wraps the I/O error.
fn is_timeout(error: &mysql::Error) -> bool {
    let io = match error {
        mysql::Error::IoError(io) => Some(io),
        mysql::Error::CodecError(codec) => {
            std::error::Error::source(codec).and_then(|source| source.downcast_ref::<std::io::Error>())
        }
        _ => None,
    };
    io.is_some_and(|io| {
        matches!(
            io.kind(),
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
        )
    })
}

/// The driver's error in plain words: its own message without the name
/// of the Rust type around it (`DriverError { ... }`), and a refused
/// connection said as what it means.
fn plain(error: &mysql::Error) -> String {
    use mysql::DriverError;
    match error {
        mysql::Error::DriverError(DriverError::CouldNotConnect(Some((address, _, kind))))
            if *kind == std::io::ErrorKind::ConnectionRefused =>
        {
            format!("the connection to {address} was refused: nothing listens there")
        }
        mysql::Error::DriverError(DriverError::CouldNotConnect(Some((address, description, _)))) => {
            format!("cannot connect to {address}: {description}")
        }
        mysql::Error::DriverError(e) => e.to_string(),
        mysql::Error::IoError(e) => e.to_string(),
        mysql::Error::CodecError(e) => e.to_string(),
        mysql::Error::MySqlError(e) => e.to_string(),
        mysql::Error::UrlError(e) => e.to_string(),
        mysql::Error::TlsError(e) => e.to_string(),
        other => other.to_string(),
    }
}

/// An identifier as MySQL quotes it: in backticks, a backtick doubled.
fn quote_identifier(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// How long the server may take: to connect, and to say anything while
/// connected.
#[derive(Clone, Copy, Debug)]
pub struct Deadlines {
    pub connect: std::time::Duration,
    pub read: std::time::Duration,
}

/// Connects within `deadlines.connect`: TCP, TLS, the handshake and the
/// login run on a thread of their own, abandoned past the deadline (as a
/// Bolt connection is), since the driver's own read timeout also bounds
/// every read of the table. Reads and writes then time out after
/// `deadlines.read` of silence, and TCP keep-alive finds a half-open
/// connection.
fn connect(source: &TableSource, password: &str, deadlines: Deadlines) -> Result<Conn, MysqlError> {
    let (answer, answered) = std::sync::mpsc::channel();
    let (target, password) = (source.clone(), password.to_string());
    std::thread::Builder::new()
        .name("learngraph-mysql-connect".to_string())
        .spawn(move || {
            let _ = answer.send(connect_now(&target, &password, deadlines));
        })
        .map_err(|e| MysqlError::Unreachable {
            source_uri: source.to_string(),
            detail: format!("cannot start a thread: {e}"),
        })?;
    match answered.recv_timeout(deadlines.connect) {
        Ok(connected) => connected,
        Err(_) => Err(MysqlError::Unreachable {
            source_uri: source.to_string(),
            detail: format!(
                "the server did not answer within {} s (source.connect_timeout_seconds)",
                deadlines.connect.as_secs()
            ),
        }),
    }
}

fn connect_now(source: &TableSource, password: &str, deadlines: Deadlines) -> Result<Conn, MysqlError> {
    let ssl = match source.ssl_mode {
        SslMode::Disabled => None,
        mode => {
            let mut ssl = SslOpts::default();
            if let Some(ca) = &source.ssl_ca {
                ssl = ssl.with_root_cert_path(Some(ca.clone()));
            }
            if mode == SslMode::Required {
                ssl = ssl.with_danger_accept_invalid_certs(true);
            }
            if mode != SslMode::VerifyIdentity {
                ssl = ssl.with_danger_skip_domain_validation(true);
            }
            Some(ssl)
        }
    };
    let opts = OptsBuilder::new()
        .ip_or_hostname(Some(source.host.clone()))
        .tcp_port(source.port)
        .user(Some(source.user.clone()))
        .pass(Some(password.to_string()))
        .ssl_opts(ssl)
        .prefer_socket(false)
        .tcp_connect_timeout(Some(deadlines.connect))
        .read_timeout(Some(deadlines.read))
        .write_timeout(Some(deadlines.read))
        .tcp_keepalive_time_ms(Some(60_000))
        .tcp_keepalive_probe_interval_secs(Some(10))
        .tcp_keepalive_probe_count(Some(6));
    Conn::new(opts).map_err(|e| classify(source, e))
}

/// Names a connection failure by the server's error number.
fn classify(source: &TableSource, error: mysql::Error) -> MysqlError {
    let detail = plain(&error);
    match &error {
        // ER_ACCESS_DENIED_ERROR, ER_DBACCESS_DENIED_ERROR handled below.
        mysql::Error::MySqlError(e) if e.code == 1045 => MysqlError::Authentication {
            user: source.user.clone(),
            detail,
        },
        mysql::Error::MySqlError(e) if e.code == 1049 || e.code == 1044 => MysqlError::UnknownDatabase {
            database: source.database.clone(),
            user: source.user.clone(),
            detail,
        },
        _ => MysqlError::Unreachable {
            source_uri: source.to_string(),
            detail,
        },
    }
}

/// The table's column names, or the error that says why there are none.
fn table_columns(conn: &mut Conn, source: &TableSource) -> Result<Vec<String>, MysqlError> {
    conn.query_drop(format!("USE {}", quote_identifier(&source.database)))
        .map_err(|e| classify(source, e))?;
    let columns: Vec<String> = conn
        .exec(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
             ORDER BY ORDINAL_POSITION",
            (&source.database, &source.table),
        )
        .map_err(|e| classify(source, e))?;
    if columns.is_empty() {
        return Err(MysqlError::UnknownTable {
            database: source.database.clone(),
            table: source.table.clone(),
        });
    }
    Ok(columns)
}

/// The `SELECT` of the contract's columns, by name, in the export's order.
fn select_statement(source: &TableSource, columns: &[String]) -> Result<String, MysqlError> {
    let mut select = Vec::with_capacity(COLUMNS.len());
    for wanted in COLUMNS {
        let found = columns
            .iter()
            .find(|c| c.eq_ignore_ascii_case(wanted))
            .ok_or_else(|| MysqlError::MissingColumn {
                table: source.table.clone(),
                column: wanted.to_string(),
            })?;
        select.push(quote_identifier(found));
    }
    Ok(format!(
        "SELECT {} FROM {}",
        select.join(", "),
        quote_identifier(&source.table)
    ))
}

/// A connection to the table, its columns checked: every error a user can
/// fix (address, password, database, table, columns) is found here, before
/// any row is read.
pub struct TableReader {
    conn: Conn,
    statement: String,
    table: String,
    /// How long the server may stay silent, for the error that says so.
    read_timeout: std::time::Duration,
}

/// Connects and checks that the table holds every contract column. With a
/// `limit` (a trial load's rows), only that many rows are read.
pub fn open_table(
    source: &TableSource,
    password: &str,
    deadlines: Deadlines,
    limit: Option<u64>,
) -> Result<TableReader, MysqlError> {
    let mut conn = connect(source, password, deadlines)?;
    let columns = table_columns(&mut conn, source)?;
    let mut statement = select_statement(source, &columns)?;
    if let Some(limit) = limit {
        statement.push_str(&format!(" LIMIT {limit}"));
    }
    Ok(TableReader {
        conn,
        statement,
        table: source.table.clone(),
        read_timeout: deadlines.read,
    })
}

/// Where a spool is written until it is complete.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".partial");
    name.into()
}

impl TableReader {
    /// Reads the whole table once, streaming, as CSV with the export's
    /// header into `out`, and hands `out` back flushed with the number of
    /// rows. `path` names the output in errors.
    pub fn write_csv<W: std::io::Write>(
        mut self,
        out: W,
        path: &Path,
        mut progress: impl FnMut(u64),
    ) -> Result<(W, u64), MysqlError> {
        let spool_error = |source: std::io::Error| MysqlError::Spool {
            path: path.to_path_buf(),
            source,
        };
        let mut writer = csv::WriterBuilder::new()
            .buffer_capacity(1 << 20)
            .from_writer(std::io::BufWriter::with_capacity(1 << 20, out));
        writer.write_record(COLUMNS).map_err(|e| spool_error(e.into()))?;
        let table = self.table.clone();
        let silent = self.read_timeout.as_secs();
        let read_error = |rows: u64, e: mysql::Error| MysqlError::Read {
            table: table.clone(),
            rows,
            detail: if is_timeout(&e) {
                format!(
                    "the server said nothing for {silent} s (source.read_timeout_seconds): it stalled, or the \
                     connection is half-open"
                )
            } else {
                plain(&e)
            },
        };
        let mut rows = 0u64;
        // The text protocol streams rows as the server sends them: memory
        // holds one row at a time, whatever the table's size.
        let result = self
            .conn
            .query_iter(&self.statement)
            .map_err(|e| read_error(0, e))?;
        let mut record = csv::ByteRecord::new();
        for row in result {
            let row = row.map_err(|e| read_error(rows, e))?;
            record.clear();
            for index in 0..COLUMNS.len() {
                match row.as_ref(index) {
                    Some(mysql::Value::Bytes(bytes)) => record.push_field(bytes),
                    Some(mysql::Value::NULL) | None => record.push_field(b""),
                    Some(other) => record.push_field(other.as_sql(true).trim_matches('\'').as_bytes()),
                }
            }
            writer
                .write_byte_record(&record)
                .map_err(|e| spool_error(e.into()))?;
            rows += 1;
            if rows.is_multiple_of(10_000) {
                // Readers following the output see whole blocks sooner.
                writer.flush().map_err(spool_error)?;
                progress(rows);
            }
        }
        let buffered = writer.into_inner().map_err(|e| spool_error(e.into_error()))?;
        let out = buffered.into_inner().map_err(|e| spool_error(e.into_error()))?;
        Ok((out, rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_uri_names_user_host_database_table_and_tls() {
        let source =
            parse_uri("mysql://reader@db.example.com:3307/warehouse?table=impact_learners_profile").unwrap();
        assert_eq!(source.user, "reader");
        assert_eq!(source.host, "db.example.com");
        assert_eq!(source.port, 3307);
        assert_eq!(source.database, "warehouse");
        assert_eq!(source.table, "impact_learners_profile");
        assert_eq!(source.ssl_mode, SslMode::Disabled);
        assert_eq!(
            source.to_string(),
            "mysql://reader@db.example.com:3307/warehouse?table=impact_learners_profile"
        );
        let tls = parse_uri("mysql://r@h/d?table=t&ssl-ca=/etc/ca.pem").unwrap();
        assert_eq!((tls.port, tls.ssl_mode), (3306, SslMode::VerifyCa));
        let required = parse_uri("mysql://r@h/d?table=t&ssl-mode=REQUIRED").unwrap();
        assert_eq!(required.ssl_mode, SslMode::Required);
    }

    #[test]
    fn a_source_uri_without_a_table_or_with_a_password_is_refused() {
        for (uri, why) in [
            ("mysql://r@h/d", "table"),
            ("mysql://r:secret@h/d?table=t", "password"),
            ("mysql://r:pa/ss-secret@h/d?table=t", "password"),
            ("mysql://r:pa?ss-secret@h/d?table=t", "password"),
            ("mysql:/r:secret@h/d?table=t", "mysql://"),
            ("postgres://r@h/d?table=t", "mysql://"),
            ("mysql://r@h/d?table=t&ssl-mode=maybe", "ssl-mode"),
            ("mysql://h/d?table=t", "USER@"),
        ] {
            let error = parse_uri(uri).expect_err(uri).to_string();
            assert!(error.contains(why), "{uri}: {error}");
            assert!(!error.contains("secret"), "the password shows in: {error}");
        }
    }

    #[test]
    fn columns_are_found_by_name_in_any_order_and_a_missing_one_is_named() {
        let source = parse_uri("mysql://r@h/d?table=t`x").unwrap();
        let mut columns: Vec<String> = COLUMNS.iter().rev().map(|c| c.to_uppercase()).collect();
        columns.push("row_id".to_string());
        let select = select_statement(&source, &columns).unwrap();
        assert!(
            select.starts_with("SELECT `HASHED_EMAIL`, `SAND_ID`, "),
            "{select}"
        );
        assert!(select.ends_with(" FROM `t``x`"), "{select}");
        columns.retain(|c| c != "BIO");
        let error = select_statement(&source, &columns).unwrap_err();
        assert!(error.to_string().contains("\"bio\""), "{error}");
    }
}
