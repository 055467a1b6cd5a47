//! The staff dashboard's queries built from a filter (office lists over the request index, the
//! audit log), written once for both back ends in the common dialect of `sql.rs` (`$n`
//! parameters); the dashboard's fixed queries are with the others in `sql.rs`.

use super::sql::Arg;
use super::{AuditFilter, OfficeQuery};

/// An argument of a built query (owned, since the query is built from a filter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebArg {
    /// Text.
    Text(String),
    /// Integer.
    Int(i64),
}

/// A `WHERE` clause under construction.
#[derive(Debug, Default)]
pub struct Where {
    sql: String,
    args: Vec<WebArg>,
}

impl Where {
    /// An empty clause.
    pub fn new() -> Where {
        Where::default()
    }

    /// The next placeholder for `a`, typed (`CAST($n AS …)`) so PostgreSQL knows the type of a
    /// parameter that only meets another parameter or a literal.
    pub fn arg(&mut self, a: WebArg) -> String {
        let cast = match a {
            WebArg::Text(_) => "TEXT",
            WebArg::Int(_) => "BIGINT",
        };
        self.args.push(a);
        format!("CAST(${} AS {cast})", self.args.len())
    }

    /// Adds `cond` (with `{}` standing for the placeholder of `a`).
    pub fn and(&mut self, cond: &str, a: WebArg) {
        let p = self.arg(a);
        self.sql.push_str(if self.sql.is_empty() { " WHERE " } else { " AND " });
        self.sql.push_str(&cond.replace("{}", &p));
    }

    /// The clause.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// Its arguments in order, as statement arguments.
    pub fn args(&self) -> Vec<Arg<'_>> {
        self.args
            .iter()
            .map(|a| match a {
                WebArg::Text(t) => Arg::Text(t),
                WebArg::Int(i) => Arg::Int(*i),
            })
            .collect()
    }
}

/// `WHERE …` of an office query over the request index (the index holds every column a list
/// filters or sorts on, so a list never reads the documents table and its sealed blobs).
pub fn office_where(q: &OfficeQuery) -> Where {
    let mut w = Where::new();
    // Only requests are indexed; the kind is implied.
    w.and("{} = 'request'", WebArg::Text(q.doc.kind.clone()));
    if let Some(s) = &q.doc.status {
        w.and("i.status = {}", WebArg::Text(s.clone()));
    }
    if let Some(rw) = q.doc.rw {
        w.and("i.rw = {}", WebArg::Int(rw.into()));
    }
    if let Some(rt) = q.doc.rt {
        w.and("i.rt = {}", WebArg::Int(rt.into()));
    }
    if let Some(s) = &q.service {
        w.and("i.service = {}", WebArg::Text(s.clone()));
    }
    if let Some(f) = q.from {
        w.and("i.created_at >= {}", WebArg::Int(f));
    }
    if let Some(u) = q.until {
        w.and("i.created_at < {}", WebArg::Int(u));
    }
    if let Some(r) = &q.receipt {
        w.and("i.receipt = {}", WebArg::Text(r.clone()));
    }
    for t in &q.tags {
        w.and("i.doc_id IN (SELECT t.doc_id FROM office_tags t WHERE t.tag = {})", WebArg::Int(*t));
    }
    if let Some(s) = q.after_seq {
        w.and("i.seq > {}", WebArg::Int(s));
    }
    if let Some(o) = &q.officer_id {
        w.and("i.officer_id = {}", WebArg::Text(o.clone()));
    }
    w
}

/// The `FROM` part of office queries.
pub const OFFICE_FROM: &str = " FROM office_index i";

/// `WHERE …` of an audit query.
pub fn audit_where(q: &AuditFilter) -> Where {
    let mut w = Where::new();
    if let Some(a) = &q.actor {
        w.and("actor = {}", WebArg::Text(a.clone()));
    }
    if let Some(p) = &q.action_prefix {
        // A prefix match that treats the LIKE wildcards in the text as ordinary characters.
        let esc = p.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        w.and("action LIKE {} ESCAPE '\\'", WebArg::Text(format!("{esc}%")));
    }
    if let Some(d) = &q.doc_id {
        w.and("doc_id = {}", WebArg::Text(d.clone()));
    }
    if let Some(f) = q.from {
        w.and("at >= {}", WebArg::Int(f));
    }
    if let Some(u) = q.until {
        w.and("at < {}", WebArg::Int(u));
    }
    w
}
