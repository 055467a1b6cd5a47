//! SQL shared by both back ends for the staff dashboard's queries (office lists over the
//! request index, the audit log), written once with numbered placeholders that each back end
//! renders its own way (`?` for SQLite, `$n` for PostgreSQL).

use super::{AuditFilter, OfficeQuery};

/// A query argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// Text.
    Text(String),
    /// Integer.
    Int(i64),
}

/// A `WHERE` clause under construction.
pub struct Where {
    sql: String,
    /// Its arguments in order.
    pub args: Vec<Arg>,
    dollar: bool,
}

impl Where {
    /// An empty clause; `dollar` numbers placeholders `$1, $2, …` (PostgreSQL), else `?`.
    pub fn new(dollar: bool) -> Where {
        Where { sql: String::new(), args: Vec::new(), dollar }
    }

    /// The next placeholder for `a`.
    pub fn arg(&mut self, a: Arg) -> String {
        let cast = match a {
            Arg::Text(_) => "text",
            Arg::Int(_) => "bigint",
        };
        self.args.push(a);
        if self.dollar {
            // Typed, so an integer argument compares with INTEGER and BIGINT columns alike.
            format!("${}::{cast}", self.args.len())
        } else {
            "?".into()
        }
    }

    /// Adds `cond` (with `{}` standing for the placeholder of `a`).
    pub fn and(&mut self, cond: &str, a: Arg) {
        let p = self.arg(a);
        self.sql.push_str(if self.sql.is_empty() { " WHERE " } else { " AND " });
        self.sql.push_str(&cond.replace("{}", &p));
    }

    /// The clause.
    pub fn sql(&self) -> &str {
        &self.sql
    }
}

/// `WHERE …` of an office query over the request index (the index holds every column a list
/// filters or sorts on, so a list never reads the documents table and its sealed blobs).
pub fn office_where(q: &OfficeQuery, dollar: bool) -> Where {
    let mut w = Where::new(dollar);
    // Only requests are indexed; the kind is implied.
    w.and("{} = 'request'", Arg::Text(q.doc.kind.clone()));
    if let Some(s) = &q.doc.status {
        w.and("i.status = {}", Arg::Text(s.clone()));
    }
    if let Some(rw) = q.doc.rw {
        w.and("i.rw = {}", Arg::Int(rw.into()));
    }
    if let Some(rt) = q.doc.rt {
        w.and("i.rt = {}", Arg::Int(rt.into()));
    }
    if let Some(s) = &q.service {
        w.and("i.service = {}", Arg::Text(s.clone()));
    }
    if let Some(f) = q.from {
        w.and("i.created_at >= {}", Arg::Int(f));
    }
    if let Some(u) = q.until {
        w.and("i.created_at < {}", Arg::Int(u));
    }
    if let Some(r) = &q.receipt {
        w.and("i.receipt = {}", Arg::Text(r.clone()));
    }
    for t in &q.tags {
        w.and("i.doc_id IN (SELECT t.doc_id FROM office_tags t WHERE t.tag = {})", Arg::Int(*t));
    }
    if let Some(s) = q.after_seq {
        w.and("i.seq > {}", Arg::Int(s));
    }
    if let Some(o) = &q.officer_id {
        w.and("i.officer_id = {}", Arg::Text(o.clone()));
    }
    w
}

/// The `FROM` part of office queries.
pub const OFFICE_FROM: &str = " FROM office_index i";

/// `WHERE …` of an audit query.
pub fn audit_where(q: &AuditFilter, dollar: bool) -> Where {
    let mut w = Where::new(dollar);
    w.and("1 = {}", Arg::Int(1));
    if let Some(a) = &q.actor {
        w.and("actor = {}", Arg::Text(a.clone()));
    }
    if let Some(p) = &q.action_prefix {
        // A prefix match that treats the LIKE wildcards in the text as ordinary characters.
        let esc = p.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        w.and("action LIKE {} ESCAPE '\\'", Arg::Text(format!("{esc}%")));
    }
    if let Some(d) = &q.doc_id {
        w.and("doc_id = {}", Arg::Text(d.clone()));
    }
    if let Some(f) = q.from {
        w.and("at >= {}", Arg::Int(f));
    }
    if let Some(u) = q.until {
        w.and("at < {}", Arg::Int(u));
    }
    w
}
