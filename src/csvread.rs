//! A CSV reader for records files: the rows of a file's bytes as fields
//! borrowed from them, by the rules of Python's csv reader that bandicoot
//! uses (quoted fields may hold commas, doubled quotes and line breaks; CRLF
//! and LF line ends; empty lines skipped, but not lines of commas), plus:
//! missing trailing fields are empty and extra ones ignored.
//!
//! Only the columns asked for are kept, which spares building the others.

use std::borrow::Cow;

/// The asked columns of every row, with the line each row starts on.
pub struct Rows<'a> {
    /// For each asked column, its index in the header, if the header has it.
    pub found: Vec<Option<usize>>,
    /// One cell per asked column per row, row after row.
    cells: Vec<Cow<'a, str>>,
    /// The 1-based line each row starts on.
    pub lines: Vec<usize>,
}

impl<'a> Rows<'a> {
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The cell of asked column `column` in row `row`; empty when the header
    /// or the row lacks it.
    pub fn get(&self, row: usize, column: usize) -> &str {
        &self.cells[row * self.found.len() + column]
    }
}

/// Where a quoted field never closes: the byte offset of its quote.
#[derive(Debug, PartialEq, Eq)]
pub struct UnclosedQuote(pub usize);

/// Splits `text` (UTF-8, without byte-order mark) into rows and keeps the
/// `asked` columns (by header name, the first of equal names).
pub fn read<'a>(text: &'a str, asked: &[&str]) -> Result<(Vec<String>, Rows<'a>), UnclosedQuote> {
    let bytes = text.as_bytes();
    let mut at = 0;
    let mut line = 1;
    let mut fields: Vec<Cow<'a, str>> = Vec::new();

    // The header is the first row that is not blank.
    let mut header: Option<Vec<String>> = None;
    let mut rows = Rows { found: Vec::new(), cells: Vec::new(), lines: Vec::new() };
    let mut slot: Vec<Option<usize>> = Vec::new();
    while at < bytes.len() {
        let start_line = line;
        fields.clear();
        let blank = read_row(text, &mut at, &mut line, &mut fields)?;
        if blank {
            continue;
        }
        match &header {
            None => {
                let names: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
                rows.found = asked.iter().map(|a| names.iter().position(|n| n == a)).collect();
                // For each header column, the asked column it fills.
                slot = vec![None; names.len()];
                for (k, found) in rows.found.iter().enumerate() {
                    if let Some(i) = found {
                        slot[*i] = Some(k);
                    }
                }
                header = Some(names);
            }
            Some(_) => {
                let base = rows.cells.len();
                rows.cells.resize(base + asked.len(), Cow::Borrowed(""));
                for (field, s) in fields.drain(..).zip(&slot) {
                    if let Some(k) = s {
                        rows.cells[base + k] = field;
                    }
                }
                rows.lines.push(start_line);
            }
        }
    }
    Ok((header.unwrap_or_default(), rows))
}

