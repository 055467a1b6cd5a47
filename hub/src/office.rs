//! `jemput-hub office …`: the office actions over the staff API of a running hub (the same
//! calls the dashboard makes), for staff at a terminal and for scripts.

use clap::{Args, Subcommand};
use serde_json::{json, Value};

/// Where and as whom.
#[derive(Args)]
pub struct OfficeArgs {
    /// The hub's address (default: the configured public URL).
    #[arg(long, env = "JEMPUT_HUB_URL")]
    hub: Option<String>,
    /// The staff token.
    #[arg(long, env = "JEMPUT_STAFF_TOKEN", hide_env_values = true)]
    token: String,
    #[command(subcommand)]
    action: OfficeCmd,
}

#[derive(Subcommand)]
enum OfficeCmd {
    /// Lists requests (newest first).
    Requests {
        /// Only this status (e.g. terkirim, diproses).
        #[arg(long)]
        status: Option<String>,
        /// Only this RW.
        #[arg(long)]
        rw: Option<u16>,
    },
    /// Shows one request in full.
    Show {
        /// Request id.
        id: String,
    },
    /// Finds a request or complaint by the resident's receipt code.
    Receipt {
        /// Receipt code, e.g. ABCD-EFGH-J.
        code: String,
    },
    /// Sets an office status (diverifikasi, diproses, perlu_kelengkapan, ditolak, selesai, …).
    Status {
        /// Request id.
        id: String,
        /// New status.
        status: String,
        /// Reason (required for perlu_kelengkapan and ditolak).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Assigns the letter number.
    Letter {
        /// Request id.
        id: String,
        /// Letter number.
        number: String,
    },
    /// Lists complaints.
    Complaints {
        /// Only this status.
        #[arg(long)]
        status: Option<String>,
    },
    /// Answers a complaint.
    Answer {
        /// Complaint id.
        id: String,
        /// New status (ditindaklanjuti, selesai, …).
        status: String,
        /// The office's answer.
        #[arg(long)]
        response: Option<String>,
    },
}

async fn send(rb: reqwest::RequestBuilder) -> anyhow::Result<Value> {
    let resp = rb.send().await.map_err(|e| anyhow::anyhow!("hub tidak dapat dihubungi: {e}"))?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if !status.is_success() {
        let e = serde_json::from_str::<jemput_core::sync::protocol::ErrorBody>(&text)
            .unwrap_or_else(|_| jemput_core::sync::protocol::ErrorBody { kode: "?".into(), pesan: "galat tidak dikenal".into() });
        return Err(anyhow::anyhow!("{} ({}, HTTP {})", e.pesan, e.kode, status.as_u16()));
    }
    let v: Value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    Ok(v)
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// Runs one office command.
pub async fn run(args: &OfficeArgs, default_url: &str) -> anyhow::Result<()> {
    let base = args.hub.clone().unwrap_or_else(|| default_url.to_string());
    let base = base.trim_end_matches('/');
    let http = reqwest::Client::new();
    let api = |path: &str| format!("{base}/api/v1/staff/{path}");
    let auth = |rb: reqwest::RequestBuilder| rb.bearer_auth(&args.token);
    match &args.action {
        OfficeCmd::Requests { status, rw } => {
            let mut q: Vec<(&str, String)> = vec![("limit", "100".into())];
            if let Some(st) = status {
                q.push(("status", st.clone()));
            }
            if let Some(rw) = rw {
                q.push(("rw", rw.to_string()));
            }
            let page = send(auth(http.get(api("requests")).query(&q))).await?;
            println!("{} permohonan", s(&page["total"]));
            for r in page["items"].as_array().into_iter().flatten() {
                println!(
                    "{}\t{}\t{}\tRT {}/RW {}\t{}\t{}",
                    s(&r["id"]),
                    s(&r["receipt"]),
                    s(&r["service_code"]),
                    s(&r["rt"]),
                    s(&r["rw"]),
                    s(&r["name"]),
                    s(&r["status_label"])
                );
            }
        }
        OfficeCmd::Show { id } => {
            let r = send(auth(http.get(api(&format!("requests/{id}"))))).await?;
            println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
        }
        OfficeCmd::Receipt { code } => {
            let r = send(auth(http.get(api(&format!("receipts/{code}"))))).await?;
            println!("{} {} — status {}", s(&r["kind"]), s(&r["id"]), s(&r["status"]));
        }
        OfficeCmd::Status { id, status, reason } => {
            let r =
                send(auth(http.post(api(&format!("requests/{id}/status"))).json(&json!({ "status": status, "reason": reason })))).await?;
            println!("{} sekarang berstatus {}", s(&r["receipt"]), status);
        }
        OfficeCmd::Letter { id, number } => {
            let r = send(auth(http.post(api(&format!("requests/{id}/office"))).json(&json!({ "letter_number": number })))).await?;
            println!("{}: nomor surat {}", s(&r["receipt"]), s(&r["office"]["letter_number"]));
        }
        OfficeCmd::Complaints { status } => {
            let mut q: Vec<(&str, String)> = vec![("limit", "100".into())];
            if let Some(st) = status {
                q.push(("status", st.clone()));
            }
            let page = send(auth(http.get(api("complaints")).query(&q))).await?;
            println!("{} pengaduan", s(&page["total"]));
            for c in page["items"].as_array().into_iter().flatten() {
                println!(
                    "{}\t{}\t{}\tRT {}/RW {}\t{}",
                    s(&c["id"]),
                    s(&c["receipt"]),
                    s(&c["topic"]),
                    s(&c["rt"]),
                    s(&c["rw"]),
                    s(&c["status"])
                );
            }
        }
        OfficeCmd::Answer { id, status, response } => {
            let r =
                send(auth(http.post(api(&format!("complaints/{id}/response"))).json(&json!({ "status": status, "response": response }))))
                    .await?;
            println!("{} dijawab: {}", s(&r["receipt"]), status);
        }
    }
    Ok(())
}
