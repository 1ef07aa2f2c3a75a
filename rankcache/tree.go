package rankcache

import (
	"sort"

	"github.com/leaderboardhq/leaderboard/models"
)

// tree is an order-statistic tree of one board's index entries: a B+tree
// whose inner nodes keep how many entries each child holds, so the number
// of entries before a key, and the entry at a position, are O(log n).
// Entries sort as the rank index does (S, then T, then ID), best last.
//
// Leaves hold up to maxLeaf entries in one slice (32 bytes each plus the
// ID's bytes, which the entry shares with the decoded document). Deletes
// never rebalance: an emptied leaf or inner node is unlinked, a sparse one
// stays until the board is rebuilt (after any feed reconnect).
type tree struct {
	root *node
	n    int
}

const (
	maxLeaf  = 128
	maxInner = 64
)

type node struct {
	entries []models.EntryKey // a leaf's entries, sorted; nil in inner nodes
	// An inner node's children, how many entries each holds, and the
	// separators: mins[i] (i > 0) is at most every entry of children[i]
	// and greater than every entry of children[i-1].
	children []*node
	counts   []int
	mins     []models.EntryKey
}

func (nd *node) leaf() bool { return nd.children == nil }

func less(a, b models.EntryKey) bool {
	if a.S != b.S {
		return a.S < b.S
	}
	if a.T != b.T {
		return a.T < b.T
	}
	return a.ID < b.ID
}

func newTree() *tree { return &tree{root: &node{}} }

// child is the index of the child of inner node nd whose range holds k.
func (nd *node) child(k models.EntryKey) int {
	i := sort.Search(len(nd.mins)-1, func(i int) bool { return less(k, nd.mins[i+1]) })
	return i
}

func (nd *node) size() int {
	if nd.leaf() {
		return len(nd.entries)
	}
	s := 0
	for _, c := range nd.counts {
		s += c
	}
	return s
}

// insert adds k; false if it was there already.
func (t *tree) insert(k models.EntryKey) bool {
	right, rightMin, ok := t.root.insert(k)
	if right != nil {
		left := t.root
		t.root = &node{
			children: []*node{left, right},
			counts:   []int{left.size(), right.size()},
			mins:     []models.EntryKey{{}, rightMin},
		}
	}
	if ok {
		t.n++
	}
	return ok
}

func (nd *node) insert(k models.EntryKey) (*node, models.EntryKey, bool) {
	if nd.leaf() {
		i := sort.Search(len(nd.entries), func(i int) bool { return !less(nd.entries[i], k) })
		if i < len(nd.entries) && nd.entries[i] == k {
			return nil, models.EntryKey{}, false
		}
		nd.entries = append(nd.entries, models.EntryKey{})
		copy(nd.entries[i+1:], nd.entries[i:])
		nd.entries[i] = k
		if len(nd.entries) <= maxLeaf {
			return nil, models.EntryKey{}, true
		}
		mid := len(nd.entries) / 2
		right := &node{entries: make([]models.EntryKey, len(nd.entries)-mid, maxLeaf+1)}
		copy(right.entries, nd.entries[mid:])
		left := make([]models.EntryKey, mid, maxLeaf+1)
		copy(left, nd.entries[:mid])
		nd.entries = left
		return right, right.entries[0], true
	}
	ci := nd.child(k)
	right, rightMin, ok := nd.children[ci].insert(k)
	if ok {
		nd.counts[ci]++
	}
	if right == nil {
		return nil, models.EntryKey{}, ok
	}
	nd.counts[ci] = nd.children[ci].size()
	nd.children = append(nd.children, nil)
	copy(nd.children[ci+2:], nd.children[ci+1:])
	nd.children[ci+1] = right
	nd.counts = append(nd.counts, 0)
	copy(nd.counts[ci+2:], nd.counts[ci+1:])
	nd.counts[ci+1] = right.size()
	nd.mins = append(nd.mins, models.EntryKey{})
	copy(nd.mins[ci+2:], nd.mins[ci+1:])
	nd.mins[ci+1] = rightMin
	if len(nd.children) <= maxInner {
		return nil, models.EntryKey{}, ok
	}
	mid := len(nd.children) / 2
	r := &node{
		children: append([]*node(nil), nd.children[mid:]...),
		counts:   append([]int(nil), nd.counts[mid:]...),
		mins:     append([]models.EntryKey(nil), nd.mins[mid:]...),
	}
	rMin := r.mins[0]
	r.mins[0] = models.EntryKey{}
	nd.children = append([]*node(nil), nd.children[:mid]...)
	nd.counts = append([]int(nil), nd.counts[:mid]...)
	nd.mins = append([]models.EntryKey(nil), nd.mins[:mid]...)
	return r, rMin, ok
}

