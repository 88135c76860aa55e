//! Positions in text files, shared by every file format reported as `file:line:col` (surveys,
//! area plans, boundary files), so none of them imports another's module for it.

/// 1-based line and character column of byte `offset` in `text` (for any file whose
/// problems are reported as `file:line:col`).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    // Step back to a char boundary so slicing never panics on odd spans.
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::line_col;

    #[test]
    fn lines_and_character_columns() {
        let text = "ab\nżółw = 1\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        // Columns count characters, not bytes: `=` is the 6th character of line 2.
        assert_eq!(line_col(text, text.find('=').unwrap()), (2, 6));
        // Past the end, or inside a character, never panics.
        assert_eq!(line_col(text, 1000), (3, 1));
        assert_eq!(line_col(text, 4), (2, 1));
    }
}
