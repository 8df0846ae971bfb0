//! The language of the shell page: the `rr_lang` cookie (which the dashboard sets when the
//! user picks a language), else the best of `Accept-Language` among the languages the
//! dashboard speaks, else English. The result is always one of [`LANGUAGES`], so it can be
//! written into the page as it is.

/// The dashboard's languages; the first is the default.
pub const LANGUAGES: [&str; 3] = ["en", "es", "fr"];

/// The cookie that remembers the user's choice (readable by scripts: it is no secret).
pub const LANG_COOKIE: &str = "rr_lang";

fn known(tag: &str) -> Option<&'static str> {
    let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
    LANGUAGES
        .iter()
        .copied()
        .find(|language| language.eq_ignore_ascii_case(primary))
}

/// The best language of an `Accept-Language` value: the highest `q` (1 when absent), the first
/// listed among equals; `q=0` excludes a language; `*` stands for the default.
pub fn from_accept_language(header: &str) -> Option<&'static str> {
    let mut best: Option<(&'static str, f32)> = None;
    for item in header.split(',').take(32) {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let q = parts
            .filter_map(|param| param.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let language = if tag == "*" { Some(LANGUAGES[0]) } else { known(tag) };
        if let Some(language) = language.filter(|_| q > 0.0)
            && best.is_none_or(|(_, best_q)| q > best_q)
        {
            best = Some((language, q));
        }
    }
    best.map(|(language, _)| language)
}

/// The page's language from the `rr_lang` cookie and the `Accept-Language` header.
pub fn negotiate(cookie: Option<&str>, accept_language: Option<&str>) -> &'static str {
    cookie
        .and_then(known)
        .or_else(|| accept_language.and_then(from_accept_language))
        .unwrap_or(LANGUAGES[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_wins_then_q_values_then_english() {
        assert_eq!(negotiate(Some("fr"), Some("es")), "fr");
        assert_eq!(negotiate(Some("de"), Some("es-MX,en;q=0.5")), "es");
        assert_eq!(negotiate(None, Some("de-DE, fr;q=0.7, es;q=0.9")), "es");
        assert_eq!(negotiate(None, Some("es;q=0, fr;q=0.1")), "fr");
        assert_eq!(negotiate(None, Some("de, ja")), "en");
        assert_eq!(negotiate(None, Some("FR-ca")), "fr");
        assert_eq!(negotiate(None, Some("<script>")), "en");
        assert_eq!(negotiate(None, None), "en");
    }
}
