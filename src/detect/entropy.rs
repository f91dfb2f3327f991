//! Shannon entropy of a byte string, in bits per byte: the cheap test that separates random
//! key material from words, repeated characters and most placeholders.

/// Shannon entropy of `bytes` in bits per byte (0 for an empty input).
pub(crate) fn shannon(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let n = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::shannon;

    #[test]
    fn entropy_table() {
        let cases: &[(&[u8], f64)] = &[
            (b"", 0.0),
            (b"aaaaaaaa", 0.0),
            (b"abababab", 1.0),
            (b"abcd", 2.0),
            (b"0123456789abcdef", 4.0),
        ];
        for (input, want) in cases {
            let got = shannon(input);
            assert!(
                (got - want).abs() < 1e-9,
                "{input:?}: got {got}, want {want}"
            );
        }
    }
}
