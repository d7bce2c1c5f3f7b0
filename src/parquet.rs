//! Parquet files of frames: the summary table and the journal's shards.
//!
//! For each column of floats, Polars' writer first estimates how many
//! distinct values it holds (a HyperLogLog sketch), to choose a dictionary,
//! and then finds that it cannot make a dictionary of floats and writes
//! the column plainly. With both splits that is 1,500 columns and a few
//! per cent of the run, for nothing. Here float columns are written
//! plainly from the start and the others as Polars writes them: the files
//! are byte for byte the same.

use std::io::Write;

use anyhow::Result;
use polars::frame::chunk_df_for_writing;
use polars::prelude::*;
use polars_parquet::write::{
    get_dtype_encoding, CompressionOptions, Encoding, FileWriter, RowGroupIterator, StatisticsOptions,
    Version, WriteOptions,
};

/// The rows of a row group at most, as Polars' writer has them.
const ROW_GROUP_ROWS: usize = 512 * 512;

/// How a file is written: the summary for users, a shard for the journal.
#[derive(Clone, Copy)]
pub enum Purpose {
    /// Snappy-compressed pages with statistics, as readers expect.
    Published,
    /// Uncompressed, without statistics: read only to resume a run.
    Internal,
}

/// Writes `frame` as one Parquet file into `w`.
pub fn write(w: impl Write, frame: &mut DataFrame, purpose: Purpose) -> Result<()> {
    let (compression, statistics) = match purpose {
        Purpose::Published => (CompressionOptions::Snappy, StatisticsOptions::default()),
        Purpose::Internal => (CompressionOptions::Uncompressed, StatisticsOptions::empty()),
    };
    let options = WriteOptions { statistics, compression, version: Version::V1, data_page_size: None };

    // Row groups of the frame's chunks, put together up to Polars' size
    // (its writer's rule).
    let frame = chunk_df_for_writing(frame, ROW_GROUP_ROWS)?;
    let schema = frame.schema().to_arrow(CompatLevel::newest());
    let encodings: Vec<Vec<Encoding>> = schema
        .iter_values()
        .map(|field| match field.dtype {
            ArrowDataType::Float64 => vec![Encoding::Plain],
            ref other => get_dtype_encoding(other),
        })
        .collect();
    let batches: Vec<_> = frame.iter_chunks(CompatLevel::newest(), false).collect();
    let rows: Vec<u64> = batches.iter().map(|b| b.len() as u64).collect();
    let groups = RowGroupIterator::try_new(batches.into_iter().map(Ok), &schema, options, encodings.into())?;

    let mut writer = FileWriter::try_new(w, schema, options)?;
    for (rows, group) in rows.into_iter().zip(groups) {
        writer.write(rows, group?)?;
    }
    writer.end(None)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use polars_parquet::parquet::compression::Compression;
    use polars_parquet::read::read_metadata;

    use super::*;

    /// Columns of few distinct values, which Polars would put in
    /// dictionaries, with nulls and in two chunks.
    fn frame() -> DataFrame {
        let part = |from: usize| {
            let n = 200;
            df! {
                "user_id" => (from..from + n).map(|i| format!("u{i:05}")).collect::<Vec<_>>(),
                "x" => (0..n).map(|i| (i % 3 != 0).then_some(0.5 * (i % 4) as f64)).collect::<Vec<_>>(),
                "count" => (0..n).map(|i| Some((i % 5) as i64)).collect::<Vec<_>>(),
                "flag" => (0..n).map(|i| (i % 7 != 0).then_some(i % 2 == 0)).collect::<Vec<_>>(),
            }
            .unwrap()
        };
        let mut frame = part(0);
        frame.vstack_mut(&part(200)).unwrap();
        frame
    }

    /// Each column chunk's name, whether it has a dictionary, and its
    /// compression.
    fn chunks(bytes: &[u8]) -> Vec<(String, bool, Compression)> {
        let metadata = read_metadata(&mut Cursor::new(bytes)).unwrap();
        metadata
            .row_groups
            .iter()
            .flat_map(|g| g.parquet_columns())
            .map(|c| {
                let name = c.descriptor().path_in_schema[0].to_string();
                (name, c.dictionary_page_offset().is_some(), c.compression())
            })
            .collect()
    }

    /// The frame read back, and its [`chunks`].
    fn written(purpose: Purpose) -> (DataFrame, Vec<(String, bool, Compression)>) {
        let mut bytes = Vec::new();
        write(&mut bytes, &mut frame(), purpose).unwrap();
        let columns = chunks(&bytes);
        (ParquetReader::new(Cursor::new(bytes)).finish().unwrap(), columns)
    }

    /// The columns with a dictionary, in file order.
    fn dictionaries(columns: &[(String, bool, Compression)]) -> String {
        columns.iter().filter(|c| c.1).map(|c| c.0.as_str()).collect::<Vec<_>>().join(",")
    }

    #[test]
    fn floats_are_plain_and_the_rest_as_polars_writes_them() {
        let (back, columns) = written(Purpose::Published);
        assert!(back.equals_missing(&frame()));

        // The small chunks make one row group. Only count's few values are
        // in a dictionary, as Polars' writer has them: it tries one for x
        // too but cannot make one of floats, and never for distinct ids or
        // booleans.
        let mut bytes = Vec::new();
        ParquetWriter::new(&mut bytes)
            .with_compression(ParquetCompression::Snappy)
            .finish(&mut frame())
            .unwrap();
        assert_eq!(dictionaries(&chunks(&bytes)), "count");
        assert_eq!(dictionaries(&columns), "count");
        assert_eq!(columns.len(), 4);
        assert!(columns.iter().all(|(_, _, c)| *c == Compression::Snappy));
    }

    #[test]
    fn internal_files_are_uncompressed() {
        let (back, columns) = written(Purpose::Internal);
        assert!(back.equals_missing(&frame()));
        assert!(columns.iter().all(|(_, _, c)| *c == Compression::Uncompressed));
    }
}
