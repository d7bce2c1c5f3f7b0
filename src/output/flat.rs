//! bandicoot's `utils.flatten` of a result tree: leaves keyed by their
//! `__`-joined path, as the per-user CSV and the journal's shards hold them.
//!
//! The keys depend only on the tree's shape (its keys and nesting), which
//! nearly every user of a run shares. A [`Layout`] holds the flattened keys
//! of one shape, built once and shared; a user's [`Flat`] is then just the
//! layout and the leaf values.
//!
//! A user's tree comes as a [`UserTree`], whose indicators are a shared
//! [`Block`] and leaf values: its layout is found by the shape of the few
//! other entries and the block's identity, and its values are copied
//! without walking the block's nodes.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use crate::output::csv::push_csv_row;
use crate::output::json::JsonShape;
use crate::value::{Block, Key, UserTree, Value};

/// The separator bandicoot's `flatten` puts between nested keys.
const KEY_SEPARATOR: &str = "__";

/// At most this many shapes are remembered: a run whose users all differ
/// (say, by their attribute keys) then costs a bounded search per user.
const MAX_REMEMBERED: usize = 32;

/// The flattened keys of every tree of one shape.
#[derive(Debug)]
pub struct Layout {
    /// The root's number of entries; None for a root that is not a map,
    /// which has no leaves.
    root_len: Option<usize>,
    /// Every map entry in pre-order: its key, and for a map value its
    /// number of entries (None for a leaf). For a user tree's layout, the
    /// block's entries are left out.
    shape: Vec<(Key, Option<usize>)>,
    /// For a user tree's layout: the root position of its block, and the
    /// block, kept so that its address is never another block's.
    block: Option<(usize, Arc<Block>)>,
    /// The flattened keys, in output order.
    keys: Vec<String>,
    /// For each leaf in tree order, the position of its key in `keys`.
    slots: Vec<usize>,
    /// The CSV header row of `keys`, line end included.
    csv_header: String,
    /// The JSON text of the shape, where the leaves in tree order are the
    /// values in key order: no key repeats and the root is a map.
    json_shape: Option<JsonShape>,
}

impl Layout {
    /// The layout of `tree`'s shape.
    ///
    /// Like Python's dict, a key produced twice keeps its first position and
    /// its last value. A nested empty map produces no key.
    pub fn new(tree: &Value) -> Layout {
        let mut layout = Layout {
            root_len: None,
            shape: Vec::new(),
            block: None,
            keys: Vec::new(),
            slots: Vec::new(),
            csv_header: String::new(),
            json_shape: None,
        };
        if let Value::Map(entries) = tree {
            layout.root_len = Some(entries.len());
            let mut position_of = HashMap::new();
            push_shape(entries, &mut layout.shape);
            layout.push_entries(entries, "", &mut position_of);
            if layout.slots.len() == layout.keys.len() {
                layout.json_shape = Some(JsonShape::new(tree));
            }
        }
        push_csv_row(&mut layout.csv_header, layout.keys.iter().map(|k| Some(k.as_str())));
        layout
    }

    fn push_entries(
        &mut self,
        entries: &[(Key, Value)],
        parent_key: &str,
        position_of: &mut HashMap<String, usize>,
    ) {
        for (key, value) in entries {
            // Python tests the parent key for truth, so an empty parent key
            // adds no separator.
            let path = if parent_key.is_empty() {
                key.to_string()
            } else {
                format!("{parent_key}{KEY_SEPARATOR}{key}")
            };

            if let Value::Map(children) = value {
                self.push_entries(children, &path, position_of);
                continue;
            }
            let slot = *position_of.entry(path).or_insert_with_key(|path| {
                self.keys.push(path.clone());
                self.keys.len() - 1
            });
            self.slots.push(slot);
        }
    }

    /// The layout of `user`'s whole tree, which tells users of its shape
    /// by the entries outside the block and the block's identity.
    pub fn of_user(user: &UserTree) -> Layout {
        let mut layout = Layout::new(&user.to_value());
        layout.shape.clear();
        let entries = user_root(user);
        push_shape(entries, &mut layout.shape);
        layout.root_len = Some(entries.len());
        layout.block = Some((user.at, Arc::clone(&user.block)));
        layout
    }

