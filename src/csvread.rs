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
    /// For each asked column the header has, its place among the cells of
    /// a row.
    place: Vec<Option<usize>>,
    text: &'a str,
    /// One cell per asked column that the header has, per row, row after
    /// row.
    cells: Vec<Cell>,
    /// The text of cells that are not a span of the file (quoted fields
    /// with doubled quotes or text after the closing quote).
    owned: Vec<String>,
    /// The 1-based line each row starts on.
    pub lines: Vec<usize>,
    cells_per_row: usize,
}

/// A cell: the bytes `start..end` of the text, or, when `start` is
/// [`OWNED`], the owned text number `end`. Offsets take 32 bits, which
/// halves the cells of a file (see [`read`]).
#[derive(Clone, Copy)]
struct Cell {
    start: u32,
    end: u32,
}

impl Cell {
    fn span(start: usize, end: usize) -> Cell {
        Cell { start: start as u32, end: end as u32 }
    }
}

const OWNED: u32 = u32::MAX;

/// The largest text [`read`] takes: its offsets must fit cells.
pub const MAX_TEXT: usize = u32::MAX as usize - 1;
const EMPTY: Cell = Cell { start: 0, end: 0 };

impl<'a> Rows<'a> {
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The cell of asked column `column` in row `row`; empty when the header
    /// or the row lacks it.
    #[inline]
    pub fn get(&self, row: usize, column: usize) -> &str {
        let Some(place) = self.place[column] else { return "" };
        let cell = self.cells[row * self.width() + place];
        match cell.start {
            OWNED => &self.owned[cell.end as usize],
            // SAFETY: a span of the text between separators, which are
            // ASCII bytes and so char boundaries (`read` made it), read
            // without checking its ends again for each of a file's cells.
            start => unsafe { self.text.get_unchecked(start as usize..cell.end as usize) },
        }
    }

    /// The cells of a row.
    fn width(&self) -> usize {
        self.cells_per_row
    }
}

/// Where a quoted field never closes: the byte offset of its quote.
#[derive(Debug, PartialEq, Eq)]
pub struct UnclosedQuote(pub usize);

/// Splits `text` (UTF-8, without byte-order mark) into rows and keeps the
/// `asked` columns (by header name, the first of equal names).
///
/// Panics on a text longer than [`MAX_TEXT`].
pub fn read<'a>(text: &'a str, asked: &[&str]) -> Result<(Vec<String>, Rows<'a>), UnclosedQuote> {
    assert!(text.len() <= MAX_TEXT, "a text of {} bytes is longer than cells can locate", text.len());
    let bytes = text.as_bytes();
    let mut at = 0;
    let mut line = 1;
    let mut fields: Vec<Cow<'a, str>> = Vec::new();

    // The header is the first row that is not blank.
    let mut header: Option<Vec<String>> = None;
    while header.is_none() && at < bytes.len() {
        fields.clear();
        if !read_row(text, &mut at, &mut line, &mut fields)? {
            header = Some(fields.iter().map(|f| f.to_string()).collect());
        }
    }
    let header = header.unwrap_or_default();
    let found: Vec<Option<usize>> = asked.iter().map(|a| header.iter().position(|n| n == a)).collect();
    // For each asked column the header has, its cell in a row; for each
    // header column, the cell it fills.
    let mut place = vec![None; asked.len()];
    let mut slot = vec![None; header.len()];
    let mut width = 0;
    for (k, found) in found.iter().enumerate() {
        if let Some(i) = found {
            place[k] = Some(width);
            slot[*i] = Some(width);
            width += 1;
        }
    }

    // One row per line at most: sized once rather than grown by doubling.
    let lines_left = count_newlines(&bytes[at..]) + 1;
    let mut rows = Rows {
        found,
        place,
        text,
        cells: Vec::with_capacity(lines_left * width),
        owned: Vec::new(),
        lines: Vec::with_capacity(lines_left),
        cells_per_row: width,
    };
    // Most files hold neither quotes nor carriage returns: their rows are
    // split at the commas and line feeds a vectorised search finds.
    if memchr::memchr2(b'"', b'\r', &bytes[at..]).is_none() {
        plain_rows(bytes, at, line, &slot, &mut rows);
        return Ok((header, rows));
    }
    while at < bytes.len() {
        let start_line = line;
        let base = rows.cells.len();
        rows.cells.resize(base + width, EMPTY);
        let blank = match plain_row(bytes, &mut at, &mut line, &slot, &mut rows.cells[base..]) {
            Some(blank) => blank,
            // A line with a quote: read again by the full rules.
            None => {
                rows.cells[base..].fill(EMPTY);
                fields.clear();
                let blank = read_row(text, &mut at, &mut line, &mut fields)?;
                for (field, s) in fields.drain(..).zip(&slot) {
                    let Some(k) = s else { continue };
                    rows.cells[base + k] = match field {
                        Cow::Borrowed(b) => {
                            let start = b.as_ptr() as usize - text.as_ptr() as usize;
                            Cell::span(start, start + b.len())
                        }
                        Cow::Owned(o) => {
                            rows.owned.push(o);
                            Cell { start: OWNED, end: rows.owned.len() as u32 - 1 }
                        }
                    };
                }
                blank
            }
        };
        match blank {
            true => rows.cells.truncate(base),
            false => rows.lines.push(start_line),
        }
    }
    Ok((header, rows))
}

