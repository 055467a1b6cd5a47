//! The dashboard's page frame: head, navigation by role, the signed-in person, sign-out.

use axum::response::Html;
use maud::{html, Markup, DOCTYPE};

use super::auth::{Me, Role};

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Jemput" }
            link rel="stylesheet" href="/aset/gaya.css";
            script src="/aset/app.js" defer {}
        }
    }
}

/// A page without navigation (sign-in, set-up, errors, the public receipt check).
pub fn bare(title: &str, body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="id" {
                (head(title))
                body.polos { main { (body) } }
            }
        }
        .into_string(),
    )
}

/// A dashboard page: navigation for `me`'s role, then `body`.
pub fn page(title: &str, me: &Me, current: &str, body: Markup) -> Html<String> {
    let links: &[(&str, &str, Role)] = &[
        ("/kotak-masuk", "Kotak masuk", Role::Operator),
        ("/permohonan", "Permohonan", Role::Operator),
        ("/pengaduan", "Pengaduan & aspirasi", Role::Operator),
        ("/petugas", "Petugas & perangkat", Role::Admin),
        ("/staf", "Akun staf", Role::Admin),
        ("/katalog", "Katalog layanan", Role::Admin),
        ("/profil", "Profil kelurahan", Role::Admin),
        ("/masa-simpan", "Masa simpan data", Role::Admin),
        ("/audit", "Jejak audit", Role::Admin),
        ("/akses", "Akses data pribadi", Role::Pimpinan),
        ("/papan-pengumuman", "Papan pengumuman", Role::Operator),
    ];
    Html(
        html! {
            (DOCTYPE)
            html lang="id" {
                (head(title))
                body {
                    header.atas {
                        span.merek { "Jemput" }
                        nav {
                            @for (href, label, need) in links {
                                @if me.role >= *need {
                                    a href=(href) aria-current=[(current == *href).then_some("page")] { (label) }
                                }
                            }
                        }
                        div.saya {
                            span { (me.account.name) " · " (me.role.label()) }
                            form method="post" action="/keluar" {
                                input type="hidden" name="csrf" value=(me.csrf);
                                button.tautan type="submit" { "Keluar" }
                            }
                        }
                    }
                    main { (body) }
                }
            }
        }
        .into_string(),
    )
}

/// A field's error message, shown next to it.
pub fn field_error(errors: &[(String, String)], field: &str) -> Markup {
    html! {
        @for (f, m) in errors {
            @if f == field { span.galat-isian role="alert" { (m) } }
        }
    }
}

/// Adds a field error when `value` is longer than its limit (the core's
/// [`jemput_core::validation::limits`], the same the service checks), so the form is shown
/// again with the message next to the field.
pub fn check_length(errors: &mut Vec<(String, String)>, field: &str, label: &str, value: &str, max: usize) {
    if let Some(issue) = jemput_core::validation::limits::check(field, label, value, max) {
        errors.push((issue.field, issue.message));
    }
}
