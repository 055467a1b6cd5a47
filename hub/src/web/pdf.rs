//! PDFs the hub makes itself (pdf-writer, the standard Helvetica fonts every PDF reader has;
//! nothing fetched): the letter on A4 with the kelurahan's letterhead, and the receipt.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

use super::requests::{Letter, CLOSING, RECEIPT_NOTE};

/// Text in the fonts' WinAnsi encoding (characters outside it become `?`).
fn ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '–' => 0x96,
            '—' => 0x97,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            _ => b'?',
        })
        .collect()
}

/// Splits `s` into lines of at most `width` characters at spaces.
fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for w in s.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + w.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

/// A page being written top-down.
struct Page {
    c: Content,
    y: f32,
}

const LEFT: f32 = 72.0;
const A4: (f32, f32) = (595.0, 842.0);

impl Page {
    fn new() -> Page {
        Page { c: Content::new(), y: A4.1 - 60.0 }
    }

    fn text_at(&mut self, x: f32, size: f32, bold: bool, s: &str) {
        self.c.begin_text();
        self.c.set_font(Name(if bold { b"F2" } else { b"F1" }), size);
        self.c.next_line(x, self.y);
        self.c.show(Str(&ansi(s)));
        self.c.end_text();
    }

    fn line(&mut self, size: f32, bold: bool, s: &str) {
        for l in wrap(s, (900.0 / size) as usize) {
            self.text_at(LEFT, size, bold, &l);
            self.y -= size * 1.45;
        }
    }

    fn centred(&mut self, size: f32, bold: bool, s: &str) {
        // Helvetica averages about half an em per character.
        let w = s.chars().count() as f32 * size * 0.52;
        self.text_at(((A4.0 - w) / 2.0).max(LEFT), size, bold, s);
        self.y -= size * 1.45;
    }

    fn pair(&mut self, size: f32, label: &str, value: &str) {
        let lines = wrap(value, 60);
        self.text_at(LEFT + 20.0, size, false, label);
        self.text_at(LEFT + 170.0, size, false, ":");
        for l in lines {
            self.text_at(LEFT + 180.0, size, false, &l);
            self.y -= size * 1.45;
        }
    }

    fn rule(&mut self) {
        self.c.set_line_width(1.5);
        self.c.move_to(LEFT, self.y + 6.0);
        self.c.line_to(A4.0 - LEFT, self.y + 6.0);
        self.c.stroke();
        self.y -= 14.0;
    }

    fn gap(&mut self, h: f32) {
        self.y -= h;
    }
}

/// A one-page PDF of `page`.
fn finish(page: Page, title: &str) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let (catalog, tree, page_id, f1, f2, content, info) =
        (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5), Ref::new(6), Ref::new(7));
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page_id]).count(1);
    let mut p = pdf.page(page_id);
    p.media_box(Rect::new(0.0, 0.0, A4.0, A4.1));
    p.parent(tree);
    p.contents(content);
    {
        let mut res = p.resources();
        let mut fonts = res.fonts();
        fonts.pair(Name(b"F1"), f1);
        fonts.pair(Name(b"F2"), f2);
    }
    p.finish();
    pdf.type1_font(f1).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(f2).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info).title(pdf_writer::TextStr(title)).producer(pdf_writer::TextStr("Jemput hub"));
    pdf.stream(content, &page.c.finish());
    pdf.finish()
}

fn letterhead(p: &mut Page, l: &Letter) {
    let [government, kecamatan, kelurahan, contact] = l.letterhead();
    p.centred(13.0, true, &government);
    p.centred(13.0, true, &kecamatan);
    p.centred(15.0, true, &kelurahan);
    p.centred(9.0, false, &contact);
    p.rule();
}

/// The letter (surat pengantar) as a PDF.
pub fn letter(l: &Letter) -> Vec<u8> {
    let mut p = Page::new();
    letterhead(&mut p, l);
    p.gap(6.0);
    p.centred(13.0, true, "SURAT PENGANTAR");
    p.centred(11.0, false, &l.number());
    p.gap(12.0);
    p.line(11.0, false, &l.opening());
    p.gap(6.0);
    for (k, v) in l.lines() {
        p.pair(11.0, k, &v);
    }
    p.gap(8.0);
    p.line(11.0, false, CLOSING);
    p.gap(24.0);
    let x = A4.0 - 250.0;
    for (i, s) in l.signed().iter().enumerate() {
        p.text_at(x, 11.0, i == 1, s);
        p.y -= 16.0;
    }
    p.y -= 60.0;
    p.text_at(x, 11.0, true, &l.s.signer_name);
    if !l.s.signer_nip.is_empty() {
        p.y -= 16.0;
        p.text_at(x, 11.0, false, &format!("NIP. {}", l.s.signer_nip));
    }
    finish(p, &format!("Surat pengantar {}", l.r.receipt))
}

/// The receipt as a PDF.
pub fn receipt(l: &Letter) -> Vec<u8> {
    let mut p = Page::new();
    letterhead(&mut p, l);
    p.centred(13.0, true, "TANDA TERIMA PERMOHONAN");
    p.gap(8.0);
    for (k, v) in l.receipt_lines() {
        p.pair(11.0, k, &v);
    }
    p.gap(10.0);
    p.line(9.0, false, RECEIPT_NOTE);
    finish(p, &format!("Tanda terima {}", l.r.receipt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_words_and_width() {
        let l = wrap("satu dua tiga empat lima enam", 10);
        assert!(l.iter().all(|x| x.chars().count() <= 10), "{l:?}");
        assert_eq!(l.join(" "), "satu dua tiga empat lima enam");
    }

    #[test]
    fn ansi_maps_dashes_and_replaces_the_rest() {
        assert_eq!(ansi("a–b"), vec![b'a', 0x96, b'b']);
        assert_eq!(ansi("é"), vec![0xe9]);
        assert_eq!(ansi("漢"), vec![b'?']);
    }
}
