//! Escaped text around keyword hits: JSON `\uXXXX` and `\/` escapes and URL percent-encoding
//! (`%2D`, `%2B`, `%3D`). A key written as `sk\u002dproj\u002d...` (a .NET or HTML-safe JSON
//! encoder) or `...%2B...%3D` (a query string) is not found as it is written. The detector
//! decodes only the keyword windows that hold such an escape ([`regions`]), so text without
//! one costs a `memchr` over its windows and nothing more; [`decode`] keeps, for each decoded
//! byte, the offset it came from, so a finding points at the escaped text in the file.

/// Bytes added on each side of a window: the longest escape (a surrogate pair).
const MARGIN: usize = 12;

/// The windows (from the prefilter, per rule) that contain an escape, merged.
pub(crate) fn regions(windows: &[Vec<(usize, usize)>], bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &(start, end) in windows.iter().flatten() {
        if has_escape(&bytes[start..end]) {
            // A window may end inside an escape: take in a whole one on each side.
            out.push((
                start.saturating_sub(MARGIN),
                (end + MARGIN).min(bytes.len()),
            ));
        }
    }
    out.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(out.len());
    for (s, e) in out {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// Whether `bytes` holds a `\uXXXX`, `\/` or `%XX` escape.
fn has_escape(bytes: &[u8]) -> bool {
    memchr::memchr2_iter(b'\\', b'%', bytes).any(|i| escape_at(bytes, i).is_some())
}

/// The escape at `i`: its length and the bytes it stands for (UTF-8 for `\u`).
fn escape_at(bytes: &[u8], i: usize) -> Option<(usize, Vec<u8>)> {
    let rest = &bytes[i..];
    match rest {
        [b'\\', b'/', ..] => Some((2, vec![b'/'])),
        [b'\\', b'u', a, b, c, d, ..] => {
            let unit = hex4([*a, *b, *c, *d])?;
            // A surrogate pair is two escapes; one alone is not text.
            if (0xD800..0xDC00).contains(&unit) {
                if let [b'\\', b'u', a, b, c, d, ..] = rest.get(6..)? {
                    let low = hex4([*a, *b, *c, *d])?;
                    let c = char::decode_utf16([unit, low]).next()?.ok()?;
                    return Some((12, c.to_string().into_bytes()));
                }
                return None;
            }
            let c = char::from_u32(u32::from(unit))?;
            Some((6, c.to_string().into_bytes()))
        }
        [b'%', a, b, ..] => {
            let byte = (hex(*a)? << 4) | hex(*b)?;
            Some((3, vec![byte]))
        }
        _ => None,
    }
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn hex4(d: [u8; 4]) -> Option<u16> {
    d.iter()
        .try_fold(0u16, |acc, &b| Some(acc << 4 | u16::from(hex(b)?)))
}

/// `bytes[start..end]` with its escapes decoded, and for each decoded byte (plus one past the
/// end) the offset in `bytes` it came from.
pub(crate) fn decode(bytes: &[u8], start: usize, end: usize) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::with_capacity(end - start);
    let mut from = Vec::with_capacity(end - start + 1);
    let mut i = start;
    while i < end {
        if matches!(bytes[i], b'\\' | b'%') {
            if let Some((len, decoded)) = escape_at(&bytes[..end], i) {
                for b in decoded {
                    out.push(b);
                    from.push(i);
                }
                i += len;
                continue;
            }
        }
        out.push(bytes[i]);
        from.push(i);
        i += 1;
    }
    from.push(end);
    (out, from)
}

/// What to call the escapes in `bytes` (the original text of a match).
pub(crate) fn encoding_of(bytes: &[u8]) -> &'static str {
    let percent = memchr::memchr_iter(b'%', bytes).any(|i| escape_at(bytes, i).is_some());
    if percent {
        "percent-encoding"
    } else {
        "json-escape"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_decode_with_their_offsets() {
        let text = br"a\u002db%2Fc\/d";
        let (out, from) = decode(text, 0, text.len());
        assert_eq!(out, b"a-b/c/d");
        assert_eq!(from, vec![0, 1, 7, 8, 11, 12, 14, 15]);
        let pair = br"\ud83d\ude00";
        assert_eq!(decode(pair, 0, pair.len()).0, "😀".as_bytes());
    }

    #[test]
    fn text_without_escapes_is_left_alone() {
        for text in [
            &br"50% of \n lines, %zz, \u12"[..],
            b"100%",
            br"\ud800 alone",
        ] {
            let (out, _) = decode(text, 0, text.len());
            assert_eq!(out, text);
        }
        assert!(!has_escape(br"printf('%s\n', x); 100%"));
        assert!(has_escape(b"k=a%2Bb"));
        assert!(has_escape(br#""a\u002Bb""#));
    }

    #[test]
    fn regions_merge_windows_with_escapes() {
        let text = b"xx%2Dyy..........zz";
        let windows = vec![vec![(0, 6)], vec![(4, 9)], vec![(10, 19)]];
        assert_eq!(regions(&windows, text), vec![(0, 18)]);
        assert_eq!(encoding_of(b"a%2Db"), "percent-encoding");
        assert_eq!(encoding_of(br"a\u002db"), "json-escape");
    }
}
