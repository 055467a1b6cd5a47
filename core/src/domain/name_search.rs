//! How a person's name is searched without keeping it in clear (ADR 0001): the name is cut into
//! words and each word into its prefixes; the phone's store and the hub's office index keep a
//! blind tag of every prefix, and a search looks up the tag of each word typed. So "wahy" finds
//! "Sri Wahyuni" on the phone and on the dashboard alike, and neither keeps a name in clear.

/// Shortest name prefix that is indexed and searchable.
pub const MIN_PREFIX: usize = 2;
/// Longest name prefix that is indexed (longer query words are cut to this).
pub const MAX_PREFIX: usize = 12;

/// Lower-cased words of a name, letters and digits only ("Abd. Rahman-Hakim" → abd, rahman,
/// hakim).
pub fn words(name: &str) -> impl Iterator<Item = String> + '_ {
    name.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|w| w.to_lowercase())
}

/// Every prefix ([`MIN_PREFIX`] to [`MAX_PREFIX`] characters) of every word of `name`, each
/// once, in order: what an index keeps a tag of.
pub fn prefixes(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in words(name) {
        let chars: Vec<char> = w.chars().collect();
        for n in MIN_PREFIX..=chars.len().min(MAX_PREFIX) {
            let p: String = chars[..n].iter().collect();
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// The prefixes to look up for a typed search: each word cut to [`MAX_PREFIX`] characters;
/// words shorter than [`MIN_PREFIX`] are left out (they would match nearly everyone). Empty
/// when nothing searchable was typed.
pub fn query_terms(text: &str) -> Vec<String> {
    words(text).map(|w| w.chars().take(MAX_PREFIX).collect::<String>()).filter(|p| p.chars().count() >= MIN_PREFIX).collect()
}

/// Characters of each word in a word pair's key ([`pair_keys`]).
pub const PAIR_PREFIX: usize = 3;

fn pair_key(a: &str, b: &str) -> String {
    let (a, b): (String, String) = (a.chars().take(PAIR_PREFIX).collect(), b.chars().take(PAIR_PREFIX).collect());
    if a <= b {
        format!("{a} {b}")
    } else {
        format!("{b} {a}")
    }
}

/// The keys of every pair of two different words of `name` that have at least [`PAIR_PREFIX`]
/// characters: the two words' first [`PAIR_PREFIX`] characters, in alphabetical order ("Siti
/// Aminah Lestari" → "ami sit", "les sit", "ami les"). An index keeps a tag of each, so a search
/// of two words starts from the names holding both, however rare the pair, instead of every
/// name with its first word (benchmark scenario 13).
pub fn pair_keys(name: &str) -> Vec<String> {
    let long: Vec<String> = words(name).filter(|w| w.chars().count() >= PAIR_PREFIX).collect();
    let mut out: Vec<String> = Vec::new();
    for (i, a) in long.iter().enumerate() {
        for b in &long[i + 1..] {
            let k = pair_key(a, b);
            if !out.contains(&k) {
                out.push(k);
            }
        }
    }
    out
}

/// The terms of a typed search that say something: a term that begins another term is left out
/// (a word that starts with the longer one starts with it too), and so are repeats. Any two
/// terms left must then match two different words of a name.
pub fn distinct_terms(terms: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, t) in terms.iter().enumerate() {
        let implied = terms.iter().enumerate().any(|(j, u)| j != i && u.starts_with(t.as_str()) && (u != t || j < i));
        if !implied {
            out.push(t.clone());
        }
    }
    out
}

/// The word pair key ([`pair_keys`]) a search of `terms` (from [`distinct_terms`]) can start from:
/// that of its first two terms of at least [`PAIR_PREFIX`] characters; none when it has fewer.
pub fn query_pair(terms: &[String]) -> Option<String> {
    let mut long = terms.iter().filter(|t| t.chars().count() >= PAIR_PREFIX);
    Some(pair_key(long.next()?, long.next()?))
}

/// Whether a name holding the word pair `pair` (from [`query_pair`]) is known to match `term` as
/// well: a term of exactly [`PAIR_PREFIX`] characters that is one of the pair's two halves begins
/// a word of every name holding the pair, so a search need not look it up again ("siti ami":
/// only "siti" is checked, not "ami").
pub fn pair_implies(pair: &str, term: &str) -> bool {
    term.chars().count() == PAIR_PREFIX && pair.split(' ').any(|half| half == term)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_pairs_cover_every_search_of_two_different_words() {
        assert_eq!(pair_keys("Siti Aminah Lestari"), ["ami sit", "les sit", "ami les"]);
        assert_eq!(pair_keys("Ni Ketut Ayu"), ["ayu ket"]);
        assert!(pair_keys("Budi").is_empty());
        let t = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(distinct_terms(&t(&["sit", "siti", "ami", "siti"])), ["siti", "ami"]);
        assert_eq!(query_pair(&distinct_terms(&t(&["siti", "ami"]))).as_deref(), Some("ami sit"));
        assert_eq!(query_pair(&distinct_terms(&t(&["ami", "siti"]))).as_deref(), Some("ami sit"));
        assert_eq!(query_pair(&distinct_terms(&t(&["si", "ami"]))), None, "a two-letter term has no pair key");
        assert_eq!(query_pair(&distinct_terms(&t(&["siti", "sit"]))), None, "one word, really");
        assert!(pair_implies("ami sit", "ami") && pair_implies("ami sit", "sit"));
        assert!(!pair_implies("ami sit", "siti") && !pair_implies("ami sit", "am") && !pair_implies("ami sit", "les"));
        // Whenever a name matches a search (each term begins some word of it), the search's
        // pair key, if it has one, is among the name's.
        let names = ["Siti Aminah", "Siti Situmorang", "Ahmad Fauzi Ahmad", "Ni Ketut Ayu Oktaviani", "Ọlá Ìbàdàn Olá"];
        let queries = [
            "siti ami",
            "situ siti",
            "ami siti",
            "ahm fau",
            "ahmad ahmad",
            "ket okt ayu",
            "ọlá ìbà",
            "sit situ",
            "olá ọlá",
            "sit ami",
            "sitx ami",
        ];
        for name in names {
            let ws: Vec<String> = words(name).collect();
            for q in queries {
                let terms = distinct_terms(&query_terms(q));
                let matches = terms.iter().all(|t| ws.iter().any(|w| w.starts_with(t.as_str())));
                if let (true, Some(k)) = (matches, query_pair(&terms)) {
                    assert!(pair_keys(name).contains(&k), "{name} matches {q:?} but lacks its pair {k}");
                }
                // A term the pair implies begins a word of every name holding the pair.
                if let Some(k) = query_pair(&terms).filter(|k| pair_keys(name).contains(k)) {
                    for t in terms.iter().filter(|t| pair_implies(&k, t)) {
                        assert!(ws.iter().any(|w| w.starts_with(t.as_str())), "{name} holds {k} but no word begins with {t}");
                    }
                }
            }
        }
    }

    #[test]
    fn every_prefix_of_every_word_and_queries_cut_the_same_way() {
        assert_eq!(prefixes("Sri Wahyuni"), ["sr", "sri", "wa", "wah", "wahy", "wahyu", "wahyun", "wahyuni"]);
        assert_eq!(prefixes("Abd. Rahman-Rahmat"), ["ab", "abd", "ra", "rah", "rahm", "rahma", "rahman", "rahmat"]);
        assert_eq!(prefixes("Ni Ketut Ayu Oktaviantinirmala").last().unwrap().chars().count(), MAX_PREFIX);
        assert_eq!(query_terms("  wahyu  S "), ["wahyu"]);
        assert_eq!(query_terms("Oktaviantinirmalasari"), ["oktaviantini"]);
        assert!(query_terms("a . -").is_empty());
        // Whatever is typed of a word (from two letters on) is among the word's prefixes.
        for name in ["Siti Aminah", "BUDI santoso", "Ni Ketut Ayu Oktaviantinirmala", "Ọlá Ìbàdàn"] {
            let indexed = prefixes(name);
            for w in words(name) {
                for n in MIN_PREFIX..=w.chars().count() {
                    let typed: String = w.chars().take(n).collect();
                    for t in query_terms(&typed.to_uppercase()) {
                        assert!(indexed.contains(&t), "{name}: {typed} → {t}");
                    }
                }
            }
        }
    }
}