/// The line feeds in `bytes`, counted in blocks small enough for byte-wide
/// counters, which the compiler turns into wide compares.
fn count_newlines(bytes: &[u8]) -> usize {
    bytes.chunks(255).map(|block| block.iter().map(|&b| u8::from(b == b'\n')).sum::<u8>() as usize).sum()
}

/// The bytes a plain row stops at: field and line ends, and quotes.
static SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut k = 0;
    let specials = *b",\"\n\r";
    while k < specials.len() {
        table[specials[k] as usize] = true;
        k += 1;
    }
    table
};

/// Reads every row from `at`, where the text holds no quote and no
/// carriage return, into `rows` (by `slot`, the cell of each
/// field), as [`plain_row`] would one by one.
fn plain_rows(bytes: &[u8], at: usize, mut line: usize, slot: &[Option<usize>], rows: &mut Rows) {
    let asked = rows.cells_per_row;
    let (mut row_start, mut from, mut field) = (at, at, 0);
    let mut base = rows.cells.len();
    rows.cells.resize(base + asked, EMPTY);
    for i in Separators::new(bytes, at).chain([bytes.len()]) {
        let cell = Cell::span(from, i);
        if bytes.get(i) == Some(&b',') {
            if let Some(Some(k)) = slot.get(field) {
                rows.cells[base + *k] = cell;
            }
            field += 1;
            from = i + 1;
            continue;
        }

        // The end of a line, or of the text.
        if i == row_start {
            // An empty line, or nothing after the last line feed.
            rows.cells.truncate(base);
        } else {
            if let Some(Some(k)) = slot.get(field) {
                rows.cells[base + *k] = cell;
            }
            rows.lines.push(line);
        }
        if i == bytes.len() {
            break;
        }
        line += 1;
        (row_start, from, field) = (i + 1, i + 1, 0);
        base = rows.cells.len();
        rows.cells.resize(base + asked, EMPTY);
    }
}

/// The positions of the commas and line feeds of `bytes` from a start,
/// found eight bytes at a time: rows are short, so separators come every
/// few bytes, too often for a search that starts again after each.
struct Separators<'a> {
    bytes: &'a [u8],
    /// The start of the next word to look at.
    next: usize,
    /// The word before `next`, as a bit (the top one) per separator byte.
    found: u64,
}

impl<'a> Separators<'a> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const LOW7: u64 = u64::from_ne_bytes([0x7f; 8]);

    fn new(bytes: &'a [u8], from: usize) -> Separators<'a> {
        Separators { bytes, next: from, found: 0 }
    }

    /// The top bit of each byte of `word` that is zero, exactly (no
    /// borrow crosses bytes).
    fn zero_bytes(word: u64) -> u64 {
        !(((word & Self::LOW7).wrapping_add(Self::LOW7)) | word | Self::LOW7)
    }
}

impl Iterator for Separators<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        loop {
            if self.found != 0 {
                let byte = self.found.trailing_zeros() as usize / 8;
                self.found &= self.found - 1;
                return Some(self.next - 8 + byte);
            }
            match self.bytes.get(self.next..self.next + 8) {
                Some(word) => {
                    let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
                    self.found = Self::zero_bytes(word ^ (Self::ONES * b',' as u64))
                        | Self::zero_bytes(word ^ (Self::ONES * b'\n' as u64));
                    self.next += 8;
                }
                // Fewer than eight bytes left: one at a time.
                None => {
                    let at = self.bytes.get(self.next..)?.iter().position(|&b| b == b',' || b == b'\n')?;
                    self.next += at + 1;
                    return Some(self.next - 1);
                }
            }
        }
    }
}

