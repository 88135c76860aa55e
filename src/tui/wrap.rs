//! How many rows a word-wrapped message takes, so layouts give messages the room they need
//! instead of cutting them off at the edge of an 80-column terminal.

use ratatui::text::Line;

/// Rows `text` takes when word-wrapped at `width` cells (as `Paragraph` with `Wrap` does,
/// closely enough to size a layout: words longer than a row are broken).
pub fn wrapped_height(text: &str, width: usize) -> usize {
    let width = width.max(1);
    text.lines()
        .map(|line| {
            let mut rows = 1;
            let mut col = 0;
            for word in line.split_whitespace() {
                let w = Line::from(word).width();
                if col > 0 && col + 1 + w > width {
                    rows += 1;
                    col = 0;
                }
                if col > 0 {
                    col += 1;
                }
                col += w;
                while col > width {
                    rows += 1;
                    col -= width;
                }
            }
            rows
        })
        .sum::<usize>()
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_rows_word_by_word() {
        assert_eq!(wrapped_height("", 10), 1);
        assert_eq!(wrapped_height("one two", 10), 1);
        assert_eq!(wrapped_height("one two three", 10), 2);
        assert_eq!(wrapped_height("abcdefghijklmnopqrstuvwxy", 10), 3);
        assert_eq!(wrapped_height("a\nb", 10), 2);
        assert_eq!(wrapped_height("łódź żółw", 4), 2);
    }
}