// delete removes k; false if it was not there.
func (t *tree) delete(k models.EntryKey) bool {
	if !t.root.delete(k) {
		return false
	}
	t.n--
	for !t.root.leaf() && len(t.root.children) == 1 {
		t.root = t.root.children[0]
	}
	if !t.root.leaf() && len(t.root.children) == 0 {
		t.root = &node{}
	}
	return true
}

func (nd *node) delete(k models.EntryKey) bool {
	if nd.leaf() {
		i := sort.Search(len(nd.entries), func(i int) bool { return !less(nd.entries[i], k) })
		if i == len(nd.entries) || nd.entries[i] != k {
			return false
		}
		nd.entries = append(nd.entries[:i], nd.entries[i+1:]...)
		return true
	}
	ci := nd.child(k)
	c := nd.children[ci]
	if !c.delete(k) {
		return false
	}
	nd.counts[ci]--
	if nd.counts[ci] == 0 && len(nd.children) > 1 {
		// Unlink the emptied child; the next one's separator still
		// bounds it (and mins[0] is never read).
		nd.children = append(nd.children[:ci], nd.children[ci+1:]...)
		nd.counts = append(nd.counts[:ci], nd.counts[ci+1:]...)
		nd.mins = append(nd.mins[:ci], nd.mins[ci+1:]...)
		nd.mins[0] = models.EntryKey{}
	}
	return true
}

// contains reports whether k is in the tree.
func (t *tree) contains(k models.EntryKey) bool {
	nd := t.root
	for !nd.leaf() {
		nd = nd.children[nd.child(k)]
	}
	i := sort.Search(len(nd.entries), func(i int) bool { return !less(nd.entries[i], k) })
	return i < len(nd.entries) && nd.entries[i] == k
}

// countBefore is how many entries e have before(e), for a before that holds
// for a prefix of the order.
func (t *tree) countBefore(before func(models.EntryKey) bool) int {
	count := 0
	nd := t.root
	for !nd.leaf() {
		// The first child whose minimum is not before: everything from it
		// on is not; the child ahead of it is where the prefix ends.
		i := sort.Search(len(nd.mins)-1, func(i int) bool { return !before(nd.mins[i+1]) })
		for j := range i {
			count += nd.counts[j]
		}
		nd = nd.children[i]
	}
	return count + sort.Search(len(nd.entries), func(i int) bool { return !before(nd.entries[i]) })
}

// countLess is how many entries sort before k.
func (t *tree) countLess(k models.EntryKey) int {
	return t.countBefore(func(e models.EntryKey) bool { return less(e, k) })
}

// countAtMost is how many entries have (S, T) at most (s, tt), whatever
// their ID.
func (t *tree) countAtMost(s, tt float64) int {
	return t.countBefore(func(e models.EntryKey) bool { return e.S < s || (e.S == s && e.T <= tt) })
}

// at is the entry with i entries before it.
func (t *tree) at(i int) models.EntryKey {
	nd := t.root
	for !nd.leaf() {
		j := 0
		for i >= nd.counts[j] {
			i -= nd.counts[j]
			j++
		}
		nd = nd.children[j]
	}
	return nd.entries[i]
}

// rank is the competition rank of an entry with key k: one more than the
// entries whose (S, T) is better.
func (t *tree) rank(k models.EntryKey) int {
	return 1 + t.n - t.countAtMost(k.S, k.T)
}