/// Reads one row without quotes from `at` into `cells` (by `slot`, the
/// cell of each field), advancing past its line end; returns
/// whether the row is blank, or `None`, without advancing, at a quote.
fn plain_row(
    bytes: &[u8],
    at: &mut usize,
    line: &mut usize,
    slot: &[Option<usize>],
    cells: &mut [Cell],
) -> Option<bool> {
    let start = *at;
    let (mut from, mut field) = (start, 0);
    let mut i = start;
    loop {
        // Ordinary bytes are most of a row: skip them by table.
        while i < bytes.len() && !SPECIAL[bytes[i] as usize] {
            i += 1;
        }
        match bytes.get(i) {
            Some(b',') => {
                if let Some(Some(k)) = slot.get(field) {
                    cells[*k] = Cell::span(from, i);
                }
                field += 1;
                from = i + 1;
            }
            Some(b'"') => return None,
            Some(b'\n' | b'\r') | None => break,
            Some(_) => unreachable!("bytes that are not SPECIAL were skipped"),
        }
        i += 1;
    }
    if let Some(Some(k)) = slot.get(field) {
        cells[*k] = Cell::span(from, i);
    }

    *at = i;
    match bytes.get(i) {
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
    Some(i == start)
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
    fn newlines_are_counted_across_blocks() {
        // Blocks of 255 bytes: runs of line feeds longer than a block, and
        // none at all, give the plain count.
        for text in ["".to_string(), "\n".repeat(1000), "ab\ncd\r\n".repeat(300), "x".repeat(600)] {
            let plain = text.bytes().filter(|&b| b == b'\n').count();
            assert_eq!(count_newlines(text.as_bytes()), plain);
        }
        assert_eq!(count_newlines(&[b'\n'; 255]), 255);
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
    fn files_without_quotes_split_at_commas_and_line_feeds() {
        // Texts of fields, commas and line feeds (empty lines, lines of
        // commas, short and long rows, with and without a final line
        // feed), against splitting them by hand.
        let mut seed = 7u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for _ in 0..500 {
            let body: String =
                (0..next() % 40).map(|_| ["a", "bc", "1", ",", "\n", "\n\n"][next() % 6]).collect();
            let text = format!("x,y,z\n{body}");
            let (_, rows) = read(&text, &["z", "x", "w"]).unwrap();

            let mut expected = Vec::new();
            let mut lines = Vec::new();
            for (n, line) in body.split('\n').enumerate() {
                if !line.is_empty() {
                    let fields: Vec<&str> = line.split(',').collect();
                    let at = |k: usize| fields.get(k).copied().unwrap_or("").to_string();
                    expected.push([at(2), at(0), String::new()]);
                    lines.push(n + 2);
                }
            }
            let got: Vec<[String; 3]> =
                (0..rows.len()).map(|r| [0, 1, 2].map(|c| rows.get(r, c).to_string())).collect();
            assert_eq!((got, &rows.lines), (expected, &lines), "{text:?}");
        }
    }

    #[test]
    fn separators_are_found_in_words_and_in_the_tail() {
        let text = b"ab,\n,,cdefgh,ijklmnopq\nr,";
        let expected: Vec<usize> = (0..text.len()).filter(|&i| matches!(text[i], b',' | b'\n')).collect();
        for from in 0..text.len() {
            let found: Vec<usize> = Separators::new(text, from).collect();
            assert_eq!(found, expected.iter().copied().filter(|&i| i >= from).collect::<Vec<_>>());
        }
        // Bytes that differ from a separator by one bit are not separators.
        let near: Vec<u8> = [b',', b'\n'].iter().flat_map(|&b| (0..8).map(move |k| b ^ (1 << k))).collect();
        assert_eq!(Separators::new(&near, 0).count(), 0);
    }

    #[test]
    fn an_unclosed_quote_is_located() {
        assert_eq!(read("a,b\n1,\"open\n2,3\n", &["a"]).err(), Some(UnclosedQuote(6)));
    }
}
