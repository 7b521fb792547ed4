//! Graph algorithms over applications, all iterative so large inputs cannot
//! overflow the stack.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// A directed graph over `0..n` with labelled edges (the label is a set index).
/// Edges are collected first, then [`Graph::finish`] lays the adjacency lists out
/// in one array (no allocation per node).
pub(super) struct Graph {
    n: usize,
    edges: Vec<(usize, usize, usize)>,
    /// `targets[offsets[v]..offsets[v + 1]]` are the (target, label) pairs of `v`.
    offsets: Vec<usize>,
    targets: Vec<(usize, usize)>,
}

impl Graph {
    pub(super) fn new(n: usize) -> Self {
        Graph::with_capacity(n, 0)
    }

    pub(super) fn with_capacity(n: usize, edges: usize) -> Self {
        Graph {
            n,
            edges: Vec::with_capacity(edges),
            offsets: vec![0; n + 1],
            targets: Vec::new(),
        }
    }

    pub(super) fn add_edge(&mut self, from: usize, to: usize, label: usize) {
        self.edges.push((from, to, label));
    }

    /// Builds the adjacency arrays; call after the last [`Graph::add_edge`].
    pub(super) fn finish(&mut self) {
        // Stable by source, so each node's edges keep insertion order.
        self.edges.sort_by_key(|e| e.0);
        self.offsets = vec![0; self.n + 1];
        for &(from, _, _) in &self.edges {
            self.offsets[from + 1] += 1;
        }
        for v in 0..self.n {
            self.offsets[v + 1] += self.offsets[v];
        }
        self.targets = self.edges.iter().map(|&(_, to, l)| (to, l)).collect();
    }

    fn succ(&self, v: usize) -> &[(usize, usize)] {
        &self.targets[self.offsets[v]..self.offsets[v + 1]]
    }

    /// Strongly connected components that contain a cycle (more than one node, or a
    /// self-loop), each sorted ascending; components sorted by their first node.
    pub(super) fn cyclic_components(&self) -> Vec<Vec<usize>> {
        let n = self.n;
        const UNSEEN: usize = usize::MAX;
        let mut index = vec![UNSEEN; n];
        let mut low = vec![0; n];
        let mut on_stack = vec![false; n];
        let mut stack = Vec::new();
        let mut next = 0;
        let mut out = Vec::new();
        // Explicit DFS stack of (node, next successor position).
        let mut work: Vec<(usize, usize)> = Vec::new();
        for root in 0..n {
            if index[root] != UNSEEN {
                continue;
            }
            work.push((root, 0));
            index[root] = next;
            low[root] = next;
            next += 1;
            stack.push(root);
            on_stack[root] = true;
            while let Some(&mut (v, ref mut pos)) = work.last_mut() {
                if let Some(&(w, _)) = self.succ(v).get(*pos) {
                    *pos += 1;
                    if index[w] == UNSEEN {
                        index[w] = next;
                        low[w] = next;
                        next += 1;
                        stack.push(w);
                        on_stack[w] = true;
                        work.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    continue;
                }
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    let self_loop = self.succ(v).iter().any(|&(w, _)| w == v);
                    if comp.len() > 1 || self_loop {
                        comp.sort_unstable();
                        out.push(comp);
                    }
                }
            }
        }
        out.sort();
        out
    }

    /// A shortest cycle through `start` using only nodes in `allowed` (sorted), as the
    /// list of edge labels along it.
    pub(super) fn cycle_labels(&self, start: usize, allowed: &[usize]) -> Vec<usize> {
        let n = self.n;
        let mut prev: Vec<Option<(usize, usize)>> = vec![None; n];
        let mut queue = VecDeque::from([start]);
        let mut seen = vec![false; n];
        while let Some(v) = queue.pop_front() {
            for &(w, label) in self.succ(v) {
                if allowed.binary_search(&w).is_err() {
                    continue;
                }
                if w == start {
                    let mut labels = vec![label];
                    let mut at = v;
                    while at != start {
                        let Some((p, l)) = prev[at] else { break };
                        labels.push(l);
                        at = p;
                    }
                    labels.reverse();
                    return labels;
                }
                if !seen[w] {
                    seen[w] = true;
                    prev[w] = Some((v, label));
                    queue.push_back(w);
                }
            }
        }
        Vec::new()
    }

    /// Kahn's algorithm, ties broken by the smallest node; `None` if there is a cycle.
    pub(super) fn topological_order(&self) -> Option<Vec<usize>> {
        let n = self.n;
        let mut indegree = vec![0usize; n];
        for &(w, _) in &self.targets {
            indegree[w] += 1;
        }
        let mut ready: BinaryHeap<Reverse<usize>> =
            (0..n).filter(|&v| indegree[v] == 0).map(Reverse).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(Reverse(v)) = ready.pop() {
            order.push(v);
            for &(w, _) in self.succ(v) {
                indegree[w] -= 1;
                if indegree[w] == 0 {
                    ready.push(Reverse(w));
                }
            }
        }
        (order.len() == n).then_some(order)
    }

    /// Whether `to` is reachable from `from` (following edges; `from` itself counts).
    pub(super) fn path(&self, from: usize, to: usize) -> Option<Vec<usize>> {
        let n = self.n;
        let mut prev: Vec<Option<usize>> = vec![None; n];
        let mut seen = vec![false; n];
        let mut queue = VecDeque::from([from]);
        seen[from] = true;
        while let Some(v) = queue.pop_front() {
            if v == to {
                let mut path = vec![v];
                let mut at = v;
                while let Some(p) = prev[at] {
                    path.push(p);
                    at = p;
                }
                path.reverse();
                return Some(path);
            }
            for &(w, _) in self.succ(v) {
                if !seen[w] {
                    seen[w] = true;
                    prev[w] = Some(v);
                    queue.push_back(w);
                }
            }
        }
        None
    }
}
