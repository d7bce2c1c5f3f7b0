//! The result tree of one user: the nested, ordered dictionaries that
//! bandicoot returns from `utils.all`, kept in emission order so that the
//! JSON and CSV writers reproduce the reference's key order.

/// A key of a map: shared, since every user's tree repeats the same keys
/// and copying a tree should not copy them.
pub type Key = std::sync::Arc<str>;

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

    /// The positions of the keys of `path`, level by level.
    pub fn index_path(&self, path: &[String]) -> Option<Vec<usize>> {
        let mut node = self;
        let mut out = Vec::with_capacity(path.len());
        for key in path {
            let Value::Map(entries) = node else {
                return None;
            };
            let i = entries.iter().position(|(k, _)| **k == **key)?;
            out.push(i);
            node = &entries[i].1;
        }
        Some(out)
    }

    /// The node at positions from [`Value::index_path`]; panics off the tree.
    pub fn at_mut(&mut self, at: &[usize]) -> &mut Value {
        at.iter().fold(self, |node, &i| match node {
            Value::Map(entries) => &mut entries[i].1,
            other => panic!("index into a non-map value {other:?}"),
        })
    }

    /// An optional float: `None` becomes `Null`.
    pub fn opt_f64(v: Option<f64>) -> Value {
        v.map_or(Value::Null, Value::Float)
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