    /// Whether `user`'s tree has exactly this layout's shape.
    pub fn fits_user(&self, user: &UserTree) -> bool {
        let Some((at, block)) = &self.block else {
            return false;
        };
        let entries = user_root(user);
        *at == user.at
            && Arc::ptr_eq(block, &user.block)
            && self.root_len == Some(entries.len())
            && same_shape(entries, &self.shape, &mut 0)
    }

    /// The leaf values of `user`'s tree, which must fit this layout, in key
    /// order.
    pub fn user_values(&self, user: &UserTree) -> Vec<Value> {
        self.user_values_with(user, user.values.iter().cloned())
    }

    /// [`Layout::user_values`], the indicator values being `indicators`.
    fn user_values_with(&self, user: &UserTree, indicators: impl IntoIterator<Item = Value>) -> Vec<Value> {
        let mut values: Vec<Value> = std::iter::repeat_with(|| Value::Null).take(self.keys.len()).collect();
        let entries = user_root(user);
        let mut leaf = 0;
        self.fill(&entries[..user.at], &mut values, &mut leaf);
        for value in indicators {
            values[self.slots[leaf]] = value;
            leaf += 1;
        }
        self.fill(&entries[user.at..], &mut values, &mut leaf);
        values
    }

    /// Whether `tree` has exactly this layout's shape.
    pub fn fits(&self, tree: &Value) -> bool {
        if self.block.is_some() {
            return false;
        }
        match (tree, self.root_len) {
            (Value::Map(entries), Some(len)) => {
                entries.len() == len && same_shape(entries, &self.shape, &mut 0)
            }
            (Value::Map(_), None) | (_, Some(_)) => false,
            (_, None) => true,
        }
    }

    /// The flattened keys, in output order.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The CSV header row, `\r\n` included.
    pub fn csv_header(&self) -> &str {
        &self.csv_header
    }

    /// The JSON text of the shape, for [`Flat`] values; None where they are
    /// not the leaves (a repeated key, a root that is not a map).
    pub fn json_shape(&self) -> Option<&JsonShape> {
        self.json_shape.as_ref()
    }

    /// The leaf values of `tree`, which must fit this layout, in key order.
    pub fn values(&self, tree: &Value) -> Vec<Value> {
        let mut values: Vec<Value> = std::iter::repeat_with(|| Value::Null).take(self.keys.len()).collect();
        if let Value::Map(entries) = tree {
            let mut leaf = 0;
            self.fill(entries, &mut values, &mut leaf);
        }
        values
    }

    fn fill(&self, entries: &[(Key, Value)], values: &mut [Value], leaf: &mut usize) {
        for (_, value) in entries {
            if let Value::Map(children) = value {
                self.fill(children, values, leaf);
            } else {
                // Later duplicates overwrite: the last value wins.
                values[self.slots[*leaf]] = value.clone();
                *leaf += 1;
            }
        }
    }
}

/// The root entries of a user tree.
fn user_root(user: &UserTree) -> &[(Key, Value)] {
    match &user.root {
        Value::Map(entries) => entries,
        other => panic!("a user tree's root is a map, not {other:?}"),
    }
}

/// Appends every map entry of `entries` in pre-order: its key, and for a
/// map value its number of entries.
fn push_shape(entries: &[(Key, Value)], shape: &mut Vec<(Key, Option<usize>)>) {
    for (key, value) in entries {
        match value {
            Value::Map(children) => {
                shape.push((key.clone(), Some(children.len())));
                push_shape(children, shape);
            }
            _ => shape.push((key.clone(), None)),
        }
    }
}

