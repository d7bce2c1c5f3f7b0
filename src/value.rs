//! The result tree of one user: the nested, ordered dictionaries that
//! bandicoot returns from `utils.all`, kept in emission order so that the
//! JSON and CSV writers reproduce the reference's key order.

use std::sync::Arc;

/// A key of a map: shared, since every user's tree repeats the same keys
/// and copying a tree should not copy them.
pub type Key = Arc<str>;

/// A node of a user's result tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    /// Ordered keys: insertion order is output order.
    Map(Vec<(Key, Value)>),
}

impl Value {
    /// An empty map, to be filled with [`Value::push`].
    pub fn map() -> Value {
        Value::Map(Vec::new())
    }

    /// Appends `key` to a map; panics on a non-map, which is a programming error.
    pub fn push(&mut self, key: impl Into<Key>, value: Value) {
        match self {
            Value::Map(entries) => entries.push((key.into(), value)),
            other => panic!("push on a non-map value {other:?}"),
        }
    }

    /// The child map under `key`, created at the end when missing.
    pub fn child(&mut self, key: &str) -> &mut Value {
        let Value::Map(entries) = self else {
            panic!("child on a non-map value");
        };
        let at = match entries.iter().position(|(k, _)| &**k == key) {
            Some(i) => i,
            None => {
                entries.push((key.into(), Value::map()));
                entries.len() - 1
            }
        };
        &mut entries[at].1
    }

    /// An optional float: `None` becomes `Null`.
    pub fn opt_f64(v: Option<f64>) -> Value {
        v.map_or(Value::Null, Value::Float)
    }
}

/// Root entries whose shape many users' trees share, as the indicators
/// do: their keys and nesting with null leaves, held once, while each
/// user holds only the leaf values (see [`UserTree`]).
#[derive(Debug, PartialEq)]
pub struct Block {
    entries: Vec<(Key, Value)>,
    leaves: usize,
}

impl Block {
    /// The block of `entries`, whose leaves (values that are not maps) only
    /// mark where each user's values go.
    pub fn new(entries: Vec<(Key, Value)>) -> Block {
        fn count(entries: &[(Key, Value)]) -> usize {
            entries
                .iter()
                .map(|(_, value)| match value {
                    Value::Map(children) => count(children),
                    _ => 1,
                })
                .sum()
        }
        let leaves = count(&entries);
        Block { entries, leaves }
    }

    /// How many leaves the entries hold.
    pub fn leaves(&self) -> usize {
        self.leaves
    }

    /// The entries with `values` as their leaves, in tree order.
    pub fn with_values(&self, values: &[Value]) -> Vec<(Key, Value)> {
        fn fill(entries: &[(Key, Value)], values: &mut std::slice::Iter<'_, Value>) -> Vec<(Key, Value)> {
            entries
                .iter()
                .map(|(key, value)| {
                    let value = match value {
                        Value::Map(children) => Value::Map(fill(children, values)),
                        _ => values.next().expect("a value for every leaf").clone(),
                    };
                    (key.clone(), value)
                })
                .collect()
        }
        assert_eq!(values.len(), self.leaves, "values of another block");
        fill(&self.entries, &mut values.iter())
    }
}

/// A user's result tree whose bulk, a [`Block`] of root entries, is kept as
/// leaf values: building and dropping thousands of nodes per user would
/// cost more than writing the files.
#[derive(Debug, Clone)]
pub struct UserTree {
    /// The root map without the block's entries.
    pub root: Value,
    /// The block's entries sit before root entry `at` (after all of them
    /// when `at` is the root's length): an entry inserted at `at` or later
    /// comes after the block.
    pub at: usize,
    pub block: Arc<Block>,
    /// The block's leaf values, in tree order.
    pub values: Vec<Value>,
}

impl UserTree {
    /// The whole tree, block entries in place.
    pub fn to_value(&self) -> Value {
        let Value::Map(entries) = &self.root else {
            panic!("a user tree's root is a map");
        };
        let mut all = Vec::with_capacity(entries.len() + self.block.entries.len());
        all.extend_from_slice(&entries[..self.at]);
        all.extend(self.block.with_values(&self.values));
        all.extend_from_slice(&entries[self.at..]);
        Value::Map(all)
    }
}

/// Shorthands for writing result trees in tests.
#[cfg(test)]
pub mod test_trees {
    use super::Value;

    pub fn map(entries: Vec<(&str, Value)>) -> Value {
        Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn text(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}
