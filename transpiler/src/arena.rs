//! Arenas and typed handles, the storage of the IR (naga's layout).
//!
//! Nodes refer to each other by [`Handle`], a 32-bit index typed by what it
//! points to, so the IR has no references, no `Rc`, and cheap copies. Every
//! node stored in an [`Arena`] has a [`Span`] beside it (in a parallel
//! vector, so the node types stay small). [`UniqueArena`] interns: inserting
//! an equal value returns the existing handle, so type equality is handle
//! equality. Iteration is always in insertion order: nothing derived from a
//! hash map's order ever reaches generated code.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;

use crate::span::Span;

/// A typed index into an [`Arena`] or [`UniqueArena`].
pub struct Handle<T> {
    index: u32,
    marker: PhantomData<fn() -> T>,
}

impl<T> Handle<T> {
    pub(crate) fn new(index: usize) -> Self {
        let index = u32::try_from(index).expect("arena holds fewer than 2^32 nodes");
        Handle {
            index,
            marker: PhantomData,
        }
    }

    /// The position in the arena, for side tables indexed like the arena.
    pub fn index(self) -> usize {
        self.index as usize
    }
}

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Handle<T> {}
impl<T> PartialEq for Handle<T> {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index
    }
}
impl<T> Eq for Handle<T> {}
impl<T> PartialOrd for Handle<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Handle<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.index.cmp(&other.index)
    }
}
impl<T> Hash for Handle<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.index.hash(state)
    }
}
impl<T> fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.index)
    }
}

/// An append-only vector of nodes with a span per node.
#[derive(Clone)]
pub struct Arena<T> {
    data: Vec<T>,
    spans: Vec<Span>,
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Arena {
            data: Vec::new(),
            spans: Vec::new(),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Arena<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<T> Arena<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn append(&mut self, value: T, span: Span) -> Handle<T> {
        let handle = Handle::new(self.data.len());
        self.data.push(value);
        self.spans.push(span);
        handle
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn span(&self, handle: Handle<T>) -> Span {
        self.spans[handle.index()]
    }

    /// Handles and nodes in insertion order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (Handle<T>, &T)> + ExactSizeIterator {
        self.data
            .iter()
            .enumerate()
            .map(|(i, v)| (Handle::new(i), v))
    }

    pub fn get_mut(&mut self, handle: Handle<T>) -> &mut T {
        &mut self.data[handle.index()]
    }

    /// Whether `handle` belongs to this arena's range (the validator uses it).
    pub fn contains(&self, handle: Handle<T>) -> bool {
        handle.index() < self.data.len()
    }
}

impl<T> std::ops::Index<Handle<T>> for Arena<T> {
    type Output = T;
    fn index(&self, handle: Handle<T>) -> &T {
        &self.data[handle.index()]
    }
}

/// An interning arena: equal values share one handle.
#[derive(Clone)]
pub struct UniqueArena<T> {
    data: Vec<T>,
    spans: Vec<Span>,
    lookup: HashMap<T, u32>,
}

impl<T> Default for UniqueArena<T> {
    fn default() -> Self {
        UniqueArena {
            data: Vec::new(),
            spans: Vec::new(),
            lookup: HashMap::new(),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for UniqueArena<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.data
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (Handle::<T>::new(i), v)),
            )
            .finish()
    }
}

impl<T: Eq + Hash + Clone> UniqueArena<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// The handle of `value`, inserting it (with `span`) if it is new.
    pub fn insert(&mut self, value: T, span: Span) -> Handle<T> {
        if let Some(&index) = self.lookup.get(&value) {
            return Handle::new(index as usize);
        }
        let handle = Handle::new(self.data.len());
        self.lookup.insert(value.clone(), handle.index);
        self.data.push(value);
        self.spans.push(span);
        handle
    }

    /// The handle of `value` if it was inserted before.
    pub fn get(&self, value: &T) -> Option<Handle<T>> {
        self.lookup.get(value).map(|&i| Handle::new(i as usize))
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn span(&self, handle: Handle<T>) -> Span {
        self.spans[handle.index()]
    }

    pub fn iter(&self) -> impl Iterator<Item = (Handle<T>, &T)> {
        self.data
            .iter()
            .enumerate()
            .map(|(i, v)| (Handle::new(i), v))
    }
}

impl<T> std::ops::Index<Handle<T>> for UniqueArena<T> {
    type Output = T;
    fn index(&self, handle: Handle<T>) -> &T {
        &self.data[handle.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_arena_interns_and_keeps_insertion_order() {
        let mut arena = UniqueArena::new();
        let a = arena.insert("a", Span::UNKNOWN);
        let b = arena.insert("b", Span::UNKNOWN);
        assert_eq!(arena.insert("a", Span::UNKNOWN), a);
        assert_ne!(a, b);
        assert_eq!(
            arena.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
            ["a", "b"]
        );
    }
}