/// Whether `entries` walk through `shape` from `*at`, key for key.
fn same_shape(entries: &[(Key, Value)], shape: &[(Key, Option<usize>)], at: &mut usize) -> bool {
    for (key, value) in entries {
        let Some((expected, children_len)) = shape.get(*at) else {
            return false;
        };
        *at += 1;
        // Trees built from one template share their keys: compare the
        // pointers before the text.
        if !Arc::ptr_eq(key, expected) && key != expected {
            return false;
        }
        match (value, children_len) {
            (Value::Map(children), Some(len)) => {
                if children.len() != *len || !same_shape(children, shape, at) {
                    return false;
                }
            }
            (Value::Map(_), None) | (_, Some(_)) => return false,
            (_, None) => {}
        }
    }
    true
}

/// One user's flattened results: the shared keys and the user's values.
#[derive(Debug, Clone)]
pub struct Flat {
    pub layout: Arc<Layout>,
    pub values: Vec<Value>,
}

/// The layouts and blocks met so far in a run, shared between threads.
#[derive(Debug, Default)]
pub struct Layouts {
    known: RwLock<Vec<Arc<Layout>>>,
    blocks: RwLock<Vec<Arc<Block>>>,
}

impl Layouts {
    /// `tree` flattened, with the remembered layout of its shape or a new one.
    pub fn flatten(&self, tree: &Value) -> Flat {
        let layout = self.layout_of(|l| l.fits(tree), || Layout::new(tree));
        let values = layout.values(tree);
        Flat { layout, values }
    }

    /// `user`'s tree flattened, with the remembered layout of its shape or
    /// a new one.
    pub fn flatten_user(&self, user: &UserTree) -> Flat {
        let layout = self.layout_of(|l| l.fits_user(user), || Layout::of_user(user));
        let values = layout.user_values(user);
        Flat { layout, values }
    }

    /// [`Layouts::flatten_user`], moving the tree's indicator values into
    /// the flat rather than copying them where its layout renders the JSON
    /// file from the flat alone (see [`Layout::json_shape`]): the tree is
    /// then left without them.
    pub fn flatten_user_taking(&self, user: &mut UserTree) -> Flat {
        let layout = self.layout_of(|l| l.fits_user(user), || Layout::of_user(user));
        let values = match layout.json_shape() {
            Some(_) => {
                let indicators = std::mem::take(&mut user.values);
                layout.user_values_with(user, indicators)
            }
            None => layout.user_values(user),
        };
        Flat { layout, values }
    }

    /// The block of `entries`: a remembered equal one where there is one,
    /// so that users of every chunk share their layouts.
    pub fn block(&self, entries: Vec<(Key, Value)>) -> Arc<Block> {
        let block = Block::new(entries);
        let known = self.blocks.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(known) = known.iter().find(|b| ***b == block) {
            return Arc::clone(known);
        }
        drop(known);

        let block = Arc::new(block);
        let mut known = self.blocks.write().unwrap_or_else(PoisonError::into_inner);
        if known.len() < MAX_REMEMBERED {
            known.push(Arc::clone(&block));
        }
        block
    }