/// Reads one row from `at`, advancing past its line end; returns whether
/// the row is blank: an empty line, which Python's csv reader skips (a line
/// of commas is a row of empty fields to it, and so a record to bandicoot).
fn read_row<'a>(
    text: &'a str,
    at: &mut usize,
    line: &mut usize,
    fields: &mut Vec<Cow<'a, str>>,
) -> Result<bool, UnclosedQuote> {
    let bytes = text.as_bytes();

    // Most lines have no quote: their fields are the text between commas.
    let rest = &bytes[*at..];
    let line_len = memchr::memchr2(b'\n', b'\r', rest).unwrap_or(rest.len());
    if memchr::memchr(b'"', &rest[..line_len]).is_none() {
        let (start, end) = (*at, *at + line_len);
        let mut from = start;
        for comma in memchr::memchr_iter(b',', &rest[..line_len]) {
            fields.push(Cow::Borrowed(&text[from..start + comma]));
            from = start + comma + 1;
        }
        fields.push(Cow::Borrowed(&text[from..end]));
        *at = end;
        match bytes.get(end) {
            Some(b'\r') => {
                *at += 1;
                if bytes.get(*at) == Some(&b'\n') {
                    *at += 1;
                }
                *line += 1;
            }
            Some(_) => {
                *at += 1;
                *line += 1;
            }
            None => {}
        }
        return Ok(line_len == 0);
    }

    let mut blank = true;
    loop {
        // One field.
        let start = *at;
        if bytes.get(start) == Some(&b'"') {
            blank = false;
            let mut owned: Option<String> = None;
            let mut i = start + 1;
            let mut piece = i;
            loop {
                match bytes.get(i) {
                    None => return Err(UnclosedQuote(start)),
                    Some(b'"') if bytes.get(i + 1) == Some(&b'"') => {
                        // A doubled quote is one quote in the text.
                        owned.get_or_insert_with(String::new).push_str(&text[piece..=i]);
                        i += 2;
                        piece = i;
                    }
                    Some(b'"') => break,
                    Some(b'\n') => {
                        *line += 1;
                        i += 1;
                    }
                    Some(_) => i += 1,
                }
            }
            let quoted = &text[piece..i];
            i += 1;
            // Text after the closing quote joins the field, as in Python.
            let rest_end = i + bytes[i..]
                .iter()
                .position(|&c| matches!(c, b',' | b'\n' | b'\r'))
                .unwrap_or(bytes.len() - i);
            let rest = &text[i..rest_end];
            let field = match (owned, rest.is_empty()) {
                (None, true) => Cow::Borrowed(quoted),
                (owned, _) => {
                    let mut s = owned.unwrap_or_default();
                    s.push_str(quoted);
                    s.push_str(rest);
                    Cow::Owned(s)
                }
            };
            fields.push(field);
            *at = rest_end;
        } else {
            let end = start
                + bytes[start..]
                    .iter()
                    .position(|&c| matches!(c, b',' | b'\n' | b'\r'))
                    .unwrap_or(bytes.len() - start);
            if end > start || bytes.get(end) == Some(&b',') {
                blank = false;
            }
            fields.push(Cow::Borrowed(&text[start..end]));
            *at = end;
        }

        // What ends the field: a comma, or the line.
        match bytes.get(*at) {
            Some(b',') => *at += 1,
            Some(b'\r') => {
                *at += 1;
                if bytes.get(*at) == Some(&b'\n') {
                    *at += 1;
                }
                *line += 1;
                return Ok(blank);
            }
            Some(b'\n') => {
                *at += 1;
                *line += 1;
                return Ok(blank);
            }
            _ => return Ok(blank),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(text: &str, asked: &[&str]) -> Vec<Vec<String>> {
        let (_, rows) = read(text, asked).unwrap();
        (0..rows.len()).map(|r| (0..asked.len()).map(|c| rows.get(r, c).to_string()).collect()).collect()
    }

    #[test]
    fn quotes_line_ends_and_blank_rows() {
        // The empty line goes; the line of commas is a row of empty fields,
        // as Python's csv reader gives it.
        let text = "a,b,c\r\n1,\"x,\"\"y\"\"\",3\r\n\r\n,,\n\"multi\nline\",2\n4,5,6,7";
        assert_eq!(
            cells(text, &["c", "a", "b"]),
            [["3", "1", "x,\"y\""], ["", "", ""], ["", "multi\nline", "2"], ["6", "4", "5"]]
        );
        let (header, rows) = read(text, &["b", "missing"]).unwrap();
        assert_eq!(header, ["a", "b", "c"]);
        assert_eq!(rows.found, [Some(1), None]);
        // Rows start on lines 2, 4, 5 and 7 (the quoted field spans two).
        assert_eq!(rows.lines, [2, 4, 5, 7]);
    }

    #[test]
    fn lines_without_quotes_end_at_any_line_end() {
        // Old Mac line ends, an empty line between them, no final line end.
        let (_, rows) = read("a,b\r1,2\r\r3,4", &["b", "a"]).unwrap();
        assert_eq!((rows.get(0, 0), rows.get(0, 1), rows.get(1, 0), rows.get(1, 1)), ("2", "1", "4", "3"));
        assert_eq!(rows.lines, [2, 4]);
        // A short row has empty cells; a long one loses its extra fields.
        assert_eq!(cells("a,b,c\n1\n1,2,3,4\n", &["c", "a"]), [["", "1"], ["3", "1"]]);
    }

    #[test]
    fn text_after_a_closing_quote_joins_the_field() {
        assert_eq!(cells("a,b\n\"x\"y,\"\"\n", &["a", "b"]), [["xy", ""]]);
        // A quoted empty field is not blank: the row stays.
        assert_eq!(cells("a\n\"\"\n", &["a"]), [[""]]);
    }

    #[test]
    fn an_unclosed_quote_is_located() {
        assert_eq!(read("a,b\n1,\"open\n2,3\n", &["a"]).err(), Some(UnclosedQuote(6)));
    }
}