    fn layout_of(&self, fits: impl Fn(&Layout) -> bool, new: impl FnOnce() -> Layout) -> Arc<Layout> {
        // A poisoned lock only means another user's thread panicked; the
        // list itself is always whole.
        let known = self.known.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(layout) = known.iter().find(|l| fits(l)) {
            return Arc::clone(layout);
        }
        drop(known);

        let layout = Arc::new(new());
        let mut known = self.known.write().unwrap_or_else(PoisonError::into_inner);
        if known.len() < MAX_REMEMBERED {
            known.push(Arc::clone(&layout));
        }
        layout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::value::test_trees::{map, text};

    fn keys(flat: &Flat) -> Vec<&str> {
        flat.layout.keys().iter().map(String::as_str).collect()
    }

    /// Python 3.11 with bandicoot's `flatten` on `OrderedDict([('a', {'b': 1}),
    /// ('a__b', 2), ('c', 3), ('', {'x': 'lead'}), ('e', {})])` gives
    /// `OrderedDict([('a__b', 2), ('c', 3), ('x', 'lead')])`.
    #[test]
    fn duplicate_paths_keep_first_position_and_last_value() {
        let tree = map(vec![
            ("a", map(vec![("b", Value::Int(1))])),
            ("a__b", Value::Int(2)),
            ("c", Value::Int(3)),
            ("", map(vec![("x", text("lead"))])),
            ("e", Value::map()),
        ]);
        let flat = Layouts::default().flatten(&tree);
        assert_eq!(keys(&flat), ["a__b", "c", "x"]);
        assert_eq!(flat.values, [Value::Int(2), Value::Int(3), text("lead")]);
    }

    #[test]
    fn trees_of_one_shape_share_a_layout_and_keep_their_values() {
        let tree = |x: f64, name: &str| {
            map(vec![("name", text(name)), ("m", map(vec![("p", Value::Float(x)), ("q", Value::Null)]))])
        };
        let layouts = Layouts::default();
        let first = layouts.flatten(&tree(1.5, "u1"));
        let second = layouts.flatten(&tree(-2.0, "u2"));
        assert!(Arc::ptr_eq(&first.layout, &second.layout));
        assert_eq!(keys(&second), ["name", "m__p", "m__q"]);
        assert_eq!(second.values, [text("u2"), Value::Float(-2.0), Value::Null]);
    }

    /// Shapes that differ anywhere (a key, a nesting, a length, a leaf
    /// turned map) get their own layout and keys.
    #[test]
    fn any_difference_in_shape_gives_another_layout() {
        let base =
            map(vec![("a", map(vec![("b", Value::Int(1)), ("c", Value::Int(2))])), ("d", Value::Int(3))]);
        let variants = [
            map(vec![("a", map(vec![("b", Value::Int(1)), ("x", Value::Int(2))])), ("d", Value::Int(3))]),
            map(vec![("a", map(vec![("b", Value::Int(1))])), ("c", Value::Int(2)), ("d", Value::Int(3))]),
            map(vec![
                ("a", map(vec![("b", Value::Int(1)), ("c", map(vec![("z", Value::Int(2))]))])),
                ("d", Value::Int(3)),
            ]),
            map(vec![
                ("a", map(vec![("b", Value::Int(1)), ("c", Value::Int(2))])),
                ("d", Value::Int(3)),
                ("e", Value::Null),
            ]),
            map(vec![("a", Value::Int(1)), ("d", Value::Int(3))]),
            Value::Int(5),
        ];
        let layouts = Layouts::default();
        let base_layout = layouts.flatten(&base).layout;
        for variant in &variants {
            let flat = layouts.flatten(variant);
            assert!(!Arc::ptr_eq(&flat.layout, &base_layout), "{variant:?}");
            assert_eq!(flat.layout.keys(), Layout::new(variant).keys());
            assert!(!base_layout.fits(variant) && flat.layout.fits(variant));
        }
        assert_eq!(layouts.flatten(&variants[2]).layout.keys(), ["a__b", "a__c__z", "d"]);
        assert!(layouts.flatten(&Value::Int(5)).layout.keys().is_empty());
    }

    /// A user tree: name and reporting, then the block, then `tail`.
    fn user(layouts: &Layouts, name: &str, values: Vec<Value>, tail: Vec<(&str, Value)>) -> UserTree {
        let block = layouts.block(vec![
            ("m".into(), map(vec![("mean", Value::Null), ("std", Value::Null)])),
            ("n".into(), Value::Null),
        ]);
        let mut root = map(vec![("name", text(name)), ("reporting", map(vec![("k", Value::Int(1))]))]);
        for (key, value) in tail {
            root.push(key, value);
        }
        UserTree { root, at: 2, block, values }
    }

    /// A user tree flattens as its whole tree does, block entries in place.
    #[test]
    fn user_trees_flatten_as_their_whole_tree() {
        let layouts = Layouts::default();
        let values = vec![Value::Float(0.5), Value::Null, Value::Int(3)];
        let tail = vec![("after", Value::Bool(true)), ("attributes", map(vec![("a", text("x"))]))];
        let tree = user(&layouts, "u1", values.clone(), tail);

        let whole = tree.to_value();
        let Value::Map(entries) = &whole else { panic!("a map") };
        let top: Vec<&str> = entries.iter().map(|(k, _)| &**k).collect();
        assert_eq!(top, ["name", "reporting", "m", "n", "after", "attributes"]);

        let flat = layouts.flatten_user(&tree);
        let expected = Layouts::default().flatten(&whole);
        assert_eq!(flat.layout.keys(), expected.layout.keys());
        assert_eq!(flat.values, expected.values);
        assert_eq!(keys(&flat), ["name", "reporting__k", "m__mean", "m__std", "n", "after", "attributes__a"]);

        // Taking the indicator values gives the same flat and leaves the
        // tree without them, as the JSON is rendered from the flat alone.
        let mut taken = tree.clone();
        let moved = layouts.flatten_user_taking(&mut taken);
        assert!(moved.layout.json_shape().is_some());
        assert_eq!((moved.layout.keys(), &moved.values), (flat.layout.keys(), &flat.values));
        assert!(taken.values.is_empty() && tree.values == values);

        // A layout without a JSON shape (a repeated key) keeps the tree whole.
        let mut repeated = user(&layouts, "u2", values.clone(), vec![("n", Value::Null)]);
        let copied = layouts.flatten_user_taking(&mut repeated);
        assert!(copied.layout.json_shape().is_none());
        assert_eq!(repeated.values, values);
    }

    /// Users whose entries outside the block, or whose block, differ get
    /// their own layout; equal blocks are shared, and so are layouts.
    #[test]
    fn user_layouts_follow_the_entries_outside_the_block_and_the_block() {
        let layouts = Layouts::default();
        let values = || vec![Value::Int(1), Value::Int(2), Value::Int(3)];
        let first = layouts.flatten_user(&user(&layouts, "u1", values(), vec![]));
        let same = layouts.flatten_user(&user(&layouts, "u2", values(), vec![]));
        assert!(Arc::ptr_eq(&first.layout, &same.layout));
        assert_eq!(same.values[0], text("u2"));

        let longer = layouts.flatten_user(&user(&layouts, "u3", values(), vec![("x", Value::Null)]));
        assert!(!Arc::ptr_eq(&first.layout, &longer.layout));
        assert_eq!(longer.layout.keys().last().map(String::as_str), Some("x"));

        let other_block = UserTree {
            block: layouts.block(vec![("n".into(), Value::Null)]),
            values: vec![Value::Int(9)],
            ..user(&layouts, "u4", values(), vec![])
        };
        let other = layouts.flatten_user(&other_block);
        assert!(!Arc::ptr_eq(&first.layout, &other.layout));
        assert_eq!(keys(&other), ["name", "reporting__k", "n"]);

        // A plain tree of the same whole shape keeps its own layout.
        let whole = layouts.flatten(&user(&layouts, "u5", values(), vec![]).to_value());
        assert!(!Arc::ptr_eq(&first.layout, &whole.layout));
        assert_eq!(whole.layout.keys(), first.layout.keys());
    }

    /// An entry repeating a block's flattened key keeps the block's
    /// position and its own, later value, as Python's dict does.
    #[test]
    fn user_trees_with_repeated_keys_keep_the_last_value() {
        let layouts = Layouts::default();
        let tree =
            user(&layouts, "u", vec![Value::Int(1), Value::Int(2), Value::Int(3)], vec![("n", text("late"))]);
        let flat = layouts.flatten_user(&tree);
        assert_eq!(keys(&flat), ["name", "reporting__k", "m__mean", "m__std", "n"]);
        assert_eq!(flat.values[4], text("late"));
        assert!(flat.layout.json_shape().is_none());
    }

    #[test]
    fn equal_blocks_are_one() {
        let layouts = Layouts::default();
        let entries = || vec![("a".into(), map(vec![("b", Value::Null)]))];
        assert!(Arc::ptr_eq(&layouts.block(entries()), &layouts.block(entries())));
        assert_eq!(layouts.block(entries()).leaves(), 1);
        assert!(!Arc::ptr_eq(&layouts.block(entries()), &layouts.block(vec![("a".into(), Value::Null)])));
    }
}
